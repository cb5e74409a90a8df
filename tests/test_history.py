"""One history (issue 21): a forward run continues the 2000–2024 history the replay shows.

Every replicate runs 2000Q1–2024Q3 on the record's inputs when the model is built, then forward.
These tests check that the forward run's 2024Q3 state *is* the replay's 2024Q3 state (same
parameters, seed and replicate), that it does not depend on the batch or the horizon, that
``runs.parquet`` carries it as ``start_*`` columns equal to what ``experiments.replay`` writes,
and that the posterior draws are per replicate like the random numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_run_command import run_command

from analysis import posterior
from experiments import replay as replay_cmd
from sim import params as P
from sim import replay
from sim.model import START_STATE, RussiaDPRKModel

SEED = 20241001
POINT = {"russia.war_demand": 8.0, "stockpile.reserve": 5.0}  # munitions flow in most histories


def run_point_dir(outdir: Path, *args: str) -> Path:
    done = run_command(*args, f"hydra.run.dir={outdir}")
    assert done.returncode == 0, done.stderr
    return outdir


def test_the_forward_start_is_the_replays_2024q3() -> None:
    ids = np.arange(300, 900)
    model = RussiaDPRKModel(POINT, replicates=ids, seed=SEED, horizon=12)
    result = replay.run_replay(replicates=ids, seed=SEED, params=POINT)
    last = {k: v[-1].astype(np.float64) for k, v in result.series.items()}
    start = model.start_state
    assert result.quarters[-1] == "2024Q3" and model.start_quarter == "2024Q4"
    for name, series in (
        ("posture", "posture"),
        ("defence_treaty", "treaty"),
        ("munitions_rate", "munitions"),
        ("production_capacity", "production"),
        ("quality_trust", "quality_trust"),
    ):
        np.testing.assert_array_equal(start[name].astype(np.float32), last[series], err_msg=name)
    shipped = np.cumsum(result.series["munitions"], axis=0, dtype=np.float64)[-1]
    np.testing.assert_allclose(start["munitions_shipped_total"], shipped, rtol=1e-6)
    assert start["munitions_shipped_total"].mean() > 1  # not a vacuous equality of zeros
    assert len(np.unique(start["posture"])) + len(np.unique(start["defence_treaty"])) > 2


def test_the_start_does_not_depend_on_the_batch_or_the_horizon() -> None:
    together = RussiaDPRKModel({}, replicates=np.arange(40), seed=SEED, horizon=40)
    for k in (0, 17, 39):
        alone = RussiaDPRKModel({}, replicates=np.array([k]), seed=SEED, horizon=3)
        for name in START_STATE:
            assert together.start_state[name][k] == alone.start_state[name][0], (k, name)


def test_no_hand_set_start_remains() -> None:
    """The 2024Q3 state varies between replicates (their own histories), and a different history
    (the no-war counterfactual) gives a different start."""
    model = RussiaDPRKModel({}, replicates=2000, seed=SEED, horizon=0)
    assert model.start_state["stockpile_above_reserve"].std() > 0
    assert 0 < model.start_state["defence_treaty"].mean() < 1
    no_war = replay.run_replay(replicates=2000, seed=SEED, counterfactual="no_war")
    assert no_war.series["munitions"].sum() == 0
    assert model.start_state["munitions_shipped_total"].sum() > 0


def test_runs_parquet_start_columns_equal_the_replay_command(tmp_path: Path) -> None:
    """``start_*`` of ``experiments.run`` and ``experiments.replay``'s runs.parquet: same seed and
    replicates, so the same histories — equal replicate by replicate."""
    run_dir = run_point_dir(tmp_path / "run", "replicates=400", "seed=99")
    rows = pd.read_parquet(run_dir / "runs.parquet")
    assert {f"start_{name}" for name in START_STATE} <= set(rows.columns)
    out = tmp_path / "replay"
    assert replay_cmd.main(["--replicates", "400", "--seed", "99", "--out", str(out)]) == 0
    replayed = pd.read_parquet(out / "runs.parquet")
    replayed = replayed[replayed["counterfactual"] == "none"].sort_values("replicate")
    np.testing.assert_allclose(
        rows.sort_values("replicate")["start_munitions_shipped_total"].to_numpy(),
        replayed["munitions_total"].to_numpy(),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        rows.sort_values("replicate")["start_summits"].to_numpy(),
        replayed["summits_total"].to_numpy(),
    )


def test_posterior_draws_are_per_replicate() -> None:
    table = posterior.load(posterior.DEFAULT)
    full = table.draw(SEED, 1000)
    part = table.draw(SEED, np.arange(600, 700))
    for key in table.parameters:
        np.testing.assert_array_equal(full[key][600:700], part[key])
        assert len(np.unique(full[key])) > 50  # drawn, not one value
    other = table.draw(SEED + 1, 1000)
    assert any(not np.array_equal(full[k], other[k]) for k in table.parameters)


def test_a_history_matched_run_writes_its_draws_and_provenance(tmp_path: Path) -> None:
    run_dir = run_point_dir(tmp_path / "hm", "replicates=300", "posterior=default")
    rows = pd.read_parquet(run_dir / "runs.parquet")
    summary = json.loads((run_dir / "summary.json").read_text())
    table = posterior.load(posterior.DEFAULT)
    assert summary["posterior"]["sha256"] == table.sha256
    drawn = table.draw(summary["seed"], 300)
    for key in table.parameters:
        np.testing.assert_allclose(rows.sort_values("replicate")[key].to_numpy(), drawn[key])


def test_a_hedged_run_draws_the_limits_it_leaves_at_their_defaults(tmp_path: Path) -> None:
    """hedges=true (issue 22): each limit left at its default is drawn per replicate over its
    hedge range, a limit the user sets is kept; odds regenerates exactly the same draws."""
    from analysis import odds

    run_dir = run_point_dir(
        tmp_path / "hh", "replicates=300", "posterior=default", "hedges=true", "limits.barter=false"
    )
    rows = pd.read_parquet(run_dir / "runs.parquet").sort_values("replicate")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "limits.barter" not in summary["hedges"] and len(summary["hedges"]) == 5
    assert (rows["limits.barter"] == 0.0).all()
    drawn = posterior.hedge_draws(summary["seed"], 300, keys=summary["hedges"])
    for key in summary["hedges"]:
        np.testing.assert_allclose(rows[key].to_numpy(), drawn[key])
        low, high = P.BY_KEY[key].plausible_bounds()
        assert rows[key].between(low, high).all() and rows[key].nunique() > 100
    spec = odds.load_run(run_dir)
    again = spec.params_for(np.arange(300))
    for key in summary["hedges"]:
        np.testing.assert_array_equal(again[key], drawn[key])


@pytest.mark.parametrize("bad", ["posterior=nowhere.csv", "posterior=default russia.war_demand=5"])
def test_bad_posterior_settings_are_one_line(tmp_path: Path, bad: str) -> None:
    done = run_command(*bad.split(), f"hydra.run.dir={tmp_path}/x")
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "posterior" in done.stderr, done.stderr
    assert not (tmp_path / "x" / "runs.parquet").exists()


# --- reuse of a history (issue 21: sweeps over forward-only inputs share one) ----------------

FORWARD_CHANGES = {
    "world.confrontation": 0.3,
    "world.ceasefire_hazard": 0.0,
    "japan.trilateral": 0.2,
    "sanctions.un_monitoring": 1.0,
    "rok.shell_hazard": 1.0,
    "dprk.troops_deployed": False,
    "classifier.short": 6,
}


def _state(model: RussiaDPRKModel) -> dict[str, bytes]:
    """Every array and number of the model, its agents and its world, as bytes."""
    out = {}
    for owner in ("model", "russia", "dprk", "china", "usa", "rok", "japan", "world"):
        obj = model if owner == "model" else getattr(model, owner)
        for name, value in vars(obj).items():
            values = value.values() if isinstance(value, dict) else [value]
            if all(isinstance(v, np.ndarray | float | int | bool) for v in values):
                out[f"{owner}.{name}"] = b"".join(np.asarray(v).tobytes() for v in values)
    return out


def test_forward_only_parameters_are_never_read_by_the_history() -> None:
    """FORWARD_ONLY is right: extreme values of each leave the 2024Q3 state as it was."""
    from sim import model as M

    M._HISTORIES.entries.clear()
    base = RussiaDPRKModel({}, replicates=500, seed=SEED, horizon=0)
    for key, value in FORWARD_CHANGES.items():
        assert key in M.FORWARD_ONLY
        M._HISTORIES.entries.clear()
        other = RussiaDPRKModel({key: value}, replicates=500, seed=SEED, horizon=0)
        for name in START_STATE:
            np.testing.assert_array_equal(base.start_state[name], other.start_state[name], key)
    M._HISTORIES.entries.clear()
    moved = RussiaDPRKModel({"stockpile.reserve": 3.0}, replicates=500, seed=SEED, horizon=0)
    assert not np.array_equal(base.start_state["munitions_shipped_total"],
                              moved.start_state["munitions_shipped_total"])  # fmt: skip


@pytest.mark.parametrize("change", list(FORWARD_CHANGES), ids=list(FORWARD_CHANGES))
def test_a_reused_history_gives_the_same_run_bit_for_bit(change: str) -> None:
    from sim import model as M
    from sim.classifier import classify

    params = {"rok.shell_hazard": 0.1, change: FORWARD_CHANGES[change]}
    M._HISTORIES.entries.clear()
    RussiaDPRKModel({}, replicates=400, seed=SEED, horizon=20)  # leaves its history behind
    assert len(M._HISTORIES.entries) == 1
    reused = RussiaDPRKModel(params, replicates=400, seed=SEED, horizon=20).run()
    assert len(M._HISTORIES.entries) == 1  # a hit: nothing new was kept
    M._HISTORIES.entries.clear()
    fresh = RussiaDPRKModel(params, replicates=400, seed=SEED, horizon=20).run()
    a, b = _state(reused), _state(fresh)
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []
    for name in fresh.trajectory:
        assert reused.trajectory[name].tobytes() == fresh.trajectory[name].tobytes(), name
    for name, value in classify(fresh).items():
        assert np.asarray(value).tobytes() == np.asarray(classify(reused)[name]).tobytes(), name
