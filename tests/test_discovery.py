"""Tests for analysis.discovery: PRIM and CART recover a planted box under label noise."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.discovery import PrimResult, cart_tree, prim_box

N, NOISE = 5000, 0.05
X0_LOW, X2_HIGH = 0.6, 0.3


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(2024)
    x = pd.DataFrame(rng.uniform(size=(N, 4)), columns=["x0", "x1", "x2", "x3"])
    truth = ((x["x0"] > X0_LOW) & (x["x2"] < X2_HIGH)).to_numpy()
    flip = rng.uniform(size=N) < NOISE
    return x, truth ^ flip


@pytest.fixture(scope="module")
def result(data) -> PrimResult:
    x, y = data
    return prim_box(x, y)


def _limits(res: PrimResult) -> dict[str, tuple[float, float]]:
    return {r.parameter: (float(r.low), float(r.high)) for r in res.box.itertuples()}


def test_prim_recovers_planted_box(result: PrimResult) -> None:
    lims = _limits(result)
    assert {"x0", "x2"} <= set(lims)
    assert abs(lims["x0"][0] - X0_LOW) <= 0.05
    assert abs(lims["x2"][1] - X2_HIGH) <= 0.05
    # the other sides of x0 and x2 are (almost) untouched
    assert lims["x0"][1] >= 0.97 and lims["x2"][0] <= 0.03
    # x1 and x3 are not restricted materially (at most a 3 % trim at either end)
    for name in ("x1", "x3"):
        low, high = lims.get(name, (0.0, 1.0))
        assert low <= 0.03 and high >= 0.97, (name, low, high)
    assert result.density >= 0.8
    assert result.coverage >= 0.6
    assert list(result.box.columns) == ["parameter", "low", "high"]


def test_box_statistics_match_the_data(data, result: PrimResult) -> None:
    x, y = data
    inside = np.ones(len(x), dtype=bool)
    for name, (low, high) in _limits(result).items():
        inside &= (x[name] >= low).to_numpy() & (x[name] <= high).to_numpy()
    assert result.density == pytest.approx(y[inside].mean(), abs=1e-12)
    assert result.coverage == pytest.approx(y[inside].sum() / y.sum(), abs=1e-12)
    assert result.mass == pytest.approx(inside.mean(), abs=1e-12)
    assert result.res_dim == len(result.box)


def test_trajectory_and_choice_rule(data, result: PrimResult) -> None:
    traj = result.trajectory
    assert list(traj.columns) == ["coverage", "density", "mass", "res_dim"]
    assert len(traj) > 10
    assert traj.loc[0, "coverage"] == 1.0 and traj.loc[0, "mass"] == 1.0
    assert traj.loc[0, "density"] == pytest.approx(data[1].mean())
    assert result.trajectory.loc[result.index, "density"] == result.density
    eligible = traj[traj["density"] >= result.threshold]
    f1 = (
        2
        * eligible["coverage"]
        * eligible["density"]
        / (eligible["coverage"] + eligible["density"])
    )
    assert result.index == f1.idxmax()


def test_alternative_choice_rules(data, result: PrimResult) -> None:
    x, y = data
    last = prim_box(x, y, select="last")
    widest = prim_box(x, y, select="max_coverage")
    eligible = result.trajectory[result.trajectory["density"] >= 0.8]
    assert last.index == eligible.index[-1]
    assert widest.coverage == eligible["coverage"].max()
    assert widest.coverage >= result.coverage >= last.coverage
    assert widest.density <= result.density
    # the documented reason for not choosing the last box: peeling into the noise costs coverage
    assert last.coverage < result.coverage - 0.05


def test_unreachable_threshold_falls_back_to_densest(data) -> None:
    x, y = data
    res = prim_box(x, y, threshold=1.0)
    assert res.density == res.trajectory["density"].max()
    assert res.density < 1.0


def test_prim_input_handling(data, result: PrimResult) -> None:
    x, y = data
    # float32 columns (which ema_workbench would silently ignore) and 0/1 labels give the same
    # box as float64 and booleans
    res32 = prim_box(x.astype(np.float32), y.astype(int))
    assert list(res32.box["parameter"]) == list(result.box["parameter"])
    np.testing.assert_allclose(
        res32.box[["low", "high"]].to_numpy(dtype=float),
        result.box[["low", "high"]].to_numpy(dtype=float),
        atol=1e-6,
    )
    with pytest.raises(ValueError):
        prim_box(x, y[:-1])
    with pytest.raises(ValueError):
        prim_box(x, np.zeros(len(x), dtype=bool))
    with pytest.raises(ValueError):
        prim_box(x, y, select="first")  # type: ignore[arg-type]


def test_prim_is_quiet(data, caplog: pytest.LogCaptureFixture) -> None:
    x, y = data
    level_before = logging.getLogger("EMA").level
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prim_box(x.iloc[:1000], y[:1000])
    assert not [r for r in caplog.records if r.name.startswith("EMA")]
    assert not [w for w in caught if "ema_workbench" in str(w.filename)]
    assert logging.getLogger("EMA").level == level_before  # the logger level is restored


def test_plot_trajectory(result: PrimResult) -> None:
    fig = result.plot_trajectory()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    offsets = ax.collections[0].get_offsets()
    assert len(offsets) == len(result.trajectory)
    np.testing.assert_allclose(offsets[:, 0], result.trajectory["coverage"])
    np.testing.assert_allclose(
        ax.collections[1].get_offsets()[0], [result.coverage, result.density]
    )
    fig.canvas.draw()


def test_cart_tree(data) -> None:
    x, y = data
    tree, text = cart_tree(x, y, max_depth=3)
    assert "x0" in text and "x2" in text
    assert tree.get_depth() <= 3
    root = x.columns[tree.tree_.feature[0]]
    root_threshold = tree.tree_.threshold[0]
    expected = {"x0": X0_LOW, "x2": X2_HIGH}
    assert root in expected and abs(root_threshold - expected[root]) <= 0.05
    # the tree classifies about as well as the noise allows
    assert (tree.predict(x) == y).mean() >= 1 - NOISE - 0.02
    shallow, shallow_text = cart_tree(x, y, max_depth=1)
    assert shallow.get_depth() == 1 and shallow_text.count("class:") == 2
