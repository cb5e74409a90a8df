"""The model's structure (issue 2, points 2–3): R = 1, parameter arrays, the relations graph,
the Mesa-native way (``mesa.batch_run``) and the event log of the highlighted replicate.
"""

from __future__ import annotations

import multiprocessing

import mesa
import networkx as nx
import numpy as np
import pytest

from sim import params as P
from sim.agents import AGENT_CLASSES
from sim.classifier import SCENARIOS, classify
from sim.model import DOMAINS, STATES, TRACKED, RussiaDPRKModel

SEED = 20241001


def test_single_replicate_reads_naturally() -> None:
    """R = 1 is an ordinary run: one value per indicator per quarter, one label."""
    model = RussiaDPRKModel(seed=SEED).run()
    assert model.R == 1 and model.steps == 40 and not model.running
    assert model.quarter == "2034Q3"  # step 40 from 2024Q4 (issue 2: forward from 2024Q4)
    assert all(model.trajectory[k].shape == (40, 1) for k in TRACKED)
    result = classify(model)
    assert result["scenario"].shape == (1,) and result["scenario"][0] in SCENARIOS
    assert [type(a) for a in model.agents] == list(AGENT_CLASSES)
    assert {a.name for a in model.agents} == set(STATES)


def test_first_step_is_2024q4() -> None:
    model = RussiaDPRKModel(seed=SEED, horizon=2)
    model.step()
    assert model.quarter == "2024Q4"


def test_design_in_one_instance_equals_separate_runs() -> None:
    """Parameters as arrays of length R: point i of a design, run in one instance, equals the
    run of point i alone (same replicate id), bit for bit (issue 2 point 3)."""
    design = {
        "world.confrontation": np.array([0.2, 0.5, 0.85, 1.0, 0.6, 0.9]),
        "stockpile.dprk": np.array([10.0, 40.0, 20.0, 5.0, 80.0, 20.0]),
        "russia.reputation_cost": np.array([0.1, 0.6, 1.5, 0.0, 0.3, 0.6]),
        "rok.shell_hazard": np.array([0.0, 1.0, 0.03, 0.5, 0.2, 0.0]),
    }
    together = RussiaDPRKModel(design, replicates=6, seed=SEED).run()
    labels = classify(together)["scenario"]
    for i in range(6):
        point = {k: v[i].item() for k, v in design.items()}
        alone = RussiaDPRKModel(point, replicates=np.array([i]), seed=SEED).run()
        for name in TRACKED:
            assert (
                together.trajectory[name][:, i].tobytes() == alone.trajectory[name][:, 0].tobytes()
            )
        assert classify(alone)["scenario"][0] == labels[i]


def _design_values(param: P.Param) -> np.ndarray:
    """Three valid values of one parameter: its low end, its default and a point above it."""
    if param.kind is bool:
        return np.array([True, False, True])
    values = []
    for v in (param.low, param.default, (param.default + param.high) / 2):
        v = int(round(v)) if param.kind is int else float(v)
        try:
            P.resolve({param.key: v})
        except P.ParameterError:  # e.g. classifier.short must stay below classifier.medium
            v = param.default
        values.append(v)
    return np.array(values)


@pytest.mark.parametrize("param", [pytest.param(p, id=p.key) for p in P.PARAMETERS])
def test_every_parameter_may_be_an_array(param: P.Param) -> None:
    """Every declared parameter may be an array of length R; each point equals its own run."""
    values = _design_values(param)
    together = RussiaDPRKModel({param.key: values}, replicates=3, seed=SEED, horizon=20).run()
    labels = classify(together)["scenario"]
    for i, v in enumerate(values):
        alone = RussiaDPRKModel(
            {param.key: v.item()}, replicates=np.array([i]), seed=SEED, horizon=20
        ).run()
        for name in TRACKED:
            assert (
                together.trajectory[name][:, i].tobytes() == alone.trajectory[name][:, 0].tobytes()
            )
        assert classify(alone)["scenario"][0] == labels[i]


@pytest.mark.parametrize("length", [3, 5])
def test_parameter_array_of_wrong_length_is_rejected(length: int) -> None:
    with pytest.raises(P.ParameterError, match=r"world\.confrontation.*one value per replicate"):
        RussiaDPRKModel({"world.confrontation": np.full(length, 0.5)}, replicates=4)


def test_parameter_array_out_of_range_is_rejected() -> None:
    with pytest.raises(P.ParameterError, match=r"stockpile\.dprk.*out of range"):
        RussiaDPRKModel({"stockpile.dprk": np.array([10.0, 500.0])}, replicates=2)


def test_unknown_parameter_and_bad_replicates_are_rejected() -> None:
    with pytest.raises(P.ParameterError, match="unknown parameter"):
        RussiaDPRKModel(replicates=2, **{"world.confrontaton": 0.5})
    with pytest.raises(P.ParameterError, match="replicates"):
        RussiaDPRKModel(replicates=0)


def test_relations_graph_has_six_states_fifteen_edges_and_updates() -> None:
    """Bilateral relations live in a networkx graph, arrays over replicates, updated each step."""
    R = 50
    model = RussiaDPRKModel(replicates=R, seed=SEED, horizon=6)
    g = model.relations
    assert isinstance(g, nx.Graph)
    assert set(g.nodes) == set(STATES) and g.number_of_edges() == 15
    for _, _, data in g.edges(data=True):
        for d in DOMAINS:
            assert np.shape(data[d]) in ((R,), ())  # arrays over replicates (or a constant)
        assert "flows" in data
    seen = []
    for _ in range(6):
        model.step()
        edge = g.edges["Russia", "DPRK"]
        for d in DOMAINS:
            assert edge[d].shape == (R,)
            np.testing.assert_array_equal(edge[d], model.cooperation[d])
        np.testing.assert_array_equal(
            edge["flows"]["munitions DPRK→Russia"], model.munitions_shipped
        )
        np.testing.assert_array_equal(g.edges["China", "DPRK"]["economic"], model.china.trade_share)
        seen.append(edge["defence"].copy())
    assert any(not np.array_equal(a, b) for a, b in zip(seen, seen[1:], strict=False))


class LabelledModel(RussiaDPRKModel):
    """The model with the scenario label as a model reporter (for ``mesa.batch_run``)."""

    def __init__(self, params=None, *, seed: int | None = None, **kwargs):
        super().__init__(params, seed=seed, **kwargs)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "scenario": lambda m: (
                    str(classify(m)["scenario"][0]) if m.steps >= m.horizon else None
                ),
                "munitions_total": lambda m: float(m.munitions_total[0]),
            }
        )


@pytest.fixture
def keep_start_method():
    """``mesa.batch_run`` forces the 'spawn' start method process-wide; restore it afterwards."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_mesa_batch_run_matches_the_ensemble(keep_start_method) -> None:
    """One Model per replicate via ``mesa.batch_run``: batch_run passes each ``rng`` value as
    the seed, with replicate id 0, so run k equals replicate 0 of an ensemble of seed k."""
    seeds = [11, 12, 13, 14, 15]
    out = mesa.batch_run(
        LabelledModel,
        parameters={"stockpile.dprk": [10.0, 40.0]},
        rng=seeds,
        max_steps=40,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(out) == 2 * len(seeds)
    for row in out:
        ens = RussiaDPRKModel(
            {"stockpile.dprk": row["stockpile.dprk"]}, replicates=np.array([0]), seed=row["seed"]
        ).run()
        assert row["Step"] == 40
        assert row["scenario"] == classify(ens)["scenario"][0]
        assert row["munitions_total"] == float(ens.munitions_total[0])


def test_events_are_logged_for_the_highlighted_replicate() -> None:
    """The event log follows replicate ``highlight`` and equals that replicate's own log."""
    overrides = {"rok.shell_hazard": 0.3, "world.ceasefire_hazard": 0.1}
    model = RussiaDPRKModel(overrides, replicates=np.arange(20, 40), seed=SEED, highlight=5).run()
    assert model.events, "forty quarters without a single event"
    assert {"quarter", "kind", "step"} <= set(model.events[0])
    alone = RussiaDPRKModel(overrides, replicates=np.array([25]), seed=SEED).run()
    assert model.events == alone.events
    # Posture changes in the log match the highlighted replicate's posture trajectory.
    posture = model.trajectory["posture"][:, 5]
    changes = [e for e in model.events if e["kind"] == "posture"]
    expected = [t for t in range(1, 40) if posture[t] != posture[t - 1]]
    assert [e["step"] - 1 for e in changes if e["step"] > 1] == expected
    other = RussiaDPRKModel(overrides, replicates=np.arange(20, 40), seed=SEED, highlight=6).run()
    assert other.events != model.events


def test_activation_order_changes_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decide, then act (docs/ODD.md §3): running the agents in the reverse order gives the same
    trajectories, labels, indicators and events, bit for bit — forward and in the history."""

    def run(reverse: bool, **kwargs):
        if reverse:
            forward_order = RussiaDPRKModel.activation_order
            monkeypatch.setattr(
                RussiaDPRKModel, "activation_order", lambda self: forward_order(self)[::-1]
            )
        model = RussiaDPRKModel(
            {"rok.shell_hazard": 0.2, "russia.reputation_cost": 0.2}, seed=SEED, **kwargs
        ).run()
        monkeypatch.undo()
        return model

    for kwargs in (
        {"replicates": 300},
        {"replicates": 300, "keep_history": True, "horizon": 1},
    ):
        a, b = run(False, **kwargs), run(True, **kwargs)
        for name in a.history_series or {}:
            assert a.history_series[name].tobytes() == b.history_series[name].tobytes(), name
        for name in a.trajectory:
            assert a.trajectory[name].tobytes() == b.trajectory[name].tobytes(), name
        ra, rb = classify(a), classify(b)
        for name in ra:
            assert np.asarray(ra[name]).tobytes() == np.asarray(rb[name]).tobytes(), name
        key = lambda e: (e["step"], e["kind"], e.get("after", -1))  # noqa: E731
        assert sorted(a.events, key=key) == sorted(b.events, key=key)
