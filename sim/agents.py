"""The six state agents and their rules.

Each agent is a ``mesa.Agent`` whose state variables are numpy arrays over the R replicates of
the ensemble (R = 1 is an ordinary single run). Every behavioural rule is a short method whose
docstring cites the article ids it implements (``docs/ARTICLE.md``), the way Axelrod-Python
cites papers. Every number a rule uses is a parameter of ``sim/params.py`` or a named constant
below whose comment says why it is structural (``tests/test_literals.py`` checks this).

Activation (see ``docs/ODD.md``): each quarter every agent first ``perceive``s and ``decide``s from
the state at the start of the quarter — no agent sees another's decision of the same quarter —
then the model settles the exchanges between them (shipments, detection, deliveries), then every
agent ``act``s on its own decisions; what one state decides is seen by the others from the next
quarter on. Agents are stepped in the fixed order Russia, DPRK, China, USA, ROK, Japan, but
because of the decide/act split the order changes no result (``tests/test_model.py``).
"""

from __future__ import annotations

import mesa
import numpy as np

# Sanctions posture of Russia (F06, M02, M08, M10, M17).
OBSERVE, LOOPHOLES, OPEN_BREACH = 0, 1, 2

# Technology tiers (M08, M18, M19): what has been handed over at most. Tiers 1–2 can go over
# covertly (elements, not hardware: M08); missile and nuclear technology only with the regime set
# aside openly (M19: "openly gutting UN sanctions does not pay").
CIVIL, CONVENTIONAL, MISSILE, NUCLEAR = 1, 2, 3, 4
MAX_TIER = NUCLEAR

# Russia–DPRK trade (implemented economic agreements, 0–1) at its full level: the yardstick of
# China's trade (M06).
FULL_TRADE = 1.0

# M06: Kim Il Sung's "equal distance" between Moscow and Beijing is half the trade with each; the
# DPRK's turn to Russia grows with China's share above it.
EQUAL_DISTANCE = 0.5


class StateAgent(mesa.Agent):
    """A state of the six; ``name`` is its node in the relations graph."""

    name: str = ""

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.p = model.p  # resolved parameters (scalars or arrays over replicates)

    @property
    def R(self) -> int:
        return self.model.R

    def perceive(self) -> None:
        """Read the world at the start of the quarter (before anyone decides)."""

    def decide(self) -> None:
        """Form this quarter's intentions from the state at the start of the quarter."""

    def act(self) -> None:
        """Apply this quarter's intentions to the agent's own state."""


class Russia(StateAgent):
    """Russia: war demand, sanctions posture, technology, energy in return, documents."""

    name = "Russia"

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        R = self.R
        self.interest = np.zeros(R)
        self.posture = np.full(R, OBSERVE, dtype=np.int8)  # 2000Q1: nothing to breach yet
        self.tech_tier = np.zeros(R, dtype=np.int8)
        self.exposure = np.zeros(R)  # published evidence of covert breaches, fades
        self.quality_trust = np.ones(R)  # what Russia expects of DPRK munitions (F10, M20)
        self.defence_treaty = np.zeros(R, dtype=bool)  # F02: the 1961 alliance had lapsed
        self.next_level = np.zeros(R, dtype=bool)
        self.credibility = np.zeros(R)  # set by the model once the DPRK exists
        self._credibility_next = self.credibility
        self.munitions_demand = np.zeros(R)
        self.energy_offer = np.zeros(R)
        self._posture_target = self.posture.copy()
        self._sign_treaty = np.zeros(R, dtype=bool)
        self._tech_step = np.zeros(R, dtype=bool)
        self._sign_next_level = np.zeros(R, dtype=bool)

    # -- rules ---------------------------------------------------------------------------
    def assess_interest(self) -> np.ndarray:
        """Russia's interest in the DPRK rises with the Russia–West confrontation and the war.

        Names: M01 (activity tracks shared interest), M02 (détente lowers it), M03 (the war
        raises it), M25 (world order: shared interest drives relations).
        """
        world, peace = self.model.world, self.p["russia.peacetime_interest"]
        return world.confrontation * (peace + (1 - peace) * world.war)

    def demand_munitions(self) -> np.ndarray:
        """War demand for DPRK munitions, discounted by what Russia has learnt of their quality,
        and bought as far as the implemented defence agreements carry it.

        Names: F07 (munitions shipped about a month after the 2023-09 summit), F03 (Table 1: the
        2023-09 summit agreed the arms and munitions supply), M22 (summit decisions are
        implemented slowly), M03, M04 (arms for resources), F10 and M20 (substandard munitions;
        buying much would make Russians doubt the Kremlin's own capacity). The arms trade is
        banned by the resolutions Russia voted for (F06): nothing is bought while Russia observes
        them. Before any defence agreement nothing moves (in 2000 none is implemented).
        """
        m = self.model
        world = m.world
        wanted = self.p["russia.war_demand"] * world.war * world.confrontation
        channel = m.implemented["defence"]
        return wanted * channel * self.quality_trust * (self.posture >= LOOPHOLES)

    def choose_posture(self) -> np.ndarray:
        """Observe, use loopholes, or openly breach the UN sanctions it voted for.

        Names: F06 (Russia joined nine resolutions), M02 (détente: observe), M08 (it may refuse
        the regime for military-technical cooperation), M10 (loopholes, the intergovernmental
        commission), M17 (a permanent member breaching openly pays in reputation, the more the
        Western pressure and the published evidence: 'what is not forbidden is allowed').
        The posture moves at most one step a quarter (policy inertia).
        """
        m, p = self.model, self.p
        noise = p["russia.posture_noise"] * m.normal("posture")
        covert = self.interest - p["russia.covert_threshold"] + noise
        pressure = 1 + m.usa.enforcement_effect + self.exposure
        cost = p["russia.reputation_cost"] * p["limits.reputation"] * pressure
        openly = self.interest - cost - p["russia.open_threshold"] + noise
        target = np.where(openly > 0, OPEN_BREACH, np.where(covert > 0, LOOPHOLES, OBSERVE))
        if not m.world.sanctions_in_force:  # before UNSCR 1718 (2006) there is nothing to breach
            target = np.zeros_like(target)
        return (self.posture + np.sign(target - self.posture)).astype(np.int8)

    def technology_reluctance(self, tier: np.ndarray) -> np.ndarray:
        """How far Russia's guard on its technology holds back a step to ``tier``.

        Names: M18 (no advanced military technology: loss of control, cheap copies, competition
        on arms markets, leakage; non-threatening technology such as reconnaissance satellites
        may be shared), M19 (no ICBM or nuclear technology). Each tier above civil gives up one
        more step of control; missile and nuclear tiers also break the nuclear taboo.
        """
        p = self.p
        strength = p["limits.technology"]  # the guard × its strength (0: no reluctance)
        open_share = 1 - p["russia.tech_control"] * strength
        steps_of_control = np.maximum(tier - CIVIL, 0)
        taboo = np.where(tier >= MISSILE, 1 - p["russia.nuclear_taboo"] * strength, 1)
        return open_share**steps_of_control * taboo

    def consider_technology(self) -> np.ndarray:
        """Whether Russia hands over the next technology tier this quarter.

        Names: M04 (technology in return for arms: the chance grows with the munitions received
        last quarter), M08 (elements of technology rather than hardware), M18, M19 (the guard),
        M23 (if Seoul ships shells to Kyiv, Russia can give the DPRK technology). Tiers up to
        conventional go over covertly (loopholes); missile and nuclear need an open breach.
        """
        p, m = self.p, self.model
        next_tier = self.tech_tier + 1
        answer_to_rok = 1 + p["russia.rok_retaliation"] * m.rok.ships_shells
        hazard = (
            p["russia.tech_rate"]
            * self.interest
            * m.arms_share
            * answer_to_rok
            * self.technology_reluctance(next_tier)
        )
        needed = np.where(next_tier >= MISSILE, OPEN_BREACH, LOOPHOLES)
        allowed = (self.posture >= needed) & (next_tier <= MAX_TIER)
        return (m.uniform("tech") < hazard) & allowed

    def offer_energy(self) -> np.ndarray:
        """Oil products: humanitarian and intergovernmental supply, plus payment for munitions.

        Names: F09 (Russia keeps supplying partners with such agreements), M13, M04 (oil for
        arms: the paying part follows the munitions received last quarter). While Russia
        observes the sanctions the UN cap on refined products holds (F06).
        """
        p = self.p
        aid = p["russia.humanitarian_share"]
        offer = p["russia.energy_supply"] * (aid + (1 - aid) * self.model.arms_share)
        cap = p["sanctions.refined_cap"]
        return np.where(self.posture >= LOOPHOLES, offer, np.minimum(offer, cap))

    def consider_next_level(self) -> np.ndarray:
        """Whether the parties sign a 'next level' document beyond the treaty.

        Names: M24 (a sharper confrontation harms Northeast Asian security, so they likely do
        not sign), M23 (the documents are messages; Seoul's shells make Moscow readier).
        """
        p, m = self.p, self.model
        restraint = p["russia.escalation_restraint"] * p["limits.restraint"]
        hazard = (
            p["russia.next_level_rate"]
            * m.shared_interest
            * m.relation("political")
            * (1 - restraint)
            * (1 + m.rok.ships_shells)
        )
        return self.defence_treaty & ~self.next_level & (m.uniform("next_level") < hazard)

    def consider_treaty(self) -> np.ndarray:
        """Sign a mutual defence assistance treaty when interest and cooperation are high.

        Names: F02 (treaty of 2024-06 restoring the 1961 alliance, signed during Putin's state
        visit), F03 (Table 1: the treaty is a product of summit diplomacy), M01 (high-level
        contact tracks shared interest), M07 (politics widening into defence). A treaty is
        only signed after a summit-level contact (last quarter's); the chance that a summit
        leads to one is both states' interest × delivered defence × political signal. The record
        has it signed in 2024Q2; each replicate signs it, or not, in its own history.
        """
        m = self.model
        both = self.interest * m.dprk.interest  # shared interest²: both sides must want it
        hazard = both * m.relation("defence") * m.relation("political")
        return ~self.defence_treaty & m.summit & (m.uniform("treaty") < hazard)

    def assess_credibility(self) -> np.ndarray:
        """Credibility of Russia's commitment to defend the DPRK.

        Names: F12 (Armenia, a CSTO member, was not defended in 2023), M21 (doubtful, but DPRK
        soldiers in Kursk may change it: a small possible change, not a transformation), F13.
        """
        p = self.p
        troops = self.model.dprk.troops_deployed
        doubt = 1 - p["russia.defence_credibility"]
        return 1 - doubt * (1 - p["russia.kursk_effect"] * troops)

    # -- schedule ------------------------------------------------------------------------
    def perceive(self) -> None:
        self.interest = self.assess_interest()

    def decide(self) -> None:
        self.munitions_demand = self.demand_munitions()
        self._posture_target = self.choose_posture()
        self._tech_step = self.consider_technology()
        self.energy_offer = self.offer_energy()
        self._sign_next_level = self.consider_next_level()
        self._sign_treaty = self.consider_treaty()
        self._credibility_next = self.assess_credibility()

    def act(self) -> None:
        m, p = self.model, self.p
        self.credibility = self._credibility_next
        m.log_change("posture", self.posture, self._posture_target)
        self.posture = self._posture_target
        self.tech_tier = self.tech_tier + self._tech_step
        m.log_event("tech_transfer", self._tech_step)
        self.next_level |= self._sign_next_level
        m.log_event("next_level", self._sign_next_level)
        self.defence_treaty |= self._sign_treaty
        m.log_event("treaty", self._sign_treaty)
        # Published evidence of covert shipments raises the cost of breaching (M17), and fades.
        self.exposure = p["sanctions.exposure_memory"] * self.exposure + m.shipments_detected
        # Russia learns the real quality of what it receives (F10, M20).
        learn = p["russia.quality_learning"] * p["limits.quality"] * (m.munitions_shipped > 0)
        self.quality_trust += learn * (p["stockpile.quality"] - self.quality_trust)


class DPRK(StateAgent):
    """The DPRK: munitions stockpile and reserve, its turn to Russia, troops."""

    name = "DPRK"

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        R, p = self.R, self.p
        self.stockpile = np.broadcast_to(np.asarray(p["stockpile.dprk"], float), (R,)).copy()
        # M15: the defence reserve is a level the DPRK keeps, whatever it holds at the start.
        self.reserve = np.broadcast_to(np.asarray(p["stockpile.reserve"], float), (R,)).copy()
        self.interest = np.zeros(R)
        self.troops_deployed = np.zeros(R, dtype=bool)  # F13 comes in 2024Q4 (model.py)
        # M04, M15: what the DPRK produces a quarter; Russian inputs raise it (``act``).
        self.capacity = np.broadcast_to(self.own_production(), (R,)).copy()
        self.munitions_offer = np.zeros(R)
        self._troops_next = self.troops_deployed.copy()

    def assess_interest(self) -> np.ndarray:
        """The DPRK's interest in Russia: any of three reasons suffices (a noisy-or).

        Names: M05 (nuclear weapons and status against the US and its allies, F01's trilateral —
        the root reason it backs Moscow), M06 (dependence on China pushes it back to equal
        distance; China's counter-offers, a modelling choice, pull it back), M09 (Russia is one
        of very few partners), M21 (a credible Russian commitment).
        """
        p, m = self.p, self.model
        nuclear = p["dprk.nuclear_drive"] * m.world.trilateral
        dependence = np.clip((m.china.trade_share - EQUAL_DISTANCE) / (1 - EQUAL_DISTANCE), 0, 1)
        turn = (
            p["dprk.equidistance_drive"] * dependence * (1 - p["china.leverage"] * m.china.response)
        )
        return 1 - (1 - nuclear) * (1 - turn) * (1 - m.russia.credibility)

    def offer_munitions(self) -> np.ndarray:
        """What the DPRK can ship without going below its defence reserve.

        Names: M15 (it cannot keep supplying large quantities without exhausting its reserves;
        it lacks the economic base to produce them), M04 (it ships while it wants something in
        return). What it ships from its reserve when the limit is weaker than a certainty is
        settled with Russia's demand (``RussiaDPRKModel.settle_exchanges``).
        """
        available = np.maximum(self.stockpile - self.reserve, 0)
        return np.where(self.willing(), available, 0)

    def willing(self) -> np.ndarray:
        """Whether the DPRK wants to supply at all this quarter (M04: something in return)."""
        return self.interest > self.p["dprk.supply_interest"]

    def consider_troops(self) -> np.ndarray:
        """Keep, send or withdraw soldiers fighting for Russia.

        Names: F13 (soldiers in Kursk), M20 (little room to draw the DPRK into the war: troops
        are withdrawn as the munitions trade thins), M21. Troops go home when the war ends.
        """
        m, p = self.model, self.p
        u = m.uniform("troops")
        dispatch = p["dprk.troop_dispatch"] * m.russia.defence_treaty
        send = ~self.troops_deployed & (u < dispatch * m.relation("defence") * self.interest)
        withdraw = p["dprk.troop_withdrawal"] * p["limits.quality"] * (1 - m.arms_share)
        stay = self.troops_deployed & (u >= withdraw)
        return (stay | send) & (m.world.war > 0)

    def perceive(self) -> None:
        self.interest = self.assess_interest()

    def decide(self) -> None:
        self.munitions_offer = self.offer_munitions()
        self._troops_next = self.consider_troops()

    def own_production(self) -> np.ndarray:
        """What the DPRK's own economy produces a quarter: it replaces what ages, no more (M15:
        it lacks the economic base to produce large quantities)."""
        p = self.p
        return np.asarray(p["stockpile.depreciation"] * p["stockpile.dprk"], dtype=float)

    def production_capacity(self) -> np.ndarray:
        """Munitions the DPRK can produce next quarter (thousand containers).

        Names: M04 (in return for munitions Russia supplies energy, materials and cooperation in
        arms production), M08 (arms and equipment production as the likeliest core sector; the
        DPRK as an equipment supplier), M15 (it lacks the economic base to produce large
        quantities: a ceiling). Capacity moves towards its own-economy level plus the share of
        the ceiling's headroom that this quarter's Russian inputs pay for (the munitions received
        as a share of Russia's demand, like the oil in return), at ``stockpile.capacity_growth``
        per quarter: it grows while the trade lasts and falls back when it stops.
        """
        p, m = self.p, self.model
        base = self.own_production()
        ceiling = base * p["stockpile.capacity_ceiling"]
        target = base + (ceiling - base) * m.arms_share
        return self.capacity + p["stockpile.capacity_growth"] * (target - self.capacity)

    def act(self) -> None:
        m, p = self.model, self.p
        # M15: the stock falls by what was shipped; what stays at home is used or ages, and
        # this quarter's production adds to it.
        kept = np.maximum(self.stockpile - m.munitions_shipped, 0)
        self.stockpile = kept * (1 - p["stockpile.depreciation"]) + self.capacity
        self.capacity = self.production_capacity()
        m.log_change("troops", self.troops_deployed, self._troops_next)
        self.troops_deployed = self._troops_next


class China(StateAgent):
    """China: the DPRK's main trading partner, its response to the turn to Russia."""

    name = "China"

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        share0 = self.p["dprk.china_dependence"]
        # Size China's trade against Russia's trade at its full level (index 1), not at its
        # 2000 level: Russia's trade index grows over the history, and on the record China keeps
        # ~90 % or more of the DPRK's trade throughout (M06); the share then moves with the rules.
        self.base_trade = share0 / (1 - share0) * FULL_TRADE
        self.trade = np.broadcast_to(np.asarray(self.base_trade, float), (self.R,)).copy()
        self.trade_share = np.broadcast_to(np.asarray(share0, float), (self.R,)).copy()
        self.response = self.respond_to_turn()
        self._response_next, self._trade_next = self.response, self.trade

    def respond_to_turn(self) -> np.ndarray:
        """China answers the DPRK's political turn to Russia (a modelling choice).

        Names: M06 (the alliance is also a signal to Beijing; equal distance).
        """
        return self.model.relation("political")

    def trade_with_dprk(self, response: np.ndarray) -> np.ndarray:
        """China's trade with the DPRK: cut by its own enforcement, grown by its counter-offers.

        Names: M06, M09 (a China-dependent DPRK has few other partners). Both effects are
        modelling choices (docs/ODD.md §11).
        """
        p = self.p
        return self.base_trade * (1 - p["china.enforcement"]) * (1 + p["china.leverage"] * response)

    def decide(self) -> None:
        self._response_next = self.respond_to_turn()
        self._trade_next = self.trade_with_dprk(self._response_next)

    def act(self) -> None:
        self.response, self.trade = self._response_next, self._trade_next
        total = self.trade + self.model.trade
        self.trade_share = np.divide(
            self.trade, total, out=np.ones_like(total, dtype=float), where=total > 0
        )


class USA(StateAgent):
    """The United States: attention between Europe and Asia, enforcement, Ukraine support."""

    name = "USA"

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.asia_attention = self.split_attention()
        self.enforcement_effect = self.enforce(self.asia_attention)
        self._next = (self.asia_attention, self.enforcement_effect)

    def split_attention(self) -> np.ndarray:
        """While the war lasts the West looks to Europe; control of the DPRK loosens.

        Names: M03 (attention shifts to Europe — a gain for Pyongyang).
        """
        p = self.p
        return np.where(
            self.model.world.war > 0, p["usa.asia_attention"], p["usa.postwar_attention"]
        )

    def enforce(self, asia_attention: np.ndarray) -> np.ndarray:
        """Effective Western enforcement: US attention or its allies' cohesion carry it.

        Names: M10 (covert cooperation must escape it), M17 (it is the 'new pressure'),
        F01 (the trilateral strengthened at Camp David).
        """
        carried = 1 - (1 - asia_attention) * (1 - self.model.world.trilateral)
        return self.p["sanctions.enforcement"] * carried

    def decide(self) -> None:
        attention = self.split_attention()
        self._next = (attention, self.enforce(attention))

    def act(self) -> None:
        # Others see this quarter's attention and enforcement from the next quarter on.
        self.asia_attention, self.enforcement_effect = self._next


class ROK(StateAgent):
    """South Korea: whether Seoul sends large-calibre shells to Kyiv."""

    name = "ROK"

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.ships_shells = np.zeros(self.R, dtype=bool)
        self._decides = np.zeros(self.R, dtype=bool)

    def consider_shells(self) -> np.ndarray:
        """Seoul decides to ship shells to Kyiv (a one-way decision) while the war lasts.

        Names: F11 (the ROK is one of few producers of large-calibre shells), M23 (Russia's
        threatened answer: technology for the DPRK). A forward assumption: on the record Seoul
        sent none to Kyiv up to 2024Q3 (``world.after_record`` is 0 in the history).
        """
        m = self.model
        chance = self.p["rok.shell_hazard"] * m.world.war * m.world.after_record
        return ~self.ships_shells & (m.uniform("rok") < chance)

    def decide(self) -> None:
        self._decides = self.consider_shells()

    def act(self) -> None:
        self.ships_shells = self.ships_shells | self._decides
        self.model.log_event("rok_shells", self._decides)


class Japan(StateAgent):
    """Japan: a member of the US–Japan–ROK trilateral and of the sanctions watch."""

    name = "Japan"

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.watch = self.watch_shipments()
        self._watch_next = self.watch

    def watch_shipments(self) -> np.ndarray:
        """Japan's chance of noticing covert shipments, through the trilateral.

        Names: F01 (Camp David strengthened the trilateral), M10.
        """
        return self.p["japan.surveillance"] * self.model.world.trilateral

    def decide(self) -> None:
        self._watch_next = self.watch_shipments()

    def act(self) -> None:
        self.watch = self._watch_next


AGENT_CLASSES = (Russia, DPRK, China, USA, ROK, Japan)
