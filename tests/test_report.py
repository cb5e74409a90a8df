"""Tests for ``python -m analysis.report`` and the analysis API on runs, grids and designs.

The sweeps are small and written in the documented format (tests/analysis_fixtures.py); the
claims checked are those of issue 4: a self-contained report with the scenario table (Wilson
intervals), heat maps, marginal effects and fan charts split by scenario; Sobol' indices that rank
the parameters (M02/M03: the Russia–West confrontation drives the Russia–DPRK rapprochement, so it
must lead); a PRIM box with coverage and density; a clear error for a directory that is not a
result; bounded memory on a 1,000,000-replicate design.
"""

from __future__ import annotations

import html
import json
import re
import resource
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_fixtures import write_design_sweep, write_grid_sweep, write_run

from analysis import api, report
from analysis import results as R
from analysis.sensitivity import make_problem, sample_design
from analysis.stats import SCENARIO_LABELS, proportion_ci
from sim import params as P

ROOT = Path(__file__).resolve().parents[1]
GRID = {
    "sanctions.enforcement": [0.2, 0.8],
    "stockpile.dprk": [15.0, 40.0],  # 10 would equal the reserve: nothing to ship (M15)
    "world.confrontation": [0.5, 0.9],
}
DESIGN_BOUNDS = {
    "world.confrontation": (0.3, 1.0),
    "stockpile.dprk": (5.0, 60.0),
    "sanctions.enforcement": (0.0, 1.0),
    "japan.trilateral": (0.0, 1.0),
}


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_grid_sweep(tmp_path_factory.mktemp("grid"), GRID, seed=3, replicates=200)


@pytest.fixture(scope="module")
def grid_report(grid: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("grid_report")
    assert report.main([str(grid), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def design(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_design_sweep(
        tmp_path_factory.mktemp("design"),
        DESIGN_BOUNDS,
        n=128,
        seed=5,
        replicates_per_point=20,
    )


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _pooled_from_runs(root: Path, key: str) -> pd.DataFrame:
    """Scenario shares by value of ``key`` computed from every job's runs.parquet."""
    frames = [
        pd.read_parquet(job / "runs.parquet", columns=[key, "scenario"])
        for job in sorted(root.iterdir())
        if job.is_dir() and job.name.isdigit()
    ]
    runs = pd.concat(frames)
    return pd.crosstab(runs[key], runs["scenario"], normalize="index")


def test_grid_report_has_tables_heatmaps_and_fans(grid: Path, grid_report: Path) -> None:
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    assert "Scenario table" in page and "Wilson" in page
    for name in ("heatmap_S1", "heatmap_S2", "marginal_effects", "fan_defence", "fan_munitions"):
        assert f"id='fig-{name}'" in page, name
        png = (grid_report / "figures" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (grid_report / "figures" / f"{name}.svg").read_bytes()[:1000]
    for name in ("scenarios", "cells", "marginal_effects"):
        assert (grid_report / "tables" / f"{name}.csv").is_file()
        assert (grid_report / "tables" / f"{name}.md").read_text().startswith("| ")


def test_report_is_self_contained(grid_report: Path) -> None:
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    for ref in re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)""", page):
        assert ref.startswith(("data:", "#")), ref  # embedded data or a link inside the page
    assert "<link" not in page and "<script" not in page and "@import" not in page


def test_scenario_table_pools_every_cell_with_wilson_intervals(
    grid: Path, grid_report: Path
) -> None:
    table = pd.read_csv(grid_report / "tables" / "scenarios_pooled.csv").set_index("scenario")
    cells = pd.read_parquet(grid / "sweep.parquet")
    n = int(cells["n"].sum())
    for s in SCENARIO_LABELS:
        count = int(cells[f"{s}_count"].sum())
        assert table.loc[s, "count"] == count
        low, high = proportion_ci(count, n, method="wilson")
        assert table.loc[s, "ci_low"] == pytest.approx(float(low), abs=1e-12)
        assert table.loc[s, "ci_high"] == pytest.approx(float(high), abs=1e-12)


def _lead_cell(grid: Path) -> pd.Series:
    """The cell nearest the defaults of GRID, found independently of the code under test."""
    cells = pd.read_parquet(grid / "sweep.parquet")
    distance = sum(
        (cells[k] - P.BY_KEY[k].default).abs() / (P.BY_KEY[k].high - P.BY_KEY[k].low) for k in GRID
    )
    return cells.loc[distance.idxmin()]


def test_scenario_table_leads_with_the_cell_nearest_the_defaults(
    grid: Path, grid_report: Path
) -> None:
    """Issue 22: the report's own table is the point a user asks about, not the pooled share."""
    table = pd.read_csv(grid_report / "tables" / "scenarios.csv").set_index("scenario")
    cell = _lead_cell(grid)
    for s in SCENARIO_LABELS:
        assert table.loc[s, "count"] == cell[f"{s}_count"]
    assert table["count"].sum() == cell["n"]


def test_a_grid_with_the_defaults_cell_leads_with_it_and_says_what_pooling_means(
    tmp_path: Path,
) -> None:
    rows = []
    for job, (enf, conf) in enumerate([(0.2, 0.9), (0.5, 0.9), (0.5, 0.3), (0.8, 0.9)]):
        counts = {"S1": 5 + job, "S2": 40 + 7 * job, "neither": 55 - 8 * job}
        rows.append(
            {"sanctions.enforcement": enf, "world.confrontation": conf, "job": job, "n": 100}
            | {f"{s}_count": c for s, c in counts.items()}
        )
    pd.DataFrame(rows).to_parquet(tmp_path / "sweep.parquet", index=False)
    meta = {"kind": "grid", "swept": ["sanctions.enforcement", "world.confrontation"]}
    (tmp_path / "sweep.json").write_text(json.dumps(meta))
    sweep = R.load(tmp_path)
    assert R.defaults_cell(sweep) == (1, True)  # enforcement 0.5 and confrontation 0.9
    first, second = report.headline(sweep)[:2]
    assert first.startswith("Most common outcome at the defaults cell")
    assert "47.0% of 100 runs" in first  # job 1: S2 = 40 + 7
    assert second.startswith("Pooled over all 4 cells (400 runs)") and "Pooling means" in second


def test_marginal_effects_match_the_replicate_rows(grid: Path, grid_report: Path) -> None:
    """Pooling the cell table must give the shares one gets from every replicate row."""
    marginal = pd.read_csv(grid_report / "tables" / "marginal_effects.csv")
    for key in GRID:
        expected = _pooled_from_runs(grid, key)
        part = marginal[marginal["parameter"] == key].set_index("value")
        for value in GRID[key]:
            for s in SCENARIO_LABELS:
                want = float(expected.loc[value, s]) if s in expected else 0.0
                assert part.loc[value, f"{s}_share"] == pytest.approx(want, abs=1e-12)


def test_heatmap_pools_over_the_unshown_parameter(grid: Path) -> None:
    pooled = R.pool_cells(api.cell_table(grid), ["stockpile.dprk", "sanctions.enforcement"])
    runs = pd.concat(
        pd.read_parquet(j / "runs.parquet", columns=[*GRID, "scenario"])
        for j in grid.iterdir()
        if j.name.isdigit()
    )
    for row in pooled.itertuples(index=False):
        sel = runs[(runs["stockpile.dprk"] == row[0]) & (runs["sanctions.enforcement"] == row[1])]
        assert row.n == len(sel)
        assert row.S1_count == int((sel["scenario"] == "S1").sum())
    fig = api.heatmap(grid, "sanctions.enforcement", "stockpile.dprk", "world.confrontation")
    assert len(fig.axes) == 3  # two facets and the colour bar


def test_fan_chart_of_a_grid_uses_the_cell_nearest_the_defaults(grid: Path) -> None:
    quantiles, note = R.fan_quantiles(R.load(grid))
    cells = pd.read_parquet(grid / "sweep.parquet")
    distance = sum(
        (cells[k] - P.BY_KEY[k].default).abs() / (P.BY_KEY[k].high - P.BY_KEY[k].low) for k in GRID
    )
    job = int(cells.loc[distance.idxmin(), "job"])
    assert f"job {job}" in note
    pd.testing.assert_frame_equal(quantiles, pd.read_parquet(grid / str(job) / "quantiles.parquet"))
    scenarios = set(quantiles["scenario"])
    assert {"all", "S2", "neither"} <= scenarios


def test_vincent_averaging_weights_jobs_by_their_runs() -> None:
    base = {"indicator": "defence", "scenario": "S1", "quarter": 1, "label": "2024Q4"}
    qs = {f"q{q:02d}": 0.0 for q in (5, 25, 50, 75, 95)}
    a = pd.DataFrame([{**base, "n": 30, **qs, "q50": 1.0}])
    b = pd.DataFrame([{**base, "n": 10, **qs, "q50": 3.0}])
    out = R._vincentized([a, b])
    assert out["q50"].iloc[0] == pytest.approx((30 * 1.0 + 10 * 3.0) / 40)
    assert out["n"].iloc[0] == 40


def test_run_report(tmp_path: Path) -> None:
    write_run(tmp_path / "run", {"stockpile.dprk": 30.0}, seed=8, replicates=300)
    assert report.main([str(tmp_path / "run")]) == 0
    out = tmp_path / "run" / "report"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "fig-fan_defence" in page and "fig-heatmap" not in page
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    table = pd.read_csv(out / "tables" / "scenarios.csv").set_index("scenario")
    for s in SCENARIO_LABELS:
        assert table.loc[s, "count"] == summary["scenarios"][s]["count"]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: None, "none of summary.json+runs.parquet"),
        (lambda d: (d / "0").mkdir(), "without sweep.parquet"),
        (lambda d: (d / "summary.json").write_text("{}"), "no runs.parquet"),
    ],
)
def test_not_a_result_dir_fails_with_one_message(
    tmp_path: Path, make, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    make(target)
    assert report.main([str(target)]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(target) in lines[0] and expected in lines[0] and "expected" in lines[0]
    assert not (target / "report").exists()


def test_missing_dir_fails_on_the_command_line(tmp_path: Path) -> None:
    proc = _run("-m", "analysis.report", str(tmp_path / "nope"))
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert str(tmp_path / "nope") in proc.stderr and "no such directory" in proc.stderr
    assert not (tmp_path / "nope").exists()


def test_replay_dir_is_dispatched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "replay.json").write_text("{}")
    calls: list[Path] = []
    fake = types.ModuleType("analysis.replay_report")
    fake.main = lambda path: calls.append(Path(path)) or 0  # type: ignore[attr-defined]
    fake.__spec__ = types.SimpleNamespace(name="analysis.replay_report")  # type: ignore[assignment]
    monkeypatch.setitem(sys.modules, "analysis.replay_report", fake)
    import analysis

    monkeypatch.setattr(analysis, "replay_report", fake, raising=False)
    assert report.main([str(tmp_path)]) == 0
    assert calls == [tmp_path]


def test_design_report_ranks_parameters_and_finds_a_prim_box(design: Path, tmp_path: Path) -> None:
    assert report.main([str(design), "--out", str(tmp_path)]) == 0
    ranking = pd.read_csv(tmp_path / "tables" / "drivers.csv")
    assert set(ranking["parameter"]) == set(DESIGN_BOUNDS)
    key = np.maximum(ranking["ST_S1"], ranking["ST_S2"]).to_numpy()
    assert np.all(np.diff(key) <= 0), "ranking must be sorted by total index"
    # The article's two key axes drive S2: the Russia–West confrontation (M02, M03) and the
    # DPRK's stockpile (M15: at or below its reserve there is not even a burst). Both must lead
    # the S2 ranking, each ahead of the other parameters by more than the 95 % half-widths.
    # (Model rework, issue 9: the other axes now reach the Monte-Carlo floor of the total
    # indices, so the test asks one of the two axes to lead, clearly ahead of the Japan
    # trilateral axis, which has no S2 mechanism in the article.)
    by = ranking.set_index("parameter")
    leaders = {"world.confrontation", "stockpile.dprk"}
    assert by.loc[list(leaders), "rank_S2"].min() == 1
    for lead in [k for k in leaders if by.loc[k, "rank_S2"] == 1]:
        for other in {"japan.trilateral"}:
            low_lead = by.loc[lead, "ST_S2"] - by.loc[lead, "ST_S2_conf"]
            assert low_lead > by.loc[other, "ST_S2"] + by.loc[other, "ST_S2_conf"], (lead, other)
    sobol = pd.read_csv(tmp_path / "tables" / "sobol.csv")
    assert {"P(S1)", "P(S2)", "mean munitions_total"} <= set(sobol["output"])
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(sobol.columns)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "fig-sobol_S1" in page and "fig-prim_boxes" in page
    if not (tmp_path / "tables" / "prim_box.csv").is_file():
        # the reworked model (issue 9) may produce no S1 run at all: the report must say so
        assert api.scenario_table(design).loc["S1", "count"] == 0
        assert "S1 occurs in none of the" in page
        return
    assert re.search(r"coverage \d+\.\d%", page) and re.search(r"density \d+\.\d%", page)
    assert "fig-prim_trajectory" in page and "CART" in page
    box = pd.read_csv(tmp_path / "tables" / "prim_box.csv").set_index("parameter")
    # S1 needs the war economy of a high confrontation (M02, M03): the box must say so, cutting
    # away at least the lowest quarter of the range (since issue 22's markers S1 no longer needs
    # an open breach, so the box reaches lower than the range's middle).
    assert "world.confrontation" in box.index
    low, high = DESIGN_BOUNDS["world.confrontation"]
    assert float(box.loc["world.confrontation", "low"]) > low + (high - low) / 4


def test_prim_api_reports_coverage_and_density(design: Path) -> None:
    result = api.prim(design, "S2")  # S2: common under any version of the model
    table, names, _ = api.design_points(design)
    cases, _ = api._cases(table, "S2")
    inside = np.ones(len(table), dtype=bool)
    for row in result.box.itertuples():
        inside &= (table[row.parameter] >= row.low) & (table[row.parameter] <= row.high)
    assert result.coverage == pytest.approx(cases[inside].sum() / cases.sum(), abs=1e-9)
    assert result.density == pytest.approx(cases[inside].mean(), abs=1e-9)


def _synthetic_design(root: Path, base: int, replicates: int, seed: int = 1) -> list[str]:
    """A Sobol' design table with planted outcomes: S1 iff x0 > 0.7 and x2 < 0.5 (mostly)."""
    names = [
        "world.confrontation",
        "stockpile.dprk",
        "sanctions.enforcement",
        "china.enforcement",
        "japan.trilateral",
        "russia.tech_control",
    ]
    problem = make_problem(names, [(P.BY_KEY[k].low, P.BY_KEY[k].high) for k in names])
    design = sample_design(problem, "sobol", base, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x0 = design[names[0]].to_numpy()
    x2 = design[names[2]].to_numpy()
    p1 = np.where((x0 > 0.7) & (x2 < 0.5), 0.8, 0.05)
    p2 = 0.6 * (1.0 - x0)
    draws = rng.multinomial(replicates, np.column_stack([p1, p2, 1.0 - p1 - p2]))
    table = design.copy()
    table["point"] = np.arange(len(design))
    table["job"] = table["point"] * 8 // len(design)
    table["n"] = replicates
    for i, s in enumerate(SCENARIO_LABELS):
        table[f"{s}_count"] = draws[:, i]
    table["munitions_total_mean"] = 10.0 * x0 + rng.normal(size=len(design))
    root.mkdir(parents=True, exist_ok=True)
    table.to_parquet(root / "sweep.parquet", index=False)
    meta = {"kind": "design", "swept": names, "design": {"method": "sobol", "parameters": names}}
    (root / "sweep.json").write_text(json.dumps(meta))
    return names


def test_million_replicate_design_in_bounded_memory(tmp_path: Path) -> None:
    """2**13 base points × 8 = 65,536 design points × 16 replicates = 1,048,576 replicate runs."""
    names = _synthetic_design(tmp_path / "big", base=2**13, replicates=16)
    table = pd.read_parquet(tmp_path / "big" / "sweep.parquet")
    assert int(table["n"].sum()) >= 1_000_000
    proc = _run("-m", "analysis.report", str(tmp_path / "big"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mb < 2048, f"peak RSS {peak_mb:.0f} MB"
    # the planted drivers of S1 are x0 and x2: they lead its total-index ranking, and the
    # PRIM box restricts exactly them, near the planted limits
    sobol = pd.read_csv(tmp_path / "out" / "tables" / "sobol.csv")
    s1 = sobol[sobol["output"] == "P(S1)"].sort_values("ST", ascending=False)
    assert set(s1["parameter"].head(2)) == {names[0], names[2]}
    box = pd.read_csv(tmp_path / "out" / "tables" / "prim_box.csv").set_index("parameter")
    assert set(box.index) == {names[0], names[2]}
    assert float(box.loc[names[0], "low"]) == pytest.approx(0.7, abs=0.05)
    assert float(box.loc[names[2], "high"]) == pytest.approx(0.5, abs=0.05)


# --- issue 12: a first screen that answers, units, one scale per scenario, provenance ----------


def _first_paragraph(page: str) -> str:
    return re.search(r"<p class='headline' id=headline>(.*?)</p>", page, re.S).group(1)


def _expected_lead(source: Path) -> tuple[str, str]:
    """The most common scenario and its 'share (interval)' text at the cell nearest the defaults."""
    cell = _lead_cell(source)
    n = int(cell["n"])
    counts = {s: int(cell[f"{s}_count"]) for s in SCENARIO_LABELS}
    top = max(counts, key=counts.get)
    low, high = proportion_ci(counts[top], n, method="wilson")
    return top, f"{counts[top] / n:.1%} of {n:,} runs (Wilson 95 % interval " + (
        f"{float(low):.1%} to {float(high):.1%})"
    )


def test_first_paragraph_names_the_most_common_scenario(grid: Path, grid_report: Path) -> None:
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    first = _first_paragraph(page)
    top, share_text = _expected_lead(grid)
    assert first.startswith("Most common outcome") and first.split(": ", 1)[1].startswith(top)
    assert share_text in first
    # it comes before any figure or table, and the figures come before the tables
    assert page.index("id=headline") < page.index("<figure") < page.index("<table")
    assert "at the cell nearest the defaults" in first  # GRID has no cell at the defaults
    # then the pooled shares with what pooling means; then what moves S1 and S2, where S1 is
    pooled, second = re.findall(r"<p class='headline'>(.*?)</p>", page, re.S)[:2]
    assert pooled.startswith("Pooled over all 8 cells") and "Pooling means" in pooled
    assert "P(S1)" in second and "P(S2)" in second and "S1" in second.split(". ")[-1]
    assert any(key in second for key in GRID)


def test_marginal_mover_is_the_parameter_with_the_largest_range(grid: Path) -> None:
    text = " ".join(report.headline(R.load(grid)))
    for s in ("S1", "S2"):
        spans = {}
        for key in GRID:
            share = R.pool_cells(R.load(grid).cells(), [key])[f"{s}_share"]
            spans[key] = float(share.max() - share.min())
        best = max(spans, key=spans.get)
        if spans[best] > 0:
            assert f"P({s}) moves most with {best}:" in text


def test_every_report_figure_labels_its_axes(grid: Path, design: Path) -> None:
    for source in (grid, design):
        rep = report.build(source)
        assert rep.figures
        for name, fig in rep.figures.items():
            for ax in fig.axes:
                visible_x = any(t.get_visible() and t.get_text() for t in ax.get_xticklabels())
                visible_y = any(t.get_visible() and t.get_text() for t in ax.get_yticklabels())
                if visible_x:
                    assert ax.get_xlabel(), (name, "x")
                if visible_y:
                    assert ax.get_ylabel(), (name, "y")


def test_heat_maps_for_all_outcomes_on_one_scale_per_scenario(grid: Path) -> None:
    rep = report.build(grid)
    cells = R.load(grid).cells()
    facet = "world.confrontation"
    pooled = R.pool_cells(cells, [facet, "stockpile.dprk", "sanctions.enforcement"])
    for s in SCENARIO_LABELS:
        fig = rep.figures[f"heatmap_{s}"]
        images = [im for ax in fig.axes for im in ax.get_images()]
        assert len(images) == len(GRID[facet])  # one panel per facet value
        limits = {im.get_clim() for im in images}
        assert len(limits) == 1  # the panels share one colour scale
        low, high = limits.pop()
        share = pooled[f"{s}_share"]
        if share.max() - share.min() > 1e-6:
            assert low == pytest.approx(share.min()) and high == pytest.approx(share.max())
        # the colour bar says what the colour is, in percent
        assert any("% of runs" in ax.get_ylabel() for ax in fig.axes)


def test_provenance_on_every_report(grid: Path, grid_report: Path, tmp_path: Path) -> None:
    write_run(tmp_path / "run", {}, seed=8, replicates=100)
    run_page = report.write(report.build(tmp_path / "run"), tmp_path / "out").read_text()
    grid_page = (grid_report / "report.html").read_text(encoding="utf-8")
    meta = json.loads((grid / "sweep.json").read_text())
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for page, prov in ((grid_page, meta["provenance"]), (run_page, summary)):
        assert f"seed: {prov['seed']}" in page
        assert f"config hash: {prov['config_hash']}" in page
        assert f"model version: {prov['model_version']}" in page
        assert "command: " in page and "python -m analysis.report" in page


def test_tables_have_worded_headers_and_columns_are_explained(grid_report: Path) -> None:
    """Issue 25: headers in words with units (analysis.labels), never a raw snake_case name; the
    legend says what each column is and its name in the CSV file."""
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    tables = re.findall(r"(<div class='scroll'>)?<table", page)
    assert tables and all(tables), "every table sits in its own box"
    headers = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", page, re.S)]
    assert headers
    raw = [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h.strip())]
    assert not raw, raw
    assert "DPRK stockpile (thousand containers)" in headers
    for column in ("n", "ci_low", "stockpile.dprk"):
        assert f"(CSV column {column})" in page, column
    # the page shows what a reader needs; the full cell table (indicator means) is the CSV
    cells = pd.read_csv(grid_report / "tables" / "cells.csv")
    assert {"tech_tier_max_mean", "S1_count"} <= set(cells.columns)


def test_terminal_prints_shares_as_percentages(grid: Path, tmp_path: Path, capsys) -> None:
    assert report.main([str(grid), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    cell = _lead_cell(grid)  # the terminal leads with the cell nearest the defaults, like the page
    assert out.startswith("Scenarios at the cell nearest the defaults")
    for s in SCENARIO_LABELS:
        line = next(x for x in out.splitlines() if x.startswith(f"{s} "))
        assert f"{cell[f'{s}_count'] / cell['n']:.1%}" in line
        assert re.search(r"\[\d+\.\d%, \d+\.\d%\]", line)


def test_a_folder_with_one_result_is_used_and_several_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = tmp_path / "multirun" / "demo"
    write_run(parent / "2025-01-01_12-00-00", {}, seed=9, replicates=100)
    assert report.main([str(parent)]) == 0
    assert "using the one result under" in capsys.readouterr().out
    assert (parent / "2025-01-01_12-00-00" / "report" / "report.html").is_file()
    write_run(parent / "2025-01-02_12-00-00", {}, seed=9, replicates=100)
    assert report.main([str(parent)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds 2 runs or sweeps" in err[0]
    assert "2025-01-01_12-00-00" in err[0] and "2025-01-02_12-00-00" in err[0]
    assert not (parent / "2025-01-02_12-00-00" / "report").exists()


def test_design_report_draws_the_prim_boxes_of_s1_and_s2(design: Path, tmp_path: Path) -> None:
    rep = report.build(design)
    assert "prim_boxes" in rep.figures
    fig = rep.figures["prim_boxes"]
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "coverage" in titles and "density" in titles
    for s in ("S1", "S2"):
        if f"prim_box_{s}" in rep.tables:
            box = rep.tables[f"prim_box_{s}"]
            # every drawn limit lies inside the parameter's full range
            for r in box.itertuples():
                low, high = DESIGN_BOUNDS[r.parameter]
                assert low - 1e-9 <= r.low <= r.high <= high + 1e-9
    assert {"prim_box_S2"} <= set(rep.tables)  # S2 is common enough to have a region


# --- issue 12: the demo teaches ------------------------------------------------------------------


def test_demo_defines_the_outcomes_from_the_article() -> None:
    from experiments import demo

    text = demo.definitions()
    article = (ROOT / "docs" / "ARTICLE.md").read_text(encoding="utf-8")
    lines = text.splitlines()[1:]
    assert [line.split()[0] for line in lines] == ["S1", "S2", "neither"]  # one line each
    for title in re.findall(r'"([^"]+)" \(Хувилбар \d\)', text):
        assert f'"{title}"' in article  # the article's own names of the two scenarios
    assert len(re.findall(r"Хувилбар \d", text)) == 2


def test_demo_explains_the_axes_and_the_pooled_share() -> None:
    from experiments import demo

    rows = []
    for i, (conf, stock) in enumerate([(0.3, 20.0), (0.9, 20.0), (0.3, 40.0), (0.9, 40.0)]):
        counts = {"S1": i, "S2": 50 + 10 * i, "neither": 50 - 11 * i}
        row = {"world.confrontation": conf, "stockpile.dprk": stock, "job": i, "n": 100}
        for s, c in counts.items():
            low, high = proportion_ci(c, 100)
            row |= {f"{s}_share": c / 100, f"{s}_ci_low": float(low), f"{s}_ci_high": float(high)}
        rows.append(row)
    table = pd.DataFrame(rows)
    axes = demo.explain_axes(table, ["world.confrontation", "stockpile.dprk"])
    assert "world.confrontation (index 0–1" in axes and "thousand containers" in axes
    assert "preset world=detente" in axes.split("= 0.3")[1].splitlines()[0]  # 0.3 is détente
    assert "the article's default" in axes.split("= 0.9")[1].splitlines()[0]
    assert "level 'high'" in axes.split("= 40")[1].splitlines()[0]
    pooled = {s: {"share": float(table[f"{s}_share"].mean())} for s in SCENARIO_LABELS}
    why = demo.why_pooled_differs(table, ["world.confrontation", "stockpile.dprk"], pooled)
    # the default cell (0.9, 20) is job 1: S2 = 60 %; pooled S2 = mean of 50, 60, 70, 80 %
    assert "article_baseline" in why and "S2 is 60.0% [" in why and "65.0% pooled" in why


def test_headline_says_where_a_planted_s1_region_is(tmp_path: Path) -> None:
    """A 6 x 6 grid where S1 dominates only at high confrontation and low enforcement: PRIM over
    the cells finds that region, and the headline says so with coverage and density."""
    rng = np.random.default_rng(4)
    rows = []
    for job, (conf, enf) in enumerate(
        (c, e) for c in np.linspace(0.3, 1.0, 6) for e in np.linspace(0.0, 1.0, 6)
    ):
        p1 = 0.7 if (conf > 0.7 and enf < 0.45) else 0.05
        counts = rng.multinomial(200, [p1, 0.6 * (1 - p1), 0.4 * (1 - p1)])
        row = {"world.confrontation": conf, "sanctions.enforcement": enf, "job": job, "n": 200}
        rows.append(
            row | {f"{s}_count": int(c) for s, c in zip(SCENARIO_LABELS, counts, strict=True)}
        )
    table = pd.DataFrame(rows)
    table.to_parquet(tmp_path / "sweep.parquet", index=False)
    meta = {"kind": "grid", "swept": ["world.confrontation", "sanctions.enforcement"]}
    (tmp_path / "sweep.json").write_text(json.dumps(meta))
    sweep = R.load(tmp_path)
    box = report.discover(sweep, "S1")
    limits = box.box.set_index("parameter")
    # the grid's values: confrontation 0.3, 0.44, 0.58, 0.72, …; enforcement 0, 0.2, 0.4, 0.6, …
    assert 0.58 < float(limits.loc["world.confrontation", "low"]) <= 0.72
    assert 0.4 <= float(limits.loc["sanctions.enforcement", "high"]) < 0.6
    text = " ".join(report.headline(sweep))
    assert "S1 concentrates where" in text and "coverage" in text and "density" in text
    # a grid's box is named by the values it ran, never by a bound between two of them (issue 25)
    tested = "(tested: 0.3, 0.44, 0.58, 0.72, 0.86, 1)"
    assert f"world.confrontation = 0.72, 0.86 or 1 {tested}" in text
    assert "sanctions.enforcement = 0, 0.2 or 0.4 (tested: 0, 0.2, 0.4, 0.6, 0.8, 1)" in text
    assert "≥" not in text and "≤" not in text


def test_demo_prints_the_headline_in_three_rows(tmp_path: Path) -> None:
    """Issue 21: the demo's headline gives the defaults' cell, a history-matched run and the
    command that conditions it on a record."""
    from experiments import demo

    rows = []
    for job, conf in enumerate((0.3, 0.9)):
        row = {"world.confrontation": conf, "job": job, "n": 100}
        for s, c in {"S1": 0, "S2": 30 + 10 * job, "neither": 70 - 10 * job}.items():
            low, high = proportion_ci(c, 100)
            row |= {f"{s}_share": c / 100, f"{s}_ci_low": float(low), f"{s}_ci_high": float(high)}
        rows.append(row)
    summary = {
        "scenarios": {
            s: {"share": v, "ci_low": v - 0.01, "ci_high": v + 0.01}
            for s, v in {"S1": 0.0, "S2": 0.5, "neither": 0.5}.items()
        }
    }
    text = demo.headline(pd.DataFrame(rows), ["world.confrontation"], (tmp_path, summary))
    lines = text.splitlines()
    assert "S2 40.0% [" in lines[1]  # the cell at the default confrontation (0.9), job 1
    assert "history-matched" in lines[2] and "S2 50.0% [49.0%, 51.0%]" in lines[2]
    assert f"python -m analysis.odds {tmp_path} RECORD.csv" in text


# --- issue 25: readable at 1,280 px ----------------------------------------------------------------


def test_report_figures_have_no_text_under_10_px_and_no_legend_on_the_data(
    grid: Path, design: Path, tmp_path: Path
) -> None:
    from analysis import figures

    write_run(tmp_path / "run", {}, seed=8, replicates=100)
    for source in (grid, design, tmp_path / "run"):
        rep = report.build(source)
        for name, fig in rep.figures.items():
            sizes = figures.text_px(fig)
            assert sizes, name
            small = [(t, px) for t, px in sizes if px < figures.MIN_TEXT_PX]
            assert not small, (name, small[:5])
            assert fig.get_figwidth() * 96 <= figures.COLUMN_PX + 1e-6, name
            for ax in fig.axes:  # a legend, if any, belongs to the figure, outside the panels
                assert ax.get_legend() is None, name


def test_text_px_sees_a_figure_scaled_down_to_the_column() -> None:
    """The measure is not vacuous: 8 pt text in a figure twice the column's width is too small."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from analysis import figures

    fig = Figure(figsize=(2 * figures.COLUMN_PX / 96, 3))
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, "x", fontsize=8)
    assert min(px for _, px in figures.text_px(fig)) < figures.MIN_TEXT_PX
    ax = fig.add_subplot()
    ax.plot([0, 1], label="line")
    ax.legend()
    figures.readable(fig)
    assert min(px for _, px in figures.text_px(fig)) >= figures.MIN_TEXT_PX
    assert ax.get_legend() is None and fig.legends


def test_heat_map_labels_cells_only_when_they_are_big_enough(grid: Path) -> None:
    from analysis import figures

    cells = R.load(grid).cells()
    small = figures.heatmaps(cells, "sanctions.enforcement", "stockpile.dprk", None, "S2")
    labelled = [t for ax in small.axes for t in ax.texts]
    assert len(labelled) == 4  # 2 × 2 cells, big enough: each labelled at a readable size
    assert all(t.get_fontsize() * 96 / 72 >= figures.MIN_TEXT_PX for t in labelled)
    many = pd.concat([cells.assign(**{"sanctions.enforcement": v}) for v in np.linspace(0, 1, 30)])
    crowded = figures.heatmaps(
        many, "sanctions.enforcement", "stockpile.dprk", "world.confrontation", "S2"
    )
    assert not [t for ax in crowded.axes for t in ax.texts]  # the colour bar alone
    assert any("% of runs" in ax.get_ylabel() for ax in crowded.axes)


def test_labels_are_words_with_units_and_p_values_are_never_zero() -> None:
    from analysis import labels

    snake = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
    columns = [*labels.COLUMNS, *(f"{s}_{c}" for s in SCENARIO_LABELS for c in ("share", "ci_low"))]
    columns += [p.key for p in P.PARAMETERS] + ["some_new_column"]
    for column in columns:
        assert not snake.match(labels.header(column)), column
    assert labels.header("stockpile.dprk") == "DPRK stockpile (thousand containers)"
    assert labels.header("S1_ci_high") == "S1 95 % interval, high (%)"
    assert labels.format_p(0.0) == "< 0.001" and labels.format_p(3e-12) == "< 0.001"
    assert labels.format_p(0.0123) == "0.012" and labels.format_p(1.0) == "1.00"
    assert labels.format_p(float("nan")) == "–"


def test_terminal_output_fits_100_columns(grid: Path, design: Path, tmp_path: Path, capsys) -> None:
    for source in (grid, design):
        assert report.main([str(source), "--out", str(tmp_path / source.name)]) == 0
        out = capsys.readouterr().out
        long = [x for x in out.splitlines() if len(x) > 100 and not x.startswith("report: ")]
        assert not long, long


def test_first_paragraph_names_the_lead_right_after_its_first_colon(
    grid: Path, design: Path, tmp_path: Path
) -> None:
    """Whatever the result, 'Most common outcome <where>: <scenario>' — the place named before the
    first colon, the outcome right after it (the browser test reads it so)."""
    write_run(tmp_path / "run", {}, seed=8, replicates=100)
    for source in (grid, design, tmp_path / "run"):
        table, _ = report.lead(R.load(source))
        first = report.headline(R.load(source))[0]
        assert first.split(": ", 1)[1].startswith(str(table["share"].idxmax())), first


def test_a_history_matched_grid_says_so_in_its_lead(tmp_path: Path) -> None:
    from experiments.jobs import mark_done

    root = write_grid_sweep(
        tmp_path / "g", {"sanctions.enforcement": [0.2, 0.5]}, seed=3, replicates=40
    )
    plain = report.headline(R.load(root))[0]
    assert "history-matched" not in plain
    for job in (p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        summary = json.loads((job / "summary.json").read_text())
        summary["posterior"] = {"path": "sim/data/posterior.csv", "sha256": "0" * 64}
        (job / "summary.json").write_text(json.dumps(summary))
        mark_done(job, "test", summary, None)
    first = report.headline(R.load(root))[0]
    assert (
        first.startswith("Most common outcome at the defaults cell") and "history-matched" in first
    )


def test_the_report_shows_the_map_of_the_two_levers(grid_report: Path) -> None:
    """Issue 22: the map of enforcement × stockpile (python -m analysis.hedges) is in every report,
    said to be the project's map rather than this run's, and written beside the report."""
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    assert report.LEVERS_FIGURE.is_file()
    assert "id='fig-levers'" in page and "data:image/png;base64," in page
    assert "not this run" in page and "python -m analysis.hedges" in page
    written = (grid_report / "figures" / "levers.png").read_bytes()
    assert written == report.LEVERS_FIGURE.read_bytes()
