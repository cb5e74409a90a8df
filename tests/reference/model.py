"""The model's rules for one replicate in plain Python: the oracle and the Mesa-native peer.

Every state variable is a Python float, int or bool; every rule is a method of a ``mesa.Agent``
and uses Python's arithmetic and ``math``; a ``mesa.DataCollector`` records the tracked
indicators each forward quarter. Random numbers are the ensemble's counter-based ones
(``sim.rng``): the replicate's uniforms for every quarter from 2000Q1 are drawn once at the start
(one Philox call) and read by the quarter's number and their addresses ``sim.model.DRAWS``.

One history (issue 21): like the ensemble, every run starts in 2000Q1 (``START_2000``) and runs
the record's quarters 2000Q1–2024Q3 on the sourced world inputs (``sim.world.History``, read
from ``sim/data/replay_inputs.csv``) when the model is built; ``step`` then runs the forward
quarters from 2024Q4 on the forward world, and only those are recorded. The rules cite the article
ids in ``sim/agents.py``, ``sim/model.py`` and ``sim/world.py``, which they mirror one by one; the
classifier at the end mirrors ``sim/classifier.py`` (docs/ODD.md §7.9).

Constants (postures, tiers, starting cooperation) and the record's inputs are imported: they are
declarations and data, not rules.
"""

from __future__ import annotations

import functools
import math
from array import array
from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np

from sim import params as P
from sim.agents import (
    CIVIL,
    EQUAL_DISTANCE,
    LOOPHOLES,
    MAX_TIER,
    MISSILE,
    OBSERVE,
    OPEN_BREACH,
)
from sim.model import DOMAINS, DRAWS, MAX_LINKS, NORMALS, START_2000, START_STATE, TRACKED
from sim.rng import philox4x32
from sim.world import History

BLOCKS = max(block for block, _ in DRAWS.values()) + 1


def uniforms_table(seed: int, replicate: int, quarters: int) -> list[list[list[float]]]:
    """``table[quarter - 1][block][lane]``: the replicate's uniforms of quarters 1 … ``quarters``
    (1 = 2000Q1), as ``sim.rng.Streams`` draws them."""
    steps = np.repeat(np.arange(1, quarters + 1, dtype=np.uint64), BLOCKS)
    blocks = np.tile(np.arange(BLOCKS, dtype=np.uint64), quarters)
    rep = np.full(steps.size, replicate, dtype=np.uint64)
    words = philox4x32(
        (rep & np.uint64(0xFFFFFFFF), rep >> np.uint64(32), steps, blocks),
        (seed & 0xFFFFFFFF, seed >> 32),
    )
    u = (np.stack(words).astype(np.float64) + 0.5) * 2.0**-32  # as Streams.uniforms
    return u.T.reshape(quarters, BLOCKS, 4).tolist()


_HISTORY: list[History] = []


def shipped_history() -> History:
    """The record's inputs shipped in ``sim/data`` (read once per process)."""
    if not _HISTORY:
        _HISTORY.append(History())
    return _HISTORY[0]


@functools.lru_cache(maxsize=8)
def record_rows(
    history: History,
) -> tuple[tuple[float, float, float, float, float, float, bool], ...]:
    """The history's inputs by quarter as plain Python values: confrontation, war, trilateral,
    UN monitoring, border open (to tourists), open to foreign delegations, UN sanctions in force."""
    c = history.columns
    return tuple(
        (
            float(c["confrontation"][i]),
            float(c["war"][i]),
            float(c["trilateral"][i]),
            float(c["un_monitoring"][i]),
            float(c["border_open"][i]),
            float(c["visits_open"][i]),
            bool(c["un_resolutions"][i] > 0),
        )
        for i in range(history.quarters)
    )


class State(mesa.Agent):
    """A state of the six, holding plain Python values."""

    def __init__(self, model: ReferenceModel):
        super().__init__(model)
        self.p = model.p

    def perceive(self) -> None:
        """Read the world at the start of the quarter."""

    def decide(self) -> None:
        """Form this quarter's intentions."""

    def act(self) -> None:
        """Apply this quarter's intentions."""


class Russia(State):
    def __init__(self, model: ReferenceModel):
        super().__init__(model)
        self.interest = 0.0
        self.posture = OBSERVE  # 2000Q1: nothing to breach yet
        self.tech_tier = 0
        self.exposure = 0.0
        self.quality_trust = 1.0
        self.defence_treaty = False  # F02: the 1961 alliance had lapsed
        self.next_level = False
        self.credibility = 0.0
        self.munitions_demand = 0.0
        self.energy_offer = 0.0

    def assess_interest(self) -> float:
        w, peace = self.model.world, self.p["russia.peacetime_interest"]
        return w.confrontation * (peace + (1 - peace) * w.war)

    def demand_munitions(self) -> float:
        """War demand (M03, F07), bought as far as the implemented defence agreements carry it
        (F03, M22), discounted by the quality Russia has learnt (F10, M20); nothing while Russia
        observes the arms ban it voted for (F06)."""
        m = self.model
        w = m.world
        if self.posture < LOOPHOLES:
            return 0.0
        wanted = self.p["russia.war_demand"] * w.war * w.confrontation
        return wanted * m.implemented["defence"] * self.quality_trust

    def choose_posture(self) -> int:
        m, p = self.model, self.p
        noise = p["russia.posture_noise"] * m.normal("posture")
        covert = self.interest - p["russia.covert_threshold"] + noise
        pressure = 1 + m.usa.enforcement_effect + self.exposure
        cost = p["russia.reputation_cost"] * p["limits.reputation"] * pressure
        openly = self.interest - cost - p["russia.open_threshold"] + noise
        target = OPEN_BREACH if openly > 0 else LOOPHOLES if covert > 0 else OBSERVE
        if not m.world.sanctions_in_force:  # F06: before UNSCR 1718 there is nothing to breach
            target = OBSERVE
        if target > self.posture:
            return self.posture + 1
        return self.posture - 1 if target < self.posture else self.posture

    def technology_reluctance(self, tier: int) -> float:
        p = self.p
        strength = p["limits.technology"]
        taboo = 1 - p["russia.nuclear_taboo"] * strength if tier >= MISSILE else 1
        return (1 - p["russia.tech_control"] * strength) ** max(tier - CIVIL, 0) * taboo

    def consider_technology(self) -> bool:
        p, m = self.p, self.model
        tier = self.tech_tier + 1
        answer_to_rok = 1 + p["russia.rok_retaliation"] * m.rok.ships_shells
        hazard = (
            p["russia.tech_rate"]
            * self.interest
            * m.arms_share
            * answer_to_rok
            * self.technology_reluctance(tier)
        )
        needed = OPEN_BREACH if tier >= MISSILE else LOOPHOLES
        allowed = self.posture >= needed and tier <= MAX_TIER
        return m.uniform("tech") < hazard and allowed

    def offer_energy(self) -> float:
        p = self.p
        aid = p["russia.humanitarian_share"]
        offer = p["russia.energy_supply"] * (aid + (1 - aid) * self.model.arms_share)
        return offer if self.posture >= LOOPHOLES else min(offer, p["sanctions.refined_cap"])

    def consider_next_level(self) -> bool:
        p, m = self.p, self.model
        restraint = p["russia.escalation_restraint"] * p["limits.restraint"]
        hazard = (
            p["russia.next_level_rate"]
            * m.shared_interest
            * m.cooperation["political"]
            * (1 - restraint)
            * (1 + m.rok.ships_shells)
        )
        u = m.uniform("next_level")
        return self.defence_treaty and not self.next_level and u < hazard

    def consider_treaty(self) -> bool:
        m = self.model
        both = self.interest * m.dprk.interest
        hazard = both * m.cooperation["defence"] * m.cooperation["political"]
        u = m.uniform("treaty")
        return not self.defence_treaty and m.summit and u < hazard

    def assess_credibility(self) -> float:
        p = self.p
        doubt = 1 - p["russia.defence_credibility"]
        return 1 - doubt * (1 - p["russia.kursk_effect"] * self.model.dprk.troops_deployed)

    def perceive(self) -> None:
        self.interest = self.assess_interest()

    def decide(self) -> None:
        self.munitions_demand = self.demand_munitions()
        self.posture_next = self.choose_posture()
        self.tech_step = self.consider_technology()
        self.energy_offer = self.offer_energy()
        self.sign_next_level = self.consider_next_level()
        self.sign_treaty = self.consider_treaty()
        self.credibility_next = self.assess_credibility()

    def act(self) -> None:
        m, p = self.model, self.p
        self.credibility = self.credibility_next
        self.posture = self.posture_next
        self.tech_tier += self.tech_step
        self.next_level = self.next_level or self.sign_next_level
        self.defence_treaty = self.defence_treaty or self.sign_treaty
        self.exposure = p["sanctions.exposure_memory"] * self.exposure + m.shipments_detected
        if m.munitions_shipped > 0:
            learn = p["russia.quality_learning"] * p["limits.quality"]
            self.quality_trust += learn * (p["stockpile.quality"] - self.quality_trust)


class DPRK(State):
    def __init__(self, model: ReferenceModel):
        super().__init__(model)
        self.stockpile = float(self.p["stockpile.dprk"])
        self.reserve = float(self.p["stockpile.reserve"])
        self.interest = 0.0
        self.troops_deployed = False  # F13: they go in 2024Q4 (ReferenceModel.article_present)
        # M15: own production replaces what ages (M04 adds Russian inputs to it)
        self.capacity = float(self.p["stockpile.depreciation"] * self.p["stockpile.dprk"])
        self.munitions_offer = 0.0

    def assess_interest(self) -> float:
        p, m = self.p, self.model
        nuclear = p["dprk.nuclear_drive"] * m.world.trilateral
        above = (m.china.trade_share - EQUAL_DISTANCE) / (1 - EQUAL_DISTANCE)
        dependence = min(max(above, 0), 1)
        turn = (
            p["dprk.equidistance_drive"] * dependence * (1 - p["china.leverage"] * m.china.response)
        )
        return 1 - (1 - nuclear) * (1 - turn) * (1 - m.russia.credibility)

    def offer_munitions(self) -> float:
        if not self.willing():
            return 0.0
        return max(self.stockpile - self.reserve, 0)

    def willing(self) -> bool:
        return self.interest > self.p["dprk.supply_interest"]

    def consider_troops(self) -> bool:
        m, p = self.model, self.p
        u = m.uniform("troops")
        if m.world.war <= 0:
            return False
        if self.troops_deployed:
            withdraw = p["dprk.troop_withdrawal"] * p["limits.quality"] * (1 - m.arms_share)
            return u >= withdraw
        dispatch = p["dprk.troop_dispatch"] * m.russia.defence_treaty
        return u < dispatch * m.cooperation["defence"] * self.interest

    def perceive(self) -> None:
        self.interest = self.assess_interest()

    def decide(self) -> None:
        self.munitions_offer = self.offer_munitions()
        self.troops_next = self.consider_troops()

    def production_capacity(self) -> float:
        """Next quarter's production: towards its own economy's level plus the share of the
        ceiling's headroom that this quarter's Russian inputs pay for (M04, M08; M15: a ceiling),
        at ``stockpile.capacity_growth`` per quarter."""
        p = self.p
        base = p["stockpile.depreciation"] * p["stockpile.dprk"]
        ceiling = base * p["stockpile.capacity_ceiling"]
        target = base + (ceiling - base) * self.model.arms_share
        return self.capacity + p["stockpile.capacity_growth"] * (target - self.capacity)

    def act(self) -> None:
        p = self.p
        kept = max(self.stockpile - self.model.munitions_shipped, 0)
        self.stockpile = kept * (1 - p["stockpile.depreciation"]) + self.capacity  # M15
        self.capacity = self.production_capacity()
        self.troops_deployed = self.troops_next


class China(State):
    def __init__(self, model: ReferenceModel):
        super().__init__(model)
        share = self.p["dprk.china_dependence"]
        self.base_trade = share / (1 - share) * 1.0  # against Russia's full trade (index 1)
        self.trade = self.base_trade
        self.trade_share = share
        self.response = model.cooperation["political"]

    def decide(self) -> None:
        p = self.p
        self.response_next = self.model.cooperation["political"]
        self.trade_next = (
            self.base_trade
            * (1 - p["china.enforcement"])
            * (1 + p["china.leverage"] * self.response_next)
        )

    def act(self) -> None:
        self.response, self.trade = self.response_next, self.trade_next
        total = self.trade + self.model.implemented["economic"]
        self.trade_share = self.trade / total if total > 0 else 1.0


class USA(State):
    def __init__(self, model: ReferenceModel):
        super().__init__(model)
        self.asia_attention = self.split_attention()
        self.enforcement_effect = self.enforce(self.asia_attention)

    def split_attention(self) -> float:
        at_war = self.model.world.war > 0
        return self.p["usa.asia_attention" if at_war else "usa.postwar_attention"]

    def enforce(self, attention: float) -> float:
        carried = 1 - (1 - attention) * (1 - self.model.world.trilateral)
        return self.p["sanctions.enforcement"] * carried

    def decide(self) -> None:
        self.attention_next = self.split_attention()
        self.enforcement_next = self.enforce(self.attention_next)

    def act(self) -> None:
        self.asia_attention, self.enforcement_effect = self.attention_next, self.enforcement_next


class ROK(State):
    def __init__(self, model: ReferenceModel):
        super().__init__(model)
        self.ships_shells = False

    def decide(self) -> None:
        u = self.model.uniform("rok")
        world = self.model.world
        chance = self.p["rok.shell_hazard"] * world.war if world.is_forward else 0.0
        self.decides = not self.ships_shells and u < chance

    def act(self) -> None:
        self.ships_shells = self.ships_shells or self.decides


class Japan(State):
    def __init__(self, model: ReferenceModel):
        super().__init__(model)
        self.watch = self.p["japan.surveillance"] * model.world.trilateral

    def decide(self) -> None:
        self.watch_next = self.p["japan.surveillance"] * self.model.world.trilateral

    def act(self) -> None:
        self.watch = self.watch_next


class World:
    """World inputs: the record's row up to 2024Q3, then forward (M02, M03, M25, F01, F06)."""

    def __init__(self, model: ReferenceModel, rows: tuple[tuple, ...]):
        self.model, self.rows = model, rows
        self.quarters = len(rows)  # quarters of history before the forward part
        self.read(1)

    def read(self, quarter: int) -> None:
        """The record's inputs of quarter ``quarter`` (1 = 2000Q1)."""
        row = self.rows[quarter - 1]
        self.confrontation, self.war, self.trilateral = row[0], row[1], row[2]
        self.un_monitoring, self.border_open, self.visits_open = row[3], row[4], row[5]
        self.sanctions_in_force = row[6]
        self.is_forward = False  # Seoul sent no shells to Kyiv on the record (F11)

    def advance(self, quarter: int) -> None:
        if quarter <= self.quarters:
            self.read(quarter)
        else:
            self.forward()

    def forward(self) -> None:
        """From 2024Q4: the trilateral (F01) and UN monitoring (F06) as assumed; the war ends
        with a constant chance (M02, M03); the confrontation returns, with shocks, to its target
        (M25), continuing from its 2024Q3 level."""
        m, p = self.model, self.model.p
        self.trilateral = p["japan.trilateral"]
        self.un_monitoring = p["sanctions.un_monitoring"]
        self.border_open = self.visits_open = 1.0
        self.is_forward = True
        self.sanctions_in_force = True
        if self.war > 0 and m.uniform("ceasefire") < p["world.ceasefire_hazard"]:
            self.war = 0.0
        target = p["world.confrontation"] - p["world.ceasefire_relief"] * (1 - self.war)
        target = min(max(target, 0), 1)
        gap = p["world.persistence"] * (self.confrontation - target)
        shock = p["world.volatility"] * m.normal("confrontation")
        self.confrontation = min(max(target + gap + shock, 0.0), 1.0)


class ReferenceModel(mesa.Model):
    """One replicate of the model, in plain Python (the ensemble's ``replicate`` of ``seed``): its
    history 2000Q1–2024Q3 runs when it is built, ``step`` runs the forward quarters."""

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        replicate: int = 0,
        seed: int = P.RUN_KEYS["seed"],
        horizon: int = P.RUN_KEYS["horizon"],
        history: History | None = None,
        rng: int | None = None,
        **overrides: Any,
    ):
        seed = int(seed if rng is None else rng)
        super().__init__(rng=seed)
        self.seed, self.replicate, self.horizon = seed, int(replicate), int(horizon)
        self.p = {
            k: v.item() if isinstance(v, np.generic) else v
            for k, v in P.resolve({**(params or {}), **overrides}).items()
        }
        rows = record_rows(history or shipped_history())
        self.table = uniforms_table(seed, self.replicate, len(rows) + self.horizon)
        self.quarter_number = 0  # quarters run since 2000Q1 (1 = 2000Q1)
        start = START_2000
        self.implemented = {d: float(v) for d, v in zip(DOMAINS, start["implemented"], strict=True)}
        self.agreed = {d: float(v) for d, v in zip(DOMAINS, start["agreed"], strict=True)}
        self.scope = 1.0
        self.tourism, self.labour = float(start["tourism"]), float(start["labour"])
        self.links, self.gas_pipeline, self.gas_total = int(start["links"]), False, 0.0
        self.munitions_shipped = self.shipments_detected = self.munitions_total = 0.0
        self.arms_share = 0.0
        self.summit, self.summit_count, self.shared_interest = False, 0, 0.0
        self.world = World(self, rows)
        self.cooperation = {"political": self.implemented["political"]}
        self.russia, self.dprk, self.china = Russia(self), DPRK(self), China(self)
        self.russia.credibility = self.russia.assess_credibility()
        self.russia.interest = self.russia.assess_interest()
        self.dprk.interest = self.dprk.assess_interest()
        self.oil_delivered = self.russia.offer_energy()
        self.cooperation = self.delivered(self.cooperation["political"])
        self.usa, self.rok, self.japan = USA(self), ROK(self), Japan(self)
        for number in range(1, self.world.quarters + 1):  # the history, 2000Q1–2024Q3
            self.run_quarter(number)
        self.start_levels = {d: self.cooperation[d] for d in ("defence", "economic")}
        self.start_state = self.observe_start()
        self.datacollector = mesa.DataCollector(model_reporters=REPORTERS)
        self.running = self.horizon > 0

    def observe_start(self) -> dict[str, float]:
        """The 2024Q3 state the forward run continues from (``sim.model.START_STATE``)."""
        russia, dprk = self.russia, self.dprk
        state = {
            "stockpile_above_reserve": dprk.stockpile - dprk.reserve,
            "production_capacity": dprk.capacity,
            "quality_trust": russia.quality_trust,
            "posture": russia.posture,
            "munitions_rate": self.munitions_shipped,
            "munitions_shipped_total": self.munitions_total,
            "defence_treaty": russia.defence_treaty,
            "implemented_defence": self.implemented["defence"],
            "tech_tier": russia.tech_tier,
            "defence": self.cooperation["defence"],
            "economic": self.cooperation["economic"],
            "political": self.cooperation["political"],
            "summits": self.summit_count,
        }
        assert tuple(state) == START_STATE, "the reference reports every start-state variable"
        return {k: float(v) for k, v in state.items()}

    # -- randomness --------------------------------------------------------------------------
    def uniform(self, name: str) -> float:
        block, lane = DRAWS[name]
        return self.table[self.quarter_number - 1][block][lane]

    def normal(self, name: str) -> float:
        a, b = NORMALS[name]
        u1, u2 = self.uniform(a), self.uniform(b)
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    # -- the quarter -----------------------------------------------------------------------
    def step(self) -> None:
        """One forward quarter (2024Q4 is step 1), recorded by the DataCollector."""
        if self.steps > self.horizon:
            self.running = False
            return
        self.run_quarter(self.world.quarters + self.steps)
        self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    def run_quarter(self, number: int) -> None:
        """Quarter ``number`` (1 = 2000Q1): the same rules in the history and forward."""
        states = (self.russia, self.dprk, self.china, self.usa, self.rok, self.japan)
        self.quarter_number = number
        self.world.advance(number)
        if number == self.world.quarters + 1:
            self.article_present()
        for state in states:
            state.perceive()
        self.shared_interest = math.sqrt(self.russia.interest * self.dprk.interest)
        for state in states:
            state.decide()
        self.settle_exchanges()
        for state in states:
            state.act()
        self.update_relations()

    def article_present(self) -> None:
        """2024Q4, the first forward quarter: North Korean soldiers go to Kursk if the war goes
        on (F13; ``dprk.troops_deployed``)."""
        if self.p["dprk.troops_deployed"] and self.world.war > 0:
            self.dprk.troops_deployed = True

    def share_of_demand(self, shipped: float) -> float:
        demand = self.p["russia.war_demand"]
        return min(shipped / demand, 1) if demand > 0 else 0.0

    def watch(self) -> float:
        missed = (
            (1 - self.world.un_monitoring)
            * (1 - self.usa.enforcement_effect)
            * (1 - self.p["china.enforcement"])
            * (1 - self.japan.watch)
        )
        return 1 - missed

    def banking_open(self) -> float:
        return 1.0 if self.russia.posture == OPEN_BREACH else 1 - self.p["limits.barter"]

    def economic_capacity(self) -> float:
        p, posture = self.p, self.russia.posture
        permitted = p["sanctions.permitted_share"]
        if posture == OBSERVE:
            by_posture = permitted
        elif posture == LOOPHOLES:
            by_posture = permitted + (1 - permitted) * (1 - self.watch())
        else:
            by_posture = 1
        barter = p["russia.barter_base"]
        paid_in_kind = barter + (1 - barter) * max(self.arms_share, self.labour)
        banked = self.banking_open()
        return min(by_posture, banked + (1 - banked) * paid_in_kind)

    def settle_exchanges(self) -> None:
        p, russia = self.p, self.russia
        demand, offer = russia.munitions_demand, self.dprk.munitions_offer
        beyond = max(demand - offer, 0) if self.dprk.willing() else 0.0
        shipped = min(demand, offer + (1 - p["limits.stockpile"]) * beyond)
        self.munitions_shipped = shipped
        self.munitions_total += shipped
        self.arms_share = self.share_of_demand(shipped)
        chance = p["sanctions.detection"] * self.watch()
        detected = shipped > 0 and self.uniform("detect") < chance
        self.shipments_detected = float(detected)
        self.oil_delivered = russia.energy_offer
        pace = p["russia.implementation_rate"]
        deliverable = min(self.agreed["economic"], self.economic_capacity())
        covert = russia.posture >= LOOPHOLES
        self.labour += pace * (deliverable * covert - self.labour)
        self.tourism += pace * (
            self.world.border_open * self.cooperation["political"] - self.tourism
        )
        projects = self.implemented["economic"]
        link_chance = p["russia.link_rate"] * projects / self.scope
        if self.uniform("infrastructure") < link_chance and self.links < MAX_LINKS:
            self.links += 1
        if self.uniform("pipeline") < p["russia.pipeline_rate"] * projects:
            self.gas_pipeline = True
        gas = p["russia.gas_supply"] * projects if self.gas_pipeline else 0.0
        self.gas_total += gas

    def update_relations(self) -> None:
        p, w, russia = self.p, self.world, self.russia
        si = self.shared_interest
        message = p["russia.signalling"] * p["usa.ukraine_support"] * w.war * w.confrontation
        chance = p["russia.summit_rate"] * (russia.interest * self.dprk.interest) + message
        chance *= w.visits_open  # F03: no visit while the DPRK is closed to delegations (record)
        summit = self.uniform("summit") < chance
        self.summit = summit
        self.summit_count += summit
        control = p["russia.tech_control"] * p["limits.technology"]
        agrees = {
            "political": summit,
            "defence": summit and self.uniform("agree_defence") < russia.interest,
            "economic": summit and self.uniform("agree_economic") < si,
            "technology": summit and self.uniform("agree_technology") < si * (1 - control),
        }
        if summit:
            self.scope = float(sum(agrees.values()))
        rate = p["russia.implementation_rate"] / self.scope
        capacity = {"economic": self.economic_capacity()}
        for d in DOMAINS:
            agreed, done = self.agreed[d], self.implemented[d]
            if agrees[d]:
                agreed = max(agreed, min(done + p["russia.paper_ambition"] * si, 1))
            agreed = agreed - p["russia.paper_fade"] * max(agreed - done, 0)
            gap = min(agreed, capacity.get(d, 1)) - done
            done = done + (rate if gap > 0 else p["russia.implementation_rate"]) * gap
            self.agreed[d], self.implemented[d] = agreed, done
        memory = p["russia.signal_memory"]
        signal = memory * self.cooperation["political"] + (1 - memory) * summit
        self.cooperation = self.delivered(signal)

    def delivered(self, signal: float) -> dict[str, float]:
        supply = self.p["russia.energy_supply"]
        energy = self.oil_delivered / supply if supply > 0 else 0.0
        channels = (
            min(energy, 1),
            self.implemented["economic"],
            self.labour,
            self.tourism,
            self.links / MAX_LINKS,
        )
        return {
            "political": signal,
            "defence": (self.arms_share + self.dprk.troops_deployed) / 2,
            "economic": sum_in_order(channels) / len(channels),
            "technology": self.russia.tech_tier / MAX_TIER,
        }

    def trajectory(self) -> dict[str, list]:
        """Each tracked indicator by quarter, as the DataCollector recorded it."""
        return dict(self.datacollector.model_vars)

    def run(self) -> ReferenceModel:
        while self.running:
            self.step()
        return self


def stockpile_ratio(m: ReferenceModel) -> float:
    return m.dprk.stockpile / m.dprk.reserve if m.dprk.reserve > 0 else math.inf


def production_ratio(m: ReferenceModel) -> float:
    own = m.p["stockpile.depreciation"] * m.p["stockpile.dprk"]
    return m.dprk.capacity / own if own > 0 else math.nan


def cash_share(m: ReferenceModel) -> float:
    base = m.p["russia.cash_base"]
    return base + (1 - base) * m.implemented["economic"] * m.banking_open()


# What the DataCollector records each quarter: ``sim.model.TRACKED``, in its order.
REPORTERS = {
    "confrontation": lambda m: m.world.confrontation,
    "political": lambda m: m.cooperation["political"],
    "defence": lambda m: m.cooperation["defence"],
    "economic": lambda m: m.cooperation["economic"],
    "technology": lambda m: m.cooperation["technology"],
    "munitions": lambda m: m.munitions_shipped,
    "production": production_ratio,
    "stockpile_ratio": stockpile_ratio,
    "oil": lambda m: m.oil_delivered,
    "tech_tier": lambda m: m.russia.tech_tier,
    "posture": lambda m: m.russia.posture,
    "cash_share": cash_share,
    "tourism": lambda m: m.tourism,
    "labour": lambda m: m.labour,
    "china_share": lambda m: m.china.trade_share,
    "troops": lambda m: m.dprk.troops_deployed,
    "trade": lambda m: m.implemented["economic"],
    "links": lambda m: m.links,
    "summit": lambda m: m.summit,
    "war": lambda m: m.world.war,
}
assert tuple(REPORTERS) == TRACKED, "the reference records every tracked indicator"


def sum_in_order(values: Any) -> float:
    """Left-to-right float sum (Python's ``sum`` compensates rounding since 3.12; numpy does not)."""
    total = 0.0
    for v in values:
        total += v
    return total


def scenario(model: ReferenceModel) -> str:
    """S1, S2 or neither by the markers of docs/ODD.md §7.9.1, from float32 trajectories."""
    p, T = model.p, model.steps
    tr = {k: array("f", v) for k, v in model.trajectory().items()}
    short, medium = p["classifier.short"], p["classifier.medium"]
    windows = {
        "short": range(min(short, T)),
        "medium": range(min(short, T), min(medium, T)),
        "long": range(min(medium, T), T),
        "later": range(min(short, T), T),
    }

    def mean(values: Any, window: str) -> float:
        quarters = windows[window]
        return sum_in_order(values[t] for t in quarters) / len(quarters) if quarters else math.nan

    def ratio(name: str, window: str) -> float:
        start = model.start_levels[name]
        return mean(tr[name], window) / start if start > 0 else math.nan

    def munitions(window: str) -> float:
        start = model.start_state["munitions_rate"]
        return mean(tr["munitions"], window) / start if start > 0 else math.nan

    breach = [float(x == OPEN_BREACH) for x in tr["posture"]]
    unobserved = [float(x >= LOOPHOLES) for x in tr["posture"]]
    tier_medium = max([tr["tech_tier"][t] for t in range(min(medium, T))], default=0)
    munitions_long = munitions("long")
    long = munitions("medium") if math.isnan(munitions_long) else munitions_long
    economic_medium = ratio("economic", "medium")
    expands = economic_medium >= p["classifier.s1_economic_growth"]
    redeployed = any(tr["troops"][t] > tr["troops"][t - 1] for t in range(1, T))
    s1 = (
        munitions("medium") >= p["classifier.s1_defence_ratio"]
        and mean(tr["production"], "medium") >= p["classifier.s1_production_ratio"]
        and expands
        and tier_medium >= p["classifier.s1_tech_tier"]
        and mean(unobserved, "medium") >= p["classifier.s1_unobserved_share"]
    )
    s2 = (
        munitions("short") >= p["classifier.s2_burst_ratio"]
        and munitions("medium") <= 1
        and long <= p["classifier.s2_defence_ratio"]
        and not redeployed
        and mean(tr["cash_share"], "later") < p["classifier.s2_cash_share"]
        and not expands
        and not math.isnan(economic_medium)
        and max(tr["tech_tier"]) <= p["classifier.s2_tech_tier"]
        and sum_in_order(breach) / T <= p["classifier.s2_breach_share"]
        and not model.russia.next_level
    )
    return "S1" if s1 else "S2" if s2 else "neither"
