"""The article's hedges as uncertainty (issue 22): hedge draws, the hedged ensemble, PRIM boxes,
the knife-edge check, the deciding markers and the ``analysis.hedges`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import hedges, posterior
from sim import params as P
from sim.classifier import S2_MARKERS, classify

ROOT = Path(__file__).resolve().parents[1]


def test_hedge_draws_lie_in_the_hedge_ranges_and_follow_the_replicate_id() -> None:
    """§7.9.1: each strength uniform over its hedge range; replicate k draws the same value in any
    batch; ``beyond`` reaches outside the hedges (down to the switch off)."""
    draws = posterior.hedge_draws(7, 4000)
    assert set(draws) == set(posterior.HEDGES)
    for key, values in draws.items():
        low, high = P.BY_KEY[key].plausible_bounds()
        assert low < high
        assert values.min() >= low and values.max() <= high
        # uniform: both halves of the range are used about equally
        assert abs(np.mean(values < (low + high) / 2) - 0.5) < 0.05
    part = posterior.hedge_draws(7, np.array([17, 3]))
    for key in draws:
        assert np.array_equal(part[key], draws[key][[17, 3]])
    wide = posterior.hedge_draws(7, 4000, beyond=True)
    assert all(wide[k].min() < P.BY_KEY[k].plausible_bounds()[0] for k in wide)
    # the strengths are not all the same draw in disguise
    stacked = np.stack([draws[k] for k in posterior.HEDGES])
    assert np.abs(np.corrcoef(stacked)[np.triu_indices(len(draws), 1)]).max() < 0.1


@pytest.fixture(scope="module")
def hedged() -> tuple:
    model = hedges.hedged_model(hedges.SEED, 6000)
    return model, classify(model)["scenario"]


def test_both_futures_are_reachable_in_the_hedged_ensemble(hedged: tuple) -> None:
    """Issue 22's check: at the history-matched prior predictive each of S1 and S2 is reached."""
    model, labels = hedged
    assert (labels == "S1").sum() >= 5
    assert (labels == "S2").sum() >= 100
    for key in posterior.HEDGES:  # the strengths do vary per replicate
        assert np.ptp(model.p[key]) > 0.2


def test_prim_reports_a_box_for_each_scenario_with_its_shares_inside(hedged: tuple) -> None:
    """PRIM (EMA Workbench) finds a box for S1 and for S2; ``most_common`` says whether the
    scenario outnumbers each other one inside it, checked here against the box itself."""
    model, labels = hedged
    table = hedges.discovery(model, labels)
    assert set(table["scenario"]) == {"S1", "S2"}
    for scenario, part in table.groupby("scenario"):
        first = part.iloc[0]
        shares = {s: first[f"share_{s}_in_box"] for s in ("S1", "S2", "neither")}
        assert abs(sum(shares.values()) - 1) < 1e-9
        others = max(v for s, v in shares.items() if s != scenario)
        assert bool(first["most_common"]) == (shares[scenario] > others)
        assert abs(first["density"] - shares[scenario]) < 1e-9  # PRIM's density is that share
        inside = np.ones(len(labels), dtype=bool)
        for _, r in part.iterrows():
            if r["parameter"]:
                x = np.asarray(model.p[r["parameter"]], float)
                inside &= (x >= r["low"]) & (x <= r["high"])
        assert abs(np.mean(labels[inside] == scenario) - shares[scenario]) < 1e-9


def test_knife_edges_move_each_threshold_by_a_tenth_and_restore_the_model(hedged: tuple) -> None:
    """Each threshold moves by a tenth of its plausible range (a unit for integers) both ways;
    thresholds the text fixes are left alone; the model's parameters are restored after."""
    model, labels = hedged
    before = dict(model.p)
    table = hedges.knife_edges(model)
    assert model.p == before
    assert np.array_equal(classify(model)["scenario"], labels)
    assert "classifier.s2_tech_tier" not in set(table["threshold"])  # fixed at 1 by the text
    row = table[(table["threshold"] == "classifier.s2_burst_ratio") & (table["to"] > 0.5)]
    assert row["to"].item() == pytest.approx(0.5 + (0.75 - 0.25) / 10)
    # a stricter burst can only lose S2 runs, never gain them (same replicates)
    assert row["S2_pp"].item() <= 0
    assert set(table["knife_edge"]) <= {True, False}
    assert (table["knife_edge"] == (table[["S1_pp", "S2_pp"]].abs().max(axis=1) > 5)).all()


def test_deciding_markers_count_runs_failing_only_that_marker(hedged: tuple) -> None:
    model, labels = hedged
    table = hedges.deciding_markers(model)
    s2 = table[table["scenario"] == "S2"]
    assert list(s2["marker"]) == list(S2_MARKERS)
    assert (s2["only_failing"] <= 1 - s2["holds"] + 1e-12).all()
    # S2 runs fail no marker; runs failing exactly one are disjoint by marker
    assert s2["only_failing"].sum() + np.mean(labels == "S2") <= 1 + 1e-12


def test_the_levers_map_has_a_cell_for_each_pair_and_a_readable_figure(tmp_path: Path) -> None:
    """The design card's two levers: every cell, shares summing to 1; heat-map labels ≥ 10 pt."""
    table = hedges.levers(hedges.SEED, 200, horizon=12)
    (ka, va), (kb, vb) = hedges.LEVERS.items()
    assert len(table) == len(va) * len(vb)
    assert np.allclose(table[["S1", "S2", "neither"]].sum(axis=1), 1)
    fig = hedges.levers_figure(table)
    sizes = [t.get_fontsize() for ax in fig.axes for t in ax.texts]
    assert len(sizes) == 3 * len(va) * len(vb) and min(sizes) >= 10


def test_the_command_writes_every_file_and_refuses_bad_options(tmp_path: Path) -> None:
    out = tmp_path / "h"
    cmd = [sys.executable, "-m", "analysis.hedges", "--out", str(out)]
    bad = subprocess.run([*cmd, "--replicates", "3"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "--replicates" in bad.stderr and not out.exists()
    assert len(bad.stderr.strip().splitlines()) == 1
    ok = subprocess.run(
        [*cmd, "--replicates", "500", "--cell-replicates", "100"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert ok.returncode == 0, ok.stderr
    names = {p.name for p in out.iterdir()}
    assert {"discovery.csv", "levers.png", "levers.csv", "knife_edges.csv", "hedges.md"} <= names
    assert "Hedged prior predictive" in ok.stdout
    assert len(pd.read_csv(out / "levers.csv")) == 36


def test_no_threshold_is_a_knife_edge_in_the_hedged_ensemble(hedged: tuple) -> None:
    """Issue 22: no marker may be a knife-edge — moving any threshold by a tenth of its plausible
    range moves neither S1 nor S2 by more than ``KNIFE_EDGE_PP`` points (same replicates)."""
    model, _ = hedged
    table = hedges.knife_edges(model)
    worst = table[["S1_pp", "S2_pp"]].abs().max(axis=1)
    assert (worst <= hedges.KNIFE_EDGE_PP).all(), table[worst > hedges.KNIFE_EDGE_PP]


def test_the_discovery_figure_draws_each_box_with_its_bounds(hedged: tuple) -> None:
    model, labels = hedged
    table = hedges.discovery(model, labels)
    fig = hedges.discovery_figure(table, model)
    restricted = table[table["parameter"] != ""]
    texts = [t for ax in fig.axes for t in ax.texts]
    assert len(texts) == len(restricted)  # one written bound per restricted parameter
    assert min(t.get_fontsize() for t in texts) >= 10
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "S1" in titles and "S2" in titles and "density" in titles
