"""The speed table and its ratios from one ``make bench`` run (pytest-benchmark's JSON file).

    python scripts/bench_summary.py .benchmarks/latest.json                 # print
    python scripts/bench_summary.py .benchmarks/latest.json --write README.md docs/SPEED.md

``--write`` replaces the text between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in each
file with the table, the ratios, the machine and its load, and the command that made them. Every
figure comes from the one JSON file, so all of them are from the same run; the sweep overhead
(``tests/test_sweep_benchmark.py``) is one line of the block. Other benchmarks in the file are
listed with their recorded figures.
"""

from __future__ import annotations

import json
from pathlib import Path

from contract.cli import OneLineParser, UsageError
from contract.cli import run as run_command
from contract.io import replace_between, write_text

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
ROWS = (  # (benchmark name, how the model runs)
    (
        "test_bench_reference_mesa",
        "scalar reference, Mesa-native: one `Model` per replicate via `mesa.batch_run`",
    ),
    ("test_bench_ensemble[R=1]", "ensemble, R = 1"),
    ("test_bench_ensemble[R=1000]", "ensemble, R = 1,000"),
    ("test_bench_ensemble[R=100000]", "ensemble, R = 100,000"),
    (
        "test_bench_ensemble_before[R=1000]",
        "ensemble before issue 21 (40 quarters, no history), R = 1,000",
    ),
    (
        "test_bench_ensemble_before[R=100000]",
        "ensemble before issue 21 (40 quarters, no history), R = 100,000",
    ),
    (
        "test_bench_streamed_point[one]",
        "a streamed point (model, classifier, rows), R = 1,000,000, one process",
    ),
    ("test_bench_streamed_point[all]", "the same point on every core"),
)
TABLE_NAMES = {name for name, _ in ROWS}


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def summarise(data: dict) -> str:
    """The markdown block: table, ratios, machine and load, command."""
    info = {b["name"]: b.get("extra_info", {}) for b in data["benchmarks"]}

    def rate(name: str, key: str = "runs_per_second") -> float | None:
        return info.get(name, {}).get(key)

    lines = [
        "| how the model runs | replicate-runs per second | per CPU-second |",
        "|---|---:|---:|",
    ]
    for name, label in ROWS:
        if name in info:
            count = info[name].get("workers")
            extra = "" if count is None else f" ({count} worker{'s' if count != 1 else ''})"
            cpu = rate(name, "cpu_runs_per_second")
            lines.append(f"| {label}{extra} | {_number(rate(name))} | {_number(cpu)} |")

    def ratio(a: str, b: str, key: str = "runs_per_second") -> str:
        x, y = rate(a, key), rate(b, key)
        return "–" if not x or not y else f"{x / y:,.2f}×"

    big, ref = "test_bench_ensemble[R=100000]", "test_bench_reference_mesa"
    before, one, every = (
        "test_bench_ensemble_before[R=100000]",
        "test_bench_streamed_point[one]",
        "test_bench_streamed_point[all]",
    )
    lines += [
        "",
        f"- ensemble at R = 100,000 over the scalar Mesa reference: {ratio(big, ref)} "
        f"(per CPU-second {ratio(big, ref, 'cpu_runs_per_second')})",
        f"- ensemble at R = 100,000 with its 99-quarter history over the forward-only model "
        f"before issue 21: {ratio(big, before)} "
        f"(per CPU-second {ratio(big, before, 'cpu_runs_per_second')}); at R = 1,000: "
        f"{ratio('test_bench_ensemble[R=1000]', 'test_bench_ensemble_before[R=1000]')}",
    ]
    if rate(one) and rate(every):
        share = rate(one) / rate(every)
        lines.append(
            f"- the streamed point on every core: {ratio(every, one)} the one-process rate, "
            f"i.e. {share:.0%} of the single-process time"
        )
    sweep = info.get("test_sweep_overhead_against_model_rate", {})
    if "overhead" in sweep:
        lines.append(
            f"- a design sweep's own overhead (Hydra, job files, aggregation) over the bare model "
            f"on the same chunks, jobs of {sweep['runs_per_job']:,} replicates: "
            f"{sweep['overhead']:.1%} ({sweep['sweep_runs_per_second']:,} against "
            f"{sweep['model_runs_per_second']:,} runs/s; target 10 %)"
        )
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {})
    loads = [i["load_average_1min"] for i in info.values() if "load_average_1min" in i]
    load = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "not recorded"
    lines += [
        "",
        f"Machine: {cpu.get('brand_raw', 'unknown CPU')}, {cpu.get('count', '?')} cores, "
        f"Python {machine.get('python_version', '?')}; run {data.get('datetime', '?')[:16]} UTC; "
        f"1-minute load average during the benchmarks {load} (other processes share the "
        "machine: wall-clock rates fall with load, per-CPU-second rates much less).",
        "",
        "Written by `make bench` then "
        "`python scripts/bench_summary.py .benchmarks/latest.json --write README.md docs/SPEED.md`.",
    ]
    return "\n".join(lines)


def others(data: dict) -> str:
    """Every other benchmark in the file with its recorded figures."""
    lines = []
    for bench in data["benchmarks"]:
        if bench["name"] not in TABLE_NAMES:
            figures = ", ".join(f"{k}={v}" for k, v in bench.get("extra_info", {}).items())
            lines.append(f"{bench['name']}: {figures}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="?", default=".benchmarks/latest.json")
    parser.add_argument("--write", nargs="*", default=[], metavar="FILE")
    args = parser.parse_args(argv)
    path = Path(args.json)
    if not path.is_file():
        raise UsageError(f"{path} not found; run `make bench` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    block = summarise(data)
    # every target is read and filled before any is written: a file without the block (or a
    # missing one) is one line and leaves all of them as they were
    filled = {
        Path(t): replace_between(Path(t).read_text(encoding="utf-8"), START, END, block, t)
        for t in args.write
    }
    print(block)
    if rest := others(data):
        print("\nOther benchmarks:\n" + rest)
    for target, text in filled.items():
        write_text(target, text)
        print(f"wrote the speed block into {target}")
    return 0


if __name__ == "__main__":
    run_command(main)  # bad input and Ctrl+C: one line (contract.cli)
