"""A small notebook-friendly API: result directories in, DataFrames and Matplotlib figures out.

Every function takes the path of a run or sweep directory (or an already loaded
``analysis.results.Run``/``Sweep``) and returns a ``pandas.DataFrame`` or a
``matplotlib.figure.Figure``; ``python -m analysis.report`` and ``python -m analysis.compare``
are built from the same functions, so a notebook and a report always agree::

    from analysis import api
    api.scenario_table("multirun/demo/2025-01-01_12-00-00")
    api.heatmap(d, "sanctions.enforcement", "stockpile.dprk", facet="world.confrontation")
    api.compare(d_a, d_b).overall

Sampled designs (``sweep.json`` kind ``"design"``) are analysed from ``sweep.parquet`` alone (one
row per design point, in design order): Sobol' indices through ``analysis.sensitivity`` and PRIM
boxes/CART trees through ``analysis.discovery``. No per-replicate file is read for them, so the
memory needed grows with the number of design points, not of replicate runs.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import figures
from analysis import results as R
from analysis.discovery import PrimResult, cart_tree, prim_box
from analysis.sensitivity import (
    make_problem,
    morris_indices,
    rank_drivers,
    sobol_indices,
)
from analysis.stats import SCENARIO_LABELS
from analysis.stats import scenario_table as _scenario_table
from sim import params as P

if TYPE_CHECKING:
    from analysis.compare import Comparison

__all__ = [
    "PRIM_MAX_POINTS",
    "cart",
    "cell_table",
    "compare",
    "design_points",
    "drivers",
    "rare_outputs",
    "fan_chart",
    "heatmap",
    "marginal_effects",
    "marginal_table",
    "open_result",
    "prim",
    "scenario_table",
    "sobol",
]

#: PRIM and CART use at most this many design points (a seeded random subset beyond it).
PRIM_MAX_POINTS = 20_000

Source = str | Path | R.Run | R.Sweep


def open_result(source: Source) -> R.Run | R.Sweep:
    """A loaded run or sweep; a replay or anything else raises ``NotAResultDir``."""
    if isinstance(source, R.Run | R.Sweep):
        return source
    result = R.load(source)
    if isinstance(result, R.Replay):
        raise R.NotAResultDir(result.path, "is a replay directory (see analysis.replay_report)")
    return result


def scenario_table(source: Source, method: str = "wilson") -> pd.DataFrame:
    """Count, share and 95 % interval (Wilson by default, or Jeffreys) of S1, S2 and neither.

    For a sweep the counts are pooled over all its cells (every replicate counts once).
    """
    result = open_result(source)
    return _scenario_table(result.counts(), method=method)  # type: ignore[arg-type]


def cell_table(source: Source) -> pd.DataFrame:
    """One row per cell (grid), design point or run: swept parameters, n, counts, shares, CIs."""
    result = open_result(source)
    return result.cells()


def _swept(result: R.Run | R.Sweep) -> list[str]:
    return result.swept if isinstance(result, R.Sweep) else []


def marginal_table(source: Source, param: str) -> pd.DataFrame:
    """Scenario shares (Wilson 95 %) at each level (or bin) of ``param``, pooled over the rest."""
    result = open_result(source)
    cells = result.cells()
    if param not in cells:
        raise ValueError(f"{param!r} is not a column of the cell table; swept: {_swept(result)}")
    return R.pool_cells(cells, [param])


def marginal_effects(source: Source, params: list[str] | None = None) -> Figure:
    """Marginal-effect plot of the swept parameters (or of ``params``)."""
    result = open_result(source)
    chosen = params or _swept(result)
    if not chosen:
        raise ValueError("nothing was swept: a marginal effect needs a sweep")
    return figures.marginal_effects(result.cells(), chosen)


def heatmap(
    source: Source, x: str, y: str, facet: str | None = None, scenario: str = "S1"
) -> Figure:
    """Heat map of P(``scenario``) over two swept parameters, faceted by a third."""
    result = open_result(source)
    cells = result.cells()
    for key in (x, y, facet):
        if key is not None and key not in cells:
            raise ValueError(f"{key!r} is not a swept parameter; swept: {_swept(result)}")
    if scenario not in SCENARIO_LABELS:
        raise ValueError(f"scenario must be one of {SCENARIO_LABELS}, got {scenario!r}")
    return figures.heatmaps(cells, x, y, facet, scenario)


def fan_chart(source: Source, indicator: str, job: int | None = None) -> Figure:
    """Fan chart of ``indicator`` split by scenario (which runs are shown: see the title)."""
    result = open_result(source)
    quantiles, note = R.fan_quantiles(result, job)
    if quantiles is None:
        raise ValueError(f"{result.path}: no quantiles.parquet recorded ({note})")
    return figures.fan_chart(quantiles, indicator, note)


def compare(dir_a: Source, dir_b: Source) -> Comparison:
    """Per-cell and overall differences between two experiments (see ``analysis.compare``)."""
    from analysis.compare import compare_results

    return compare_results(open_result(dir_a), open_result(dir_b))


# --- sampled designs --------------------------------------------------------------------------

#: Outputs analysed for a design: scenario probabilities and cell means of key indicators.
DESIGN_OUTPUTS: dict[str, str] = {
    "P(S1)": "S1_share",
    "P(S2)": "S2_share",
    **{f"mean {name}": f"{name}_mean" for name in R.CELL_INDICATORS},
}


def _design(source: Source) -> R.Sweep:
    result = open_result(source)
    if not isinstance(result, R.Sweep) or result.kind != "design":
        raise ValueError(
            f"{result.path}: not a sampled design (sweep.json kind 'design'); Sobol' indices and "
            "PRIM boxes need one"
        )
    return result


def design_points(source: Source) -> tuple[pd.DataFrame, list[str], str]:
    """(points in design order, design parameters, sampling method) of a design sweep.

    The order is the ``point`` column when there is one, else job then row order.
    """
    sweep = _design(source)
    table = sweep.table
    if "point" in table:
        table = table.sort_values("point", kind="stable")
    elif "job" in table:
        table = table.sort_values("job", kind="stable")
    names = [str(k) for k in (sweep.design.get("parameters") or sweep.swept)]
    missing = [k for k in names if k not in table]
    if missing:
        raise ValueError(f"{sweep.path}: design parameters {missing} are not in sweep.parquet")
    method = str(sweep.design.get("method") or "sobol")
    return table.reset_index(drop=True), names, method


def _problem(names: list[str], table: pd.DataFrame, sweep: R.Sweep) -> Any:
    bounds_meta = sweep.design.get("bounds") or {}
    if isinstance(bounds_meta, list):  # experiments.design writes one [low, high] per parameter
        listed = sweep.design.get("parameters") or []
        bounds_meta = dict(zip(listed, bounds_meta, strict=False))
    bounds = []
    for k in names:
        if k in bounds_meta:
            bounds.append(tuple(bounds_meta[k]))
        elif k in P.BY_KEY and P.BY_KEY[k].low < P.BY_KEY[k].high:
            bounds.append((float(P.BY_KEY[k].low), float(P.BY_KEY[k].high)))
        else:
            bounds.append((float(table[k].min()), float(table[k].max())))
    return make_problem(names, bounds)


def sobol(source: Source, outputs: dict[str, str] | None = None, seed: int = 0) -> pd.DataFrame:
    """Sensitivity indices of P(S1), P(S2) and the indicator means over a design.

    For a Sobol'/Saltelli design: first-order ``S1`` and total ``ST`` indices with SALib's 95 %
    bootstrap half-widths ``S1_conf``/``ST_conf``; for a Morris design the columns are
    ``mu_star, mu_star_conf, sigma``. Tidy: one row per (output, parameter).
    """
    sweep = _design(source)
    table, names, method = design_points(sweep)
    problem = _problem(names, table, sweep)
    wanted = outputs or {k: v for k, v in DESIGN_OUTPUTS.items() if v in table}
    frames = []
    for output, column in wanted.items():
        y = table[column].to_numpy(dtype=float)
        if not np.all(np.isfinite(y)):  # e.g. a window-mean indicator undefined at some points
            continue
        if method == "morris":
            ind = morris_indices(problem, table[names], y, seed=seed)
        elif method == "sobol":
            with warnings.catch_warnings():
                # SALib warns (and returns zeros) when a block of outputs is constant, e.g. a
                # rare scenario; the report says so through rare_outputs()
                warnings.filterwarnings("ignore", message=r".*Constant values encountered.*")
                ind = sobol_indices(problem, y, seed=seed)
        else:
            raise ValueError(
                f"{sweep.path}: a {method!r} design has no variance-based indices; "
                "sample with method 'sobol' (or 'morris' for screening)"
            )
        frames.append(ind.reset_index().assign(output=output))
    tidy = pd.concat(frames, ignore_index=True)
    return tidy[
        ["output", "parameter", *[c for c in tidy.columns if c not in ("output", "parameter")]]
    ]


def rare_outputs(source: Source, minimum: int = 30) -> dict[str, int]:
    """Scenario outputs (``P(S1)``, ``P(S2)``) with fewer than ``minimum`` informative points.

    A point is informative for P(S) when it differs from the design's typical value: the
    returned number is ``min(#points with P(S) > 0, #points with P(S) < 1)``. Sobol' indices of
    such an output rest on a handful of runs (SALib returns zeros when a block is constant).
    """
    table, _, _ = design_points(source)
    out = {}
    for output in ("P(S1)", "P(S2)"):
        y = table[DESIGN_OUTPUTS[output]].to_numpy(dtype=float)
        informative = int(min((y > 0).sum(), (y < 1).sum()))
        if informative < minimum:
            out[output] = informative
    return out


def drivers(source: Source | pd.DataFrame) -> pd.DataFrame:
    """Which parameters drive S1 and which drive S2: total Sobol' indices side by side.

    Columns ``parameter, ST_S1, ST_S1_conf, rank_S1, ST_S2, ST_S2_conf, rank_S2, drives``, sorted
    by the larger of the two total indices. ``drives`` is "S1" (or "S2") when that total index
    exceeds the other by more than both 95 % half-widths together, "both" when both intervals
    exclude 0 and neither dominates, and "neither" otherwise.
    """
    tidy = source if isinstance(source, pd.DataFrame) else sobol(source)
    if "ST" not in tidy:
        raise ValueError("driver ranking needs Sobol' total indices (a 'sobol' design)")
    by_output = {
        out: part.set_index("parameter")
        for out, part in tidy.groupby("output", sort=False)
        if out in ("P(S1)", "P(S2)")
    }
    ranked = rank_drivers(by_output).set_index(["output", "parameter"])
    s1, s2 = ranked.loc["P(S1)"], ranked.loc["P(S2)"]
    out = pd.DataFrame(
        {
            "ST_S1": s1["ST"],
            "ST_S1_conf": s1["ST_conf"],
            "rank_S1": s1["rank"],
            "ST_S2": s2["ST"].reindex(s1.index),
            "ST_S2_conf": s2["ST_conf"].reindex(s1.index),
            "rank_S2": s2["rank"].reindex(s1.index),
        }
    )
    margin = out["ST_S1_conf"] + out["ST_S2_conf"]
    nonzero_1 = out["ST_S1"] - out["ST_S1_conf"] > 0
    nonzero_2 = out["ST_S2"] - out["ST_S2_conf"] > 0
    out["drives"] = np.select(
        [
            out["ST_S1"] - out["ST_S2"] > margin,
            out["ST_S2"] - out["ST_S1"] > margin,
            nonzero_1 & nonzero_2,
        ],
        ["S1", "S2", "both"],
        default="neither",
    )
    out["_key"] = np.maximum(out["ST_S1"], out["ST_S2"])
    out = out.sort_values("_key", ascending=False).drop(columns="_key")
    return out.reset_index()


def _cases(table: pd.DataFrame, scenario: str) -> tuple[np.ndarray, str]:
    """Design points of interest for ``scenario`` and the rule that chose them.

    ``"dominant"``: points where ``scenario`` is the most frequent outcome (with one replicate per
    point: the run ended in it). When fewer than max(10, 1 %) of the points qualify (a rare
    scenario), ``"above_rate"``: points where the scenario is more frequent than across the whole
    design.
    """
    share = table[f"{scenario}_share"].to_numpy(dtype=float)
    others = [s for s in SCENARIO_LABELS if s != scenario]
    dominant = np.all([share > table[f"{o}_share"].to_numpy(dtype=float) for o in others], axis=0)
    if dominant.sum() >= max(10, 0.01 * len(table)):
        return dominant, "dominant"
    rate = table[f"{scenario}_count"].sum() / max(int(table["n"].sum()), 1)
    return share > rate, "above_rate"


RULES = {
    "dominant": "{s} is the most frequent outcome at the point",
    "above_rate": "{s} is more frequent at the point than across the whole design, because {s} "
    "is the most frequent outcome at too few points to describe a region",
}


def _subset(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    if len(table) <= PRIM_MAX_POINTS:
        return table
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(table), size=PRIM_MAX_POINTS, replace=False))
    return table.iloc[keep].reset_index(drop=True)


def prim(source: Source, scenario: str = "S1", threshold: float = 0.5, seed: int = 0) -> PrimResult:
    """PRIM box of the design region where ``scenario`` dominates.

    Cases of interest: see :func:`_cases` (the rule used is stored as ``result.rule``). The box
    must reach density ``threshold`` (default 0.5: most points in the box are cases); when no box
    on the peeling trajectory reaches it, the threshold becomes the midpoint between the share of
    cases in the whole design and the highest density on the trajectory (stored as
    ``result.threshold``). Uses at most :data:`PRIM_MAX_POINTS` design points (a seeded random
    subset beyond that).
    """
    table, names, _ = design_points(source)
    table = _subset(table, seed)
    y, rule = _cases(table, scenario)
    if not y.any():
        raise ValueError(f"no design point where {scenario} is more frequent than on average")
    result = prim_box(table[names], y, threshold=threshold)
    best = float(result.trajectory["density"].max())
    if best < threshold:
        lowered = round((float(y.mean()) + best) / 2.0, 4)
        result = prim_box(table[names], y, threshold=lowered)
    result.rule = RULES[rule].format(s=scenario)  # type: ignore[attr-defined]
    result.cases = int(y.sum())  # type: ignore[attr-defined]
    result.points = len(table)  # type: ignore[attr-defined]
    return result


def cart(source: Source, scenario: str = "S1", max_depth: int = 3, seed: int = 0) -> str:
    """A CART tree (as text) of where ``scenario`` dominates: a cross-check of :func:`prim`."""
    table, names, _ = design_points(source)
    table = _subset(table, seed)
    y, _ = _cases(table, scenario)
    if not y.any():
        raise ValueError(f"no design point where {scenario} is more frequent than on average")
    min_leaf = max(1, len(table) // 50)
    return cart_tree(table[names], y, max_depth=max_depth, min_samples_leaf=min_leaf)[1]
