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
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from contract.files import FAN_INDICATORS, QUANTILES, quantile_column
from experiments.jobs import PointSums
from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import TRACKED, RussiaDPRKModel
from sim.world import quarter_label

FAN_VALUES = 2_000_000  # trajectory values per indicator kept for the fan-chart quantiles
# Below this many replicates a point runs in one process: starting workers costs more (issue 13).
PARALLEL_FROM = 500_000


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


def _batches(replicates: int | np.ndarray, batch_size: int) -> Any:
    if np.isscalar(replicates):
        total = int(replicates)  # type: ignore[arg-type]
        for start in range(0, total, batch_size):
            yield start, np.arange(start, min(start + batch_size, total), dtype=np.int64)
    else:
        ids = np.asarray(replicates)
        for start in range(0, ids.size, batch_size):
            yield start, ids[start : start + batch_size]


def workers_for(requested: int, replicates: int) -> int:
    """How many processes run a point: ``requested`` (0 = every available core), but one below
    ``PARALLEL_FROM`` replicates, where starting worker processes costs more than it saves."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = int(requested) if requested > 0 else int(available or 1)
    return max(1, wanted) if replicates >= PARALLEL_FROM else 1


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
    processes (joblib) and their rows reach ``sink`` in replicate order, so the rows, counts and
    quantiles are the same as in one process (random numbers do not depend on the batching).
    """
    sums = PointSums()
    counts = dict.fromkeys(SCENARIOS, 0)
    fan_parts: list[dict[str, Any]] = []
    keep, n, start_quarter = fan_sample(horizon) if quantiles else 0, 0, ""
    total = int(replicates) if np.isscalar(replicates) else len(replicates)  # type: ignore[arg-type]
    if workers > 1:  # the workers share one batch's memory; at least one batch per worker
        batch_size = max(1, min(batch_size // workers, -(-total // workers)))
    tasks = (
        (_batch_params(params, start, batch.size), batch, seed, horizon, max(0, keep - start))
        for start, batch in _batches(replicates, batch_size)
    )
    if workers > 1:
        done = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_run_batch)(*task) for task in tasks
        )
    else:
        done = (_run_batch(*task) for task in tasks)
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
        if fan_part is not None:
            fan_parts.append(fan_part)
        if sink is not None:
            sink(rows)
    fan = _quantiles(fan_parts, horizon, start_quarter) if quantiles and fan_parts else None
    return Streamed(n=n, counts=counts, points=sums.frame(), fan=fan)


def _batch_params(params: Mapping[str, Any], start: int, size: int) -> dict[str, Any]:
    return {
        k: (v[start : start + size] if isinstance(v, np.ndarray) else v) for k, v in params.items()
    }


def _run_batch(
    params: dict[str, Any], batch: np.ndarray, seed: int, horizon: int, fan_take: int
) -> tuple[pd.DataFrame, dict[str, int], dict[str, Any] | None, str]:
    """One batch: (rows, scenario counts, the trajectories it adds to the fan sample, start)."""
    model = RussiaDPRKModel(params, replicates=batch, seed=seed, horizon=horizon).run()
    result = classify(model)
    rows = _rows(model, result)
    counts = {s: int(np.count_nonzero(result["scenario"] == s)) for s in SCENARIOS}
    take = min(fan_take, batch.size)
    fan_part = _trajectory_sample(model, result["scenario"], take) if take > 0 else None
    start_quarter = model.start_quarter
    del model, result
    gc.collect()  # the model's agents refer back to it: free the batch before the next one
    return rows, counts, fan_part, start_quarter


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
