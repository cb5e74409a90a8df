"""Benchmark: a whole design sweep's replicate-runs per second against the model's own rate.

The model's own rate is measured in this process on the very work one job does (one design chunk
through ``experiments.design.evaluate_chunk``: model, classifier and per-replicate rows). The
sweep's rate comes from ``sweep.json`` of ``python -m experiments.run -m experiment=sobol_design``
(two chunks of 131,072 replicates; timed from the start of the multirun to the end of the
aggregation: Hydra, job files and aggregation included, interpreter start-up excluded).

With ``--benchmark-enable`` (``make bench``) the overhead must stay within 10 %. With benchmarks
disabled (``make test``) the same code runs on a tiny design and only its bookkeeping is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from experiments import design, sweep
from sim import params as P

ROOT = Path(__file__).resolve().parents[1]


def model_rate(points: int, chunks: int) -> float:
    """Replicate-runs per second of one chunk's ensemble, in this process."""
    plan = design.Design(
        "sobol",
        ("world.confrontation", "world.ceasefire_hazard", "sanctions.enforcement",
         "sanctions.un_monitoring", "stockpile.dprk", "china.leverage"),
        points, seed=P.RUN_KEYS["seed"], chunks=chunks,
    )  # fmt: skip
    started = time.perf_counter()
    rows, _ = design.evaluate_chunk(plan, 0, P.resolve({}), horizon=P.RUN_KEYS["horizon"])
    return len(rows) / (time.perf_counter() - started)


def sweep_rate(root: Path, points: int, chunks: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable, "-m", "experiments.run", "-m", "experiment=sobol_design",
        f"design.points={points}", f"design.chunks={chunks}", f"hydra.sweep.dir={root}",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / sweep.SWEEP_JSON).read_text())


def test_sweep_overhead_against_model_rate(benchmark, tmp_path: Path) -> None:
    enabled = not benchmark.disabled
    points, chunks = (32768, 2) if enabled else (64, 2)  # 131,072 runs per job when enabled
    measured: dict = {}

    def run_both() -> None:
        root = tmp_path / f"sweep{len(measured)}"
        measured["model"] = model_rate(points, chunks)
        measured["report"] = sweep_rate(root, points, chunks)

    benchmark.pedantic(run_both, rounds=1, iterations=1)
    report = measured["report"]
    runs = points * 8
    assert report["replicate_runs"] == runs and report["ran"] == [0, 1]
    assert report["runs_per_second"] > 0 and report["elapsed_seconds"] > 0
    overhead = 1 - report["runs_per_second"] / measured["model"]
    benchmark.extra_info.update(
        runs=runs,
        runs_per_job=runs // chunks,
        model_runs_per_second=round(measured["model"]),
        sweep_runs_per_second=round(report["runs_per_second"]),
        overhead=round(overhead, 4),
    )
    print(
        f"\nsweep {report['runs_per_second']:,.0f} runs/s vs model {measured['model']:,.0f} "
        f"runs/s: overhead {overhead:.1%} ({runs:,} runs, {runs // chunks:,} per job)"
    )
    if enabled:  # the bound, on jobs of >= 100,000 replicates
        assert runs // chunks >= 100_000
        assert overhead <= 0.10
