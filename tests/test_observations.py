"""Record of observations and updated odds (issue 14): declaration, errors, conditioning."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from analysis import observations as O
from analysis import odds
from experiments import jobs, results, runner
from sim import params as P
from sim.model import TRACKED

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "observations_example.csv"
SEED, N, HORIZON = 7, 20_000, 20


def run_cli(capsys, module: str, argv: list[str]) -> SimpleNamespace:
    """Run ``python -m analysis.<module> argv`` in this process; return code, stdout, stderr."""
    code = importlib.import_module(f"analysis.{module}").main(argv)
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def make_run(out: Path, overrides: dict, n: int = N) -> Path:
    """A run directory as python -m experiments.run writes it (no fan-chart quantiles)."""
    params = P.resolve(overrides)
    rows, _ = runner.run_point(params, seed=SEED, replicates=n, horizon=HORIZON, quantiles=False)
    meta = results.provenance("test", SEED)
    results.write_run(
        out, rows, None, meta, {"replicates": n, "horizon": HORIZON, "parameters": params}
    )
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("run"), {})


# The article's limits on stockpile, reputation and technology switched off (M15, M17, M18):
# a point where S1 runs are common enough to condition on.
S1_POINT = {"limits.technology": False, "limits.reputation": False, "limits.stockpile": False}


def write_record(path: Path, lines: list[str]) -> Path:
    path.write_text("quarter,indicator,relation,value,source\n" + "\n".join(lines) + "\n")
    return path


# --- the declaration against the model -------------------------------------------------------


def test_declaration_matches_the_model() -> None:
    """A renamed trajectory or state variable in sim/ shows up here, as one failing test."""
    assert O.check_against_model() == []
    sources = {i.tracked for i in O.INDICATORS if i.tracked}
    assert sources | {n for i in O.INDICATORS for n in i.needs} == set(TRACKED)


def test_check_against_model_names_a_missing_state() -> None:
    model = O.RussiaDPRKModel(replicates=2, seed=1, horizon=1).run()
    del model.gas_pipeline  # as if the model had renamed it
    problems = O.check_against_model(model)
    assert len(problems) == 1 and problems[0].startswith("gas_pipeline:")


def test_every_indicator_is_documented() -> None:
    for ind in O.INDICATORS:
        assert ind.meaning and ind.unit and ind.ids, ind.name
        assert all(i[0] in "FMS" for i in ind.ids)
        assert ind.kind in (O.EVENT, O.LEVEL)
        assert (ind.tracked, ind.state, ind.derive).count(None) == 2, ind.name


def test_simulate_replicate_is_the_same_in_any_batch() -> None:
    ids = np.array([3, 11, 17])
    full, labels_full = O.simulate({}, seed=5, replicates=20, horizon=12)
    part, labels_part = O.simulate({}, seed=5, replicates=ids, horizon=12)
    for name in O.BY_NAME:
        np.testing.assert_array_equal(full[name][:, ids], part[name], err_msg=name)
    np.testing.assert_array_equal(labels_full[ids], labels_part)


def test_events_are_zero_or_one_and_levels_in_range() -> None:
    values, _ = O.simulate({}, seed=2, replicates=500, horizon=40)
    for name, v in values.items():
        ind = O.BY_NAME[name]
        assert v.min() >= ind.low - 1e-6 and v.max() <= ind.high + 1e-6, name
        if ind.integer:
            np.testing.assert_array_equal(v, np.round(v), err_msg=name)


# --- the record file -------------------------------------------------------------------------


def test_example_record_is_valid_and_marked_illustrative() -> None:
    record = O.read_record(EXAMPLE, horizon=40)
    assert len(record) >= 5
    assert all(o.source.startswith("ILLUSTRATIVE") for o in record)
    assert "NOT facts" in EXAMPLE.read_text()


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("2025Q1,bridges,>=,1,x", "unknown indicator 'bridges'"),
        ("2024Q3,ceasefire,==,0,x", "before 2024Q4"),
        ("2040Q1,ceasefire,==,0,x", "after the run's last quarter 2034Q3"),
        ("2025Q5,ceasefire,==,0,x", "is not like 2025Q2"),
        ("2025Q1,ceasefire,=>,0,x", "relation '=>' is not one of"),
        ("2025Q1,ceasefire,==,2,x", "expected 0 or 1"),
        ("2025Q1,tourism,>=,high,x", "expected a number in 0..1"),
        ("2025Q1,tourism,>=,1.5,x", "expected a number in 0..1"),
        ("2025Q1,tech_tier,>=,1.5,x", "expected a whole number in 0..4"),
    ],
)
def test_bad_rows_give_one_line_errors(tmp_path: Path, line: str, needle: str) -> None:
    path = write_record(tmp_path / "r.csv", ["2024Q4,troops_deployed,==,1,ok", line])
    with pytest.raises(O.ObservationError) as info:
        O.read_record(path, horizon=40)
    message = str(info.value)
    assert needle in message and "\n" not in message
    assert "data line 2" in message


def test_bad_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("quarter,indicator,value\n2025Q1,ceasefire,0\n")
    with pytest.raises(O.ObservationError, match="must be quarter,indicator,relation"):
        O.read_record(path)


def test_check_command_exits_non_zero_with_one_line(tmp_path: Path, capsys) -> None:
    path = write_record(tmp_path / "r.csv", ["2025Q1,bridges,>=,1,x"])
    proc = run_cli(capsys, "observations", ["check", str(path)])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown indicator" in proc.stderr


def test_tolerance_widens_levels_not_events() -> None:
    x = np.array([0.24, 0.28, 0.30, 0.33, 0.36])
    eq = O.Observation("2025Q1", "tourism", "==", 0.30)
    np.testing.assert_array_equal(O.holds(x, eq), [False, True, True, True, False])
    np.testing.assert_array_equal(O.holds(x, eq, scale=0.0), [False, False, True, False, False])
    ge = O.Observation("2025Q1", "tourism", ">=", 0.33)
    np.testing.assert_array_equal(O.holds(x, ge), [False, True, True, True, True])
    lt = O.Observation("2025Q1", "tourism", "<", 0.25)
    np.testing.assert_array_equal(O.holds(x, lt), [True, True, False, False, False])
    ev = O.Observation("2025Q1", "ceasefire", ">=", 1)
    np.testing.assert_array_equal(O.holds(np.array([0.0, 1.0]), ev), [False, True])


# --- conditioning ----------------------------------------------------------------------------


def test_empty_record_returns_the_prior_exactly(run_dir: Path) -> None:
    spec = odds.load_run(run_dir)
    result = odds.condition(spec, [])
    summary = json.loads((run_dir / results.SUMMARY_FILE).read_text())
    for row in result.table():
        assert row["share"] == row["prior_share"] == summary["scenarios"][row["scenario"]]["share"]
        assert row["ci_low"] == summary["scenarios"][row["scenario"]]["ci_low"]
    assert result.ess == N


def test_observing_what_only_s1_produces_raises_s1(tmp_path: Path) -> None:
    """S1 needs tier-2 technology by the end of the medium term (quarter 16, 2028Q3); S2 allows
    none, and the tier never falls, so observing it can only raise S1 (Bayes: P(S1 | E) =
    P(S1) / P(E))."""
    spec = odds.load_run(make_run(tmp_path, S1_POINT, n=10_000))
    record = O.record_from_rows(
        [{"quarter": "2028Q3", "indicator": "military_technology", "relation": "==", "value": 1}],
        horizon=HORIZON,
    )
    assert odds.condition(spec, []).prior_counts["S1"] >= 50  # S1 occurs at this point
    result = odds.condition(spec, record, min_ess=10)
    s1 = result.table()[0]
    assert s1["scenario"] == "S1"
    assert s1["ci_low"] > s1["prior_ci_high"]
    assert result.counts["S2"] == 0  # S2 allows no tier-2 technology
    assert 10 <= result.consistent < N


def test_conditioning_matches_a_direct_count(run_dir: Path) -> None:
    """The consistent replicates are exactly those a direct run says pass every row."""
    spec = odds.load_run(run_dir)
    record = O.record_from_rows(
        [
            {"quarter": "2025Q2", "indicator": "ceasefire", "relation": "==", "value": 0},
            {"quarter": "2025Q4", "indicator": "tourism", "relation": ">=", "value": 0.6},
        ]
    )
    result = odds.condition(spec, record)
    values, labels = O.simulate(
        spec.params, seed=SEED, replicates=N, horizon=HORIZON, names=["ceasefire", "tourism"]
    )
    keep = (values["ceasefire"][2] == 0) & (values["tourism"][4] >= 0.6 - 0.05 - 1e-9)
    assert result.consistent == int(keep.sum())
    assert result.counts["S2"] == int((keep & (labels == "S2")).sum())


def test_impossible_record_says_so(run_dir: Path, tmp_path: Path, capsys) -> None:
    """Technology rises at most one tier a quarter from none: tier 4 in 2024Q4 is impossible."""
    path = write_record(
        tmp_path / "r.csv", ["2024Q4,ceasefire,==,0,x", "2024Q4,tech_tier,==,4,impossible"]
    )
    proc = run_cli(capsys, "odds", [str(run_dir), str(path)])
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    assert "only 0 of 20000 replicates" in proc.stderr
    assert "2024Q4 tech_tier == 4" in proc.stderr and proc.stderr.count("\n") == 1


def test_more_replicates_are_run_until_the_target_ess(run_dir: Path) -> None:
    spec = odds.load_run(run_dir)
    record = O.record_from_rows(
        [{"quarter": "2026Q2", "indicator": "military_technology", "relation": "==", "value": 1}]
    )
    base = odds.condition(spec, record)
    target = base.consistent + 50
    more = odds.condition(spec, record, min_ess=target, budget=3 * N, batch_size=5_000)
    assert more.consistent >= target and more.n > N and more.extra_replicates == more.n - N
    capped = odds.condition(spec, record, min_ess=10**6, budget=N + 5_000, batch_size=5_000)
    assert capped.n == N + 5_000 and capped.consistent < 10**6


def test_a_changed_model_is_refused(run_dir: Path, tmp_path: Path) -> None:
    summary = json.loads((run_dir / results.SUMMARY_FILE).read_text())
    summary["parameters"]["world.ceasefire_hazard"] = 0.5
    other = tmp_path / "other"
    other.mkdir()
    (other / results.SUMMARY_FILE).write_text(json.dumps(summary))
    (other / results.RUNS_FILE).write_bytes((run_dir / results.RUNS_FILE).read_bytes())
    jobs.mark_done(other, "test", summary, None)  # a complete run, made by another model
    record = O.record_from_rows(
        [{"quarter": "2025Q1", "indicator": "ceasefire", "relation": "==", "value": 0}]
    )
    with pytest.raises(O.ObservationError, match="do not match runs.parquet"):
        odds.condition(odds.load_run(other), record)


def test_widening_a_parameter_gives_its_posterior(run_dir: Path) -> None:
    """Ceasefire hazard h uniform on [0, 1]; no ceasefire through 2026Q4 (9 quarters) has
    likelihood (1 − h)^9, so the posterior is Beta(1, 10) with mean 1/11 (M03)."""
    spec = odds.load_run(run_dir)
    record = O.record_from_rows(
        [{"quarter": "2026Q4", "indicator": "ceasefire", "relation": "==", "value": 0}]
    )
    result = odds.condition(spec, record, widen=["world.ceasefire_hazard"])
    (w,) = result.widened
    assert w["prior_mean"] == pytest.approx(0.5, abs=0.01)
    # posterior sd 0.083 over ~1,800 consistent replicates: standard error 0.002
    assert w["posterior_mean"] == pytest.approx(1 / 11, abs=0.01)
    assert result.n == N and result.consistent == pytest.approx(N / 10, rel=0.1)  # P(E) = 1/10
    # the same replicate gets the same draw whatever the batch
    np.testing.assert_array_equal(
        odds.widened_draws(spec, ["world.ceasefire_hazard"], 10),
        odds.widened_draws(spec, ["world.ceasefire_hazard"], 1000)[:10],
    )


def test_widening_refuses_switches_and_unknown_keys(run_dir: Path) -> None:
    spec = odds.load_run(run_dir)
    with pytest.raises(O.ObservationError, match="switch or a classifier setting"):
        odds.condition(spec, [], widen=["classifier.s2_burst_ratio"])
    with pytest.raises(O.ObservationError, match="unknown parameter 'world.ceasefire'"):
        odds.condition(spec, [], widen=["world.ceasefire"])


def test_docs_list_the_declared_indicators() -> None:
    """docs/FORECAST.md carries the output of python -m analysis.observations list."""
    assert O.table_markdown() in (ROOT / "docs" / "FORECAST.md").read_text(encoding="utf-8")


def test_odds_from_the_illustrative_record_says_so_first(
    run_dir: Path, tmp_path: Path, capsys
) -> None:
    """Issue 25: every output computed from an illustrative record says so in its first line —
    the terminal and the JSON of ``analysis.odds``; a record of facts gets no such line."""
    from analysis.illustrative import LINE

    out = tmp_path / "odds.json"
    assert odds.main([str(run_dir), str(EXAMPLE), "--min-ess", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == LINE
    assert next(iter(json.loads(out.read_text()))) == "illustrative"
    plain = write_record(tmp_path / "r.csv", ["2024Q4,troops_deployed,==,1,a report"])
    assert odds.main([str(run_dir), str(plain), "--min-ess", "1"]) == 0
    assert LINE not in capsys.readouterr().out
