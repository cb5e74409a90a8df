"""Precomputed ensembles revealed quarter by quarter, shared by every session of the app.

A class of thirty students stepping their own 1,000-replicate ensembles at once would make the
server run thirty models and thirty classifications per click on two cores. Instead, pressing
Reset asks :func:`ensemble_run` for the run of those settings: the first session that asks runs
``RussiaDPRKModel`` to the horizon once (about 0.1 s for 1,000 replicates) and keeps, for every
quarter k, what the panels show at k — the scenario shares of ``classify(model, upto=k)`` with
Wilson intervals (S1, S2; the article's two futures), the ensemble bands of the key flows, the
network's mean cooperation and flows, and the highlighted run's events. Step then only reveals
quarter k + 1. Every later session with the same settings and seed shares that :class:`Run`
(an LRU cache of ``CACHE_SIZE`` runs, keyed by the settings, seed, replicates and horizon).

Nothing is lost by precomputing: the model's randomness is keyed by (seed, replicate, quarter,
draw) (``sim.rng``) and ``classify(model, upto=k)`` reads quarters 1..k only, so quarter k of a
precomputed run is what a model stepped k times shows (``tests/test_teach_app.py`` checks it).
The panels never show anything of a quarter after k.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.stats import proportion_ci
from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import DOMAINS, RussiaDPRKModel

#: The key flows of the time-series panel (catalogue keys flow.<name>).
FLOWS = ("munitions", "oil", "tech_tier", "trade", "tourism")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
CACHE_SIZE = 64

Settings = tuple[tuple[str, Any], ...]


def settings_key(values: dict[str, Any]) -> Settings:
    """A hashable, validated form of parameter values (dotted keys), sorted by key.

    Every value goes through ``sim.params`` (``Param.resolve``): a wrong key or value raises
    ``ParameterError`` naming it and what is allowed.
    """
    out = []
    for key, value in sorted(values.items()):
        if key not in P.BY_KEY:
            raise P.ParameterError(f"unknown parameter {key!r}: {P.suggest(key)}")
        out.append((key, P.BY_KEY[key].resolve(value)))
    P.resolve(dict(out))  # cross-parameter checks
    return tuple(out)


@dataclass
class Quarter:
    """What the panels show at one quarter k (1..horizon) of a run."""

    step: int
    label: str  # calendar quarter, e.g. 2025Q3
    shares: dict[str, tuple[float, float, float]]  # scenario → (share, Wilson low, high)
    edges: list[dict[str, Any]]  # network: a, b, mean cooperation by domain, mean flows


@dataclass
class Run:
    """One precomputed ensemble: settings, calendar, per-quarter summaries, bands and events."""

    settings: Settings
    seed: int
    replicates: int
    horizon: int
    start_quarter: str
    medium_start: int  # first quarter of the classifier's medium term
    quarters: list[Quarter]
    bands: dict[str, np.ndarray]  # flow → (len(QUANTILES), horizon) quantiles over replicates
    highlight: dict[str, np.ndarray]  # flow → (horizon,) the highlighted replicate
    events: list[dict[str, Any]]  # the highlighted replicate's events (model.events)
    start_edges: list[dict[str, Any]]
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)  # rendered texts/specs
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def at(self, step: int) -> Quarter | None:
        """The summary at quarter ``step`` (None before the first quarter)."""
        return self.quarters[step - 1] if step >= 1 else None

    def events_upto(self, step: int) -> list[dict[str, Any]]:
        """Events of quarters 1..step only (nothing of the future is revealed)."""
        return [e for e in self.events if e["step"] <= step]

    def memo(self, key: Any, make: Any) -> Any:
        """``make()`` once per key for this run (texts and chart specs shared by sessions)."""
        with self.lock:
            if key not in self.cache:
                self.cache[key] = make()
            return self.cache[key]


def _flows(model: RussiaDPRKModel) -> dict[str, np.ndarray]:
    tr = model.trajectory
    return {
        "munitions": tr["munitions"],
        "oil": tr["oil"],
        "tech_tier": tr["tech_tier"],
        "trade": tr["trade"] if "trade" in tr else _trade_from_economic(model, tr["economic"]),
        "tourism": tr["tourism"],
    }


def _trade_from_economic(model: RussiaDPRKModel, economic: np.ndarray) -> np.ndarray:
    """Trade of a model that tracks economic cooperation but not trade itself."""
    return np.asarray(type(model).russia_trade_at(economic))


def _edges(model: RussiaDPRKModel) -> list[dict[str, Any]]:
    out = []
    for a, b, data in model.relations.edges(data=True):
        out.append(
            {
                "a": a,
                "b": b,
                "domains": {d: float(np.mean(data[d])) for d in DOMAINS},
                "flows": {name: float(np.mean(v)) for name, v in (data.get("flows") or {}).items()},
            }
        )
    return out


def compute_run(settings: Settings, seed: int, replicates: int, horizon: int) -> Run:
    """Run the ensemble to the horizon and keep what every quarter shows."""
    model = RussiaDPRKModel(replicates=replicates, seed=seed, horizon=horizon, **dict(settings))
    start_edges = _edges(model)
    quarters = []
    for _ in range(horizon):
        model.step()
        k = model.steps
        labels = classify(model, upto=k)["scenario"]
        counts = np.array([np.count_nonzero(labels == s) for s in SCENARIOS])
        low, high = proportion_ci(counts, model.R)
        shares = {
            s: (float(counts[i] / model.R), float(low[i]), float(high[i]))
            for i, s in enumerate(SCENARIOS)
        }
        quarters.append(Quarter(k, model.quarter, shares, _edges(model)))
    flows = _flows(model)
    h = model.highlight
    return Run(
        settings=settings,
        seed=seed,
        replicates=model.R,
        horizon=horizon,
        start_quarter=model.start_quarter,
        medium_start=int(np.max(model.p["classifier.short"])) + 1,
        quarters=quarters,
        bands={k: np.quantile(v, QUANTILES, axis=1) for k, v in flows.items()},
        highlight={k: v[:, h].astype(float) for k, v in flows.items()},
        events=list(model.events),
        start_edges=start_edges,
    )


class RunCache:
    """An LRU cache of runs; one computation per key even when many sessions ask at once."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._runs: OrderedDict[tuple, Run] = OrderedDict()
        self._pending: dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self.computed = 0  # how many runs were computed (the rest were shared)

    def get(self, settings: Settings, seed: int, replicates: int, horizon: int) -> Run:
        key = (settings, seed, replicates, horizon)
        while True:
            with self._lock:
                if key in self._runs:
                    self._runs.move_to_end(key)
                    return self._runs[key]
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()
        try:
            run = compute_run(settings, seed, replicates, horizon)
            with self._lock:
                self._runs[key] = run
                self.computed += 1
                while len(self._runs) > self.size:
                    self._runs.popitem(last=False)
            return run
        finally:
            with self._lock:
                self._pending.pop(key).set()


CACHE = RunCache()


def ensemble_run(values: dict[str, Any], seed: int, replicates: int, horizon: int) -> Run:
    """The (shared) precomputed run of these parameter values."""
    return CACHE.get(settings_key(values), seed, replicates, horizon)


def slider_step(param: P.Param) -> float:
    """A round step giving about 100 slider positions over the declared range."""
    if param.kind is int:
        return 1
    return 10.0 ** math.floor(math.log10((param.high - param.low) / 100.0))
