"""The Russia–DPRK relationship among six states, as one Mesa model of R replicates.

``RussiaDPRKModel`` advances R replicates at once: every state variable is a numpy array over
replicates and every parameter may be a scalar or an array of length R, so one instance can run
an ensemble or a whole sampled design. R = 1 is an ordinary single run. Random numbers come from
counter-based streams keyed by (seed, replicate, step, draw) (``sim.rng``), so replicate k of seed
s is the same trajectory in any batch.

A step is one quarter. Forward runs start after 2024Q3 — the article was written in autumn 2024
(footnotes retrieved 2024-09-18; it already mentions soldiers in Kursk, F13) — so step 1 is 2024Q4.
The model knows nothing of Hydra, files or browsers; see ``experiments/`` and ``analysis/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mesa
import networkx as nx
import numpy as np

from sim import params as P
from sim.agents import DPRK, LOOPHOLES, OPEN_BREACH, ROK, USA, China, Japan, Russia
from sim.rng import Streams
from sim.world import ForwardWorld, ReplayWorld, quarter_label

DOMAINS = ("political", "defence", "economic", "technology")
STATES = ("Russia", "DPRK", "China", "USA", "ROK", "Japan")

# Fixed addresses of every random draw: (Philox block, lane). A new draw gets a new address,
# so adding one never shifts another — replicate k stays the same trajectory.
DRAWS: dict[str, tuple[int, int]] = {
    "confrontation_a": (0, 0),
    "confrontation_b": (0, 1),
    "ceasefire": (0, 2),
    "rok": (0, 3),
    "summit": (1, 0),
    "agree_defence": (1, 1),
    "agree_economic": (1, 2),
    "agree_technology": (1, 3),
    "posture_a": (2, 0),
    "posture_b": (2, 1),
    "tech": (2, 2),
    "detect": (2, 3),
    "next_level": (3, 0),
    "treaty": (3, 1),
    "troops": (3, 2),
    "infrastructure": (3, 3),
    "pipeline": (4, 0),
}
NORMALS = {
    "posture": ("posture_a", "posture_b"),
    "confrontation": ("confrontation_a", "confrontation_b"),
}

# Indicators recorded every quarter for every replicate (float32), read by the classifier and
# by the per-quarter fan charts.
TRACKED = (
    "confrontation",
    "political",
    "defence",
    "economic",
    "technology",
    "munitions",
    "stockpile_ratio",
    "oil",
    "tech_tier",
    "posture",
    "cash_share",
    "tourism",
    "labour",
    "china_share",
    "troops",
)

# Starting cooperation (implemented, agreed) by domain. Forward: after the 2023-09 and 2024-06
# summits and the treaty (F02, F03, F07), much agreed and part implemented (M22).
# Replay: 2000Q1, a decade after the alliance lapsed (Table 1: Putin's visit comes later).
START_COOPERATION = {
    "forward": {"implemented": (0.7, 0.5, 0.3, 0.1), "agreed": (0.8, 0.7, 0.5, 0.3)},
    "replay": {"implemented": (0.2, 0.05, 0.05, 0.0), "agreed": (0.2, 0.05, 0.05, 0.0)},
}


class RussiaDPRKModel(mesa.Model):
    """Six states, R replicates, quarterly steps.

    Args:
        params: parameter values by dotted key (``sim.params``); scalars or arrays of length R.
        replicates: R, or an explicit array of replicate indices (for chunks of a design).
        seed: base seed of the experiment.
        horizon: number of quarters to run.
        replay: a ``ReplayWorld`` input schedule; None runs forward from 2024Q4.
        record: keep per-quarter trajectories of ``TRACKED`` (needed by the classifier).
        highlight: the replicate (position) whose events are logged for the app.
        **overrides: parameter values by dotted key (this is how ``mesa.batch_run`` passes them).
    """

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        replicates: int | np.ndarray = 1,
        seed: int | None = None,
        horizon: int = P.RUN_KEYS["horizon"],
        replay: ReplayWorld | None = None,
        record: bool = True,
        highlight: int = 0,
        rng: int | None = None,
        **overrides: Any,
    ):
        seed = (
            P.RUN_KEYS["seed"]
            if seed is None and rng is None
            else (seed if seed is not None else rng)
        )
        super().__init__(rng=int(seed))
        self.seed = int(seed)
        if isinstance(replicates, int | np.integer):
            if replicates < 1:
                raise P.ParameterError(f"replicates={replicates} must be at least 1")
            self.replicate_ids = np.arange(int(replicates), dtype=np.int64)
        else:
            self.replicate_ids = np.asarray(replicates, dtype=np.int64)
        self.R = int(self.replicate_ids.size)
        if horizon < 1:
            raise P.ParameterError(f"horizon={horizon} must be at least 1 quarter")
        self.horizon = int(horizon)
        self.p = P.resolve({**(params or {}), **overrides})
        for key, value in self.p.items():
            if isinstance(value, np.ndarray) and value.shape != (self.R,):
                raise P.ParameterError(
                    f"{key}: an array parameter needs one value per replicate ({self.R}), "
                    f"got shape {value.shape}"
                )
        self.forward = replay is None
        self.streams = Streams(self.seed, self.replicate_ids)
        self._blocks: dict[int, np.ndarray] = {}
        self.highlight = int(highlight)
        self.events: list[dict[str, Any]] = []

        # Exchanges settled each quarter (model level: they involve two agents).
        R = self.R
        self.munitions_shipped = np.zeros(R)
        self.shipments_detected = np.zeros(R)
        self.oil_delivered = np.zeros(R)
        self.summit = np.zeros(R, dtype=bool)
        self.summit_count = np.zeros(R, dtype=np.int32)
        self.munitions_total = np.zeros(R)

        # The Russia–DPRK relationship (M07, M22): agreed vs implemented cooperation by domain.
        start = START_COOPERATION["forward" if self.forward else "replay"]
        self.implemented = {
            d: np.full(R, v) for d, v in zip(DOMAINS, start["implemented"], strict=True)
        }
        self.agreed = {d: np.full(R, v) for d, v in zip(DOMAINS, start["agreed"], strict=True)}
        self.scope = np.ones(R)  # domains covered by the latest summit agreement (M22)
        self.flow_activity = np.full(R, 0.8 if self.forward else 0.0)
        self.tourism = np.full(R, 0.3 if self.forward else 0.05)  # F08: first tourists 2024-02
        self.labour = np.full(R, 0.2 if self.forward else 0.0)
        self.infrastructure = np.full(R, 1 if self.forward else 0, dtype=np.int8)
        self.gas_pipeline = np.zeros(R, dtype=bool)  # F03: the 2011 pipeline plan was not built
        self.gas_delivered = np.zeros(R)
        self.gas_total = np.zeros(R)
        self.cooperation = {d: self.implemented[d].copy() for d in DOMAINS}
        self.trade = self.russia_trade_at(self.cooperation["economic"])
        self.shared_interest = np.zeros(R)
        # M22 measurement: quarters from a summit until half of what it agreed is implemented.
        self._pending_since = np.full(R, -1)
        self._pending_goal = np.zeros(R)
        self._pending_domains = np.zeros((len(DOMAINS), R), dtype=bool)
        self.lag_sum = np.zeros(len(DOMAINS) + 1)
        self.lag_count = np.zeros(len(DOMAINS) + 1)

        self.world = ForwardWorld(self) if replay is None else replay.bind(self)
        self.start_quarter = self.world.start_quarter
        self.russia = Russia(self)
        self.dprk = DPRK(self)
        self.china = China(self)
        self.usa = USA(self)
        self.rok = ROK(self)
        self.japan = Japan(self)
        self.relations = self._build_graph()
        self.trajectory = (
            {k: np.zeros((self.horizon, R), dtype=np.float32) for k in TRACKED} if record else None
        )
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "defence": lambda m: float(m.cooperation["defence"].mean()),
                "economic": lambda m: float(m.cooperation["economic"].mean()),
                "munitions": lambda m: float(m.munitions_shipped.mean()),
                "open_breach": lambda m: float((m.russia.posture == OPEN_BREACH).mean()),
            }
        )

    # -- randomness ----------------------------------------------------------------------
    def uniform(self, name: str) -> np.ndarray:
        """Uniforms in (0, 1), one per replicate, for the named draw of this quarter."""
        block, lane = DRAWS[name]
        if block not in self._blocks:
            self._blocks[block] = self.streams.uniforms(self.steps, block)
        return self._blocks[block][lane]

    def normal(self, name: str) -> np.ndarray:
        a, b = NORMALS[name]
        return Streams.normals(self.uniform(a), self.uniform(b))

    # -- helpers read by the agents ------------------------------------------------------
    def relation(self, domain: str) -> np.ndarray:
        """Russia–DPRK cooperation in a domain at the start of the quarter (0–1)."""
        return self.cooperation[domain]

    @staticmethod
    def russia_trade_at(economic: np.ndarray | float) -> np.ndarray | float:
        """Russia–DPRK trade volume, in arbitrary units shared with China's trade (M09, M16)."""
        return 0.05 + 0.6 * np.asarray(economic)

    @property
    def quarter(self) -> str:
        return quarter_label(self.start_quarter, self.steps)

    # -- events for the app's log ----------------------------------------------------------
    def log_event(self, kind: str, mask: np.ndarray) -> None:
        if self.highlight < self.R and bool(np.asarray(mask)[self.highlight]):
            self.events.append({"quarter": self.quarter, "kind": kind, "step": self.steps})

    def log_change(self, kind: str, before: np.ndarray, after: np.ndarray) -> None:
        h = self.highlight
        if h < self.R and before[h] != after[h]:
            self.events.append(
                {
                    "quarter": self.quarter,
                    "kind": kind,
                    "step": self.steps,
                    "before": int(before[h]),
                    "after": int(after[h]),
                }
            )

    # -- the quarter -------------------------------------------------------------------------
    def activation_order(self) -> tuple[mesa.Agent, ...]:
        """Russia, DPRK, China, USA, ROK, Japan. Decide/act makes the order irrelevant (tested)."""
        return (self.russia, self.dprk, self.china, self.usa, self.rok, self.japan)

    def step(self) -> None:
        """One quarter: world inputs, decide, settle exchanges, act, relations, record."""
        if self.steps > self.horizon:  # past the horizon nothing happens (Play may overshoot)
            self.running = False
            return
        self._blocks.clear()
        self.world.advance()
        for agent in self.activation_order():
            agent.perceive()  # each state's interest, from the start of the quarter (M01)
        self.shared_interest = np.sqrt(self.russia.interest * self.dprk.interest)
        for agent in self.activation_order():
            agent.decide()
        self.settle_exchanges()
        for agent in self.activation_order():
            agent.act()
        self.update_relations()
        self._update_graph()
        if self.trajectory is not None:
            self.record()
        self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    def settle_exchanges(self) -> None:
        """Shipments, their detection, oil, labour, tourism, trade — the flows between states.

        Names: F07 (munitions shipped after the summit; satellite images), M04 (arms for
        resources), M15 (shipments stop at the reserve), M10 (detection of covert breaches),
        M11 and F08 (tourism is not sanctioned), M12 (labour as 'students'), M13 (oil), M14
        (transport and communication links), M16 (barter, not cash).
        """
        russia, dprk, usa = self.russia, self.dprk, self.usa
        shipped = np.minimum(russia.munitions_demand, dprk.munitions_offer)
        self.munitions_shipped = shipped
        self.munitions_total = self.munitions_total + shipped
        watch = (
            0.4 * self.world.un_monitoring
            + 0.4 * usa.enforcement_effect
            + 0.2 * self.p["china.enforcement"]
            + self.japan.watch
        )
        chance = self.p["sanctions.detection"] * np.minimum(watch, 1.0)
        self.shipments_detected = ((shipped > 0) & (self.uniform("detect") < chance)).astype(float)
        self.log_event("shipment_detected", self.shipments_detected > 0)
        self.oil_delivered = russia.energy_offer
        economic, political = self.cooperation["economic"], self.cooperation["political"]
        self.trade = self.russia_trade_at(economic)
        covert = russia.posture >= LOOPHOLES
        self.labour += 0.3 * (economic * covert - self.labour)
        open_border = self.world.border_open
        self.tourism += 0.3 * (
            open_border * (0.1 + 0.6 * political + 0.3 * self.infrastructure / 4) - self.tourism
        )
        built = (self.uniform("infrastructure") < 0.1 * economic) & (self.infrastructure < 4)
        self.infrastructure = self.infrastructure + built
        self.log_event("infrastructure", built)
        self.deliver_gas(economic)

    def deliver_gas(self, economic: np.ndarray) -> None:
        """Natural gas needs a pipeline, agreed in 2011 and never built: a wide, slow project.

        Names: M13 (gas under intergovernmental arrangements), M04 (resources in return for arms),
        F03 (the 2011 pipeline agreement), M22 (wide agreements are slow).
        Gas is not sanctioned by the UN caps, so no posture is needed.
        """
        new = ~self.gas_pipeline & (self.uniform("pipeline") < 0.02 * economic)
        self.gas_pipeline = self.gas_pipeline | new
        self.log_event("pipeline", new)
        self.gas_delivered = self.p["russia.gas_supply"] * economic * self.gas_pipeline
        self.gas_total = self.gas_total + self.gas_delivered

    def update_relations(self) -> None:
        """Summits, agreements and their slow implementation (M01, M07, M22, M23).

        A summit happens with a chance that grows with shared interest (M01) and with Moscow's
        wish to send 'messages' while the US backs Ukraine (M23). Each summit agrees on a set of
        domains; what is agreed is implemented slowly, and the more domains, the slower (M22).
        Agreements left on paper fade when interest falls (M02). Political closeness spills
        into defence and economy (M07). Defence cooperation counts the real flows: munitions
        and troops (F07, F13), so it falls when the stockpile runs out (M15).
        """
        p, world = self.p, self.world
        si, interest_r = self.shared_interest, self.russia.interest
        message = (
            p["russia.signalling"] * p["usa.ukraine_support"] * world.war * world.confrontation
        )
        chance = p["russia.summit_rate"] * (si**2 + 0.5 * message)
        summit = self.uniform("summit") < chance
        self.summit = summit
        self.summit_count += summit
        self.log_event("summit", summit)
        economic_need = 0.7 + 0.3 * p["china.enforcement"]  # M09: few other partners
        agrees = {
            "political": summit,
            "defence": summit & (self.uniform("agree_defence") < interest_r),
            "economic": summit & (self.uniform("agree_economic") < si * economic_need),
            "technology": summit
            & (self.uniform("agree_technology") < si * (1.0 - p["russia.tech_control"])),
        }
        scope = sum(a.astype(float) for a in agrees.values())
        self.scope = np.where(summit, scope, self.scope)
        rate = p["russia.implementation_rate"] / self.scope
        political = self.implemented["political"]
        for d in DOMAINS:
            agreed, done = self.agreed[d], self.implemented[d]
            agreed = np.where(
                agrees[d], np.maximum(agreed, np.minimum(done + 0.5 * si, 1.0)), agreed
            )
            agreed = agreed - 0.08 * np.maximum(agreed - si, 0.0)  # M02: left on paper
            if d in ("defence", "economic"):
                agreed = agreed + 0.03 * np.maximum(political - agreed, 0.0)  # M07
            gap = agreed - done
            done = done + np.where(gap > 0, rate * gap, 0.15 * gap)
            self.agreed[d], self.implemented[d] = agreed, done
        self._measure_implementation_lag(agrees)

        russia, dprk = self.russia, self.dprk
        flows = np.minimum(self.munitions_shipped / np.maximum(p["russia.war_demand"], 1e-9), 1.0)
        flows = np.minimum(flows + 0.2 * dprk.troops_deployed, 1.0)
        self.flow_activity += 0.5 * (flows - self.flow_activity)
        self.cooperation = {
            "political": self.implemented["political"],
            "defence": 0.4 * self.implemented["defence"] + 0.6 * self.flow_activity,
            "economic": self.implemented["economic"],
            "technology": 0.5 * self.implemented["technology"] + 0.5 * russia.tech_tier / 4.0,
        }

    def _measure_implementation_lag(self, agrees: Mapping[str, np.ndarray]) -> None:
        """Quarters from a summit to half of its agreed increase implemented, by scope (M22)."""
        mask = self._pending_domains
        pending = self._pending_since >= 0
        if pending.any():
            current = sum(self.implemented[d] * mask[i] for i, d in enumerate(DOMAINS))
            current = current / np.maximum(mask.sum(axis=0), 1)
            done = pending & (current >= self._pending_goal)
            if done.any():
                scope = mask.sum(axis=0)[done]
                lag = self.steps - self._pending_since[done]
                np.add.at(self.lag_sum, scope, lag)
                np.add.at(self.lag_count, scope, 1)
                self._pending_since[done] = -1
        summit = agrees["political"]
        if summit.any():
            for i, d in enumerate(DOMAINS):
                mask[i] = np.where(summit, agrees[d], mask[i])
            start = sum(self.implemented[d] * mask[i] for i, d in enumerate(DOMAINS))
            goal = sum(self.agreed[d] * mask[i] for i, d in enumerate(DOMAINS))
            n = np.maximum(mask.sum(axis=0), 1)
            half = (start + 0.5 * (goal - start)) / n
            self._pending_goal = np.where(summit, half + 1e-9, self._pending_goal)
            self._pending_since = np.where(summit, self.steps, self._pending_since)

    def record(self) -> None:
        """Write this quarter's indicators into the per-replicate trajectories."""
        t, tr, russia = self.steps - 1, self.trajectory, self.russia
        row = {
            "confrontation": self.world.confrontation,
            "political": self.cooperation["political"],
            "defence": self.cooperation["defence"],
            "economic": self.cooperation["economic"],
            "technology": self.cooperation["technology"],
            "munitions": self.munitions_shipped,
            "stockpile_ratio": self.dprk.stockpile / np.maximum(self.dprk.reserve, 1e-9),
            "oil": self.oil_delivered,
            "tech_tier": russia.tech_tier,
            "posture": russia.posture,
            "cash_share": self.cash_share(),
            "tourism": self.tourism,
            "labour": self.labour,
            "china_share": self.china.trade_share,
            "troops": self.dprk.troops_deployed,
        }
        for key, value in row.items():
            tr[key][t] = value

    def cash_share(self) -> np.ndarray:
        """Share of Russia–DPRK trade paid in cash rather than barter (M16).

        Cash needs banking channels the sanctions close: it grows only with an open breach and
        with transport links (M14).
        """
        open_breach = self.russia.posture == OPEN_BREACH
        return (
            0.1 + 0.4 * self.cooperation["economic"] * open_breach + 0.1 * self.infrastructure / 4
        )

    # -- the relations graph -------------------------------------------------------------------
    def _build_graph(self) -> nx.Graph:
        graph = nx.Graph()
        graph.add_nodes_from(STATES)
        for i, a in enumerate(STATES):
            for b in STATES[i + 1 :]:
                graph.add_edge(a, b, **{d: np.zeros(self.R) for d in DOMAINS}, flows={})
        self._update_graph(graph)
        return graph

    def _update_graph(self, graph: nx.Graph | None = None) -> None:
        """Refresh the per-pair cooperation and flows (arrays over replicates, not copies).

        Only the Russia–DPRK, China–DPRK and trilateral edges change in this model; the others
        keep the values set here (documented in docs/ODD.md).
        """
        g = self.relations if graph is None else graph
        rd = g.edges["Russia", "DPRK"]
        rd.update(self.cooperation)
        rd["flows"] = {
            "munitions DPRK→Russia": self.munitions_shipped,
            "oil products Russia→DPRK": self.oil_delivered,
            "gas Russia→DPRK": self.gas_delivered,
            "tourists Russia→DPRK": self.tourism,
            "labour DPRK→Russia": self.labour,
            "trade": self.trade,
        }
        cd = g.edges["China", "DPRK"]
        cd["economic"] = self.china.trade_share
        cd["political"] = 0.7
        cd["flows"] = {"trade": self.china.trade}
        tri = self.world.trilateral
        for a, b in (("USA", "Japan"), ("USA", "ROK"), ("Japan", "ROK")):
            e = g.edges[a, b]
            e["political"] = tri
            e["defence"] = tri
        g.edges["Russia", "China"]["political"] = 0.7
        g.edges["Russia", "ROK"]["political"] = np.where(self.rok.ships_shells, 0.05, 0.3)

    # -- results ---------------------------------------------------------------------------
    def run(self) -> RussiaDPRKModel:
        """Run to the horizon and return self."""
        while self.running:
            self.step()
        return self


if __name__ == "__main__":
    model = RussiaDPRKModel(replicates=1000, seed=1).run()
    from sim.classifier import classify

    labels = classify(model)["scenario"]
    for s in ("S1", "S2", "neither"):
        print(s, (labels == s).mean())
