"""Tests for ``python -m analysis.compare``: planted differences are found, seeds are not.

A planted difference: two grids that differ only in the DPRK's stockpile (F05/F07: the shells
Russia can buy; 10 vs 40 thousand containers) must show a significant change in P(S1). Two grids
that differ only in the seed must show none, and over many repetitions (binomial draws through the
same functions) the share of comparisons with any Holm-significant cell must stay at or under 5 %.

Issue 12: runs with the same seed and replicate ids are compared replicate by replicate (McNemar's
test, Tango's interval); intervals carry the same multiplicity correction as the p-values, so an
interval that excludes 0 never sits beside "not significant".
"""

from __future__ import annotations

import gc
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_fixtures import write_grid_sweep, write_run

from analysis import api
from analysis import results as R
from analysis.compare import (
    PAIRED,
    compare_cells,
    compare_results,
    main,
    mcnemar_pvalue,
    newcombe_interval,
    newcombe_pvalue,
    tango_interval,
)
from analysis.stats import SCENARIO_LABELS, newcombe_diff_ci
from experiments.jobs import mark_done

ROOT = Path(__file__).resolve().parents[1]
AXIS = {"sanctions.enforcement": [0.2, 0.8]}
REPLICATES = 3000


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("planted")
    a = write_grid_sweep(
        root / "a", AXIS, seed=21, replicates=REPLICATES, fixed={"stockpile.dprk": 10.0}
    )
    b = write_grid_sweep(
        root / "b", AXIS, seed=21, replicates=REPLICATES, fixed={"stockpile.dprk": 40.0}
    )
    return a, b


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("seeds")
    a = write_grid_sweep(root / "a", AXIS, seed=31, replicates=2000)
    b = write_grid_sweep(root / "b", AXIS, seed=32, replicates=2000)
    return a, b


def test_planted_difference_is_found(planted: tuple[Path, Path]) -> None:
    cmp = api.compare(*planted)
    assert cmp.keys == ["sanctions.enforcement"]
    assert len(cmp.per_cell) == len(AXIS["sanctions.enforcement"]) * len(SCENARIO_LABELS)
    assert cmp.differing == {"stockpile.dprk": (10.0, 40.0)}
    # the scenario the stockpile moves most (M15), read independently from the two sweeps' tables
    # (the model rework of issue 9 may leave S1 rare, so the test does not fix the scenario)
    a, b = (pd.read_parquet(d / "sweep.parquet") for d in planted)
    raw = {
        s: b[f"{s}_count"].sum() / b["n"].sum() - a[f"{s}_count"].sum() / a["n"].sum()
        for s in SCENARIO_LABELS
    }
    moved = max(raw, key=lambda s: abs(raw[s]))
    row = cmp.overall.set_index("scenario").loc[moved]
    assert row["significant"] and row["p_adjusted"] < 0.05
    assert row["diff_low"] > 0 or row["diff_high"] < 0  # the interval excludes 0
    assert row["diff"] == pytest.approx(raw[moved], abs=1e-12)  # the sign is B - A
    assert np.sign(row["cohens_h"]) == np.sign(raw[moved])
    assert not cmp.warnings  # same model, classifier and replicate counts


def test_seed_only_difference_is_not_significant(seeds: tuple[Path, Path]) -> None:
    cmp = api.compare(*seeds)
    assert not cmp.per_cell["significant"].any()
    assert not cmp.overall["significant"].any()
    assert cmp.differing == {}


def _draw_cells(rng: np.random.Generator, probs: np.ndarray, n: int, cells: int) -> pd.DataFrame:
    counts = rng.multinomial(n, probs, size=cells)
    table = pd.DataFrame({"x": np.arange(cells, dtype=float), "n": n})
    for i, s in enumerate(SCENARIO_LABELS):
        table[f"{s}_count"] = counts[:, i]
    return table


@pytest.fixture
def no_gc_in_multipletests(monkeypatch: pytest.MonkeyPatch) -> None:
    """statsmodels' multipletests runs gc.collect() on every call (0.1 s here); skip it."""
    monkeypatch.setattr(gc, "collect", lambda *args: 0)


@pytest.mark.usefixtures("no_gc_in_multipletests")
def test_false_positive_rate_at_or_under_nominal_level() -> None:
    """Same probabilities on both sides: Holm keeps 'any significant cell' at or under 5 %.

    2,000 repetitions of a 9-cell comparison (27 per-cell tests, 3 overall tests): the standard
    error of an observed rate near 4 % is 0.44 points.
    """
    rng = np.random.default_rng(20240611)
    reps, cells, n = 2000, 9, 2000
    probs = np.array([0.03, 0.45, 0.52])
    any_cell, any_overall, raw = 0, 0, []
    for _ in range(reps):
        cmp = compare_cells(
            _draw_cells(rng, probs, n, cells), _draw_cells(rng, probs, n, cells), ["x"]
        )
        any_cell += bool(cmp.per_cell["significant"].any())
        any_overall += bool(cmp.overall["significant"].any())
        raw.append((cmp.per_cell["p_value"] < 0.05).mean())
    print(
        f"\nfalse positives over {reps} repetitions: any Holm-significant cell "
        f"{any_cell / reps:.2%}, significant overall {any_overall / reps:.2%}, unadjusted "
        f"per-cell rejections {float(np.mean(raw)):.2%}"
    )
    assert any_cell / reps <= 0.05
    assert any_overall / reps <= 0.05
    # not vacuous: the unadjusted tests reject at about their nominal 5 %
    assert 0.035 <= float(np.mean(raw)) <= 0.065


@pytest.mark.usefixtures("no_gc_in_multipletests")
def test_power_on_a_planted_synthetic_difference() -> None:
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(100):
        a = _draw_cells(rng, np.array([0.03, 0.45, 0.52]), 3000, 4)
        b = _draw_cells(rng, np.array([0.06, 0.45, 0.49]), 3000, 4)
        hits += bool(
            compare_cells(a, b, ["x"]).overall.set_index("scenario").loc["S1", "significant"]
        )
    assert hits >= 95


def test_cells_on_one_side_are_listed() -> None:
    rng = np.random.default_rng(3)
    probs = np.array([0.1, 0.4, 0.5])
    a = _draw_cells(rng, probs, 500, 3)  # x = 0, 1, 2
    b = _draw_cells(rng, probs, 500, 4).assign(x=[1.0, 2.0, 3.0, 4.0])
    cmp = compare_cells(a, b, ["x"])
    assert cmp.only_a["x"].tolist() == [0.0]
    assert cmp.only_b["x"].tolist() == [3.0, 4.0]
    assert sorted(cmp.per_cell["x"].unique()) == [1.0, 2.0]
    # the overall comparison pools the matched cells only
    overall_n_a = cmp.overall["n_a"].iloc[0]
    assert overall_n_a == 2 * 500


def test_warnings_for_model_classifier_and_replicates(tmp_path: Path) -> None:
    write_run(tmp_path / "a", {}, seed=4, replicates=300)
    write_run(tmp_path / "b", {"classifier.s1_defence_ratio": 0.6}, seed=4, replicates=200)
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    summary["model_version"] = "0.0.0+gdeadbeef"
    (tmp_path / "b" / "summary.json").write_text(json.dumps(summary))
    mark_done(tmp_path / "b", "test", summary, None)  # as that model version wrote it
    cmp = compare_results(R.load(tmp_path / "a"), R.load(tmp_path / "b"))
    text = " ".join(cmp.warnings)
    assert "model versions differ" in text
    assert "classifier settings differ" in text and "classifier.s1_defence_ratio" in text
    assert "replicate counts differ" in text
    assert len(cmp.per_cell) == len(SCENARIO_LABELS)  # two runs are one cell each


def test_command_line_run_vs_run(planted: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    a, b = planted
    assert main([str(a / "0"), str(b / "0"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # same seed and replicate ids: paired, and the terminal says so and names what differs
    assert "Holm" in out and "McNemar" in out and "Tango" in out and "S1" in out
    assert "differs: stockpile.dprk (A 10.0, B 40.0)" in out
    assert "paired replicate by replicate" in out
    md = (tmp_path / "compare.md").read_text()
    page = (tmp_path / "compare.html").read_text()
    assert "Holm" in md and "McNemar" in md and "Bonferroni" in md and "stockpile.dprk" in md
    assert "http://" not in page and "https://" not in page


def test_command_line_sweep_vs_sweep_writes_into_dir_b(seeds: tuple[Path, Path]) -> None:
    a, b = seeds
    proc = subprocess.run(
        [sys.executable, "-m", "analysis.compare", str(a), str(b)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (b / "compare" / "compare.html").is_file() and (b / "compare" / "compare.md").is_file()
    assert "matched cells: 2" in proc.stdout
    shutil.rmtree(b / "compare")


def test_not_a_result_dir_exits_nonzero(planted: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main([str(planted[0]), str(tmp_path / "empty")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(tmp_path / "empty") in err[0] and "expected" in err[0]
    assert not (tmp_path / "empty" / "compare").exists()


# --- issue 12: paired comparisons, one correction for intervals and p-values -------------------


def _excludes_zero(frame: pd.DataFrame) -> pd.Series:
    return (frame["diff_low"] > 0) | (frame["diff_high"] < 0)


def test_same_seed_runs_are_paired_and_tested_with_mcnemar(planted: tuple[Path, Path]) -> None:
    cmp = api.compare(*planted)
    assert cmp.pairing == PAIRED
    assert set(cmp.per_cell["test"]) == {"McNemar"}
    # the discordant counts are read replicate by replicate from the two runs.parquet files
    a = pd.read_parquet(planted[0] / "0" / "runs.parquet", columns=["replicate", "scenario"])
    b = pd.read_parquet(planted[1] / "0" / "runs.parquet", columns=["replicate", "scenario"])
    both = a.merge(b, on="replicate", suffixes=("_a", "_b"))
    first = cmp.per_cell.iloc[: len(SCENARIO_LABELS)]  # first cell (enforcement 0.2)
    row = first.loc[(first["b_only"] + first["a_only"]).idxmax()]  # a row with discordant pairs
    assert row["b_only"] + row["a_only"] > 0
    s = row["scenario"]
    in_a, in_b = both["scenario_a"] == s, both["scenario_b"] == s
    assert row["b_only"] == int((in_b & ~in_a).sum())
    assert row["a_only"] == int((in_a & ~in_b).sum())
    # the p-value is statsmodels' McNemar chi-square on that 2 x 2 table
    from statsmodels.stats.contingency_tables import mcnemar

    table = pd.crosstab(in_a, in_b).reindex(index=[False, True], columns=[False, True]).fillna(0)
    expected = mcnemar(table.to_numpy(), exact=False, correction=False).pvalue
    assert row["p_value"] == pytest.approx(expected, rel=1e-9)


def test_different_seeds_are_compared_as_independent_samples(seeds: tuple[Path, Path]) -> None:
    cmp = api.compare(*seeds)
    assert cmp.pairing != PAIRED
    assert "different seeds" in cmp.pairing_reason
    assert set(cmp.per_cell["test"]) == {"Newcombe"}


def test_pairing_narrows_the_interval_on_common_random_numbers(
    planted: tuple[Path, Path],
) -> None:
    """Same seed: the runs of A and B are positively correlated, so the paired interval is
    narrower than the independent-samples one on the same counts."""
    paired = api.compare(*planted)
    keys = paired.keys
    cells = [
        R.load(d).cells()[[*keys, "n", *(f"{s}_count" for s in SCENARIO_LABELS)]] for d in planted
    ]
    independent = compare_cells(*cells, keys)
    width_p = (paired.per_cell["diff_high"] - paired.per_cell["diff_low"]).to_numpy()
    width_i = (independent.per_cell["diff_high"] - independent.per_cell["diff_low"]).to_numpy()
    occurs = (paired.per_cell["share_a"] + paired.per_cell["share_b"]).to_numpy() > 0
    assert occurs.sum() >= 4  # S2 and neither in both cells
    assert np.all(width_p[occurs] < width_i[occurs])
    assert np.all(width_p <= width_i + 1e-12)


def test_newcombe_interval_and_its_test_agree() -> None:
    rng = np.random.default_rng(12)
    cb, ca = rng.integers(0, 60, 400), rng.integers(0, 60, 400)
    nb, na = np.full(400, 150), np.full(400, 170)
    d, low, high = newcombe_interval(cb, nb, ca, na)
    ref = newcombe_diff_ci(cb, nb, ca, na)  # the project's method-10 implementation at 95 %
    np.testing.assert_allclose(np.vstack([d, low, high]), np.vstack(ref), atol=1e-12)
    p = newcombe_pvalue(cb, nb, ca, na)
    excludes = (low > 0) | (high < 0)
    assert np.array_equal(excludes, p < 0.05)
    assert 0.1 < excludes.mean() < 0.9  # both kinds of rows occur


def test_tango_interval_inverts_mcnemar() -> None:
    rng = np.random.default_rng(13)
    b, c = rng.integers(0, 40, 500), rng.integers(0, 40, 500)
    n = np.full(500, 300)
    for z, alpha in ((1.959963984540054, 0.05), (2.807033768343811, 0.005)):
        d, low, high = tango_interval(b, c, n, z)
        assert np.all((low <= d) & (d <= high))
        p = mcnemar_pvalue(b, c)
        assert np.array_equal((low > 0) | (high < 0), p < alpha)
    # no discordant pair: the closed form +-z^2 / (n + z^2)
    _, low, high = tango_interval(0, 0, 50)
    z2 = 1.959963984540054**2
    assert high == pytest.approx(z2 / (50 + z2), abs=1e-9) and low == pytest.approx(-high)


def test_tango_interval_covers_at_the_nominal_rate() -> None:
    """Paired Bernoulli draws with a known difference: 95 % coverage within sampling error."""
    rng = np.random.default_rng(14)
    # joint cells (A yes B yes, A yes B no, A no B yes, A no B no); true p_b - p_a = 0.03
    probs = np.array([0.20, 0.02, 0.05, 0.73])
    reps, n = 4000, 400
    counts = rng.multinomial(n, probs, size=reps)
    _, low, high = tango_interval(counts[:, 2], counts[:, 1], np.full(reps, n))
    coverage = float(np.mean((low <= 0.03) & (0.03 <= high)))
    assert abs(coverage - 0.95) < 3 * np.sqrt(0.95 * 0.05 / reps) + 0.005


@pytest.mark.parametrize("paired", [True, False])
def test_an_interval_excluding_zero_is_never_not_significant(paired: bool) -> None:
    """Many families with effects near the detection limit: the rows whose simultaneous interval
    excludes 0 are all significant, and Holm finds at least those."""
    rng = np.random.default_rng(15 + paired)
    seen = 0
    for _ in range(60):
        cells = 6
        a = _draw_cells(rng, np.array([0.05, 0.45, 0.50]), 800, cells)
        b = _draw_cells(rng, np.array([0.08, 0.42, 0.50]), 800, cells)
        pairs = None
        if paired:
            discordant = rng.poisson(30, size=(cells, 2 * len(SCENARIO_LABELS)))
            discordant[:, 0] += rng.poisson(10, size=cells)  # S1 more often under B
            pairs = pd.DataFrame({"x": a["x"]})
            for i, s in enumerate(SCENARIO_LABELS):
                pairs[f"{s}_b_only"] = discordant[:, 2 * i]
                pairs[f"{s}_a_only"] = discordant[:, 2 * i + 1]
        cmp = compare_cells(a, b, ["x"], pairs)
        for frame in (cmp.per_cell, cmp.overall):
            excluded = _excludes_zero(frame)
            assert frame.loc[excluded, "significant"].all()
            seen += int(excluded.sum())
            # the intervals are simultaneous: level 1 - 0.05/m for a family of m rows
            assert np.allclose(frame["ci_level"], 1 - 0.05 / len(frame))
    assert seen > 20  # not vacuous


def test_differences_are_rounded_last_and_p_values_never_print_zero(tmp_path: Path) -> None:
    """Issue 25: 68.16 % → 70.64 % prints as +2.5 (the unrounded difference 2.48, rounded), not
    +2.4 (the difference of the rounded 68.2 and 70.6); a p-value far below 0.001 prints as
    "< 0.001"; the page shows the columns a reader needs, headers in words, all columns in CSV."""
    from analysis import compare

    n = 100_000
    a = pd.DataFrame([{"n": n, "S1_count": 68_160, "S2_count": 20_000, "neither_count": 11_840}])
    b = pd.DataFrame([{"n": n, "S1_count": 70_640, "S2_count": 19_000, "neither_count": 10_360}])
    cmp = compare.compare_cells(a, b, [])
    shown = compare._display(cmp.overall, []).set_index("scenario")
    assert shown.loc["S1", "share in A (%)"] == "68.2%"
    assert shown.loc["S1", "share in B (%)"] == "70.6%"
    assert shown.loc["S1", compare.CI_LABEL].startswith("+2.5% [")
    assert shown.loc["S1", "p (Holm)"] == "< 0.001"
    text = compare.terminal_table(cmp)
    assert "from the unrounded shares" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    md, page = compare.write_outputs(cmp, tmp_path)
    html_text = page.read_text(encoding="utf-8")
    headers = re.findall(r"<th>(.*?)</th>", html_text)
    assert headers and not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)]
    assert "cohens_h" not in html_text and "Cohen" not in " ".join(headers)  # reduced: CSV has it
    full = pd.read_csv(tmp_path / "compare_per_cell.csv")
    assert {"cohens_h", "p_value", "diff"} <= set(full.columns)
    assert full.loc[full["scenario"] == "S1", "diff"].iloc[0] == pytest.approx(0.0248)
