"""Tests for analysis.stats: intervals against statsmodels, coverage, tests and the table."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from analysis.stats import (
    SCENARIO_LABELS,
    adjust_pvalues,
    cohens_h,
    newcombe_diff_ci,
    proportion_ci,
    scenario_table,
    two_proportion_pvalue,
)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """All (count, n) pairs for a spread of n, including count = 0 and count = n."""
    counts, ns = [], []
    for n in (1, 2, 5, 10, 37, 100, 1000, 12345):
        c = np.unique(np.r_[0, 1, 2, n // 3, n // 2, n - 2, n - 1, n].clip(0, n))
        counts.append(c)
        ns.append(np.full(c.shape, n))
    return np.concatenate(counts), np.concatenate(ns)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_matches_statsmodels(alpha: float) -> None:
    count, n = _grid()
    low, high = proportion_ci(count, n, alpha=alpha, method="wilson")
    ref_low, ref_high = proportion_confint(count, n, alpha=alpha, method="wilson")
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-9)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-9)
    assert np.all(low <= count / n) and np.all(count / n <= high)


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_jeffreys_matches_statsmodels(alpha: float) -> None:
    count, n = _grid()
    low, high = proportion_ci(count, n, alpha=alpha, method="jeffreys")
    ref_low, ref_high = proportion_confint(count, n, alpha=alpha, method="jeffreys")
    # statsmodels does not apply the boundary convention; ours sets low=0 at count=0 and
    # high=1 at count=n, and must agree everywhere else.
    interior_low = count > 0
    interior_high = count < n
    np.testing.assert_allclose(low[interior_low], ref_low[interior_low], rtol=0, atol=1e-9)
    np.testing.assert_allclose(high[interior_high], ref_high[interior_high], rtol=0, atol=1e-9)
    assert np.all(low[count == 0] == 0.0)
    assert np.all(high[count == n] == 1.0)


def test_scalar_input_and_validation() -> None:
    low, high = proportion_ci(3, 10)
    ref = proportion_confint(3, 10, method="wilson")
    assert np.ndim(low) == 0
    assert float(low) == pytest.approx(ref[0], abs=1e-12)
    assert float(high) == pytest.approx(ref[1], abs=1e-12)
    with pytest.raises(ValueError):
        proportion_ci(11, 10)
    with pytest.raises(ValueError):
        proportion_ci(1, 10, method="wald")  # type: ignore[arg-type]
    low0, high0 = proportion_ci(0, 0)
    assert np.isnan(low0) and np.isnan(high0)


@pytest.mark.parametrize("method", ["wilson", "jeffreys"])
@pytest.mark.parametrize("p", [0.05, 0.3, 0.5])
@pytest.mark.parametrize("n", [100, 1000])
def test_coverage(method: str, p: float, n: int) -> None:
    rng = np.random.default_rng(20240918)
    draws = rng.binomial(n, p, size=20_000)
    low, high = proportion_ci(draws, n, alpha=0.05, method=method)
    coverage = np.mean((low <= p) & (p <= high))
    assert 0.93 <= coverage <= 0.97, coverage


@pytest.mark.parametrize("method", ["wilson", "jeffreys"])
@pytest.mark.parametrize("p", [0.05, 0.3, 0.5])
@pytest.mark.parametrize("n", [100, 1000])
def test_exact_coverage(method: str, p: float, n: int) -> None:
    """Exact coverage (sum of binomial pmf over covered counts), free of Monte Carlo error."""
    from scipy.stats import binom

    k = np.arange(n + 1)
    low, high = proportion_ci(k, n, alpha=0.05, method=method)
    coverage = binom.pmf(k, n, p)[(low <= p) & (p <= high)].sum()
    assert 0.93 <= coverage <= 0.97, coverage


def test_newcombe_matches_statsmodels() -> None:
    rng = np.random.default_rng(1)
    n_a = rng.integers(1, 2000, size=300)
    n_b = rng.integers(1, 2000, size=300)
    c_a = rng.integers(0, n_a + 1)
    c_b = rng.integers(0, n_b + 1)
    # include the extremes explicitly
    c_a[:4] = [0, n_a[1], 0, n_a[3]]
    c_b[:4] = [0, n_b[1], n_b[2], 0]
    for alpha in (0.05, 0.1):
        diff, low, high = newcombe_diff_ci(c_a, n_a, c_b, n_b, alpha=alpha)
        ref_low, ref_high = confint_proportions_2indep(
            c_a, n_a, c_b, n_b, method="newcomb", compare="diff", alpha=alpha
        )
        np.testing.assert_allclose(diff, c_a / n_a - c_b / n_b, rtol=0, atol=1e-12)
        np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-9)
        np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-9)
        assert np.all(low <= diff) and np.all(diff <= high)
        assert np.all(low >= -1) and np.all(high <= 1)


def test_pvalue_identical_and_planted_difference() -> None:
    assert two_proportion_pvalue(300, 1000, 300, 1000) == pytest.approx(1.0)
    assert two_proportion_pvalue(300, 1000, 600, 2000) == pytest.approx(1.0)
    assert two_proportion_pvalue(300, 1000, 500, 1000) < 1e-6
    # zero pooled variance: both 0 or both 1
    np.testing.assert_array_equal(two_proportion_pvalue([0, 50], [40, 50], [0, 80], [60, 80]), 1.0)
    # a modest difference is not significant and the test is symmetric
    p_ab = two_proportion_pvalue(52, 100, 48, 100)
    assert 0.3 < p_ab < 1.0
    assert p_ab == pytest.approx(two_proportion_pvalue(48, 100, 52, 100))


def test_pvalue_matches_statsmodels_ztest() -> None:
    from statsmodels.stats.proportion import proportions_ztest

    rng = np.random.default_rng(7)
    n_a = rng.integers(20, 500, size=50)
    n_b = rng.integers(20, 500, size=50)
    c_a = rng.integers(1, n_a)
    c_b = rng.integers(1, n_b)
    ours = two_proportion_pvalue(c_a, n_a, c_b, n_b)
    ref = [
        proportions_ztest([a, b], [na, nb])[1]
        for a, b, na, nb in zip(c_a, c_b, n_a, n_b, strict=True)
    ]
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjust_pvalues(method: str) -> None:
    rng = np.random.default_rng(3)
    raw = np.r_[rng.uniform(size=20), 1e-5, 3e-4]
    adj = adjust_pvalues(raw, method=method)
    assert np.all(adj >= raw - 1e-15)
    assert np.all(adj <= 1.0)
    np.testing.assert_allclose(adj, multipletests(raw, method=method)[1], rtol=0, atol=1e-15)
    if method == "holm":
        # the smallest p-value is multiplied by the family size
        assert adj[np.argmin(raw)] == pytest.approx(raw.min() * raw.size)
    # shape is preserved and NaNs are skipped
    two_d = adjust_pvalues(np.array([[0.01, np.nan], [0.04, 0.03]]), method=method)
    assert two_d.shape == (2, 2) and np.isnan(two_d[0, 1])
    np.testing.assert_allclose(
        two_d[~np.isnan(two_d)], multipletests([0.01, 0.04, 0.03], method=method)[1]
    )


def test_cohens_h() -> None:
    assert cohens_h(0.5, 0.5) == pytest.approx(0.0)
    assert cohens_h(1.0, 0.0) == pytest.approx(np.pi)
    assert cohens_h(0.3, 0.2) == pytest.approx(-cohens_h(0.2, 0.3))
    np.testing.assert_allclose(
        cohens_h([0.55, 0.1], [0.45, 0.1]),
        [2 * np.arcsin(np.sqrt(0.55)) - 2 * np.arcsin(np.sqrt(0.45)), 0.0],
    )


def test_scenario_table_fills_missing_labels() -> None:
    table = scenario_table({"S2": 30, "S1": 70})
    assert list(table.index) == list(SCENARIO_LABELS)
    assert list(table.columns) == ["count", "share", "ci_low", "ci_high"]
    assert table.loc["neither", "count"] == 0
    assert table["share"].sum() == pytest.approx(1.0)
    assert table.loc["S1", "share"] == pytest.approx(0.7)
    ref_low, ref_high = proportion_confint(70, 100, method="wilson")
    assert table.loc["S1", "ci_low"] == pytest.approx(ref_low, abs=1e-12)
    assert table.loc["S1", "ci_high"] == pytest.approx(ref_high, abs=1e-12)
    assert table.loc["neither", "ci_low"] == 0.0 and table.loc["neither", "ci_high"] > 0.0
    assert np.all(table["ci_low"] <= table["share"]) and np.all(table["share"] <= table["ci_high"])


def test_scenario_table_all_labels_and_errors() -> None:
    table = scenario_table({"neither": 5, "S1": 3, "S2": 2}, method="jeffreys")
    assert list(table.index) == ["S1", "S2", "neither"]
    np.testing.assert_allclose(table["share"], [0.3, 0.2, 0.5])
    with pytest.raises(ValueError):
        scenario_table({"S3": 1})
