"""Dated forecasts and their scoring (issue 14): files, scores, calibration on synthetic records."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import forecast as F
from analysis import observations as O
from experiments import results, runner
from sim import params as P

ROOT = Path(__file__).resolve().parents[1]
SEED, N, HORIZON = 11, 4_000, 12
EVENTS = [i.name for i in O.INDICATORS if i.kind == O.EVENT]
# A parameter point far from the defaults: a quick ceasefire, Seoul ships shells, Moscow hands
# over technology, a large stockpile, few summits.
OTHER = {
    "world.ceasefire_hazard": 0.25,
    "rok.shell_hazard": 0.25,
    "russia.tech_control": 0.1,
    "stockpile.dprk": 60.0,
    "russia.summit_rate": 0.3,
}


def run_cli(capsys, module: str, argv: list[str]) -> SimpleNamespace:
    """Run ``python -m analysis.<module> argv`` in this process; return code, stdout, stderr."""
    code = importlib.import_module(f"analysis.{module}").main(argv)
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    params = P.defaults()
    rows, _ = runner.run_point(params, seed=SEED, replicates=N, horizon=HORIZON, quantiles=False)
    results.write_run(
        out,
        rows,
        None,
        results.provenance("test", SEED),
        {"replicates": N, "horizon": HORIZON, "parameters": params},
    )
    return out


@pytest.fixture(scope="module")
def ensemble() -> F.Ensemble:
    return F.ensemble({}, seed=1, replicates=10_000, horizon=16)


def test_forecast_command_writes_every_quarter_and_indicator(
    run_dir: Path, tmp_path: Path, capsys
) -> None:
    record = tmp_path / "r.csv"
    record.write_text(
        "quarter,indicator,relation,value,source\n"
        "2025Q1,ceasefire,==,0,a\n2025Q2,tourism,==,0.5,b\n2025Q2,infrastructure_links,>=,2,c\n"
    )
    proc = run_cli(capsys, "forecast", [str(run_dir), "--record", str(record)])
    assert proc.returncode == 0, proc.stderr
    out = run_dir / F.OUT_DIR
    table = pd.read_csv(out / "forecast.csv")
    assert len(table) == HORIZON * len(O.INDICATORS)
    assert table["quarter"].iloc[0] == "2024Q4"
    assert set(table.loc[table["step"] == HORIZON, "quarter"]) == {O.last_quarter(HORIZON)}
    events = table[table["kind"] == "event"]
    assert events["probability"].between(0, 1).all() and events["q50"].isna().all()
    levels = table[table["kind"] == "level"]
    q = levels[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert (np.diff(q, axis=1) >= -1e-9).all() and levels["probability"].isna().all()
    meta = json.loads((out / "forecast.json").read_text())
    assert meta["seed"] == SEED and meta["replicates"] == N and meta["made"].endswith("UTC")
    page = (out / "forecast.html").read_text()
    assert page.count("<img") == 4 and "Reliability diagram" in page
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores["quarter"]) == ["2025Q1", "2025Q2", "overall"]
    assert scores.iloc[-1]["events"] == 2 and scores.iloc[-1]["levels"] == 1
    # each skill score names its baseline: persistence of the model's 2024Q3 state (munitions
    # flowing) and climatology (issue 22)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("forecast: ")  # a record of facts: no illustrative warning
    for name in ("Brier score", "CRPS"):
        skills = [
            x for x in lines if x.strip().startswith("skill") and x.endswith(tuple("0123456789"))
        ]
        assert any(
            "persistence of the model's 2024Q3 state (munitions flowing)" in x and name in x
            for x in skills
        )
        assert any("climatology" in x and name in x for x in skills)
    overall = scores.iloc[-1]
    for base in ("persistence", "climatology"):
        for score in ("brier", "crps"):
            want = 1 - overall[score] / overall[f"{score}_{base}"]
            assert overall[f"{score}_skill_{base}"] == pytest.approx(want)
            assert f"skill {want:+.2f} against {F.BASELINES[base]}" in proc.stdout
    assert max(len(x) for x in lines if str(run_dir) not in x) <= 100


def test_an_illustrative_record_says_so_first(run_dir: Path, tmp_path: Path, capsys) -> None:
    """Issue 25: every output computed from the shipped example record says so in its first line."""
    example = ROOT / "examples" / "observations_example.csv"
    assert F.is_illustrative(example)
    plain = tmp_path / "plain.csv"
    plain.write_text("quarter,indicator,relation,value,source\n2025Q1,ceasefire,==,0,news\n")
    assert not F.is_illustrative(plain) and not F.is_illustrative(None)
    marked = tmp_path / "marked.csv"  # no comment, one source marked, with a comma in it
    marked.write_text(
        'quarter,indicator,relation,value,source\n2025Q1,ceasefire,==,0,"Illustrative: a, b"\n'
    )
    assert F.is_illustrative(marked)
    out = tmp_path / "fc"
    proc = run_cli(capsys, "forecast", [str(run_dir), "--record", str(example), "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == F.ILLUSTRATIVE_LINE
    assert json.loads((out / "forecast.json").read_text())["illustrative"] is True
    page = (out / "forecast.html").read_text()
    body = page[page.index("<body>") + len("<body>") :].lstrip()
    assert body.startswith("<p class='fail'>ILLUSTRATIVE RECORD")


def test_forecast_probabilities_are_the_replicate_shares(run_dir: Path) -> None:
    table = pd.read_csv(run_dir / F.OUT_DIR / "forecast.csv")
    values, _ = O.simulate(P.defaults(), seed=SEED, replicates=N, horizon=HORIZON)
    row = table[(table["indicator"] == "ceasefire") & (table["step"] == 8)].iloc[0]
    assert row["probability"] == pytest.approx(values["ceasefire"][7].mean())
    row = table[(table["indicator"] == "tourism") & (table["step"] == 3)].iloc[0]
    assert row["q50"] == pytest.approx(np.quantile(values["tourism"][2], 0.5))


def test_record_after_the_horizon_is_refused(run_dir: Path, tmp_path: Path, capsys) -> None:
    record = tmp_path / "r.csv"
    record.write_text("quarter,indicator,relation,value,source\n2030Q1,ceasefire,==,1,x\n")
    proc = run_cli(capsys, "forecast", [str(run_dir), "--record", str(record)])
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "after the run's last quarter 2027Q3" in proc.stderr


def test_crps_matches_its_definition() -> None:
    rng = np.random.default_rng(0)
    x = np.sort(rng.normal(size=301))
    y = np.array([-3.0, -0.2, 0.0, 0.7, 5.0])
    prefix = np.concatenate([[0.0], np.cumsum(x)])
    got = F._crps(x, prefix, F._spread(x), y)
    direct = (
        np.abs(x[None, :] - y[:, None]).mean(axis=1) - 0.5 * np.abs(x[:, None] - x[None, :]).mean()
    )
    np.testing.assert_allclose(got, direct, rtol=1e-10, atol=1e-12)
    point = np.array([0.4])  # a point forecast's CRPS is the absolute error
    np.testing.assert_allclose(F._crps(point, np.array([0.0, 0.4]), 0.0, y), np.abs(y - 0.4))


@pytest.mark.parametrize(
    ("indicator", "relation", "value", "expected"),
    [
        ("ceasefire", "==", 1, ("==", 1.0, 1)),
        ("ceasefire", "==", 0, ("==", 1.0, 0)),
        ("ceasefire", "<", 1, ("==", 1.0, 0)),
        ("ceasefire", ">=", 0, None),  # always true: says nothing
        ("infrastructure_links", ">=", 2, (">=", 2.0, 1)),
        ("infrastructure_links", "<=", 1, (">", 1.0, 0)),
        ("tourism", "<", 0.4, (">=", 0.4, 0)),
        ("tourism", "==", 0.4, None),  # a point observation, scored by CRPS
    ],
)
def test_rows_become_propositions(indicator: str, relation: str, value: float, expected) -> None:
    assert F.proposition(O.Observation("2025Q1", indicator, relation, value)) == expected


def test_baselines_are_2024q3_persistence_and_climatology(ensemble: F.Ensemble) -> None:
    record = O.record_from_rows(
        [
            {"quarter": "2026Q1", "indicator": "treaty_in_force", "relation": "==", "value": 1},
            {"quarter": "2026Q1", "indicator": "ceasefire", "relation": "==", "value": 1},
            {"quarter": "2026Q1", "indicator": "tourism", "relation": "==", "value": 0.5},
        ]
    )
    rows = F.score_rows(ensemble, record)
    # The persistence baseline is the model's own 2024Q3 (issue 21): the treaty in force in the
    # share of histories that signed it, the war going on in every one.
    treaty = ensemble.baseline["treaty_in_force"].mean()
    assert 0 < treaty < 1 and list(rows["p_persistence"][:2]) == [treaty, 0.0]
    assert rows["brier_persistence"][1] == 1.0
    assert ensemble.baseline["munitions"].mean() > 0  # munitions still flowing in 2024Q3
    want = abs(ensemble.baseline["tourism"].mean() - 0.5)
    assert rows["crps_persistence"][2] == pytest.approx(want)
    # climatology: the ensemble pooled over every quarter of the horizon, whatever the quarter
    every = ensemble.values["ceasefire"].astype(float)
    assert rows["p_climatology"][1] == pytest.approx(every.mean())
    assert rows["brier_climatology"][1] == pytest.approx((every.mean() - 1.0) ** 2)
    x = np.sort(ensemble.values["tourism"].astype(float).ravel())
    direct = np.abs(x - 0.5).mean() - 0.5 * F._spread(x)
    assert rows["crps_climatology"][2] == pytest.approx(direct, rel=1e-9)
    assert rows["p"][1] != pytest.approx(rows["p_climatology"][1])  # the quarter matters


def _cluster_check(rows: pd.DataFrame, truths: int, min_count: int = 300) -> list[str]:
    """Bins whose observed frequency misses the mean forecast by more than sampling error.

    Outcomes of one synthetic replicate are correlated over quarters, so the standard error is
    cluster-robust (clusters = the synthetic replicates); the margin is 4 such errors + 0.01.
    """
    ev = rows[rows["scored_as"] == "event"].copy()
    ev["cluster"] = np.arange(len(ev)) % truths  # synthetic_record lists replicates innermost
    which = np.clip(np.digitize(ev["p"], F.BINS[1:-1]), 0, len(F.BINS) - 2)
    bad = []
    for b in np.unique(which):
        part = ev[which == b]
        if len(part) < min_count:
            continue
        resid = part["outcome"] - part["p"]
        per_cluster = resid.groupby(part["cluster"]).sum()
        se = np.sqrt((per_cluster**2).sum()) / len(part)
        if abs(resid.mean()) > 4 * se + 0.01:
            bad.append(
                f"bin {b}: forecast {part['p'].mean():.3f} observed {part['outcome'].mean():.3f}"
            )
    return bad


def test_model_is_calibrated_on_its_own_record_and_worse_elsewhere(
    ensemble: F.Ensemble, record_property
) -> None:
    truths = 150
    own = F.score_rows(
        ensemble,
        F.synthetic_record({}, seed=2, replicates=truths, horizon=16, names=list(O.BY_NAME)),
    )
    other = F.score_rows(
        ensemble,
        F.synthetic_record(OTHER, seed=2, replicates=truths, horizon=16, names=list(O.BY_NAME)),
    )
    assert _cluster_check(own, truths) == []
    assert _cluster_check(other, truths) != []  # the check has power
    s_own, s_other = F.summarise_scores(own).iloc[-1], F.summarise_scores(other).iloc[-1]
    record_property(
        "measured",
        f"Brier own {s_own['brier']:.3f} other {s_other['brier']:.3f}; CRPS own "
        f"{s_own['crps']:.3f} other {s_other['crps']:.3f}; 90 % coverage own "
        f"{s_own['coverage90']:.2f} other {s_other['coverage90']:.2f}",
    )
    assert s_other["brier"] > 1.2 * s_own["brier"]
    assert s_other["crps"] > 1.2 * s_own["crps"]
    assert s_own["coverage90"] >= 0.85 > s_other["coverage90"]
    assert s_own["brier"] < s_own["brier_persistence"]  # the model beats 'nothing changes'
    rel = F.reliability(own)
    assert rel["count"].sum() == (own["scored_as"] == "event").sum()


def test_report_shows_the_forecast_and_updated_odds(run_dir: Path, tmp_path: Path) -> None:
    from analysis import report

    record = tmp_path / "r.csv"
    record.write_text("quarter,indicator,relation,value,source\n2025Q3,ceasefire,==,0,x\n")
    F.write_forecast(run_dir, record_path=record)
    sections = dict(report.build(run_dir).sections)
    lines = sections["Dated forecast and updated odds"]
    assert any(line.startswith("Dated forecast made") for line in lines)
    given = next(line for line in lines if line.startswith("Given the record"))
    assert f"of {N} replicates consistent" in given and "S2" in given
