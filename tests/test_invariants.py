"""Invariants that hold for every parameter value in the declared ranges (hypothesis).

Parameter values are drawn from ``sim.params.PARAMETERS`` (no second list): as scalars, and as
per-replicate arrays (one whole sampled design in one instance). Each quarter is checked: no
negative stocks, the DPRK never ships into its reserve (M15), no flow larger than what exists
(shipments ≤ offer and demand, oil ≤ Russia's supply, M13), every cooperation index and share in
[0, 1], posture and technology tier in their sets (M08, M17, M18), and at the end the labels are
only S1, S2 or neither and the shares sum to 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim import params as P
from sim.classifier import SCENARIOS, classify, shares
from sim.model import DOMAINS, RussiaDPRKModel

R = 64
LIMITS = tuple(p.name for p in P.PARAMETERS if p.group == "limits")  # the article's limits
HORIZON = 40
EPS = 1e-9


def _strategy(param: P.Param) -> st.SearchStrategy:
    if param.kind is bool:
        return st.booleans()
    if param.kind is int:
        return st.integers(int(param.low), int(param.high))
    return st.floats(param.low, param.high, allow_nan=False, allow_infinity=False)


SCALARS = st.fixed_dictionaries({p.key: _strategy(p) for p in P.PARAMETERS})


def _array_design(seed: int) -> dict[str, np.ndarray]:
    """Every numeric parameter as an array over replicates, uniform in its declared range."""
    rng = np.random.default_rng(seed)
    design: dict[str, np.ndarray] = {}
    for p in P.PARAMETERS:
        if p.kind is float:
            design[p.key] = rng.uniform(p.low, p.high, R)
        elif p.kind is int:
            design[p.key] = rng.integers(int(p.low), int(p.high) + 1, R)
    medium = P.BY_KEY["classifier.medium"]
    short = design["classifier.short"]  # the horizons must nest: medium > short
    design["classifier.medium"] = rng.integers(np.maximum(short + 1, medium.low), medium.high + 1)
    return design


def _check_run(model: RussiaDPRKModel) -> None:
    """Step the model to its horizon, checking every quarter's invariants."""
    p = model.p
    supply = np.asarray(p["russia.energy_supply"], float)
    tier_before = model.russia.tech_tier.copy()
    posture_before = model.russia.posture.astype(int)
    for _ in range(HORIZON):
        stock_before = model.dprk.stockpile.copy()
        model.step()
        dprk, russia = model.dprk, model.russia
        shipped = model.munitions_shipped
        # Stocks (M15): never negative; at full strength shipments never cut into the reserve
        # (ageing may: stockpile.depreciation), so a stock below its reserve only ages.
        assert (dprk.stockpile >= -EPS).all()
        strength = np.broadcast_to(np.asarray(p["limits.stockpile"], float), shipped.shape)
        limited = strength >= 1
        below = limited & (stock_before < dprk.reserve - EPS * (1 + dprk.reserve))
        assert (shipped[below] <= EPS).all()
        # Flows never exceed what exists: shipped ≤ stock above reserve (at full strength),
        # ≤ the offer plus the share 1 − s of the rest of the demand, ≤ demand.
        assert (shipped >= 0).all()
        above_reserve = np.maximum(stock_before - dprk.reserve, 0) + EPS
        assert (shipped[limited] <= above_reserve[limited]).all()
        beyond = np.maximum(russia.munitions_demand - dprk.munitions_offer, 0)
        assert (shipped <= dprk.munitions_offer + (1 - strength) * beyond + EPS).all()
        assert (shipped <= russia.munitions_demand + EPS).all()
        assert not (model.shipments_detected > 0)[shipped <= 0].any()
        # Oil (M13, F09): non-negative, never more than Russia is ready to supply.
        assert (model.oil_delivered >= 0).all()
        assert (model.oil_delivered <= supply + EPS).all()
        # Cooperation indices and shares in [0, 1].
        for d in DOMAINS:
            for values in (model.cooperation[d], model.implemented[d], model.agreed[d]):
                assert ((values >= -EPS) & (values <= 1 + EPS)).all(), d
            edge = np.asarray(model.relations.edges["Russia", "DPRK"][d])
            assert ((edge >= -EPS) & (edge <= 1 + EPS)).all()
        for values in (
            model.tourism,
            model.labour,
            model.cash_share(),
            model.china.trade_share,
            russia.credibility,
            model.world.confrontation,
        ):
            assert ((values >= -EPS) & (values <= 1 + EPS)).all()
        # Posture moves at most one step a quarter; the tier never falls and stays in 0..4.
        posture = russia.posture.astype(int)
        assert np.isin(posture, (0, 1, 2)).all()
        assert (np.abs(posture - posture_before) <= 1).all()
        assert ((russia.tech_tier >= tier_before) & (russia.tech_tier <= 4)).all()
        assert ((model.infrastructure >= 0) & (model.infrastructure <= 4)).all()
        tier_before, posture_before = russia.tech_tier.copy(), posture
    result = classify(model)
    labels = result["scenario"]
    assert set(np.unique(labels)) <= set(SCENARIOS)
    assert abs(sum(shares(labels).values()) - 1.0) < 1e-12
    # What the article says each future is (ARTICLE.md, the two scenarios), per replicate:
    # S1 has military technology and Russia outside the old sanctions (loopholes or breach);
    # S2 has neither, no next-level document and began with a burst of munitions.
    s1, s2 = labels == "S1", labels == "S2"
    assert (result["tech_tier_medium"][s1] >= 2).all()
    assert (result["unobserved_share_medium"][s1] > 0).all()
    assert not result["next_level_signed"][s2].any()
    s2_breach = np.broadcast_to(np.asarray(p["classifier.s2_breach_share"]), labels.shape)
    assert (result["breach_share"][s2] <= s2_breach[s2]).all()
    assert (result["tech_tier_max"][s2] <= 1).all()
    assert (result["defence_short"][s2] > 0).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=SCALARS, seed=st.integers(0, P.MAX_SEED))
def test_invariants_hold_for_scalar_parameters(values: dict, seed: int) -> None:
    """M15, M13, M08, M17, M18: invariants for one random point of the declared ranges."""
    assume(values["classifier.short"] < values["classifier.medium"])
    _check_run(RussiaDPRKModel(values, replicates=R, seed=seed, horizon=HORIZON))


@settings(max_examples=10, deadline=None)
@given(design_seed=st.integers(0, 2**32 - 1), seed=st.integers(0, P.MAX_SEED))
def test_invariants_hold_for_a_design_in_one_instance(design_seed: int, seed: int) -> None:
    """The same invariants when every numeric parameter varies across the replicates."""
    design = _array_design(design_seed)
    _check_run(RussiaDPRKModel(design, replicates=R, seed=seed, horizon=HORIZON))


@pytest.mark.parametrize(
    "setting",
    [
        {},  # the article's assumptions: S2 is common
        # every limit the article names switched off, the war held on: S1 is common
        {"world.ceasefire_hazard": 0.0, **{f"limits.{k}": False for k in LIMITS}},
    ],
)
def test_labelled_runs_look_like_the_article_says(setting: dict) -> None:
    """ARTICLE.md, the two scenarios: every S1 run handed over military technology (tier ≥ 2)
    by the end of the medium term, kept away from the old sanctions most of it and grew its arms
    production; every S2 run began with a burst of munitions, got no military technology and
    signed no next-level document, kept open breach rare and let the munitions fall back and no
    soldiers go again (docs/ODD.md §7.9.1)."""
    result = classify(RussiaDPRKModel(setting, replicates=2000, seed=5).run())
    s1, s2 = result["scenario"] == "S1", result["scenario"] == "S2"
    assert s1.sum() + s2.sum() > 200  # enough labelled runs for the checks to bite
    assert (result["tech_tier_medium"][s1] >= 2).all()
    assert (result["unobserved_share_medium"][s1] >= 0.5).all()
    assert (result["production_ratio_medium"][s1] > 1).all()
    assert (result["munitions_short"][s2] > 0).all()
    assert not result["troops_redeployed"][s2].any()
    assert (result["tech_tier_max"][s2] <= 1).all()
    assert not result["next_level_signed"][s2].any()
    assert (result["breach_share"][s2] <= P.BY_KEY["classifier.s2_breach_share"].default).all()
    assert (result["munitions_ratio_long"][s2] < result["munitions_ratio_short"][s2]).all()
    assert (result["economic_ratio_medium"][s1] > 1).all()
