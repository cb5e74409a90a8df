"""Every core for one run (issue 13): batches spread over worker processes give the same result.

``experiments.runner.stream_point`` with ``workers`` > 1 runs its batches in worker
processes and hands their rows on in replicate order; because random numbers depend only on
(seed, replicate, step, draw), the rows, scenario counts, per-point sums and fan-chart quantiles
must equal those of one process, value for value.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from experiments import cores, runner

SEED = 20241001


def _stream(workers: int, replicates, params=None, points=None, batch_size=700):
    frames: list[pd.DataFrame] = []
    out = runner.stream_point(
        params or {},
        seed=SEED,
        replicates=replicates,
        horizon=40,
        batch_size=batch_size,
        points=points,
        sink=frames.append,
        workers=workers,
    )
    return pd.concat(frames, ignore_index=True), out


@pytest.mark.parametrize("design", [False, True], ids=["point", "design chunk"])
def test_two_workers_equal_one_process(design: bool) -> None:
    R = 2500
    params, points, replicates = None, None, R
    if design:  # one value per replicate, as a design chunk passes them
        params = {"russia.reputation_cost": np.linspace(0.0, 1.5, R)}
        points = np.repeat(np.arange(R // 5), 5)
        replicates = np.arange(1000, 1000 + R)
    one_rows, one = _stream(1, replicates, params, points, batch_size=R)
    two_rows, two = _stream(2, replicates, params, points)
    pd.testing.assert_frame_equal(one_rows, two_rows, check_exact=True)
    assert one.counts == two.counts and one.n == two.n == R
    pd.testing.assert_frame_equal(one.points, two.points, check_exact=True)
    pd.testing.assert_frame_equal(one.fan, two.fan, check_exact=True)
    assert len(set(one_rows["scenario"])) > 1  # not a trivial all-equal result


@pytest.mark.parametrize("replicates", [1_000_000, np.arange(7, 7 + 123_457)], ids=["n", "ids"])
def test_the_last_batches_shrink_on_several_processes(replicates) -> None:
    """Guided batches: every replicate once, in order; in one process full batches; on two the
    last batches shrink so that both finish nearly together, but never below an eighth."""
    ids = np.arange(replicates) if np.isscalar(replicates) else replicates
    for workers, size in ((1, 100_000), (2, 50_000)):
        batches = list(runner._batches(replicates, size, workers))
        assert np.array_equal(np.concatenate([b for _, b in batches]), ids)
        assert [start for start, _ in batches] == list(
            np.cumsum([0, *(b.size for _, b in batches)])[:-1]
        )
        sizes = [b.size for _, b in batches]
        if workers == 1:
            assert sizes[:-1] == [size] * (len(sizes) - 1)
        else:
            assert max(sizes) <= size and min(sizes) >= size // 8
            assert sizes[-2] < size // 4  # the tail is finer than whole batches
            shrinking = zip(sizes[:-2], sizes[1:-1], strict=True)  # all but the last batch
            assert all(a >= b for a, b in shrinking)


def test_workers_for() -> None:
    """0 means every available core; small points stay in one process."""
    assert cores.workers_for(0, cores.PARALLEL_FROM) >= 1
    assert cores.workers_for(3, cores.PARALLEL_FROM) == 3
    assert cores.workers_for(3, cores.PARALLEL_FROM - 1) == 1


def test_leaving_early_stops_handing_out_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that stops reading (an error, Ctrl-C) stops the workers being fed: without the
    stop, the pool's callbacks would go on computing every remaining batch for nobody."""
    pool = cores.executor(2)
    submitted = []

    class Counting:
        def submit(self, *args, **kwargs):
            future = pool.submit(*args, **kwargs)
            submitted.append(future)
            return future

    monkeypatch.setattr(runner, "executor", lambda workers: Counting())
    tasks = [({}, np.arange(k * 200, (k + 1) * 200), SEED, 40, 0) for k in range(40)]
    results = runner._on_cores(tasks, 2)
    first = next(results)
    results.close()
    assert len(first[0]) == 200
    seen = -1
    while seen != len(submitted):  # until no batch in flight hands the worker another
        seen = len(submitted)
        for future in list(submitted):
            future.result(timeout=120)
        time.sleep(0.5)
    assert 1 <= len(submitted) <= 4, f"{len(submitted)} of 40 batches went to the worker"


def test_import_time_objects_are_frozen_after_the_first_batch() -> None:
    """``_free_batch`` freezes what outlives every batch (modules, classes) once, so later
    collections scan only the batch's own objects. In a fresh interpreter: Python 3.12 starts
    with a few hundred objects frozen, which must not be taken for the freeze having happened."""
    code = (
        "import gc\n"
        "from experiments import runner\n"
        "before = gc.get_freeze_count()\n"
        "runner.run_point({}, seed=1, replicates=20, horizon=4, batch_size=10)\n"
        "print(before, gc.get_freeze_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert after - before > 50_000, (before, after)  # the model's imports: ~175,000 objects


def test_a_large_run_starts_its_workers_before_importing_pandas_or_the_model() -> None:
    """``experiments.run`` checks the command line (``config.preflight``) and starts the workers
    before it imports pandas, Mesa or numba: the worker imports them meanwhile on another core.
    While preflight imported pandas (through ``experiments.design``), the worker started later
    and was the last of the two processes to begin computing."""
    code = (
        "import sys\n"
        "from experiments import config, run\n"
        "cfg = config.preflight(['replicates=1000000'])\n"
        "run.describe(cfg)\n"
        "print(*(m in sys.modules for m in ('pandas', 'mesa', 'numba', 'sim.model')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"] * 4, out.stdout
