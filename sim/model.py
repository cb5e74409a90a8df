"""The Russia–DPRK relationship among six states, as one Mesa model of R replicates.

``RussiaDPRKModel`` advances R replicates at once: every state variable is a numpy array over
replicates and every parameter may be a scalar or an array of length R, so one instance can run
an ensemble or a whole sampled design. R = 1 is an ordinary single run. Random numbers come from
counter-based streams keyed by (seed, replicate, quarter, draw) (``sim.rng``), so replicate k of
seed s is the same trajectory in any batch.

A step is one quarter. One history (issue 21): every replicate starts in 2000Q1 and runs the
quarters of the record (2000Q1–2024Q3, ``sim.world.History``) when the model is built, with its
own parameters and random stream; ``step`` then continues forward from that replicate's own
2024Q3 state. The article was written in autumn 2024 (footnotes retrieved 2024-09-18; it already
mentions soldiers in Kursk, F13), so forward step 1 is 2024Q4. The classifier measures change
relative to each replicate's 2024Q3 state (``start_levels``, ``start_state``). The model knows
nothing of Hydra, files or browsers; see ``experiments/`` and ``analysis/``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import mesa
import networkx as nx
import numpy as np

from sim import params as P
from sim.agents import (
    DPRK,
    LOOPHOLES,
    MAX_TIER,
    OBSERVE,
    OPEN_BREACH,
    ROK,
    USA,
    China,
    Japan,
    Russia,
)
from sim.rng import Streams
from sim.world import HISTORY_START, History, World, default_history, quarter_label

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
BLOCKS = max(block for block, _ in DRAWS.values()) + 1  # Philox blocks drawn each quarter
NORMALS = {
    "posture": ("posture_a", "posture_b"),
    "confrontation": ("confrontation_a", "confrontation_b"),
}

# Indicators recorded every quarter for every replicate (float32), read by the classifier, the
# fan charts and the observation record. ``defence`` and ``economic`` are delivered cooperation
# (never paper); ``political`` is the signal of summits and visits (M23).
TRACKED = (
    "confrontation",
    "political",
    "defence",
    "economic",
    "technology",
    "munitions",
    "production",
    "stockpile_ratio",
    "oil",
    "tech_tier",
    "posture",
    "cash_share",
    "tourism",
    "labour",
    "china_share",
    "troops",
    "trade",
    "links",
    "summit",
    "war",
)

# Political ties of the network view that no rule reads (display only, docs/ODD.md §2): close
# China–DPRK and Russia–China ties, a cool Russia–ROK tie that turns cold once Seoul ships shells.
DISPLAY_TIES = {
    "China–DPRK": 0.7,
    "Russia–China": 0.7,
    "Russia–ROK": 0.3,
    "Russia–ROK after shells": 0.05,
}

# M22 is measured as the quarters from a summit until half of what it agreed is implemented (a
# half-life: implementation approaches the agreement and never quite reaches it); the tolerance
# absorbs rounding.
HALF_IMPLEMENTED = 0.5
LAG_TOLERANCE = 1e-9

# M14 names four links: a cross-border road bridge, a regular railway service, Russian mobile
# networks and the Russian internet.
MAX_LINKS = 4

# The state in 2000Q1, where every run starts: the 1961 alliance had lapsed (F02: the 2024
# treaty restores it), so no defence cooperation is agreed or delivered; a little political and
# economic contact (Table 1: Putin's visit comes later), a few tourists, no labour, no link (the
# rail service of F03 dates from 2002). Everything after it is the model's own history.
START_2000 = {
    "implemented": (0.2, 0.0, 0.05, 0),
    "agreed": (0.2, 0.0, 0.05, 0),
    "tourism": 0.05,
    "labour": 0,
    "links": 0,
}

# Per-quarter series of the history kept with ``keep_history`` (the replay and the calibration).
HISTORY = (
    "summit",
    "posture",
    "munitions",
    "treaty",
    "tourism",
    "political",
    "defence",
    "production",
    "stockpile",
    "quality_trust",
)

# The 2024Q3 state each forward run continues from, as columns ``start_<name>`` of runs.parquet
# (CONTRACT.md): what a reader needs to see why a run went where it went.
START_STATE = (
    "stockpile_above_reserve",
    "production_capacity",
    "quality_trust",
    "posture",
    "munitions_rate",
    "munitions_shipped_total",
    "defence_treaty",
    "implemented_defence",
    "tech_tier",
    "defence",
    "economic",
    "political",
    "summits",
)


# --- reuse of a history (issue 21) --------------------------------------------------------------
# Parameters the history never reads: the forward world (``World.forward``), F13's event of
# 2024Q4, Seoul's shells (none on the record) and the classifier. Runs that differ only in these
# share their history exactly; ``tests/test_history.py`` checks it state by state.
FORWARD_ONLY = frozenset(
    {p.key for p in P.PARAMETERS if p.group in ("world", "classifier")}
    | {"japan.trilateral", "sanctions.un_monitoring", "rok.shell_hazard", "dprk.troops_deployed"}
)
# The state the history leaves, by owner: everything a quarter reads or writes.
HISTORY_STATE = {
    "model": (
        "munitions_shipped", "arms_share", "shipments_detected", "oil_delivered", "summit",
        "summit_count", "munitions_total", "implemented", "agreed", "scope", "tourism", "labour",
        "infrastructure", "gas_pipeline", "gas_delivered", "gas_total", "shared_interest",
        "cooperation", "quarter_number", "_pending_since", "_pending_goal", "_pending_domains",
    ),
    "russia": (
        "credibility", "_credibility_next", "defence_treaty", "energy_offer", "exposure",
        "interest", "munitions_demand", "next_level", "posture", "_posture_target",
        "quality_trust", "tech_tier", "_sign_next_level", "_sign_treaty", "_tech_step",
    ),
    "dprk": (
        "capacity", "interest", "munitions_offer", "reserve", "stockpile", "troops_deployed",
        "_troops_next",
    ),
    "china": ("base_trade", "response", "trade", "trade_share", "_response_next", "_trade_next"),
    "usa": ("_next", "asia_attention", "enforcement_effect"),
    "rok": ("ships_shells", "_decides"),
    "japan": ("watch", "_watch_next"),
    "world": (
        "after_record", "border_open", "confrontation", "sanctions_in_force", "trilateral",
        "un_monitoring", "visits_open", "war",
    ),
}  # fmt: skip
HISTORY_CACHE_BYTES = 64 * 2**20  # per process
HISTORY_MAX_BYTES = HISTORY_CACHE_BYTES // 2  # a larger history is not kept (room for two)


def _over(value: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``value / base`` per replicate; NaN where there is no base (nothing to compare with)."""
    value, base = np.broadcast_arrays(np.asarray(value, float), np.asarray(base, float))
    return np.divide(value, base, out=np.full(value.shape, np.nan), where=base > 0)


def _owner(model: RussiaDPRKModel, name: str) -> Any:
    return model if name == "model" else getattr(model, name)


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict | tuple):
        return sum(_nbytes(v) for v in (value.values() if isinstance(value, dict) else value))
    return 0


def _history_key(model: RussiaDPRKModel, history: History) -> tuple | None:
    """What a history depends on: seed, replicates, the record's inputs, every parameter the
    history reads. None (not kept) when such a parameter varies per replicate (a design)."""
    values = []
    for key in sorted(set(model.p) - FORWARD_ONLY):
        value = model.p[key]
        if isinstance(value, np.ndarray):
            return None
        values.append((key, value))
    inputs = tuple((k, v.tobytes()) for k, v in sorted(history.columns.items()))
    return (model.seed, model.replicate_ids.tobytes(), inputs, tuple(values))


def _history_state(model: RussiaDPRKModel) -> dict[str, dict[str, Any]]:
    return {
        owner: {name: _copy(getattr(_owner(model, owner), name)) for name in names}
        for owner, names in HISTORY_STATE.items()
    }


def _restore_history(model: RussiaDPRKModel, state: Mapping[str, Mapping[str, Any]]) -> None:
    for owner, values in state.items():
        target = _owner(model, owner)
        for name, value in values.items():
            setattr(target, name, _copy(value))


class _HistoryCache:
    """The last histories this process ran, up to ``HISTORY_CACHE_BYTES``, newest kept."""

    def __init__(self) -> None:
        self.entries: dict[tuple, dict[str, dict[str, Any]]] = {}

    def get(self, key: tuple) -> dict[str, dict[str, Any]] | None:
        state = self.entries.pop(key, None)
        if state is not None:
            self.entries[key] = state  # most recently used last
        return state

    def put(self, key: tuple, state: dict[str, dict[str, Any]]) -> None:
        size = _nbytes(state)
        if size > HISTORY_MAX_BYTES:
            return
        self.entries[key] = state
        while sum(_nbytes(s) for s in self.entries.values()) > HISTORY_CACHE_BYTES:
            self.entries.pop(next(iter(self.entries)))


_HISTORIES = _HistoryCache()


# The last trajectory block handed out. Zeroed and lent again once nothing refers to it any more:
# touching 300 MB of fresh memory per 100,000 replicates costs more than the rules (issue 13).
_SPARE_BLOCKS: list[np.ndarray] = []
# References to a free spare block: the list, the loop variable and getrefcount's argument.
_FREE_REFERENCES = 3


def trajectory_block(shape: tuple[int, int, int]) -> np.ndarray:
    """A zeroed float32 block (indicator, quarter, replicate) for the recorded trajectories.

    Reuses the spare block when its model and every view of it are gone (CPython reference
    counts; a view anywhere keeps the block busy), otherwise allocates and keeps the new one.
    """
    for block in _SPARE_BLOCKS:
        if block.shape == shape and sys.getrefcount(block) == _FREE_REFERENCES:
            block.fill(0)
            return block
    block = np.zeros(shape, dtype=np.float32)
    _SPARE_BLOCKS[:] = [block]
    return block


class RussiaDPRKModel(mesa.Model):
    """Six states, R replicates, quarterly steps.

    Args:
        params: parameter values by dotted key (``sim.params``); scalars or arrays of length R.
        replicates: R, or an explicit array of replicate indices (for chunks of a design).
        seed: base seed of the experiment.
        horizon: number of forward quarters to run after 2024Q3 (0: the history only).
        history: the record's inputs 2000Q1–2024Q3 (default: the shipped file); the model
            runs them when it is built.
        keep_history: keep the per-quarter series of the history (``history_series``, read by
            the replay command and the calibration).
        record: keep per-quarter forward trajectories of ``TRACKED`` (needed by the classifier).
        highlight: the replicate (position) whose forward events are logged for the app.
        measure_lag: measure M22's implementation lag by summit scope into ``lag_sum`` and
            ``lag_count`` (the replay's P6 reads it). Off by default: it is an observer that
            forward runs never read, and it costs about a sixth of a quarter's work.
        **overrides: parameter values by dotted key (this is how ``mesa.batch_run`` passes them).
    """

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        replicates: int | np.ndarray = 1,
        seed: int | None = None,
        horizon: int = P.RUN_KEYS["horizon"],
        history: History | None = None,
        keep_history: bool = False,
        record: bool = True,
        highlight: int = 0,
        measure_lag: bool = False,
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
        if horizon < 0:
            raise P.ParameterError(f"horizon={horizon} must be at least 0 quarters")
        self.horizon = int(horizon)
        self.p = P.resolve({**(params or {}), **overrides})
        for key, value in self.p.items():
            if isinstance(value, np.ndarray) and value.shape != (self.R,):
                raise P.ParameterError(
                    f"{key}: an array parameter needs one value per replicate ({self.R}), "
                    f"got shape {value.shape}"
                )
        self.streams = Streams(self.seed, self.replicate_ids)
        self._quarter_draws: np.ndarray | list[np.ndarray] = []  # this quarter's, by block
        self.highlight = int(highlight)
        self.events: list[dict[str, Any]] = []
        self.quarter_number = 0  # quarters run since 2000Q1 (1 = 2000Q1)
        self.in_history = True

        # Exchanges settled each quarter (model level: they involve two agents).
        R = self.R
        self.munitions_shipped = np.zeros(R)
        self.arms_share = np.zeros(R)  # munitions shipped ÷ Russia's war demand (M04)
        self.shipments_detected = np.zeros(R)
        self.oil_delivered = np.zeros(R)
        self.summit = np.zeros(R, dtype=bool)
        self.summit_count = np.zeros(R, dtype=np.int32)
        self.munitions_total = np.zeros(R)

        # Paper and delivery (M22, M23): what summits agreed and what is implemented, by domain.
        start = START_2000
        self.implemented = {
            d: np.full(R, float(v)) for d, v in zip(DOMAINS, start["implemented"], strict=True)
        }
        self.agreed = {
            d: np.full(R, float(v)) for d, v in zip(DOMAINS, start["agreed"], strict=True)
        }
        self.scope = np.ones(R)  # domains covered by the latest summit agreement (M22)
        self.tourism = np.full(R, float(start["tourism"]))
        self.labour = np.full(R, float(start["labour"]))
        self.infrastructure = np.full(R, start["links"], dtype=np.int8)
        self.gas_pipeline = np.zeros(R, dtype=bool)  # F03: the 2011 pipeline plan was not built
        self.gas_delivered = np.zeros(R)
        self.gas_total = np.zeros(R)
        self.shared_interest = np.zeros(R)
        # M22 measurement: quarters from a summit until half of what it agreed is implemented.
        self.measure_lag = bool(measure_lag)
        self._pending_since = np.full(R, -1)
        self._pending_goal = np.zeros(R)
        self._pending_domains = np.zeros((len(DOMAINS), R), dtype=bool)
        # Summed lags and their count by scope (1–4 domains); None unless measured.
        self.lag_sum = np.zeros(len(DOMAINS) + 1) if measure_lag else None
        self.lag_count = np.zeros(len(DOMAINS) + 1) if measure_lag else None

        self.world = World(self, history or default_history())
        self.start_quarter = quarter_label(HISTORY_START, self.world.quarters + 1)
        self.cooperation = {"political": self.implemented["political"].copy()}
        self.russia = Russia(self)
        self.dprk = DPRK(self)
        self.china = China(self)
        self.russia.credibility = self.russia.assess_credibility()
        self.russia.interest = self.russia.assess_interest()
        self.dprk.interest = self.dprk.assess_interest()
        self.oil_delivered = self.russia.offer_energy()
        self.cooperation = self.delivered()
        self.usa = USA(self)
        self.rok = ROK(self)
        self.japan = Japan(self)

        # The model's own past: 2000Q1–2024Q3 on the record's inputs (issue 21), reused when
        # only forward-only inputs differ from a history this process has already run.
        self.history_series: dict[str, np.ndarray] | None = None
        key = None if keep_history or measure_lag else _history_key(self, self.world.history)
        saved = _HISTORIES.get(key) if key is not None else None
        if saved is None:
            self._run_history(keep_history)
            if key is not None:
                _HISTORIES.put(key, _history_state(self))
        else:
            _restore_history(self, saved)
        self.in_history = False
        self.start_levels = {d: self.cooperation[d].copy() for d in ("defence", "economic")}
        self.start_state = self.observe_start()
        self.relations = self._build_graph()
        self.trajectory = None
        if record and self.horizon > 0:
            block = trajectory_block((len(TRACKED), self.horizon, R))
            self.trajectory = {k: block[i] for i, k in enumerate(TRACKED)}
        self.running = self.horizon > 0
        # Mesa's collector, for users who attach one (``mesa.batch_run`` reads it); none by default.
        self.datacollector: mesa.DataCollector | None = None

    def _run_history(self, keep: bool) -> None:
        """Run the record's quarters; keep their series (T, R) when asked."""
        T = self.world.quarters
        if keep:
            self.history_series = {k: np.zeros((T, self.R), dtype=np.float32) for k in HISTORY}
        for t in range(1, T + 1):
            self._quarter(t)
            if keep:
                for name, value in self._history_row().items():
                    self.history_series[name][t - 1] = value

    def _history_row(self) -> dict[str, np.ndarray]:
        return {
            "summit": self.summit,
            "posture": self.russia.posture,
            "munitions": self.munitions_shipped,
            "treaty": self.russia.defence_treaty,
            "tourism": self.tourism,
            "political": self.cooperation["political"],
            "defence": self.cooperation["defence"],
            "production": self.dprk.capacity,
            "stockpile": self.dprk.stockpile,
            "quality_trust": self.russia.quality_trust,
        }

    def observe_start(self) -> dict[str, np.ndarray]:
        """The 2024Q3 state this replicate continues from (``START_STATE``, float64)."""
        dprk, russia = self.dprk, self.russia
        values = {
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
        return {k: np.asarray(values[k], dtype=np.float64).copy() for k in START_STATE}

    # -- randomness ----------------------------------------------------------------------
    def uniform(self, name: str) -> np.ndarray:
        """Uniforms in (0, 1), one per replicate, for the named draw of this quarter."""
        block, lane = DRAWS[name]
        return self._quarter_draws[block][lane]

    def normal(self, name: str) -> np.ndarray:
        a, b = NORMALS[name]
        return Streams.normals(self.uniform(a), self.uniform(b))

    # -- helpers read by the agents ------------------------------------------------------
    def relation(self, domain: str) -> np.ndarray:
        """Russia–DPRK cooperation in a domain at the start of the quarter (0–1)."""
        return self.cooperation[domain]

    @property
    def trade(self) -> np.ndarray:
        """Russia–DPRK trade (0–1, the implemented economic agreements), shared with China's."""
        return self.implemented["economic"]

    def share_of_demand(self, shipped: np.ndarray) -> np.ndarray:
        """Munitions shipped as a share of Russia's war demand at full confrontation (M04)."""
        demand = np.broadcast_to(np.asarray(self.p["russia.war_demand"], float), shipped.shape)
        share = np.divide(
            shipped, demand, out=np.zeros_like(shipped, dtype=float), where=demand > 0
        )
        return np.minimum(share, 1)

    @property
    def quarter(self) -> str:
        return quarter_label(HISTORY_START, self.quarter_number)

    # -- events for the app's log ----------------------------------------------------------
    def log_event(self, kind: str, mask: np.ndarray) -> None:
        if self.in_history:  # the app's log shows the forward run
            return
        if self.highlight < self.R and bool(np.asarray(mask)[self.highlight]):
            self.events.append({"quarter": self.quarter, "kind": kind, "step": self.steps})

    def log_change(self, kind: str, before: np.ndarray, after: np.ndarray) -> None:
        h = self.highlight
        if not self.in_history and h < self.R and before[h] != after[h]:
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
        """One forward quarter (the history ran when the model was built), then record it."""
        if self.steps > self.horizon:  # past the horizon nothing happens (Play may overshoot)
            self.running = False
            return
        self._quarter(self.world.quarters + self.steps)
        self._update_graph()
        if self.trajectory is not None:
            self.record()
        if self.datacollector is not None:
            self.datacollector.collect(self)
        if self.steps >= self.horizon:
            self.running = False

    def _quarter(self, number: int) -> None:
        """Quarter ``number`` (1 = 2000Q1): world inputs, perceive, decide, settle, act, relations.

        The same rules in the history and forward; only the world's inputs switch (issue 21).
        """
        self.quarter_number = number
        self._quarter_draws = self.streams.quarter(number, BLOCKS)  # one call a quarter
        self.world.advance(number)
        if number == self.world.quarters + 1:
            self._article_present()
        for agent in self.activation_order():
            agent.perceive()  # each state's interest, from the start of the quarter (M01)
        self.shared_interest = np.sqrt(self.russia.interest * self.dprk.interest)
        for agent in self.activation_order():
            agent.decide()
        self.settle_exchanges()
        for agent in self.activation_order():
            agent.act()
        self.update_relations()

    def _article_present(self) -> None:
        """The first forward quarter, 2024Q4: North Korean soldiers go to Kursk (F13).

        The article already reports them; the record dates the first reports to 2024-10, after
        the history ends, so they enter as the forward period's first event, not as history
        (``dprk.troops_deployed``; the calibration never sees them).
        """
        sent = np.asarray(self.p["dprk.troops_deployed"], dtype=bool) & (self.world.war > 0)
        self.log_change("troops", self.dprk.troops_deployed, self.dprk.troops_deployed | sent)
        self.dprk.troops_deployed = self.dprk.troops_deployed | sent

    def watch(self) -> np.ndarray:
        """Chance that a quarter's covert shipments are noticed by any of the watchers.

        Names: M10 (covert cooperation must escape the watch), F06 (UN monitoring), F01 (the
        trilateral: US enforcement, Japan's surveillance). China's border checks are a
        modelling choice. The watchers are independent: the chance is their noisy-or.
        """
        missed = (
            (1 - self.world.un_monitoring)
            * (1 - self.usa.enforcement_effect)
            * (1 - self.p["china.enforcement"])
            * (1 - self.japan.watch)
        )
        return 1 - missed

    def settle_exchanges(self) -> None:
        """Munitions for resources, their detection, and the economic channels.

        Names: F07 (munitions shipped after the summit; satellite images), M04 (arms for
        resources: Russia's payment follows what it receives), M15 (shipments stop at the
        reserve, at the limit's strength), M10 (detection of covert breaches), M11 and F08 (tourism is not sanctioned,
        it follows the political signal), M12 (labour as 'students', covert), M14 (transport
        and communication links, slow: M22), M13 (oil and gas).
        """
        p, russia, dprk = self.p, self.russia, self.dprk
        demand, offer = russia.munitions_demand, dprk.munitions_offer
        # M15 at strength s: of what Russia asks beyond the stock above the reserve, a share
        # 1 − s is shipped from the reserve (s = 1: the reserve holds; 0: whatever is asked).
        beyond = np.maximum(demand - offer, 0) * dprk.willing()
        shipped = np.minimum(demand, offer + (1 - p["limits.stockpile"]) * beyond)
        self.munitions_shipped = shipped
        self.munitions_total = self.munitions_total + shipped
        self.arms_share = self.share_of_demand(shipped)
        chance = p["sanctions.detection"] * self.watch()
        self.shipments_detected = ((shipped > 0) & (self.uniform("detect") < chance)).astype(float)
        self.log_event("shipment_detected", self.shipments_detected > 0)
        self.oil_delivered = russia.energy_offer
        pace, agreed = p["russia.implementation_rate"], self.agreed["economic"]
        covert = russia.posture >= LOOPHOLES
        deliverable = np.minimum(agreed, self.economic_capacity())
        self.labour += pace * (deliverable * covert - self.labour)
        self.tourism += pace * (self.world.border_open * self.relation("political") - self.tourism)
        projects = self.implemented["economic"]  # links follow delivered, not paper, cooperation
        link_chance = p["russia.link_rate"] * projects / self.scope
        built = (self.uniform("infrastructure") < link_chance) & (self.infrastructure < MAX_LINKS)
        self.infrastructure = self.infrastructure + built
        self.log_event("infrastructure", built)
        self.deliver_gas(projects)

    def deliver_gas(self, projects: np.ndarray) -> None:
        """Natural gas needs a pipeline, agreed in 2011 and never built: a wide, slow project.

        Names: M13 (gas under intergovernmental arrangements), M04 (resources in return for arms),
        F03 (the 2011 pipeline talks), M22 (wide agreements are slow). A modelling choice
        (docs/ODD.md §11): the article names gas, not a pipeline. Gas is not under the UN caps.
        """
        p = self.p
        new = ~self.gas_pipeline & (self.uniform("pipeline") < p["russia.pipeline_rate"] * projects)
        self.gas_pipeline = self.gas_pipeline | new
        self.log_event("pipeline", new)
        self.gas_delivered = (
            p["russia.gas_supply"] * self.implemented["economic"] * self.gas_pipeline
        )
        self.gas_total = self.gas_total + self.gas_delivered

    def banking_open(self) -> np.ndarray:
        """The share of trade that can move through banks the sanctions close (M16, M17): all of
        it with an open breach, else the share 1 − s the barter limit at strength s leaves open."""
        unlimited = 1 - np.asarray(self.p["limits.barter"], dtype=float)
        return np.where(self.russia.posture == OPEN_BREACH, 1.0, unlimited)

    def economic_capacity(self) -> np.ndarray:
        """How much economic cooperation can be delivered this quarter (0–1).

        Names: M10 (what breaches nothing can always move; covert channels must escape the
        watch), M17 (an open breach moves everything), M16 (barter carries only survival trade
        unless the DPRK pays in munitions or labour; cash needs open banking).
        """
        p, posture = self.p, self.russia.posture
        permitted = p["sanctions.permitted_share"]
        covert = permitted + (1 - permitted) * (1 - self.watch())
        by_posture = np.where(
            posture == OBSERVE, permitted, np.where(posture == LOOPHOLES, covert, 1)
        )
        barter = p["russia.barter_base"]
        paid_in_kind = barter + (1 - barter) * np.maximum(self.arms_share, self.labour)
        banked = self.banking_open()
        by_barter = banked + (1 - banked) * paid_in_kind
        return np.minimum(by_posture, by_barter)

    def update_relations(self) -> None:
        """Summits sign paper; delivery follows slowly and only as far as capacity allows.

        Names: M01 (summits track shared interest), M23 (visits as 'messages' while the US backs
        Ukraine: more summits, no delivery of their own), F03 (Table 1: no visit while the
        DPRK was closed to foreign delegations, 2020Q1–2023Q2, an input of the record), M22 (implementation is slow, the slower
        the wider the agreement), M02 (paper without delivery fades), M07 (the domains a summit
        covers), M10, M16, M17 (the economic capacity).
        """
        p, world = self.p, self.world
        si = self.shared_interest
        message = (
            p["russia.signalling"] * p["usa.ukraine_support"] * world.war * world.confrontation
        )
        both = self.russia.interest * self.dprk.interest  # shared interest²: both must want it
        # No visit crosses a border closed to foreign delegations (the 2020–2023 closure: record).
        chance = (p["russia.summit_rate"] * both + message) * world.visits_open
        summit = self.uniform("summit") < chance
        self.summit = summit
        self.summit_count += summit
        self.log_event("summit", summit)
        control = p["russia.tech_control"] * p["limits.technology"]
        agrees = {
            "political": summit,
            "defence": summit & (self.uniform("agree_defence") < self.russia.interest),
            "economic": summit & (self.uniform("agree_economic") < si),
            "technology": summit & (self.uniform("agree_technology") < si * (1 - control)),
        }
        scope = sum(a.astype(float) for a in agrees.values())
        self.scope = np.where(summit, scope, self.scope)
        rate = p["russia.implementation_rate"] / self.scope
        capacity = {"economic": self.economic_capacity()}
        for d in DOMAINS:
            agreed, done = self.agreed[d], self.implemented[d]
            reach = np.minimum(done + p["russia.paper_ambition"] * si, 1)
            agreed = np.where(agrees[d], np.maximum(agreed, reach), agreed)
            agreed = agreed - p["russia.paper_fade"] * np.maximum(agreed - done, 0)
            target = np.minimum(agreed, capacity.get(d, 1))
            gap = target - done
            done = done + np.where(gap > 0, rate, p["russia.implementation_rate"]) * gap
            self.agreed[d], self.implemented[d] = agreed, done
        if self.measure_lag:
            self._measure_implementation_lag(agrees)
        memory = p["russia.signal_memory"]
        signal = memory * self.cooperation["political"] + (1 - memory) * summit
        self.cooperation = self.delivered(signal)

    def delivered(self, signal: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The cooperation indices (0–1): delivered, never paper.

        Names: F07, F13, M04 (defence: munitions as a share of Russia's demand, and soldiers),
        M09–M14, M16 (economy: the mean of its five channels — energy, trade, labour, tourism,
        links), M08 (technology: the tier handed over), M23 (political: the signal of visits).
        """
        p = self.p
        supply = np.broadcast_to(np.asarray(p["russia.energy_supply"], float), (self.R,))
        energy = np.divide(self.oil_delivered, supply, out=np.zeros(self.R), where=supply > 0)
        channels = (
            np.minimum(energy, 1),
            self.implemented["economic"],
            self.labour,
            self.tourism,
            self.infrastructure / MAX_LINKS,
        )
        return {
            "political": self.cooperation["political"] if signal is None else signal,
            "defence": (self.arms_share + self.dprk.troops_deployed) / len(("munitions", "troops")),
            "economic": sum(channels) / len(channels),
            "technology": self.russia.tech_tier / MAX_TIER,
        }

    def _measure_implementation_lag(self, agrees: Mapping[str, np.ndarray]) -> None:
        """Quarters from a summit to half of its agreed increase implemented, by scope (M22)."""
        mask = self._pending_domains
        pending = self._pending_since >= 0
        if pending.any():
            scope = mask.sum(axis=0)
            current = sum(self.implemented[d] * mask[i] for i, d in enumerate(DOMAINS))
            current = current / np.maximum(scope, 1)
            done = pending & (current >= self._pending_goal)
            if done.any():
                lag = self.quarter_number - self._pending_since[done]
                np.add.at(self.lag_sum, scope[done], lag)
                np.add.at(self.lag_count, scope[done], 1)
                self._pending_since[done] = -1
        summit = agrees["political"]
        if summit.any():  # a summit starts a new measurement (in place: most quarters have one)
            for i, d in enumerate(DOMAINS):
                np.copyto(mask[i], agrees[d], where=summit)
            start = sum(self.implemented[d] * mask[i] for i, d in enumerate(DOMAINS))
            goal = sum(self.agreed[d] * mask[i] for i, d in enumerate(DOMAINS))
            n = np.maximum(mask.sum(axis=0), 1)
            half = (start + HALF_IMPLEMENTED * (goal - start)) / n
            np.copyto(self._pending_goal, half + LAG_TOLERANCE, where=summit)
            np.copyto(self._pending_since, self.quarter_number, where=summit)

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
            # M08, M15: production capacity as a multiple of what the DPRK's own economy makes.
            "production": _over(self.dprk.capacity, self.dprk.own_production()),
            "stockpile_ratio": np.divide(
                self.dprk.stockpile,
                self.dprk.reserve,
                out=np.full(self.R, np.inf),
                where=self.dprk.reserve > 0,
            ),
            "oil": self.oil_delivered,
            "tech_tier": russia.tech_tier,
            "posture": russia.posture,
            "cash_share": self.cash_share(),
            "tourism": self.tourism,
            "labour": self.labour,
            "china_share": self.china.trade_share,
            "troops": self.dprk.troops_deployed,
            "trade": self.trade,
            "links": self.infrastructure,
            "summit": self.summit,
            "war": self.world.war,
        }
        for key, value in row.items():
            tr[key][t] = value

    def cash_share(self) -> np.ndarray:
        """Share of Russia–DPRK trade paid in cash rather than barter (M16).

        Cash needs banking channels the sanctions close: while they are closed only the few
        accounts left carry cash (``russia.cash_base``); once open, cash grows with the trade.
        """
        base = self.p["russia.cash_base"]
        return base + (1 - base) * self.trade * self.banking_open()

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
        cd["political"] = DISPLAY_TIES["China–DPRK"]
        cd["flows"] = {"trade": self.china.trade}
        tri = self.world.trilateral
        for a, b in (("USA", "Japan"), ("USA", "ROK"), ("Japan", "ROK")):
            e = g.edges[a, b]
            e["political"] = tri
            e["defence"] = tri
        g.edges["Russia", "China"]["political"] = DISPLAY_TIES["Russia–China"]
        g.edges["Russia", "ROK"]["political"] = np.where(
            self.rok.ships_shells,
            DISPLAY_TIES["Russia–ROK after shells"],
            DISPLAY_TIES["Russia–ROK"],
        )

    # -- results ---------------------------------------------------------------------------
    def run(self) -> RussiaDPRKModel:
        """Run to the horizon and return self."""
        while self.running:
            self.step()
        return self
