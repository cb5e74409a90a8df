"""Run one parameter point (or one chunk of a design) as ensemble models, in bounded batches.

Replicates are run ``batch_size`` at a time; because random numbers depend only on
(seed, replicate, step, draw), the batch size never changes a result. Returns one row per
replicate (parameters, seed, scenario, indicators) and per-quarter quantiles of the key
indicators by scenario (for the fan charts), so trajectories never need to be stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import TRACKED, RussiaDPRKModel

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
FAN_REPLICATES = 50_000  # fan-chart quantiles use the first 50,000 replicates (bounded memory)
FAN_INDICATORS = ("defence", "economic", "technology", "munitions", "oil", "tourism", "posture")


def run_point(
    params: Mapping[str, Any],
    *,
    seed: int,
    replicates: int | np.ndarray,
    horizon: int,
    batch_size: int = 100_000,
    quantiles: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run the replicates of one point; return (rows, per-quarter quantiles or None).

    ``params`` values may be arrays with one value per replicate (a design chunk); then
    ``replicates`` must be the matching array of replicate ids.
    """
    ids = np.arange(replicates) if np.isscalar(replicates) else np.asarray(replicates)
    frames, fan_parts, kept = [], [], 0
    for start in range(0, ids.size, batch_size):
        batch = ids[start : start + batch_size]
        batch_params = {
            k: (v[start : start + batch_size] if isinstance(v, np.ndarray) else v)
            for k, v in params.items()
        }
        model = RussiaDPRKModel(batch_params, replicates=batch, seed=seed, horizon=horizon).run()
        result = classify(model)
        frames.append(_rows(model, result))
        if quantiles and kept < FAN_REPLICATES:
            take = min(FAN_REPLICATES - kept, batch.size)
            fan_parts.append(_trajectory_sample(model, result["scenario"], take))
            kept += take
        if progress:
            progress(batch.size)
    rows = pd.concat(frames, ignore_index=True)
    fan = _quantiles(fan_parts, horizon, model.start_quarter) if quantiles else None
    return rows, fan


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
    return {"labels": labels[:take], "traj": traj}


def _quantiles(parts: list[dict[str, Any]], horizon: int, start: str) -> pd.DataFrame:
    """Per-quarter quantiles of each fan indicator, for all runs and for each scenario."""
    from sim.world import quarter_label

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
                        **{
                            f"q{int(round(qq * 100)):02d}": float(q[i, t])
                            for i, qq in enumerate(QUANTILES)
                        },
                    }
                )
    return pd.DataFrame.from_records(records)


assert set(FAN_INDICATORS) <= set(TRACKED)
