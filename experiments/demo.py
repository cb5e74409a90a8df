"""``make demo``: the default sweep over the article's key axes, locally with the joblib launcher.

Runs ``python -m experiments.run -m experiment=demo`` in a subprocess (18 cells: sanctions
enforcement x the DPRK's stockpile x the Russia–West confrontation, 1,500 replicates each, two
workers), prints the per-cell table and the pooled scenario table with 95 % intervals, then, when
``analysis.report`` exists, builds the report for the sweep directory and says where it is.
Extra arguments are passed to the sweep as Hydra overrides (e.g. ``replicates=500``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from experiments import sweep

ROOT = Path(__file__).resolve().parents[1]


def run_demo(overrides: Sequence[str] = (), sweep_dir: Path | None = None) -> int:
    """Run the demo sweep; print the tables and where the outputs are. Returns an exit code."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    sweep_dir = Path(sweep_dir or ROOT / "multirun" / "demo" / stamp).resolve()
    cmd = [
        sys.executable,
        "-m",
        "experiments.run",
        "-m",
        "experiment=demo",
        f"hydra.sweep.dir={sweep_dir}",
        *overrides,
    ]
    print("running: " + " ".join(cmd[1:]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if not (sweep_dir / sweep.SWEEP_PARQUET).exists():
        print(f"error: the demo sweep failed (exit {done.returncode})", file=sys.stderr)
        return done.returncode or 1
    report = json.loads((sweep_dir / sweep.SWEEP_JSON).read_text())
    table = pd.read_parquet(sweep_dir / sweep.SWEEP_PARQUET)
    print()
    print(f"Scenario shares per cell ({len(table)} cells, Wilson 95 % intervals):")
    print(sweep.format_cells(table, report["swept"]))
    print()
    print("All cells pooled:")
    print(sweep.format_pooled(report))
    print(f"\n{report['replicate_runs']:,} replicate-runs in {elapsed:.1f} s")
    print(f"outputs: {sweep_dir} (sweep.parquet, summary.md, sweep.json, one directory per cell)")
    if importlib.util.find_spec("analysis.report") is not None:
        rep = subprocess.run(
            [sys.executable, "-m", "analysis.report", str(sweep_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        html = sorted(sweep_dir.rglob("report.html"))
        if rep.returncode == 0 and html:
            print(f"report: {html[0]}")
        else:
            print(f"report: not built (analysis.report exit {rep.returncode})", file=sys.stderr)
            print(rep.stderr.strip()[-2000:], file=sys.stderr)
    return 1 if report["failed"] else done.returncode


def main() -> int:
    return run_demo(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
