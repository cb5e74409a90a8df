"""Tests for analysis.sensitivity on the Ishigami function, whose indices are known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer

from analysis.sensitivity import (
    make_problem,
    morris_indices,
    rank_drivers,
    sample_design,
    sobol_bar_chart,
    sobol_indices,
)

A, B = 7.0, 0.1
NAMES = ["x1", "x2", "x3"]


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_exact() -> pd.DataFrame:
    """Analytic first-order and total indices (Ishigami & Homma 1990; Sobol' & Levitan 1999)."""
    pi4, pi8 = np.pi**4, np.pi**8
    v1 = 0.5 * (1 + B * pi4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * pi8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return pd.DataFrame(
        {"S1": [v1 / var, v2 / var, 0.0], "ST": [(v1 + v13) / var, v2 / var, v13 / var]},
        index=NAMES,
    )


@pytest.fixture(scope="module")
def problem():
    return make_problem(NAMES, [(-np.pi, np.pi)] * 3)


@pytest.fixture(scope="module")
def sobol_result(problem) -> pd.DataFrame:
    design = sample_design(problem, "sobol", 2**12, seed=12345)
    return sobol_indices(problem, ishigami(design.to_numpy()), seed=12345)


def test_exact_values_are_the_textbook_ones() -> None:
    exact = ishigami_exact()
    np.testing.assert_allclose(exact["S1"], [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(exact["ST"], [0.5576, 0.4424, 0.2437], atol=1e-4)


def test_make_problem_validates() -> None:
    p = make_problem(["a", "b"], [(0, 1), (2, 5)])
    assert p.to_salib() == {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0], [2.0, 5.0]]}
    with pytest.raises(ValueError):
        make_problem(["a", "a"], [(0, 1), (0, 1)])
    with pytest.raises(ValueError):
        make_problem(["a"], [(1, 1)])
    with pytest.raises(ValueError):
        make_problem(["a", "b"], [(0, 1)])


@pytest.mark.parametrize(
    ("method", "n", "rows"), [("sobol", 64, 64 * 5), ("morris", 10, 40), ("lhs", 50, 50)]
)
def test_design_shapes_bounds_and_seed(problem, method: str, n: int, rows: int) -> None:
    design = sample_design(problem, method, n, seed=3)
    assert list(design.columns) == NAMES
    assert design.shape == (rows, 3)
    assert design.to_numpy().min() >= -np.pi and design.to_numpy().max() <= np.pi
    pd.testing.assert_frame_equal(design, sample_design(problem, method, n, seed=3))
    assert not design.equals(sample_design(problem, method, n, seed=4))


def test_lhs_is_stratified() -> None:
    p = make_problem(["a", "b"], [(0.0, 1.0), (10.0, 20.0)])
    design = sample_design(p, "lhs", 40, seed=0)
    for col, (low, high) in zip(design.columns, [(0.0, 1.0), (10.0, 20.0)], strict=True):
        bins = np.floor((design[col].to_numpy() - low) / (high - low) * 40).astype(int)
        assert sorted(bins) == list(range(40))


def test_unknown_method(problem) -> None:
    with pytest.raises(ValueError):
        sample_design(problem, "fast", 10, seed=0)  # type: ignore[arg-type]


def test_sobol_recovers_ishigami(sobol_result: pd.DataFrame) -> None:
    exact = ishigami_exact()
    assert list(sobol_result.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert list(sobol_result.index) == NAMES
    for kind in ("S1", "ST"):
        err = (sobol_result[kind] - exact[kind]).abs()
        # Tolerance is SALib's own 95 % bootstrap half-width, with no floor: at N = 2**12 the
        # half-widths are 0.013-0.05 and every estimate falls inside with this seed.
        tol = sobol_result[f"{kind}_conf"]
        assert (tol > 0).all() and (tol < 0.06).all(), tol
        assert (err <= tol).all(), pd.DataFrame({"err": err, "tol": tol})
    # ordering of the total effects is unambiguous
    assert list(sobol_result["ST"].sort_values(ascending=False).index) == ["x1", "x2", "x3"]


def test_sobol_seed_zero_is_reproducible(problem) -> None:
    design = sample_design(problem, "sobol", 2**8, seed=0)
    y = ishigami(design.to_numpy())
    first = sobol_indices(problem, y, seed=0)
    pd.testing.assert_frame_equal(first, sobol_indices(problem, y, seed=0))
    assert not first["S1_conf"].equals(sobol_indices(problem, y, seed=1)["S1_conf"])


def test_sobol_input_checks_and_constant_output(problem) -> None:
    with pytest.raises(ValueError):
        sobol_indices(problem, np.ones(7))
    with pytest.raises(ValueError):
        sobol_indices(problem, np.r_[np.ones(9), np.nan])
    zero = sobol_indices(problem, np.ones(50))
    assert (zero.to_numpy() == 0).all() and list(zero.index) == NAMES


def test_morris_ranks_x1_x2_above_x3(problem) -> None:
    design = sample_design(problem, "morris", 1000, seed=7)
    res = morris_indices(problem, design, ishigami(design.to_numpy()), seed=7)
    assert list(res.columns) == ["mu_star", "mu_star_conf", "sigma"]
    assert set(res["mu_star"].nlargest(2).index) == {"x1", "x2"}
    assert res.loc["x3", "mu_star"] + res.loc["x3", "mu_star_conf"] < min(
        res.loc["x1", "mu_star"] - res.loc["x1", "mu_star_conf"], res.loc["x2", "mu_star"]
    )
    # On a 4-level grid x2 only moves between {-pi, -pi/3, pi/3, pi} by 2/3 of its range, where
    # sin^2 is 0 or 3/4, so every elementary effect of x2 is +-7 * 0.75 / (2/3) = 7.875.
    assert res.loc["x2", "mu_star"] == pytest.approx(7.875, abs=1e-9)
    # x3 acts only through its interaction with x1: large spread relative to its mean effect
    assert res.loc["x3", "sigma"] > res.loc["x3", "mu_star"]
    # numpy input gives the same answer as the DataFrame
    same = morris_indices(problem, design.to_numpy(), ishigami(design.to_numpy()), seed=7)
    pd.testing.assert_frame_equal(res, same)
    with pytest.raises(ValueError):
        morris_indices(problem, design, np.ones(5))


def test_rank_drivers(sobol_result: pd.DataFrame) -> None:
    reversed_ = sobol_result.assign(ST=sobol_result["ST"].to_numpy()[::-1])
    table = rank_drivers({"p_S1": sobol_result, "p_S2": reversed_})
    assert list(table.columns) == ["output", "parameter", "ST", "ST_conf", "rank"]
    assert len(table) == 6
    first = table[table["output"] == "p_S1"]
    assert list(first["parameter"]) == ["x1", "x2", "x3"]
    assert list(first["rank"]) == [1, 2, 3]
    second = table[table["output"] == "p_S2"].set_index("parameter")
    assert second.loc["x3", "rank"] == 1 and second.loc["x1", "rank"] == 3
    assert (table.groupby("output")["ST"].apply(lambda s: s.is_monotonic_decreasing)).all()


def test_bar_chart(sobol_result: pd.DataFrame) -> None:
    fig = sobol_bar_chart(sobol_result, "Ishigami")
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 2
    assert all(len(c) == 3 for c in bars)
    heights = [[rect.get_height() for rect in c] for c in bars]
    np.testing.assert_allclose(heights[0], sobol_result["S1"])
    np.testing.assert_allclose(heights[1], sobol_result["ST"])
    assert ax.get_title() == "Ishigami"
    fig.canvas.draw()  # renders on Agg without a display
