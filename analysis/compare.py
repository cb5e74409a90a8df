"""``python -m analysis.compare DIR_A DIR_B``: what differs between two experiments, with statistics.

Cells are matched by their parameter values: the match keys are the parameters swept on either
side (a parameter swept on one side only is matched against the other side's fixed value), so two
grids over the same axes are compared cell by cell whatever else differs between them (that
"else" is what is being compared, and is listed as such). Two runs are one cell each.

**Paired or independent.** When the two sides ran the same replicate ids with the same seed in
every matched cell, replicate ``i`` of A and replicate ``i`` of B drew the same random numbers
(common random numbers: they depend only on seed, replicate, step and draw), so the two samples
are *paired* and are compared replicate by replicate:

* McNemar's test (``statsmodels.stats.contingency_tables.mcnemar``, chi-square without continuity
  correction) for each scenario on the 2 × 2 table "run ends in the scenario under A / under B";
* Tango's score interval for the paired difference (Tango 1998), the interval that McNemar's
  chi-square test inverts.

Otherwise (different seeds or replicates, a sampled design, or runs without replicate ids) the
samples are independent: Newcombe's hybrid score interval (method 10, from Wilson intervals) and
the test that this interval inverts (p = the α at which the 1 - α interval just reaches 0).

**One correction for intervals and p-values.** The family is all per-cell rows (3 scenarios ×
matched cells), and separately the 3 overall rows. p-values are Holm-adjusted; intervals are
Bonferroni-simultaneous 95 % intervals (each at level 1 - 0.05/m for a family of m). Because each
interval is the inversion of its row's test, an interval excludes 0 exactly when the unadjusted p
is below 0.05/m, and then the Holm-adjusted p is below 0.05: an interval that excludes 0 always
sits beside "significant" (Holm may find a few more rows significant than the intervals show).

For every matched cell and scenario (S1, S2, neither), and overall (counts pooled over the matched
cells; pooled pairs are treated as independent pairs): the difference ``share_B - share_A``, its
interval, the raw and Holm-adjusted p-values, and Cohen's h as the effect size (|h| 0.2 small,
0.5 medium, 0.8 large).

Cells found on one side only are listed; warnings are raised when the sides differ in model
version, classifier settings or replicate counts. Outputs ``compare.html`` and ``compare.md`` in
``--out`` (default: ``DIR_B/compare``), ``compare_per_cell.csv`` (every column of the per-cell
table; the page shows what a reader needs, headers in words from ``analysis.labels``), and a
short table on the terminal (at most 100 columns). Differences are computed from the unrounded
shares and rounded last, so a printed difference may differ by 0.1 point from the difference of
the two rounded shares printed beside it; p-values print as "< 0.001", never "0".
"""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar

from analysis import results as R
from analysis.html import page
from analysis.labels import format_p, header
from analysis.stats import SCENARIO_LABELS, adjust_pvalues, cohens_h

__all__ = [
    "Comparison",
    "compare_cells",
    "compare_results",
    "main",
    "match_keys",
    "mcnemar_pvalue",
    "newcombe_interval",
    "newcombe_pvalue",
    "paired_counts",
    "tango_interval",
]

ALPHA = 0.05
CORRECTION = "holm"
PAIRED = "paired"
INDEPENDENT = "independent"
CI_LABEL = "difference (simultaneous 95 % CI)"
METHOD_NOTES = {
    PAIRED: (
        "Paired comparison: both sides ran the same seed and replicate ids in every matched "
        "cell (common random numbers), so replicate i of A is compared with replicate i of B. "
        "Test: McNemar's chi-square test (statsmodels, no continuity correction) per scenario; "
        "interval: Tango's score interval for the paired difference, which that test inverts."
    ),
    INDEPENDENT: (
        "Independent samples: Newcombe's hybrid score interval (method 10, from Wilson "
        "intervals) and the test that it inverts (p = the alpha at which the 1 - alpha interval "
        "just reaches 0)."
    ),
}
CORRECTION_NOTE = (
    "Differences are share(B) - share(A). Multiplicity: p-values are Holm-adjusted and intervals "
    "are Bonferroni-simultaneous 95 % intervals (each at level 1 - 0.05/m), over the family of "
    "all per-cell rows (m = 3 scenarios × matched cells) and separately over the 3 overall rows; "
    "'significant' means Holm-adjusted p < 0.05. An interval that excludes 0 is always "
    "significant (it excludes 0 exactly when the raw p < 0.05/m). Effect size: Cohen's h = "
    "2 asin(sqrt(p_B)) - 2 asin(sqrt(p_A)) (|h| 0.2 small, 0.5 medium, 0.8 large). Differences "
    "are computed from the unrounded shares, then rounded: a printed difference may differ by "
    "0.1 point from the difference of the two rounded shares."
)


@dataclass
class Comparison:
    """The result of comparing experiment A with experiment B."""

    keys: list[str]
    per_cell: pd.DataFrame  # one row per (matched cell, scenario)
    overall: pd.DataFrame  # one row per scenario, counts pooled over the matched cells
    only_a: pd.DataFrame  # cells (match-key values) found in A only
    only_b: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    differing: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # fixed params A vs B
    label_a: str = "A"
    label_b: str = "B"
    pairing: str = INDEPENDENT  # PAIRED or INDEPENDENT
    pairing_reason: str = "only cell counts were given"

    @property
    def method_note(self) -> str:
        """What was tested, how, and which multiplicity correction the numbers carry."""
        return METHOD_NOTES[self.pairing] + " " + CORRECTION_NOTE

    @property
    def significant_cells(self) -> pd.DataFrame:
        """Per-cell rows whose Holm-adjusted p-value is below 0.05."""
        return self.per_cell[self.per_cell["significant"]]


def match_keys(a: R.Run | R.Sweep, b: R.Run | R.Sweep) -> list[str]:
    """Parameters that identify a cell: those swept on either side, in a stable order."""
    keys: list[str] = []
    for side in (a, b):
        if isinstance(side, R.Sweep):
            keys += [k for k in side.swept if k not in keys]
    return keys


def _key_value(value: Any) -> Any:
    """A hashable, float-noise-free form of a parameter value for matching."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.number):
        return round(float(value), 10)
    return value


def _side_cells(result: R.Run | R.Sweep, keys: list[str]) -> pd.DataFrame:
    cells = result.cells()
    fixed = result.parameters
    out = pd.DataFrame(index=cells.index)
    for key in keys:
        if key in cells:
            out[key] = cells[key].map(_key_value)
        elif key in fixed:
            out[key] = _key_value(fixed[key])
        else:
            raise ValueError(f"{result.path}: cannot tell the value of {key!r} for its cells")
    out["n"] = cells["n"].astype(np.int64)
    for s in SCENARIO_LABELS:
        out[f"{s}_count"] = cells[f"{s}_count"].astype(np.int64)
    if keys:  # a design may repeat a point across chunks: pool them
        out = out.groupby(keys, sort=True, dropna=False).sum().reset_index()
    return out


# --- intervals and tests -----------------------------------------------------------------------


def _bisect(f: Any, low: np.ndarray, high: np.ndarray, iterations: int = 60) -> np.ndarray:
    """Roots of the decreasing functions ``f`` (elementwise) between ``low`` and ``high``."""
    low, high = low.astype(float).copy(), high.astype(float).copy()
    for _ in range(iterations):
        mid = 0.5 * (low + high)
        above = f(mid) > 0
        low = np.where(above, mid, low)
        high = np.where(above, high, mid)
    return 0.5 * (low + high)


def _wilson(count: np.ndarray, n: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = count / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    low = np.where(count == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(count == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def newcombe_interval(
    count_b: Any, n_b: Any, count_a: Any, n_a: Any, z: Any = 1.959963984540054
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (method 10) for ``p_b - p_a`` at normal quantile ``z``.

    ``z`` may be an array (one level per row); at ``z = 1.96`` this is
    ``analysis.stats.newcombe_diff_ci``. Returns ``(difference, low, high)``.
    """
    cb, nb, ca, na, zz = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (count_b, n_b, count_a, n_a, z))
    )
    lb, ub = _wilson(cb, nb, zz)
    la, ua = _wilson(ca, na, zz)
    pb, pa = cb / nb, ca / na
    diff = pb - pa
    low = diff - np.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    high = diff + np.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    return diff, low, high


def newcombe_pvalue(count_b: Any, n_b: Any, count_a: Any, n_a: Any) -> np.ndarray:
    """Two-sided p-value of the test that Newcombe's interval inverts.

    ``p = 2 * (1 - Phi(z*))`` where ``z*`` is the normal quantile at which the interval just
    reaches 0: the ``1 - alpha`` interval excludes 0 exactly when ``p < alpha``. A zero
    difference has p = 1.
    """
    cb, nb, ca, na = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (count_b, n_b, count_a, n_a))
    )
    diff = cb / nb - ca / na
    sign = np.where(diff >= 0, 1.0, -1.0)

    def gap(z: np.ndarray) -> np.ndarray:  # distance of the near bound from 0, falls with z
        _, low, high = newcombe_interval(cb, nb, ca, na, z)
        return np.where(sign > 0, low, -high)

    top = np.full(diff.shape, 40.0)
    z_star = _bisect(gap, np.zeros(diff.shape), top, iterations=42)  # to ~1e-11 in z
    return np.where(diff == 0, 1.0, 2.0 * sps.norm.sf(z_star))


def _tango_z(b: np.ndarray, c: np.ndarray, n: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Tango's score statistic for ``H: p_b - p_a = delta`` (b: B only, c: A only)."""
    big_a = 2.0 * n
    big_b = -b - c + (2.0 * n - b + c) * delta
    big_c = -c * delta * (1.0 - delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (np.sqrt(np.maximum(big_b * big_b - 4.0 * big_a * big_c, 0.0)) - big_b) / (2.0 * big_a)
        var = n * (2.0 * q + delta * (1.0 - delta))
        z = (b - c - n * delta) / np.sqrt(np.maximum(var, 0.0))
    return np.nan_to_num(z, nan=0.0, posinf=1e300, neginf=-1e300)


def tango_interval(
    b_only: Any, a_only: Any, n: Any, z: Any = 1.959963984540054
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tango's (1998) score interval for a paired difference of proportions ``p_b - p_a``.

    ``b_only``: pairs where only B is in the category; ``a_only``: only A; ``n``: pairs. The
    interval is ``{delta : |Z(delta)| <= z}`` for Tango's score statistic, whose value at
    ``delta = 0`` is McNemar's (uncorrected) statistic, so the interval excludes 0 exactly when
    McNemar's chi-square test rejects at that level. Returns ``(difference, low, high)``.
    """
    b, c, m, zz = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b_only, a_only, n, z)))
    diff = (b - c) / m
    low = _bisect(lambda d: _tango_z(b, c, m, d) - zz, np.full(diff.shape, -1.0), diff)
    high = _bisect(lambda d: _tango_z(b, c, m, d) + zz, diff, np.full(diff.shape, 1.0))
    return diff, np.minimum(low, diff), np.maximum(high, diff)


def mcnemar_pvalue(b_only: Any, a_only: Any) -> np.ndarray:
    """McNemar's chi-square test (statsmodels, no continuity correction), one per pair of counts.

    No discordant pair (``b_only = a_only = 0``): no evidence of a difference, p = 1.
    """
    b, c = np.broadcast_arrays(np.asarray(b_only, dtype=float), np.asarray(a_only, dtype=float))
    out = np.ones(b.shape)
    for i in np.ndindex(b.shape):
        if b[i] + c[i] > 0:
            table = [[0.0, c[i]], [b[i], 0.0]]
            out[i] = mcnemar(table, exact=False, correction=False).pvalue
    return out


def _simultaneous_z(m: int) -> float:
    """Normal quantile of a Bonferroni-simultaneous 95 % interval in a family of ``m``."""
    return float(sps.norm.isf(ALPHA / (2.0 * max(m, 1))))


# --- comparing cell tables ----------------------------------------------------------------------


def compare_cells(
    cells_a: pd.DataFrame,
    cells_b: pd.DataFrame,
    keys: list[str],
    pairs: pd.DataFrame | None = None,
) -> Comparison:
    """Compare two cell tables (columns: ``keys``, ``n``, ``<scenario>_count``).

    ``pairs`` (from :func:`paired_counts`) makes the comparison paired: it holds, per cell, the
    discordant counts ``<scenario>_b_only`` and ``<scenario>_a_only``.
    """
    counts = ["n", *(f"{s}_count" for s in SCENARIO_LABELS)]
    if keys:
        merged = cells_a.merge(
            cells_b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True, sort=True
        )
        matched = merged[merged["_merge"] == "both"].reset_index(drop=True)
        if matched.empty:
            raise ValueError(
                f"no matched cells: the two experiments share no value of {', '.join(keys)} "
                "(compare experiments that ran at least one common parameter point)"
            )
        only_a = merged.loc[merged["_merge"] == "left_only", keys].reset_index(drop=True)
        only_b = merged.loc[merged["_merge"] == "right_only", keys].reset_index(drop=True)
    else:
        a = cells_a[counts].sum().add_suffix("_a")
        b = cells_b[counts].sum().add_suffix("_b")
        matched = pd.DataFrame([pd.concat([a, b])])
        only_a = only_b = pd.DataFrame()
    discordant = [f"{s}_{side}_only" for s in SCENARIO_LABELS for side in "ba"]
    if pairs is not None:
        if keys:
            matched = matched.merge(pairs[[*keys, *discordant]], on=keys, how="left")
        else:
            matched = pd.concat([matched, pairs[discordant].sum().to_frame().T], axis=1)
        if matched[discordant].isna().any().any():
            raise ValueError("paired counts do not cover every matched cell")
    per_cell = _tests(matched, keys, paired=pairs is not None)
    pooled = [f"{c}_{s}" for s in "ab" for c in counts]
    pooled += discordant if pairs is not None else []
    overall = _tests(pd.DataFrame([matched[pooled].sum()]), [], paired=pairs is not None)
    cmp = Comparison(keys, per_cell, overall, only_a, only_b)
    if pairs is not None:
        cmp.pairing, cmp.pairing_reason = PAIRED, "same seed and replicate ids in every cell"
    return cmp


def _tests(matched: pd.DataFrame, keys: list[str], paired: bool) -> pd.DataFrame:
    """Long table: one row per (row of ``matched``, scenario) with difference, CI, p, h.

    Rows keep the order of ``matched`` (sorted by the keys), scenarios in reporting order. The
    rows form one family: intervals are Bonferroni-simultaneous and p-values Holm-adjusted.
    """
    k = len(SCENARIO_LABELS)
    na = np.repeat(matched["n_a"].to_numpy(dtype=float), k)
    nb = np.repeat(matched["n_b"].to_numpy(dtype=float), k)
    # (rows, scenarios) raveled row-major: row i's scenarios are consecutive
    ca = matched[[f"{s}_count_a" for s in SCENARIO_LABELS]].to_numpy(dtype=float).ravel()
    cb = matched[[f"{s}_count_b" for s in SCENARIO_LABELS]].to_numpy(dtype=float).ravel()
    z = _simultaneous_z(len(ca))
    columns: dict[str, Any] = {key: np.repeat(matched[key].to_numpy(), k) for key in keys}
    columns |= {
        "scenario": np.tile(np.array(SCENARIO_LABELS, dtype=object), len(matched)),
        "n_a": na.astype(np.int64),
        "n_b": nb.astype(np.int64),
        "share_a": ca / na,
        "share_b": cb / nb,
    }
    # B minus A: "what changes when going from A to B"
    if paired:
        b_only = matched[[f"{s}_b_only" for s in SCENARIO_LABELS]].to_numpy(dtype=float).ravel()
        a_only = matched[[f"{s}_a_only" for s in SCENARIO_LABELS]].to_numpy(dtype=float).ravel()
        diff, low, high = tango_interval(b_only, a_only, na, z)
        p_value = mcnemar_pvalue(b_only, a_only)
        columns |= {"b_only": b_only.astype(np.int64), "a_only": a_only.astype(np.int64)}
    else:
        diff, low, high = newcombe_interval(cb, nb, ca, na, z)
        p_value = newcombe_pvalue(cb, nb, ca, na) if len(ca) else np.zeros(0)
    columns |= {
        "diff": diff,
        "diff_low": low,
        "diff_high": high,
        "ci_level": np.full(len(ca), 1.0 - ALPHA / max(len(ca), 1)),
        "p_value": p_value,
        "test": np.full(len(ca), "McNemar" if paired else "Newcombe", dtype=object),
        "cohens_h": cohens_h(cb / nb, ca / na),
    }
    out = pd.DataFrame(columns)
    out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(), CORRECTION)
    out["significant"] = out["p_adjusted"] < ALPHA
    last = ["cohens_h", *(c for c in ("b_only", "a_only") if c in out)]
    return out[[c for c in out.columns if c not in last] + last]


# --- pairing replicates -------------------------------------------------------------------------


def _side_labels(result: R.Run | R.Sweep, keys: list[str]) -> pd.DataFrame | str:
    """Every replicate's (cell keys, seed, replicate, scenario), or why there are none."""
    if isinstance(result, R.Sweep) and result.kind == "design":
        return f"{result.path} is a sampled design (its points are not replicated alike)"
    cells = _side_cells_keys(result, keys)
    frames = []
    for i, (_, cell) in enumerate(cells.iterrows()):
        if isinstance(result, R.Run):
            run = result
        else:
            try:
                run = result.job(int(cell["job"]))
            except (R.NotAResultDir, KeyError, ValueError):
                return f"{result.path}: cell {i} has no run directory to read replicates from"
        needed = ["seed", "replicate", "scenario"]
        if not set(needed) <= set(run.columns()):
            return f"{run.path}: runs.parquet has no seed/replicate columns"
        frame = run.runs(needed)
        for key in keys:
            frame[key] = cell[key]
        frames.append(frame)
    if not frames:
        return "no cell to pair"
    return pd.concat(frames, ignore_index=True)


def _side_cells_keys(result: R.Run | R.Sweep, keys: list[str]) -> pd.DataFrame:
    cells = result.cells()
    fixed = result.parameters
    out = pd.DataFrame(index=cells.index)
    out["job"] = cells["job"] if "job" in cells else 0
    for key in keys:
        out[key] = cells[key].map(_key_value) if key in cells else _key_value(fixed[key])
    return out


def paired_counts(
    labels_a: pd.DataFrame, labels_b: pd.DataFrame, keys: list[str]
) -> pd.DataFrame | str:
    """Discordant counts per cell when both sides share seed and replicate ids, else why not.

    ``labels_*``: one row per replicate with ``keys``, ``seed``, ``replicate``, ``scenario``.
    Pairing needs, in every cell present on both sides, the same single seed and the same set of
    replicate ids (each once). Returns per cell ``keys``, ``pairs`` and for each scenario
    ``<s>_b_only`` (the run ends in s under B but not under A) and ``<s>_a_only``.
    """
    on = [*keys, "replicate"]
    for name, side in (("A", labels_a), ("B", labels_b)):
        if side.duplicated(on).any():
            return f"{name} repeats a replicate id within a cell"
    merged = labels_a.merge(labels_b, on=on, how="outer", suffixes=("_a", "_b"), indicator=True)
    if keys:
        both_cells = labels_a[keys].drop_duplicates().merge(labels_b[keys].drop_duplicates())
        merged = merged.merge(both_cells, on=keys)
    if merged.empty:
        return "no cell matched"
    if (merged["_merge"] != "both").any():
        return "the two sides ran different replicate ids"
    if (merged["seed_a"] != merged["seed_b"]).any():
        seeds = f"A seed {merged['seed_a'].iloc[0]}, B seed {merged['seed_b'].iloc[0]}"
        return f"the two sides used different seeds ({seeds})"
    out = merged[keys].copy() if keys else pd.DataFrame(index=merged.index)
    for s in SCENARIO_LABELS:
        in_a = merged["scenario_a"].to_numpy() == s
        in_b = merged["scenario_b"].to_numpy() == s
        out[f"{s}_b_only"] = (in_b & ~in_a).astype(np.int64)
        out[f"{s}_a_only"] = (in_a & ~in_b).astype(np.int64)
    out["pairs"] = 1
    if keys:
        return out.groupby(keys, sort=True, dropna=False).sum().reset_index()
    return out.sum().to_frame().T


def _classifier(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k.startswith("classifier.")}


def _side_warnings(a: R.Run | R.Sweep, b: R.Run | R.Sweep, cmp: Comparison) -> None:
    if a.model_version != b.model_version:
        cmp.warnings.append(
            f"model versions differ: A {a.model_version}, B {b.model_version}; "
            "differences may come from the code, not the parameters"
        )
    fa, fb = a.parameters, b.parameters
    ca, cb = _classifier(fa), _classifier(fb)
    diff_cls = sorted(k for k in set(ca) | set(cb) if k not in cmp.keys and ca.get(k) != cb.get(k))
    if diff_cls:
        listed = ", ".join(f"{k} (A {ca.get(k)}, B {cb.get(k)})" for k in diff_cls)
        cmp.warnings.append(
            f"classifier settings differ: {listed}; the scenarios are not defined alike"
        )
    if not cmp.per_cell.empty:
        first = cmp.per_cell.drop_duplicates(subset=[*cmp.keys]) if cmp.keys else cmp.per_cell
        unequal = first[first["n_a"] != first["n_b"]]
        if len(unequal):
            cmp.warnings.append(
                f"replicate counts differ in {len(unequal)} of {len(first)} matched cell(s) "
                f"(e.g. A n = {unequal['n_a'].iloc[0]}, B n = {unequal['n_b'].iloc[0]}); "
                "the tests allow for it, but the two sides are not equally precise"
            )
    if len(cmp.only_a) or len(cmp.only_b):
        cmp.warnings.append(
            f"{len(cmp.only_a)} cell(s) only in A and {len(cmp.only_b)} only in B are not compared"
        )
    if cmp.per_cell.empty:
        cmp.warnings.append("no cell matched: the two sides share no parameter combination")
    for key in sorted(set(fa) | set(fb)):
        if key in cmp.keys or key.startswith("classifier."):
            continue
        va, vb = fa.get(key), fb.get(key)
        if isinstance(va, list | dict) or isinstance(vb, list | dict):
            continue
        if _key_value(va) != _key_value(vb):
            cmp.differing[key] = (va, vb)


#: Designs with more cells than this on either side are compared on pooled shares only (issue 10):
#: cell-by-cell tables of a million-point design would take minutes and write hundreds of MB.
MAX_CELLS = 2_000


MARGINAL_BINS = 4


def _marginal_effects(a: R.Run | R.Sweep, b: R.Run | R.Sweep, keys: list[str]) -> pd.DataFrame:
    """Per parameter swept on both sides: bins of its declared range compared, other keys pooled."""
    from sim import params as P

    frames = []
    cells_a, cells_b = a.cells(), b.cells()
    for key in keys:
        param = P.BY_KEY.get(key)
        if param is None or key not in cells_a or key not in cells_b:
            continue
        edges = np.linspace(float(param.low), float(param.high), MARGINAL_BINS + 1)
        mids = (edges[:-1] + edges[1:]) / 2

        def binned(cells: pd.DataFrame, key: str = key, edges: Any = edges, mids: Any = mids):
            index = np.clip(np.digitize(cells[key].astype(float), edges[1:-1]), 0, len(mids) - 1)
            counts = ["n", *(f"{s}_count" for s in SCENARIO_LABELS)]
            frame = cells[counts].astype(np.int64).assign(bin=mids[index])
            return frame.groupby("bin", sort=True).sum().reset_index()

        try:
            part = compare_cells(binned(cells_a), binned(cells_b), ["bin"]).per_cell
        except ValueError:  # no bin in common
            continue
        frames.append(part.assign(parameter=key)[["parameter", *part.columns]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compare_results(a: R.Run | R.Sweep, b: R.Run | R.Sweep) -> Comparison:
    """Compare two loaded results (runs or sweeps); see the module docstring.

    Paired (McNemar, Tango) when both sides share seed and replicate ids in every matched cell,
    independent (Newcombe) otherwise; ``Comparison.pairing_reason`` says why.
    """
    keys = match_keys(a, b)
    sizes = [len(side.cells()) if isinstance(side, R.Sweep) else 1 for side in (a, b)]
    if keys and max(sizes) > MAX_CELLS:  # a large design: pooled shares, not cell by cell
        cmp = compare_cells(_side_cells(a, []), _side_cells(b, []), [])
        cmp.pairing_reason = (
            f"{max(sizes):,} cells exceed MAX_CELLS = {MAX_CELLS:,}: compared on the shares "
            "pooled over all cells of each side (independent samples), not cell by cell"
        )
        marginal = _marginal_effects(a, b, keys)
        if not marginal.empty:
            cmp.per_cell = marginal
            cmp.pairing_reason += (
                f"; the per-cell rows are marginal effects: each parameter's declared range cut "
                f"into {MARGINAL_BINS} equal bins, counts pooled over the other parameters"
            )
        cmp.label_a, cmp.label_b = str(a.path), str(b.path)
        _side_warnings(a, b, cmp)
        return cmp
    labels_a, labels_b = _side_labels(a, keys), _side_labels(b, keys)
    if isinstance(labels_a, str) or isinstance(labels_b, str):
        pairs: pd.DataFrame | str = labels_a if isinstance(labels_a, str) else str(labels_b)
    else:
        pairs = paired_counts(labels_a, labels_b, keys)
    cells_a, cells_b = _side_cells(a, keys), _side_cells(b, keys)
    if isinstance(pairs, str):
        cmp = compare_cells(cells_a, cells_b, keys)
        cmp.pairing_reason = pairs
    else:
        cmp = compare_cells(cells_a, cells_b, keys, pairs)
    cmp.label_a, cmp.label_b = str(a.path), str(b.path)
    _side_warnings(a, b, cmp)
    return cmp


# --- output -----------------------------------------------------------------------------------


#: The per-cell columns a reader needs on the page (the CSV beside it has every column).
PAGE_COLUMNS = ("scenario", "share_a", "share_b", CI_LABEL, "p_adjusted", "significant")


def _display(frame: pd.DataFrame, keys: list[str] | None = None) -> pd.DataFrame:
    """``frame`` as printed: shares in percent, the difference with its interval (computed from
    the unrounded shares, rounded last), p-values as "< 0.001". With ``keys`` only the columns
    of :data:`PAGE_COLUMNS` after the keys. Headers in words (``analysis.labels``)."""
    out = frame.copy()
    for c in ("share_a", "share_b"):
        if c in out:
            out[c] = out[c].map(lambda v: f"{v:.1%}")
    if "diff" in out:
        out[CI_LABEL] = [
            f"{d:+.1%} [{lo:+.1%}, {hi:+.1%}]"
            for d, lo, hi in zip(out["diff"], out["diff_low"], out["diff_high"], strict=True)
        ]
        out = out.drop(columns=["diff", "diff_low", "diff_high", "ci_level"], errors="ignore")
        cols = list(out.columns)
        cols.remove(CI_LABEL)
        cols.insert(cols.index("share_b") + 1, CI_LABEL)
        out = out[cols]
    for c in ("p_value", "p_adjusted"):
        if c in out:
            out[c] = out[c].map(format_p)
    if "cohens_h" in out:
        out["cohens_h"] = out["cohens_h"].map(lambda v: f"{v:+.3f}")
    if "significant" in out:
        out["significant"] = out["significant"].map(lambda v: "yes" if v else "no")
    if keys is not None:
        out = out[[c for c in [*keys, *PAGE_COLUMNS] if c in out.columns]]
    return out.rename(columns=lambda c: c if c == CI_LABEL else header(c))


def _md(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (values as they print)."""
    if frame.empty:
        return "_(none)_\n"
    cols = [str(c) for c in frame.columns]
    cell = [[_md(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cell]
    return "\n".join(lines) + "\n"


def _summary_lines(cmp: Comparison) -> list[str]:
    n_cells = len(cmp.per_cell) // len(SCENARIO_LABELS)
    n_sig = int(cmp.per_cell["significant"].sum()) if not cmp.per_cell.empty else 0
    if cmp.pairing == PAIRED:
        pairing = f"paired replicate by replicate (McNemar, Tango): {cmp.pairing_reason}"
    else:
        pairing = f"independent samples (Newcombe): not paired because {cmp.pairing_reason}"
    return [
        f"A: {cmp.label_a}",
        f"B: {cmp.label_b}",
        "differs: " + (_differing_text(cmp) or "no fixed parameter (see the matched cells)"),
        f"matched cells: {n_cells} on {', '.join(cmp.keys) or '(single point)'}; "
        f"only in A: {len(cmp.only_a)}; only in B: {len(cmp.only_b)}",
        f"comparison: {pairing}",
        f"significant per-cell differences (Holm-adjusted p < 0.05): {n_sig} of {len(cmp.per_cell)}",
    ]


def _differing_text(cmp: Comparison) -> str:
    return "; ".join(f"{k} (A {va}, B {vb})" for k, (va, vb) in cmp.differing.items())


def _differing_table(cmp: Comparison) -> pd.DataFrame:
    return pd.DataFrame(
        [{"parameter": k, "A": va, "B": vb} for k, (va, vb) in cmp.differing.items()],
        columns=["parameter", "A", "B"],
    )


def _md_text(text: str) -> str:
    """Text for compare.md: HTML in it (a folder named ``<img onerror=…>``) shown, not run."""
    return html.escape(str(text), quote=False)


def _md_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are :func:`_md_text`."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: _md_text(v) if isinstance(v, str) else v)
    return out.rename(columns=lambda c: _md_text(c) if isinstance(c, str) else c)


def to_markdown(cmp: Comparison) -> str:
    """compare.md: summary, warnings, overall table, per-cell table, one-sided cells.

    Markdown viewers render HTML, so every text that comes from the inputs (folder names,
    parameter values, warnings) is HTML-escaped.
    """
    parts = ["# Comparison of two experiments", ""]
    parts += [f"- {_md_text(line)}" for line in _summary_lines(cmp)]
    parts += ["", _md_text(cmp.method_note), ""]
    if cmp.warnings:
        parts += ["## Warnings", ""] + [f"- **warning:** {_md_text(w)}" for w in cmp.warnings]
        parts += [""]
    parts += ["## Fixed parameters that differ (what the comparison is about)", ""]
    parts += [markdown_table(_md_frame(_differing_table(cmp)))]
    parts += ["## Overall (counts pooled over the matched cells)", ""]
    parts += [markdown_table(_md_frame(_display(cmp.overall)))]
    parts += ["## Per cell", "", markdown_table(_md_frame(_display(cmp.per_cell)))]
    parts += ["Every column of the per-cell table: compare_per_cell.csv.", ""]
    parts += ["## Cells only in A", "", markdown_table(_md_frame(cmp.only_a))]
    parts += ["## Cells only in B", "", markdown_table(_md_frame(cmp.only_b))]
    return "\n".join(parts)


def to_html(cmp: Comparison) -> str:
    """compare.html: the same content as compare.md, self-contained (inline CSS only)."""

    def table(frame: pd.DataFrame) -> str:
        if frame.empty:
            return "<p><em>(none)</em></p>"
        text = frame.rename(columns=header).to_html(index=False, border=0, classes="t", escape=True)
        return f"<div class='scroll'>{text}</div>"

    body = ["<h1>Comparison of two experiments</h1><ul>"]
    body += [f"<li>{html.escape(line)}</li>" for line in _summary_lines(cmp)]
    body += ["</ul>", f"<p class='note'>{html.escape(cmp.method_note)}</p>"]
    if cmp.warnings:
        body += ["<h2>Warnings</h2><ul class='warn'>"]
        body += [f"<li>warning: {html.escape(w)}</li>" for w in cmp.warnings] + ["</ul>"]
    body += ["<h2>Fixed parameters that differ</h2>", table(_differing_table(cmp))]
    body += ["<h2>Overall (counts pooled over the matched cells)</h2>"]
    body += [table(_display(cmp.overall, [])), "<h2>Per cell</h2>"]
    body += [table(_display(cmp.per_cell, _page_keys(cmp)))]
    body += ["<p class='note'>Every column of the per-cell table: compare_per_cell.csv.</p>"]
    body += ["<h2>Cells only in A</h2>", table(cmp.only_a)]
    body += ["<h2>Cells only in B</h2>", table(cmp.only_b)]
    return page("Comparison", "\n".join(body))


def _page_keys(cmp: Comparison) -> list[str]:
    keys = list(cmp.keys)
    if "parameter" in cmp.per_cell.columns and "parameter" not in keys:
        keys = ["parameter", "bin"]  # the marginal effects of a large design
    return [k for k in keys if k in cmp.per_cell.columns]


#: The terminal's width (issue 25).
TERMINAL_WIDTH = 100


def terminal_table(cmp: Comparison) -> str:
    """Short terminal summary: what differs, the overall rows, the count of significant cells."""
    import textwrap

    shown = _display(cmp.overall, [])
    lines = []
    for line in _summary_lines(cmp):
        lines += textwrap.wrap(
            line, TERMINAL_WIDTH, subsequent_indent="  ", break_long_words=False,
            break_on_hyphens=False,
        ) or [""]  # fmt: skip
    lines += ["", shown.to_string(index=False)]
    test = (
        "McNemar's test, Tango's paired score interval"
        if cmp.pairing == PAIRED
        else "Newcombe's interval and the test it inverts"
    )
    note = (
        f"(difference = B - A, from the unrounded shares; {test}; p Holm-adjusted, intervals "
        "Bonferroni-simultaneous 95 % over the same family: an interval excluding 0 is always "
        "significant)"
    )
    lines += textwrap.wrap(note, TERMINAL_WIDTH)
    for w in cmp.warnings:
        lines += textwrap.wrap(f"warning: {w}", TERMINAL_WIDTH, subsequent_indent="  ")
    return "\n".join(lines)


def write_outputs(cmp: Comparison, outdir: Path) -> tuple[Path, Path]:
    """Write compare.md, compare.html and compare_per_cell.csv into ``outdir``, all or none."""
    from contract.safe import spreadsheet_frame, write_files

    paths = write_files(
        outdir,
        {
            "compare_per_cell.csv": spreadsheet_frame(cmp.per_cell).to_csv(index=False),
            "compare.md": to_markdown(cmp),
            "compare.html": to_html(cmp),
        },
    )
    return paths[1], paths[2]


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m analysis.compare DIR_A DIR_B [--out OUTDIR]``."""
    from contract.cli import OneLineParser

    parser = OneLineParser(prog="python -m analysis.compare", description=__doc__)
    parser.add_argument("dir_a", type=Path, help="experiment A (run or sweep directory)")
    parser.add_argument("dir_b", type=Path, help="experiment B (run or sweep directory)")
    parser.add_argument("--out", type=Path, help="output directory (default: DIR_B/compare)")
    args = parser.parse_args(argv)
    try:
        a, b = R.load(args.dir_a), R.load(args.dir_b)
        for side in (a, b):
            if isinstance(side, R.Replay):
                raise R.NotAResultDir(side.path, "is a replay directory, which has no scenarios")
        cmp = compare_results(a, b)  # type: ignore[arg-type]
    except (R.NotAResultDir, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    outdir = args.out or (args.dir_b / "compare")
    from contract.safe import output_dir_problem

    # a link in a result folder must not send the outputs elsewhere
    linked = args.out is None and args.dir_b.is_symlink()
    problem = f"{args.dir_b} is a symbolic link" if linked else output_dir_problem(outdir)
    if problem:
        print(f"error: {problem}; give --out DIR, a folder you can write to", file=sys.stderr)
        return 2
    md_path, html_path = write_outputs(cmp, outdir)
    print(terminal_table(cmp))
    print(f"written: {md_path} and {html_path}")
    return 0


if __name__ == "__main__":
    from contract.cli import run

    run(main)  # every expected error: one line, exit 2
