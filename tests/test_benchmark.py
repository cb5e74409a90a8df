"""Throughput benchmarks, all from one run (pytest-benchmark; never timed asserts) — issue 13.

Replicate-runs per second for 40 forward quarters (each after its 99-quarter history, issue 21) of:

- the scalar reference (``tests/reference``) — the model written the way a Mesa user would, one
  replicate of plain floats per ``mesa.Model``, run through ``mesa.batch_run`` with its
  ``DataCollector`` recording the tracked indicators every quarter: the honest Mesa-native peer;
- the ensemble model at R = 1, 1,000 and 100,000 (trajectories recorded, nothing classified);
- the ensemble as it was before issue 21 (``tests/reference/legacy.py`` reads it from git: 40
  quarters, no history), at R = 1,000 and 100,000, for the cost of the history in the same run;
- a whole point as ``experiments.run`` streams it (model, classifier, per-replicate rows, fan
  sample; no file writing) at R = 1,000,000, in one process and on every available core.

Each benchmark stores ``runs_per_second`` from its fastest round (wall clock), the CPU seconds
of that round's process and its children (``cpu_runs_per_second``: less sensitive to other
processes on a shared machine) and the load average. Between rounds the previous model is collected (``gc.collect``), as the runner does
between batches. ``scripts/bench_summary.py`` turns the JSON into the speed table and ratios.

``make bench`` runs them in full. Inside ``make test`` pytest runs with ``--benchmark-disable``:
each body runs once at a small size as a plain test.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import mesa
import numpy as np
import pytest
from reference import ReferenceModel, legacy

import sim.model as sim_model
from experiments import cores
from sim.model import RussiaDPRKModel

ROOT = Path(__file__).resolve().parents[1]
SEED = 20241001
HORIZON = 40
STREAMED = 1_000_000  # replicates of the streamed point (ten batches of 100,000)


class Timed:
    """Wraps a function; remembers the CPU seconds of its fastest call (by wall clock)."""

    def __init__(self, fn):
        self.fn, self.best_wall, self.cpu = fn, float("inf"), float("nan")

    def __call__(self, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        out = self.fn(*args)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < self.best_wall:
            self.best_wall, self.cpu = wall, cpu
        return out


def _record(benchmark, runs: int, timed: Timed | FreshProcess | None = None, **extra) -> None:
    """Store runs/s of the fastest round, its CPU rate and the load (only when enabled)."""
    if benchmark.disabled or benchmark.stats is None:
        return
    info = benchmark.extra_info
    info["replicates"] = runs
    info["runs_per_second"] = round(runs / benchmark.stats.stats.min, 1)
    if timed is not None and timed.cpu > 0:
        info["cpu_runs_per_second"] = round(runs / timed.cpu, 1)
    info["load_average_1min"] = round(os.getloadavg()[0], 2)
    info.update(extra)


def _collect() -> None:
    """Free the previous round's model (its agents refer back to it) before the next round, and
    forget the histories this process ran: every round computes its own 2000–2024 history, as a
    run of a new parameter point does (``sim.model`` reuses one only across forward-only changes)."""
    sim_model._HISTORIES.entries.clear()
    gc.collect()


def _run(benchmark, fn, args: tuple, rounds: int):
    timed = Timed(fn)
    out = benchmark.pedantic(
        timed, args=args, rounds=rounds, iterations=1, warmup_rounds=0, setup=_collect
    )
    return out, timed


def _ensemble(model_class, R: int):
    return model_class(replicates=R, seed=SEED, horizon=HORIZON).run()


@pytest.mark.parametrize(
    ("R", "rounds", "disabled_R"),
    [(1, 20, 1), (1000, 5, 1000), (100_000, 3, 2000)],
    ids=["R=1", "R=1000", "R=100000"],
)
def test_bench_ensemble(benchmark, R: int, rounds: int, disabled_R: int) -> None:
    """Replicate-runs per second of one ensemble model over 40 quarters."""
    size = disabled_R if benchmark.disabled else R
    model, timed = _run(benchmark, _ensemble, (RussiaDPRKModel, size), rounds)
    assert model.steps == HORIZON and model.trajectory["defence"].shape == (HORIZON, size)
    _record(benchmark, size, timed)


@pytest.mark.parametrize(
    ("R", "rounds", "disabled_R"),
    [(1000, 5, 1000), (100_000, 3, 2000)],
    ids=["R=1000", "R=100000"],
)
def test_bench_ensemble_before(benchmark, R: int, rounds: int, disabled_R: int) -> None:
    """The same, for the ensemble as it was before issue 21 (read from git: no history)."""
    try:
        legacy_model = legacy.load()
    except LookupError as why:
        pytest.skip(str(why))
    size = disabled_R if benchmark.disabled else R
    model, timed = _run(benchmark, _ensemble, (legacy_model, size), rounds)
    assert model.steps == HORIZON and model.trajectory["defence"].shape == (HORIZON, size)
    _record(benchmark, size, timed)


def _reference_batch_run(runs: int) -> list[dict]:
    return mesa.batch_run(
        ReferenceModel,
        parameters={"replicate": list(range(runs))},
        rng=SEED,
        max_steps=HORIZON,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )


@pytest.fixture
def keep_start_method():
    """``mesa.batch_run`` forces the 'spawn' start method process-wide; restore it afterwards."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_bench_reference_mesa(benchmark, keep_start_method) -> None:
    """The Mesa-native peer: the scalar reference, one Model per replicate, ``mesa.batch_run``."""
    runs = 5 if benchmark.disabled else 300
    out, timed = _run(benchmark, _reference_batch_run, (runs,), 3)
    assert len(out) == runs and all(row["Step"] == HORIZON for row in out)
    # It does the ensemble's work: its last quarter is the ensemble's, replicate by replicate.
    ensemble = _ensemble(RussiaDPRKModel, runs)
    for row in out:
        k = row["replicate"]
        assert row["posture"] == ensemble.trajectory["posture"][-1, k]
        assert np.isclose(row["defence"], ensemble.trajectory["defence"][-1, k], rtol=1e-6)
    _record(benchmark, runs, timed)


_STREAM = """
import sys
from experiments import cores
R, workers = int(sys.argv[1]), int(sys.argv[2])
cores.warm_up(workers)  # as experiments.run does, before it imports the model
from experiments import runner
out = runner.stream_point({}, seed=int(sys.argv[3]), replicates=R, horizon=40, workers=workers)
assert out.n == R and sum(out.counts.values()) == R
import psutil  # this process and its pool's (a fork server's children are not ours to wait for)
me = psutil.Process()
print("cpu", sum(sum(p.cpu_times()[:2]) for p in [me, *me.children(recursive=True)]))
"""


class FreshProcess:
    """Runs the streamed point in a fresh Python process (cold, like a user's run) and remembers
    the CPU seconds of it and its workers in the fastest round (the process reports them)."""

    def __init__(self):
        self.best_wall, self.cpu = float("inf"), float("nan")

    def __call__(self, R: int, workers: int) -> None:
        wall = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _STREAM, str(R), str(workers), str(SEED)],
            cwd=ROOT,
            check=True,
            timeout=1800,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - wall
        if wall < self.best_wall:
            self.best_wall = wall
            self.cpu = float(done.stdout.split("cpu")[-1])


@pytest.mark.parametrize("spread", ["one", "all"])
def test_bench_streamed_point(benchmark, spread: str) -> None:
    """A whole point as ``experiments.run`` streams it, in one process or on every core; each in a
    fresh interpreter (start-up and imports included, as for a user's run)."""
    available = cores.workers_for(0, cores.PARALLEL_FROM)
    workers = 1 if spread == "one" or benchmark.disabled else available
    R = 3000 if benchmark.disabled else STREAMED
    fresh = FreshProcess()
    benchmark.pedantic(fresh, args=(R, workers), rounds=1, iterations=1, warmup_rounds=0)
    _record(benchmark, R, fresh, workers=workers)
