"""Run one parameter point (or one chunk of a design) as ensemble models, in bounded batches.

Replicates are run ``batch_size`` at a time; because random numbers depend only on
(seed, replicate, step, draw), the batch size never changes a result. :func:`stream_point` hands
each batch's rows (one per replicate: parameters, seed, scenario, indicators) to a sink — in
``experiments.run`` a Parquet writer — and keeps only running totals: scenario counts and
indicator sums per point (``experiments.jobs.PointSums``) and a bounded trajectory sample for the
fan charts. Memory is therefore bounded by the batch whatever the number of replicates.

Fan-chart quantiles (``quantiles.parquet``) are exact quantiles of a fixed sample: the first
``fan_sample(horizon)`` replicates in replicate order (50,000 at the 40-quarter horizon; fewer for
longer horizons so that the sample holds at most 2,000,000 values per indicator). The sample is the
same whatever ``replicates`` and ``batch_size`` are, so replicate k contributes identically.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from contract.files import FAN_INDICATORS, QUANTILES, quantile_column
from experiments.cores import executor
from experiments.jobs import PointSums
from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import TRACKED, RussiaDPRKModel
from sim.world import quarter_label

FAN_VALUES = 2_000_000  # trajectory values per indicator kept for the fan-chart quantiles


def fan_sample(horizon: int) -> int:
    """Replicates whose trajectories make the fan-chart quantiles (50,000 at 40 quarters)."""
    return max(1, FAN_VALUES // horizon)


@dataclass
class Streamed:
    """What a streamed point or chunk leaves behind: counts, per-point rows, fan quantiles."""

    n: int
    counts: dict[str, int]
    points: pd.DataFrame
    fan: pd.DataFrame | None


def _batches(replicates: int | np.ndarray, batch_size: int, workers: int = 1) -> Any:
    """(start, replicate ids) of each batch: ``batch_size`` replicates, except that on several
    processes the last batches shrink — to the remaining replicates over twice the processes, at
    least an eighth of a batch — so that the processes finish nearly together ("guided"
    scheduling; the batching never changes a result)."""
    ids = np.asarray(replicates) if not np.isscalar(replicates) else None
    total = int(replicates) if ids is None else ids.size  # type: ignore[arg-type]
    smallest = max(1, batch_size // 8) if workers > 1 else batch_size
    start = 0
    while start < total:
        remaining = total - start
        size = min(batch_size, remaining, max(smallest, -(-remaining // (2 * workers))))
        if remaining - size < smallest:  # no sliver of a batch at the end
            size = min(batch_size, remaining)
        if ids is None:
            yield start, np.arange(start, start + size, dtype=np.int64)
        else:
            yield start, ids[start : start + size]
        start += size


def stream_point(
    params: Mapping[str, Any],
    *,
    seed: int,
    replicates: int | np.ndarray,
    horizon: int,
    batch_size: int = 100_000,
    quantiles: bool = True,
    points: np.ndarray | None = None,
    sink: Callable[[pd.DataFrame], None] | None = None,
    workers: int = 1,
) -> Streamed:
    """Run the replicates batch by batch, handing each batch's rows to ``sink``.

    ``params`` values may be arrays with one value per replicate (a design chunk); then
    ``replicates`` is the matching array of replicate ids and ``points`` the design point of each
    (a ``point`` column first in the rows). With ``workers`` > 1 the batches run in that many
    processes (``experiments.cores``) and their rows reach ``sink`` in replicate order, so the
    rows, counts and quantiles are the same as in one process (random numbers do not depend on
    the batching).
    """
    sums = PointSums()
    counts = dict.fromkeys(SCENARIOS, 0)
    fan_parts: list[dict[str, Any]] = []
    fan: pd.DataFrame | None = None
    keep, n, start_quarter = fan_sample(horizon) if quantiles else 0, 0, ""
    total = int(replicates) if np.isscalar(replicates) else len(replicates)  # type: ignore[arg-type]
    if workers > 1:  # the workers share one batch's memory; at least one batch per worker
        batch_size = max(1, min(batch_size // workers, -(-total // workers)))
    whole = min(keep, total)  # the fan sample's size (0: none)
    tasks = (  # the last item: whether this batch holds the whole fan sample
        (
            _batch_params(params, start, ids.size),
            ids,
            seed,
            horizon,
            max(0, keep - start),
            start == 0 and 0 < whole <= ids.size,
        )
        for start, ids in _batches(replicates, batch_size, workers)
    )
    done = _on_cores(list(tasks), workers) if workers > 1 else (_run_batch(*t) for t in tasks)
    start = 0
    for batch in done:
        rows, result_counts, fan_part, start_quarter = batch
        if points is not None:
            rows.insert(0, "point", points[start : start + len(rows)])
        start += len(rows)
        sums.add(rows)
        for s in SCENARIOS:
            counts[s] += result_counts[s]
        n += len(rows)
        if isinstance(fan_part, pd.DataFrame):  # summarised by the batch that held it all
            fan = fan_part
        elif fan_part is not None:
            fan_parts.append(fan_part)
            if sum(part["labels"].size for part in fan_parts) == whole:
                # The sample is complete: summarise it now, while the workers run.
                fan = _quantiles(fan_parts, horizon, start_quarter)
        if sink is not None:
            sink(rows)
    return Streamed(n=n, counts=counts, points=sums.frame(), fan=fan)


def _on_cores(tasks: list[tuple], workers: int) -> Iterator[tuple]:
    """Batch results in order, computed by ``workers`` - 1 worker processes and this one.

    Each worker holds one batch at a time and is handed the next batch nobody has started the
    moment it finishes one (a callback in the pool's thread, so a busy main process never
    delays it). Whenever the next result is not ready, this process runs the next batch nobody
    has started: no core waits while the workers start (they import the model, about a second),
    and at the end no batch sits queued behind a busy worker while this process is idle. Few
    results wait in memory at any time; leaving early (an error, Ctrl-C) stops the handing out.
    """
    pool = executor(workers)
    started: dict[int, Any] = {}  # batch index -> a worker's Future, or this process's result
    upcoming = iter(range(len(tasks)))
    lock = threading.RLock()  # re-entered when a batch ends before its callback is attached
    stopped = False

    def claim(for_worker: bool) -> int | None:
        """The next batch nobody has started; a worker's is submitted before the lock opens."""
        with lock:
            j = next(upcoming, None) if not stopped else None
            if j is not None:
                started[j] = _submit(pool, tasks[j], feed) if for_worker else None
            return j

    def feed(_: Future | None = None) -> None:
        claim(for_worker=True)

    try:
        for _ in range(workers - 1):
            feed()
        for i in range(len(tasks)):
            while not _ready(started.get(i)):
                j = claim(for_worker=False)
                if j is None:
                    break  # every batch is under way: wait for the worker's
                started[j] = _run_batch(*tasks[j])
            result = started.pop(i)
            if isinstance(result, Future):
                varying, constants, *rest = result.result()
                result = (_with_constants(varying, constants), *rest)
            yield result
    finally:
        with lock:
            stopped = True


def _submit(pool: Any, task: tuple, then: Callable[[Future], None]) -> Future:
    """``task`` on a worker, ``then`` called when it ends; a pool that cannot take it gives a
    Future holding the error, which the caller raises in order."""
    try:
        future = pool.submit(_run_batch_in_worker, *task)
    except Exception as error:  # a broken pool: report it where the batch's result is read
        future = Future()
        future.set_exception(error)
        return future
    future.add_done_callback(then)
    return future


def _ready(entry: Any) -> bool:
    """Whether a batch's result can be read now (None: nobody has started it)."""
    return entry is not None and (not isinstance(entry, Future) or entry.done())


def _batch_params(params: Mapping[str, Any], start: int, size: int) -> dict[str, Any]:
    return {
        k: (v[start : start + size] if isinstance(v, np.ndarray) else v) for k, v in params.items()
    }


def _run_batch(
    params: dict[str, Any],
    batch: np.ndarray,
    seed: int,
    horizon: int,
    fan_take: int,
    fan_whole: bool = False,
) -> tuple[pd.DataFrame, dict[str, int], dict[str, Any] | pd.DataFrame | None, str]:
    """One batch: (rows, scenario counts, the trajectories it adds to the fan sample, start).

    A batch that holds the whole fan sample (``fan_whole``) returns its quantiles instead of its
    trajectories: a worker then sends a few kilobytes, not 120 MB at the 40-quarter horizon.
    """
    model = RussiaDPRKModel(params, replicates=batch, seed=seed, horizon=horizon).run()
    result = classify(model)
    rows = _rows(model, result)
    counts = {s: int(np.count_nonzero(result["scenario"] == s)) for s in SCENARIOS}
    take = min(fan_take, batch.size)
    fan_part = _trajectory_sample(model, result["scenario"], take) if take > 0 else None
    start_quarter = model.start_quarter
    if fan_part is not None and fan_whole:
        fan_part = _quantiles([fan_part], horizon, start_quarter)
    del model, result
    _free_batch()
    return rows, counts, fan_part, start_quarter


def _run_batch_in_worker(params: dict[str, Any], *task: Any) -> tuple:
    """``_run_batch(params, *task)`` in a worker process, its rows sent without the columns that
    hold one value (the seed and every scalar parameter: three quarters of a row's bytes at the
    defaults) and those values once instead; ``_with_constants`` puts them back."""
    rows, *rest = _run_batch(params, *task)
    constant = [name for name in _CONSTANT_COLUMNS if not isinstance(params.get(name), np.ndarray)]
    constants = {name: rows[name].iloc[0] for name in constant}
    return (rows.drop(columns=constant), constants, *rest)


def _free_batch() -> None:
    """Free a finished batch before the next one (its agents refer back to the model: a cycle).

    After the first batch the objects that outlive every batch (modules, classes, caches) are
    frozen out of the collector, so each later collection scans only the batch's own objects:
    about 0.001 s instead of 0.09 s a batch (issue 13). The freeze is remembered here, not read
    from ``gc.get_freeze_count()``: Python 3.12 starts with a few hundred objects frozen.
    """
    global _frozen
    gc.collect()
    if not _frozen:
        gc.freeze()
        _frozen = True


_frozen = False  # whether this process has frozen its import-time objects (``_free_batch``)


_CONSTANT_COLUMNS = ("seed", *P.BY_KEY)  # may be the same on every row of a batch


def _with_constants(varying: pd.DataFrame, constants: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of ``_rows``, column for column: the constant columns put back in their place."""
    n, order = len(varying), ["replicate", *_CONSTANT_COLUMNS]
    names = [*order, *(c for c in varying if c not in order)]
    constant = pd.DataFrame({name: np.full(n, value) for name, value in constants.items()})
    return pd.concat([varying, constant], axis=1)[names]  # one join, not a rebuild per column


def run_point(
    params: Mapping[str, Any],
    *,
    seed: int,
    replicates: int | np.ndarray,
    horizon: int,
    batch_size: int = 100_000,
    quantiles: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run the replicates of one point and keep every row in memory: (rows, quantiles or None).

    For small ensembles (exercises, tests, notebooks); ``experiments.run`` streams instead.
    """
    frames: list[pd.DataFrame] = []
    out = stream_point(
        params,
        seed=seed,
        replicates=replicates,
        horizon=horizon,
        batch_size=batch_size,
        quantiles=quantiles,
        sink=frames.append,
    )
    return pd.concat(frames, ignore_index=True), out.fan


def _rows(model: RussiaDPRKModel, result: dict[str, np.ndarray]) -> pd.DataFrame:
    R = model.R
    columns: dict[str, Any] = {
        "replicate": model.replicate_ids.astype(np.int64),
        "seed": np.full(R, model.seed, dtype=np.int64),
    }
    for key in P.BY_KEY:
        value = model.p[key]
        columns[key] = value if isinstance(value, np.ndarray) else np.full(R, value)
    columns["scenario"] = result["scenario"]
    for key, value in result.items():
        if key != "scenario":
            columns[key] = value
    for key, value in model.start_state.items():  # the 2024Q3 state it continued from
        columns[f"start_{key}"] = value
    return pd.DataFrame(columns)


def _trajectory_sample(model: RussiaDPRKModel, labels: np.ndarray, take: int) -> dict[str, Any]:
    assert model.trajectory is not None
    traj = {k: model.trajectory[k][:, :take].copy() for k in FAN_INDICATORS}
    return {"labels": labels[:take].copy(), "traj": traj}


def _quantiles(parts: list[dict[str, Any]], horizon: int, start: str) -> pd.DataFrame:
    """Per-quarter quantiles of each fan indicator, for all runs and for each scenario."""
    labels = np.concatenate([p["labels"] for p in parts])
    records = []
    for indicator in FAN_INDICATORS:
        traj = np.concatenate([p["traj"][indicator] for p in parts], axis=1)
        for scenario in ("all", *SCENARIOS):
            cols = traj if scenario == "all" else traj[:, labels == scenario]
            if cols.shape[1] == 0:
                continue
            q = np.quantile(cols, QUANTILES, axis=1)
            for t in range(horizon):
                records.append(
                    {
                        "indicator": indicator,
                        "scenario": scenario,
                        "quarter": t + 1,
                        "label": quarter_label(start, t + 1),
                        "n": int(cols.shape[1]),
                        **{quantile_column(qq): float(q[i, t]) for i, qq in enumerate(QUANTILES)},
                    }
                )
    return pd.DataFrame.from_records(records)


assert set(FAN_INDICATORS) <= set(TRACKED)
