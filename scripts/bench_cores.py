"""One large ``experiments.run`` on one core and on every core: times and identical results.

    python scripts/bench_cores.py --replicates 1000000 [--pairs 3] [--write docs/SPEED.md]

Runs ``python -m experiments.run replicates=N output.workers=W`` for W = 1 and W = all cores (each
in a fresh process, alternately, ``--pairs`` times, into a temporary folder: on a shared virtual
machine the speed drifts by tens of percent within minutes, so one pair can mislead), and reports
wall-clock seconds, each pair's ratio and their median, a control on each side of every pair
(how much parallelism the machine gives a pure-Python loop at that moment), the load average, the
share of CPU time the hypervisor stole from this virtual machine during each run (`/proc/stat`),
and whether ``runs.parquet``, ``quantiles.parquet`` and ``points.parquet`` hold identical tables and
identical metadata apart from ``model_version`` (which names the git commit, and other engineers
may commit in between). ``--write`` puts the block between ``<!-- cores:start -->`` and
``<!-- cores:end -->`` of each file named.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- cores:start -->", "<!-- cores:end -->"
FILES = ("runs.parquet", "quantiles.parquet", "points.parquet")


def _metadata(path: Path) -> dict:
    meta = json.loads(pq.read_schema(path).metadata[b"rudprk"])
    meta.pop("model_version", None)
    return meta


def _cpu_times() -> list[int] | None:
    """The machine's CPU time by kind (``/proc/stat``: user, nice, system, idle, iowait, irq,
    softirq, steal), or None where there is no such file."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(value) for value in stat.readline().split()[1:9]]
    except OSError:
        return None


def _stolen(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of the machine's CPU time that the hypervisor gave to other guests."""
    if before is None or after is None:
        return None
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / max(1, sum(spent))


def run(replicates: int, workers: int, outdir: Path) -> dict:
    """Time one run in a fresh process; wall-clock seconds, load before and after, and the
    share of CPU time stolen by the hypervisor meanwhile."""
    load = os.getloadavg()[0]
    cpu = _cpu_times()
    started = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "experiments.run",
        f"replicates={replicates}",
        f"output.workers={workers}",
        f"hydra.run.dir={outdir}",
    ]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    stolen = _stolen(cpu, _cpu_times())
    said = [line for line in out.stdout.splitlines() if line.startswith("workers:")]
    return {
        "workers": workers,
        "wall": wall,
        "load": (load, os.getloadavg()[0]),
        "stolen": stolen,
        "said": said[0] if said else "",
    }


def _spin(n: int) -> float:
    """A pure-Python loop: CPU only, no memory traffic, nothing shared."""
    started, total = time.perf_counter(), 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - started


def control(cores: int, n: int = 20_000_000) -> float:
    """Wall time of ``cores`` copies of a pure-Python loop in parallel over one copy alone: how
    much parallelism the machine gives at this moment (1/cores when the cores are free)."""
    from multiprocessing import get_context

    started = time.perf_counter()
    _spin(n)
    alone = time.perf_counter() - started
    with get_context("spawn").Pool(cores) as pool:
        pool.map(_spin, [1] * cores)  # the workers are up before the clock starts
        started = time.perf_counter()
        pool.map(_spin, [n] * cores)
        together = time.perf_counter() - started
    return together / (cores * alone)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1_000_000)
    parser.add_argument("--write", nargs="*", default=[], metavar="FILE")
    parser.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="one-core/every-core pairs, run alternately (this machine's speed drifts)",
    )
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    pairs, controls = [], [control(cores)]
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.pairs):  # a control between pairs: each pair has one on each side
            one = run(args.replicates, 1, Path(tmp, f"one{k}"))
            every = run(args.replicates, cores, Path(tmp, f"every{k}"))
            pairs.append((one, every))
            controls.append(control(cores))
        same = {
            name: all(
                pq.read_table(Path(tmp, "one0", name)).equals(pq.read_table(Path(tmp, run, name)))
                and _metadata(Path(tmp, "one0", name)) == _metadata(Path(tmp, run, name))
                for k in range(args.pairs)
                for run in (f"one{k}", f"every{k}")
            )
            for name in FILES
        }
    ratios = [every["wall"] / one["wall"] for one, every in pairs]
    lines = [
        f"| pair | `output.workers=1` s | `output.workers={cores}` s | ratio | "
        "control before → after | CPU stolen (1 / all) | load before → after |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for k, ((one, every), ratio) in enumerate(zip(pairs, ratios, strict=True), start=1):
        lines.append(
            f"| {k} | {one['wall']:.1f} | {every['wall']:.1f} | {ratio:.0%} | "
            f"{controls[k - 1]:.0%} → {controls[k]:.0%} | "
            f"{_share(one['stolen'])} / {_share(every['stolen'])} | "
            f"{one['load'][0]:.1f} → {every['load'][1]:.1f} |"
        )
    lines += [
        "",
        f"`experiments.run replicates={args.replicates:,}`, one process and then every core "
        f"({pairs[0][1]['said'] or 'no workers line'}), {args.pairs} pairs run alternately: on "
        f"{cores} cores the run took {statistics.median(ratios):.0%} of the one-process "
        f"wall-clock time (median of the pairs; {min(ratios):.0%} to {max(ratios):.0%}). "
        "Identical tables and metadata in every run (apart from model_version): "
        + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in same.items())
        + ".",
        "",
        "CPU stolen: the share of the machine's CPU time (`/proc/stat`, both cores) that the "
        "hypervisor gave to other guests during the run — time our processes were ready to run "
        "but did not.",
        "",
        f"Control: {cores} copies of a pure-Python loop in parallel, as a share of the time of "
        f"running them one after another, measured before the first pair and after each "
        f"({1 / cores:.0%} when the cores are free; more when other work shares them).",
        "",
        f"Written by `python scripts/bench_cores.py --replicates {args.replicates} "
        f"--pairs {args.pairs} --write docs/SPEED.md` on "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.",
    ]
    block = "\n".join(lines)
    print(block)
    for target in args.write:
        path = Path(target)
        text = path.read_text(encoding="utf-8")
        if START not in text or END not in text:
            print(f"error: {path} has no {START} … {END} block to fill", file=sys.stderr)
            return 2
        head, rest = text.split(START, 1)
        path.write_text(f"{head}{START}\n{block}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")
        print(f"wrote the block into {path}")
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
