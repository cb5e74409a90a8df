"""Throughput benchmarks (pytest-benchmark, never timed asserts) — issue 2, 'What done looks like'.

Replicate-runs per second for 40 quarters at R = 1, 1,000 and 100,000 in one ensemble model, and
the same model run the Mesa-native way: one ``Model`` per replicate via ``mesa.batch_run``. Both
sides do the same work per replicate — 40 steps with trajectories recorded and the
DataCollector collecting each quarter — and neither classifies. Each benchmark stores
``runs_per_second`` (from its fastest round) in ``extra_info``; the Mesa-native benchmark also
stores the ensemble/Mesa-native ratio at R = 100,000. Targets (issue 2): ≥ 30,000 runs/s at
R = 100,000 and ≥ 100× the Mesa-native way, on one core of a 2-core machine.

``make bench`` runs them in full. Inside ``make test`` pytest runs with ``--benchmark-disable``:
each benchmark body runs once as a plain test, with a smaller R (``benchmark.disabled``) to keep
the suite fast. At R = 100,000 glibc's allocator can make timings swing by ±30 %: ``make bench``
sets ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_``. Other processes on the machine
change the figures too; quote them with the load.
"""

from __future__ import annotations

import multiprocessing

import mesa
import numpy as np
import pytest

from sim.model import RussiaDPRKModel

SEED = 20241001
HORIZON = 40
RESULTS: dict[str, float] = {}  # runs/s by benchmark, for the ratio (only when enabled)


def _rate(benchmark, runs: int) -> float | None:
    """Runs per second of the fastest round, recorded in extra_info (None when disabled)."""
    if benchmark.disabled or benchmark.stats is None:
        return None
    rate = runs / benchmark.stats.stats.min
    benchmark.extra_info["runs_per_second"] = round(rate, 1)
    benchmark.extra_info["replicates"] = runs
    return rate


def _ensemble(R: int) -> RussiaDPRKModel:
    return RussiaDPRKModel(replicates=R, seed=SEED, horizon=HORIZON).run()


@pytest.mark.parametrize(
    ("R", "rounds", "disabled_R"),
    [(1, 20, 1), (1000, 5, 1000), (100_000, 1, 2000)],
    ids=["R=1", "R=1000", "R=100000"],
)
def test_bench_ensemble(benchmark, R: int, rounds: int, disabled_R: int) -> None:
    """Replicate-runs per second of one ensemble model over 40 quarters."""
    size = disabled_R if benchmark.disabled else R
    model = benchmark.pedantic(
        _ensemble, args=(size,), rounds=rounds, iterations=1, warmup_rounds=0
    )
    assert model.steps == HORIZON and model.trajectory["defence"].shape == (HORIZON, size)
    rate = _rate(benchmark, size)
    if rate is not None:
        RESULTS[f"ensemble_{R}"] = rate


def _mesa_native(runs: int) -> list[dict]:
    return mesa.batch_run(
        RussiaDPRKModel,
        parameters={},
        rng=list(range(runs)),
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


def test_bench_mesa_native(benchmark, keep_start_method) -> None:
    """The Mesa-native way: one Model (R = 1) per replicate through ``mesa.batch_run``."""
    runs = 5 if benchmark.disabled else 100
    out = benchmark.pedantic(_mesa_native, args=(runs,), rounds=1, iterations=1)
    assert len(out) == runs and all(row["Step"] == HORIZON for row in out)
    # The Mesa-native run of seed s is replicate 0 of the ensemble of seed s (same streams).
    first = RussiaDPRKModel(replicates=np.array([0]), seed=0, horizon=HORIZON).run()
    assert out[0]["munitions"] == float(first.munitions_shipped.mean())
    rate = _rate(benchmark, runs)
    if rate is not None:
        RESULTS["mesa_native"] = rate
        if "ensemble_100000" in RESULTS:
            ratio = RESULTS["ensemble_100000"] / rate
            benchmark.extra_info["ensemble_R100000_over_mesa_native"] = round(ratio, 1)
