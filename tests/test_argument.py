"""The argument, mechanism by mechanism (experiments.argument; issue 9 item 4; M15–M20, M24, M03).

Each limit the article names as a reason for S2 (M15 stockpile, M16 barter, M17 reputation,
M18/M19 technology, M20/F10 quality, M24 restraint), switched off with the war held on, must raise
S1 or lower S2 beyond paired sampling error, and all of them off must make S1 the majority. The
table shows ΔS1 and ΔS2 apart ("S1 up", "S2 down", issue 22): a row in which only S2 falls is never
called a move toward S1, and a row whose switched-off limit is what an S2 marker measures is
marked. The terminal table fits 100 columns (issue 25).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from analysis import report
from experiments import argument as A
from sim import params as P
from sim.classifier import SCENARIOS

SEED = 20241001


@pytest.fixture(scope="module")
def war_on_table() -> pd.DataFrame:
    """The war-on rows at R = 1,000 on common random numbers."""
    rows = A.rows(at_defaults=False)
    results = A.simulate(rows, {}, seed=SEED, replicates=1000, horizon=40, batch_size=1000)
    return A.tabulate(rows, results).set_index("row")


def test_rows_cover_every_limit_each_against_its_reference() -> None:
    rows = A.rows()
    names = [r.name for r in rows]
    limits = [p.name for p in P.PARAMETERS if p.group == "limits"]
    expected = ["baseline", "history_matched", "hedged", "war_on", "war_ended", "war_on-no_limits"]
    expected += ["no_limits"]
    expected += ["enforcement_low", "enforcement_high", "stockpile_low", "stockpile_high"]
    expected += [f"war_on-no_{k}" for k in limits] + [f"no_{k}" for k in limits]
    assert sorted(names) == sorted(expected)
    by = {r.name: r for r in rows}
    for r in rows:
        if r.name.startswith("war_on-"):
            assert r.reference == "war_on" and r.overrides[A.CEASEFIRE] == 0.0
        elif r.name.endswith("_high"):  # the card's families: high against low
            assert r.reference == r.name.replace("_high", "_low")
        elif r.name == "hedged":  # the hedges drawn, read against their middle
            assert r.reference == "history_matched" and r.posterior and r.hedged
        elif r.name != "baseline":
            assert r.reference == "baseline"
    assert by["war_ended"].overrides == {A.CEASEFIRE: 1.0}
    assert by["history_matched"].posterior and by["history_matched"].overrides == {}
    assert not any(r.posterior for r in rows if r.name not in ("history_matched", "hedged"))
    assert by["enforcement_high"].overrides == {"sanctions.enforcement": 0.8}
    assert by["stockpile_low"].overrides == {"stockpile.dprk": 10.0}
    assert all(v is False for k, v in by["no_limits"].overrides.items())
    for limit in limits:  # each row switches exactly its own limit
        assert by[f"no_{limit}"].overrides == {f"limits.{limit}": False}


@pytest.mark.parametrize("limit", [p.name for p in P.PARAMETERS if p.group == "limits"])
def test_each_limit_off_raises_s1_or_lowers_s2_with_the_war_on(
    war_on_table: pd.DataFrame, limit: str
) -> None:
    """M15, M16, M17, M18/M19, M20/F10, M24: S1 up or S2 down, Holm-adjusted McNemar p < 0.01;
    the verdict columns say which, each judged on its own. A row whose switched-off limit is what
    an S2 marker measures (M20/F10 quality: S2-defence, issue 22) is marked instead: its change
    restates the marker, so no direction is claimed for it."""
    from analysis import argument

    row = war_on_table.loc[f"war_on-no_{limit}"]
    assert row["S1_up"] is bool(row["S1_significant"] and row["S1_diff"] > 0)
    assert row["S2_down"] is bool(row["S2_significant"] and row["S2_diff"] < 0)
    if limit in argument.MEASURED_BY:
        assert row[argument.MARKER_COLUMN], limit
        if limit == "quality":
            return
    s1_up = row["S1_diff"] > 0 and row["S1_p_holm"] < 0.01
    s2_down = row["S2_diff"] < 0 and row["S2_p_holm"] < 0.01
    assert s1_up or s2_down, (limit, row[["S1_diff", "S2_diff", "S1_p_holm", "S2_p_holm"]])


def test_verdicts_are_separate_and_never_toward_s1_without_s1_rising(
    war_on_table: pd.DataFrame,
) -> None:
    table = war_on_table.reset_index()
    assert "toward_s1" not in table.columns
    compared = table[table["reference"] != ""]
    assert compared["S1_up"].isin([True, False]).all()
    assert table.loc[table["reference"] == "", "S1_up"].isna().all()
    for _, row in compared.iterrows():  # S1 up only where S1 rose
        if row["S1_up"]:
            assert row["S1_diff"] > 0 and row["S1_significant"]
    shown = A.display_table(table)
    assert {"S1 up", "S2 down", "limit measured by"} <= set(shown.columns)
    assert not any("toward" in str(c) for c in shown.columns)


def test_a_planted_s2_to_neither_row_is_s2_down_not_s1_up() -> None:
    """Runs moved from S2 to neither only: S2 down, S1 not up (the old table said 'toward S1')."""
    ref = np.array([1] * 300 + [2] * 300, dtype=np.int8)
    row = ref.copy()
    row[:120] = 2  # S2 -> neither
    rows = [
        A.Row("ref", "reference", {}, None, ("S2",), "reference"),
        A.Row("row", "planted", {"limits.barter": False}, "ref", ("M16",), "planted"),
    ]
    results = {}
    for r, codes in zip(rows, (ref, row), strict=True):
        res = A.RowResult()
        res.scenario.append(codes)
        res.kind.append(np.where(codes == 2, 0, -1).astype(np.int8))
        res.failed.append(np.where(codes == 1, -1, 0).astype(np.int8))
        res.breach.append(np.zeros(codes.size, dtype=np.float32))
        res.munitions.append(np.ones(codes.size, dtype=np.float32))
        res.n = codes.size
        results[r.name] = res
    table = A.tabulate(rows, results).set_index("row")
    line = table.loc["row"]
    assert line["S2_down"] is True and line["S1_up"] is False
    assert line["S2_diff"] == pytest.approx(-0.2)
    assert line[report_marker()].startswith("S2-economy")
    printed = A.print_table(table.reset_index())
    assert "toward S1" not in printed.splitlines()[0]


def report_marker() -> str:
    from analysis import argument

    return argument.MARKER_COLUMN


def test_rows_whose_limit_a_marker_measures_are_marked() -> None:
    """The declared table names real markers and limits; weakening such a limit marks the row,
    whether the limit is a switch or a strength (issue 22 makes them strengths)."""
    from analysis import argument
    from sim import classifier

    markers = {"S1": classifier.S1_MARKERS, "S2": classifier.S2_MARKERS}
    for name, (scenario, marker, _) in argument.MEASURED_BY.items():
        assert f"limits.{name}" in P.BY_KEY, name
        assert marker in markers[scenario], (name, marker)
    assert set(argument.MEASURED_BY) >= {"barter", "reputation", "quality"}
    assert argument.measured_by({"limits.barter": False}).startswith("S2-economy")
    assert argument.measured_by("limits.reputation=0.25").startswith("S2-sanctions")
    assert argument.measured_by({"limits.quality": 0.0}).startswith("S2-defence")
    assert argument.measured_by({"limits.stockpile": False}) == ""
    assert argument.measured_by({"limits.barter": True}) == ""  # on: nothing switched off
    marked = {r.name for r in A.rows() if argument.measured_by(r.overrides)}
    assert {"no_barter", "war_on-no_reputation", "no_quality", "no_limits"} <= marked
    assert not marked & {"no_stockpile", "no_technology", "no_restraint", "war_on", "baseline"}


def test_all_limits_off_make_s1_the_majority(war_on_table: pd.DataFrame) -> None:
    """All of M15–M20, M24 off with the war on: S1 above one half beyond its interval."""
    row = war_on_table.loc["war_on-no_limits"]
    assert row["S1_ci_low"] > 0.5
    assert row["S1_share"] > row["S2_share"] and row["S1_share"] > row["neither_share"]


@pytest.mark.parametrize("family", [name for name, *_ in A.CARD])
def test_the_cards_constraint_families_matter(war_on_table: pd.DataFrame, family: str) -> None:
    """Sanctions enforcement (M10, M17) 0.2 vs 0.8 and the stockpile (F07, M15) low vs high each
    change open breach or munitions delivered, and the S1 or S2 share, beyond paired error."""
    row = war_on_table.loc[f"{family}_high"]
    flows = [row[f"{c}_p_holm"] < 0.01 for c in ("breach_share", "munitions_mean")]
    shares = [row[f"{s}_p_holm"] < 0.01 for s in ("S1", "S2")]
    assert any(flows) and any(shares), row.filter(like="_p_holm")


def test_shares_counts_and_kinds_are_consistent(war_on_table: pd.DataFrame) -> None:
    for _, row in war_on_table.iterrows():
        assert sum(row[f"{s}_count"] for s in SCENARIOS) == row["n"] == 1000
        kinds = sum(row[f"neither_{k}_share"] for k in ("no_burst", "lasting_defence"))
        kinds += row["neither_mixed_share"] + row["neither_in_between_share"]
        assert kinds == pytest.approx(row["neither_share"])
        for s in SCENARIOS:
            assert row[f"{s}_ci_low"] <= row[f"{s}_share"] <= row[f"{s}_ci_high"]
        if row["reference"]:  # a paired difference is the difference of the two shares
            ref = war_on_table.loc[row["reference"]]
            for s in SCENARIOS:
                assert row[f"{s}_diff"] == pytest.approx(row[f"{s}_share"] - ref[f"{s}_share"])
                assert row[f"{s}_diff_low"] <= row[f"{s}_diff"] <= row[f"{s}_diff_high"]
                excludes_zero = row[f"{s}_diff_low"] > 0 or row[f"{s}_diff_high"] < 0
                if excludes_zero:  # intervals never contradict the Holm verdict
                    assert row[f"{s}_significant"]
            for col in ("munitions_mean", "breach_share"):  # paired mean differences
                assert row[f"{col}_diff"] == pytest.approx(row[col] - ref[col], abs=1e-9)
                assert row[f"{col}_diff_low"] <= row[f"{col}_diff"] <= row[f"{col}_diff_high"]
                if row[f"{col}_diff_low"] > 0 or row[f"{col}_diff_high"] < 0:
                    assert row[f"{col}_p_holm"] < 0.05


def test_paired_test_equals_statsmodels_on_a_planted_table() -> None:
    """McNemar on replicate-by-replicate labels, Holm over the whole family (statsmodels)."""
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 3, 600).astype(np.int8)
    row = ref.copy()
    row[:40] = 0  # plant discordant pairs toward S1
    row[40:55] = 1
    other = ref.copy()
    other[100:103] = 2
    table = A.paired_table(
        {"ref": ref, "row": row, "other": other}, [("row", "ref"), ("other", "ref")]
    )
    raw = []
    for name, codes in (("other", other), ("row", row)):  # compare_cells sorts by row name
        for i, s in enumerate(SCENARIOS):
            b = int(np.count_nonzero((codes == i) & (ref != i)))
            c = int(np.count_nonzero((ref == i) & (codes != i)))
            got = table[(table["row"] == name) & (table["scenario"] == s)].iloc[0]
            assert (got["b_only"], got["a_only"]) == (b, c)
            expected = (
                mcnemar([[0, c], [b, 0]], exact=False, correction=False).pvalue if b + c else 1.0
            )
            assert got["p_value"] == pytest.approx(expected, rel=1e-12)
            raw.append(expected)
    holm = multipletests(raw, method="holm")[1]
    order = table.sort_values(["row", "scenario"], key=lambda c: c.map(_order)).index
    assert table.loc[order, "p_adjusted"].to_numpy() == pytest.approx(holm, rel=1e-12)


def _order(value: str) -> object:
    return SCENARIOS.index(value) if value in SCENARIOS else value


def test_command_writes_every_file_and_row(tmp_path: pytest.TempPathFactory, capsys) -> None:
    out = tmp_path / "arg"  # type: ignore[operator]
    assert A.main(["replicates=200", "seed=7", f"out={out}"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in printed if not line.startswith("written in ")) <= 100
    assert all(len(line) <= 120 for line in printed if str(out) not in line)
    assert sorted(p.name for p in out.iterdir()) == sorted(A.ARGUMENT_FILES)
    table = pd.read_csv(out / "argument.csv")
    assert list(table["row"]) == [r.name for r in A.rows()]
    assert {"S1_up", "S2_down", "limit_measured_by_marker"} <= set(table.columns)
    assert "toward_s1" not in table.columns
    md = (out / "argument.md").read_text()
    assert all(f"**{r.name}**" in md for r in A.rows())
    meta = json.loads((out / "argument.json").read_text())
    assert meta["seed"] == 7 and meta["replicates"] == 200 and meta["model_version"]
    assert (out / "argument.png").read_bytes()[:4] == b"\x89PNG"
    assert report.main([str(out)]) == 0  # analysis.report shows the table and the figure
    page = (out / "report" / "report.html").read_text()
    assert "The argument, mechanism by mechanism" in page and "id='fig-argument'" in page
    assert all(r.name in page for r in A.rows())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["replicates=0"], "replicates=0"),
        (["sanctions.enforcment=0.5"], "did you mean 'sanctions.enforcement'"),
        (["stockpile.dprk=500"], "out of range"),
        (["limits.barter=maybe"], "limits.barter"),
        (["classifier.medium=60"], "horizon"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    overrides: list[str], message: str, tmp_path: pytest.TempPathFactory
) -> None:
    with pytest.raises(ValueError, match=message) as error:
        A.main([*overrides, f"out={tmp_path}/x"])
    assert "\n" not in str(error.value)
    assert not (tmp_path / "x").exists()  # type: ignore[operator]
