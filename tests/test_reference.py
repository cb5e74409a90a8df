"""The ensemble against its scalar reference (issue 13): the same rules, two implementations.

``tests/reference`` writes every rule for one replicate in plain Python, as Mesa agents, reading
the same counter-based random numbers. For 1,000 replicates at each of several parameter points
the two must give the same 2024Q3 state after the history (2000Q1–2024Q3, issue 21), the same
per-quarter forward trajectory of every tracked indicator — to float32 rounding for the
continuous ones, exactly for integer and boolean state — and the same scenario label. When a
rule changes in one implementation only, this test fails (checked below by moving one
coefficient in either of them).
"""

from __future__ import annotations

import numpy as np
import pytest
import reference.model as reference_model
from reference import ReferenceModel, scenario

import sim.agents
from sim import params as P
from sim.classifier import classify
from sim.model import START_STATE, TRACKED, RussiaDPRKModel

SEED = 20241001
REPLICATES = 1000
# Integer and boolean state: equal exactly. The rest: equal to float32 rounding.
EXACT = ("tech_tier", "posture", "troops", "links", "summit", "war")
START_EXACT = ("posture", "defence_treaty", "tech_tier", "summits")
RTOL, ATOL = 1e-6, 1e-9

LIMITS_OFF = {p.key: False for p in P.PARAMETERS if p.group == "limits"}
POINTS = {
    "defaults": {},
    "war_held": {"world.ceasefire_hazard": 0.0},
    "limits_off": LIMITS_OFF,
    # Where every mechanism is active: bold Russia, Seoul ships shells (as in test_rng).
    "bold": {"russia.reputation_cost": 0.1, "russia.tech_control": 0.3, "rok.shell_hazard": 0.2},
}


def differences(overrides: dict, replicates: int) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Replicates whose 2024Q3 state, trajectory (by indicator) or label differ; and the
    ensemble's labels and trajectories."""
    ensemble = RussiaDPRKModel(overrides, replicates=replicates, seed=SEED).run()
    labels = classify(ensemble)["scenario"]
    refs = [ReferenceModel(overrides, replicate=k, seed=SEED).run() for k in range(replicates)]
    differ = {}
    for name in START_STATE:  # where the history left each replicate
        mine = np.array([ref.start_state[name] for ref in refs], dtype=np.float64)
        theirs = ensemble.start_state[name]
        if name in START_EXACT:
            same = mine == theirs
        else:
            same = np.isclose(mine, theirs, rtol=RTOL, atol=ATOL)
        differ[f"start_{name}"] = int(np.count_nonzero(~same))
    for name in TRACKED:
        mine = np.array([ref.trajectory()[name] for ref in refs], dtype=np.float64).T
        theirs = ensemble.trajectory[name].astype(np.float64)
        if name in EXACT:
            same = (mine == theirs).all(axis=0)
        else:
            same = np.isclose(mine, theirs, rtol=RTOL, atol=ATOL).all(axis=0)
        differ[name] = int(np.count_nonzero(~same))
    differ["scenario"] = sum(
        scenario(ref) != label for ref, label in zip(refs, labels, strict=True)
    )
    tracked = {name: ensemble.trajectory[name] for name in TRACKED}
    return {k: v for k, v in differ.items() if v}, {"labels": labels, **tracked}


@pytest.fixture(scope="module")
def compared() -> dict[str, tuple[dict[str, int], dict[str, np.ndarray]]]:
    return {name: differences(overrides, REPLICATES) for name, overrides in POINTS.items()}


@pytest.mark.parametrize("point", POINTS)
def test_reference_equals_ensemble(compared, point: str) -> None:
    """Every tracked trajectory and every label of 1,000 replicates agree."""
    differ, _ = compared[point]
    assert not differ, f"{point}: replicates that differ, by indicator: {differ}"


def test_the_points_exercise_the_rules(compared) -> None:
    """The agreement is not vacuous: between them the points reach every rule's outcomes."""
    out = {name: ens for name, (_, ens) in compared.items()}
    pooled = np.concatenate([ens["labels"] for ens in out.values()])
    assert {"S1", "S2", "neither"} <= set(pooled)

    def anywhere(test) -> bool:
        return any(bool(np.any(test(ens))) for ens in out.values())

    assert anywhere(lambda e: e["war"] == 0)  # ceasefires
    assert not np.any(out["war_held"]["war"] == 0)
    assert anywhere(lambda e: e["posture"] == 2) and anywhere(lambda e: e["posture"] == 0)
    assert anywhere(lambda e: e["tech_tier"] >= 2)  # military technology handed over
    assert anywhere(lambda e: np.diff(e["troops"], axis=0) < 0)  # troops withdrawn
    assert anywhere(lambda e: np.diff(e["troops"], axis=0) > 0)  # troops sent
    assert anywhere(lambda e: e["links"] >= 3) and anywhere(lambda e: e["summit"] > 0)
    assert anywhere(lambda e: e["munitions"] == 0) and anywhere(lambda e: e["munitions"] > 0)


@pytest.mark.parametrize("side", [reference_model, sim.agents], ids=["reference", "ensemble"])
def test_a_coefficient_moved_in_one_side_is_caught(monkeypatch, side) -> None:
    """The oracle can fail: M06's equal distance moved in one implementation only."""
    monkeypatch.setattr(side, "EQUAL_DISTANCE", side.EQUAL_DISTANCE - 0.05)
    differ, _ = differences({}, 100)
    assert differ, "changing a rule in one implementation went unnoticed"
