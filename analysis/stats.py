"""Interval estimates and tests for scenario shares from ensembles of model runs.

An ensemble of runs ends each run in one of the article's scenarios ("S1", "S2") or in
"neither"; the quantities of interest are therefore binomial proportions. Everything here is
vectorised over numpy arrays (counts and sample sizes may be scalars or broadcastable arrays).

The project reports Wilson score intervals by default (good coverage also near 0 and 1, which
matters for rare scenarios); Jeffreys intervals are available as an alternative. Differences
between two proportions use Newcombe's hybrid score interval (Newcombe 1998, method 10), which is
built from the two Wilson intervals. The formulas are implemented here; the tests check them
against statsmodels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from sim.classifier import SCENARIOS

# scipy.stats and statsmodels are imported where they are used: they take about 0.6 s, and every
# `experiments.run` reports Wilson intervals, which need only the normal quantile (issue 13).

__all__ = [
    "SCENARIO_LABELS",
    "adjust_pvalues",
    "cohens_h",
    "newcombe_diff_ci",
    "proportion_ci",
    "scenario_table",
    "shares",
    "two_proportion_pvalue",
]

#: Outcome labels of a run, in reporting order.
SCENARIO_LABELS: tuple[str, ...] = SCENARIOS  # the classifier's labels, in its order


def _as_float(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _check_counts(count: np.ndarray, n: np.ndarray) -> None:
    if np.any(count < 0) or np.any(count > n):
        raise ValueError("counts must satisfy 0 <= count <= n")


def _wilson(count: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    z = -special.ndtri(alpha / 2.0)  # what scipy.stats.norm.isf computes, bit for bit
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = count / n
        denom = 1.0 + z2 / n
        centre = (p + z2 / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    # The interval lies in [0, 1] mathematically and is exactly [0, .] at count = 0 and
    # [., 1] at count = n; clip floating-point overshoot and pin the boundary cases.
    low = np.where(count == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(count == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def _jeffreys(count: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats as sps

    a = count + 0.5
    b = n - count + 0.5
    low = np.asarray(sps.beta.ppf(alpha / 2.0, a, b), dtype=float)
    high = np.asarray(sps.beta.isf(alpha / 2.0, a, b), dtype=float)
    # Usual convention (Brown, Cai & DasGupta 2001): the bound at an observed extreme is the
    # boundary itself.
    low = np.where(count == 0, 0.0, low)
    high = np.where(count == n, 1.0, high)
    return low, high


def proportion_ci(
    count: ArrayLike,
    n: ArrayLike,
    alpha: float = 0.05,
    method: Literal["wilson", "jeffreys"] = "wilson",
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided ``1 - alpha`` confidence interval for a binomial proportion ``count / n``.

    Parameters
    ----------
    count, n
        Successes and trials; scalars or broadcastable arrays with ``0 <= count <= n``.
        Where ``n == 0`` the bounds are NaN.
    alpha
        One minus the confidence level.
    method
        ``"wilson"`` (score interval, the project default) or ``"jeffreys"`` (equal-tailed
        Beta(count + 1/2, n - count + 1/2) posterior interval with low = 0 at count = 0 and
        high = 1 at count = n).

    Returns
    -------
    (low, high)
        Arrays of the broadcast shape (0-d arrays for scalar input).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie in (0, 1)")
    c, m = np.broadcast_arrays(_as_float(count), _as_float(n))
    _check_counts(c, m)
    if method == "wilson":
        low, high = _wilson(c, m, alpha)
    elif method == "jeffreys":
        low, high = _jeffreys(c, m, alpha)
    else:
        raise ValueError(f"unknown method {method!r}; use 'wilson' or 'jeffreys'")
    empty = m == 0
    if np.any(empty):
        low = np.where(empty, np.nan, low)
        high = np.where(empty, np.nan, high)
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def newcombe_diff_ci(
    count_a: ArrayLike,
    n_a: ArrayLike,
    count_b: ArrayLike,
    n_b: ArrayLike,
    alpha: float = 0.05,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (method 10) for the difference ``p_a - p_b``.

    With Wilson intervals ``(l_a, u_a)`` and ``(l_b, u_b)`` for the two proportions::

        low  = d - sqrt((p_a - l_a)**2 + (u_b - p_b)**2)
        high = d + sqrt((u_a - p_a)**2 + (p_b - l_b)**2)

    where ``d = p_a - p_b``. Returns ``(d, low, high)`` as arrays of the broadcast shape.
    """
    ca, na, cb, nb = np.broadcast_arrays(
        _as_float(count_a), _as_float(n_a), _as_float(count_b), _as_float(n_b)
    )
    la, ua = proportion_ci(ca, na, alpha=alpha, method="wilson")
    lb, ub = proportion_ci(cb, nb, alpha=alpha, method="wilson")
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = ca / na
        pb = cb / nb
    diff = pa - pb
    low = diff - np.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    high = diff + np.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    return diff, low, high


def two_proportion_pvalue(
    count_a: ArrayLike, n_a: ArrayLike, count_b: ArrayLike, n_b: ArrayLike
) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test of ``p_a == p_b``.

    Where the pooled variance is zero (both proportions 0, or both 1) there is no evidence of a
    difference and the p-value is 1.0.
    """
    ca, na, cb, nb = np.broadcast_arrays(
        _as_float(count_a), _as_float(n_a), _as_float(count_b), _as_float(n_b)
    )
    _check_counts(ca, na)
    _check_counts(cb, nb)
    from scipy import stats as sps

    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (ca + cb) / (na + nb)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb))
        z = (ca / na - cb / nb) / se
        p = 2.0 * sps.norm.sf(np.abs(z))
    return np.asarray(np.where(se > 0, p, 1.0), dtype=float)


def adjust_pvalues(p: ArrayLike, method: Literal["holm", "fdr_bh"] = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values (Holm's step-down FWER or Benjamini–Hochberg FDR).

    Thin wrapper around :func:`statsmodels.stats.multitest.multipletests`. Accepts any shape;
    NaN entries are left as NaN and excluded from the family.
    """
    if method not in ("holm", "fdr_bh"):
        raise ValueError(f"unknown method {method!r}; use 'holm' or 'fdr_bh'")
    from statsmodels.stats.multitest import multipletests

    arr = _as_float(p)
    flat = arr.ravel()
    out = np.full(flat.shape, np.nan)
    ok = ~np.isnan(flat)
    if np.any(ok):
        out[ok] = multipletests(flat[ok], method=method)[1]
    return out.reshape(arr.shape)


def cohens_h(p_a: ArrayLike, p_b: ArrayLike) -> np.ndarray:
    """Cohen's h effect size ``2 asin(sqrt(p_a)) - 2 asin(sqrt(p_b))``.

    Conventional reading of ``|h|``: 0.2 small, 0.5 medium, 0.8 large.
    """
    return np.asarray(
        2.0 * np.arcsin(np.sqrt(_as_float(p_a))) - 2.0 * np.arcsin(np.sqrt(_as_float(p_b))),
        dtype=float,
    )


def scenario_table(
    counts: Mapping[str, int],
    alpha: float = 0.05,
    method: Literal["wilson", "jeffreys"] = "wilson",
) -> pd.DataFrame:
    """Share of runs ending in each scenario, with per-share confidence intervals.

    Rows are always ``S1``, ``S2``, ``neither`` in that order (missing labels count 0); the
    denominator is the total of the counts. Columns: ``count``, ``share``, ``ci_low``,
    ``ci_high``. Unknown labels raise ``ValueError`` (they would silently break the shares).
    """
    unknown = set(counts) - set(SCENARIO_LABELS)
    if unknown:
        raise ValueError(f"unknown scenario labels {sorted(unknown)}; expected {SCENARIO_LABELS}")
    c = np.array([int(counts.get(label, 0)) for label in SCENARIO_LABELS], dtype=np.int64)
    if np.any(c < 0):
        raise ValueError("counts must be non-negative")
    cols = shares(dict(zip(SCENARIO_LABELS, c, strict=True)), int(c.sum()), alpha, method)
    table = pd.DataFrame(
        {
            k: np.array([cols[f"{s}_{k}"] for s in SCENARIO_LABELS], dtype=float)
            for k in ("count", "share", "ci_low", "ci_high")
        },
        index=pd.Index(list(SCENARIO_LABELS), name="scenario"),
    )
    table["count"] = table["count"].astype(np.int64)
    return table


def shares(
    counts: Mapping[str, ArrayLike],
    n: ArrayLike,
    alpha: float = 0.05,
    method: Literal["wilson", "jeffreys"] = "wilson",
) -> dict[str, np.ndarray]:
    """Scenario counts → ``{S}_count``, ``{S}_share``, ``{S}_ci_low``, ``{S}_ci_high`` columns.

    The one place where counts become shares and intervals (runs, cells, pooled tables). ``counts``
    maps each scenario to a count or an array of counts (one per cell), ``n`` is the matching
    number of runs; a share with ``n = 0`` is NaN. Scenarios missing from ``counts`` count 0.
    """
    n_arr = np.asarray(n, dtype=float)
    out: dict[str, np.ndarray] = {}
    for s in SCENARIO_LABELS:
        c = np.asarray(counts.get(s, 0), dtype=float)
        low, high = proportion_ci(c, n_arr, alpha=alpha, method=method)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(n_arr > 0, c / np.where(n_arr > 0, n_arr, 1.0), np.nan)
        out[f"{s}_count"] = c.astype(np.int64)
        out[f"{s}_share"], out[f"{s}_ci_low"], out[f"{s}_ci_high"] = share, low, high
    return out
