"""Small result directories for the analysis tests, written in the documented formats.

Run directories come from ``experiments.runner.run_point`` and ``experiments.results.write_run``
(the same code as ``python -m experiments.run``); a sweep root gets one such run per job plus
``sweep.parquet`` and ``sweep.json`` as CONTRACT.md and issue 3 describe them, so these tests do
not depend on the multirun launcher. A design is evaluated as one ensemble model per chunk with
array parameters (one value per replicate), as the design jobs do.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.results import CELL_INDICATORS
from analysis.sensitivity import make_problem, sample_design
from analysis.stats import SCENARIO_LABELS, proportion_ci
from experiments import results
from experiments.runner import run_point
from sim import params as P

HORIZON = 40


def write_run(
    outdir: Path, params: Mapping[str, Any], seed: int, replicates: int, horizon: int = HORIZON
) -> dict[str, Any]:
    """Run one point and write its run directory; return summary.json's content."""
    rows, fan = run_point(dict(params), seed=seed, replicates=replicates, horizon=horizon)
    meta = results.provenance(f"test-{seed}", seed)
    full = {k: p.default for k, p in P.BY_KEY.items()} | dict(params)
    extra = {"replicates": replicates, "horizon": horizon, "parameters": full}
    return results.write_run(outdir, rows, fan, meta, extra)


def _cell_stats(rows: pd.DataFrame) -> dict[str, Any]:
    n = len(rows)
    out: dict[str, Any] = {"n": n}
    for s in SCENARIO_LABELS:
        c = int((rows["scenario"] == s).sum())
        low, high = proportion_ci(c, n)
        out |= {
            f"{s}_count": c,
            f"{s}_share": c / n,
            f"{s}_ci_low": float(low),
            f"{s}_ci_high": float(high),
        }
    for name in CELL_INDICATORS:
        out[f"{name}_mean"] = float(rows[name].astype(float).mean())
    return out


def write_grid_sweep(
    root: Path,
    grid: Mapping[str, Sequence[Any]],
    *,
    seed: int,
    replicates: int,
    fixed: Mapping[str, Any] | None = None,
) -> Path:
    """A grid sweep root: one job per cell of ``grid`` (in Hydra's order), sweep.parquet/json."""
    keys = list(grid)
    records = []
    for job, values in enumerate(itertools.product(*(grid[k] for k in keys))):
        point = dict(fixed or {}) | dict(zip(keys, values, strict=True))
        write_run(root / str(job), point, seed, replicates)
        rows = pd.read_parquet(root / str(job) / results.RUNS_FILE)
        records.append({**dict(zip(keys, values, strict=True)), "job": job, **_cell_stats(rows)})
    _write_sweep(root, pd.DataFrame(records), "grid", keys, None, seed)
    return root


def write_design_sweep(
    root: Path,
    bounds: Mapping[str, tuple[float, float]],
    *,
    n: int,
    seed: int,
    replicates_per_point: int,
    chunks: int = 2,
    method: str = "sobol",
) -> Path:
    """A sampled design (Sobol'/Saltelli by default) evaluated in ``chunks`` jobs."""
    names = list(bounds)
    problem = make_problem(names, [bounds[k] for k in names])
    design = sample_design(problem, method, n, seed)  # type: ignore[arg-type]
    k = replicates_per_point
    records = []
    for job, idx in enumerate(np.array_split(np.arange(len(design)), chunks)):
        part = design.iloc[idx]
        params = {c: np.repeat(part[c].to_numpy(), k) for c in names}
        ids = np.arange(idx[0] * k, (idx[-1] + 1) * k)
        rows, fan = run_point(params, seed=seed, replicates=ids, horizon=HORIZON)
        meta = results.provenance(f"test-design-{seed}-{job}", seed)
        results.write_run(root / str(job), rows, fan, meta, {"replicates": int(ids.size)})
        rows["point"] = np.repeat(idx, k)
        for point, group in rows.groupby("point", sort=True):
            values = {c: float(design.iloc[point][c]) for c in names}
            records.append({**values, "point": int(point), "job": job, **_cell_stats(group)})
    spec = {"method": method, "points": n, "parameters": names, "seed": seed}
    spec["replicates_per_point"] = k
    _write_sweep(root, pd.DataFrame(records), "design", names, spec, seed)
    return root


def _write_sweep(
    root: Path,
    table: pd.DataFrame,
    kind: str,
    swept: list[str],
    design: dict[str, Any] | None,
    seed: int,
) -> None:
    table.to_parquet(root / "sweep.parquet", index=False)
    meta = {
        "kind": kind,
        "swept": swept,
        "design": design,
        "cells": len(table),
        "redone": [],
        "failed": [],
        "provenance": results.provenance(f"test-sweep-{seed}", seed),
    }
    (root / "sweep.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    (root / "summary.md").write_text(f"{len(table)} cells\n", encoding="utf-8")
