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

With ``experiments.teach --workers N`` (default 1) new runs are computed in worker processes
(:class:`Workers`, forked from a preloaded fork server), so the server's interpreter stays free
to render and send pages while a class presses Reset, and a second core is used.

Memory goes back after a class: a run nobody asked for in ``idle_seconds`` (the server's
``--session-timeout``, after which Solara closes the sessions that held it) leaves the cache,
idle workers end (with the histories they kept), and a janitor thread collects the garbage and
hands freed heap back to the system (``malloc_trim``), so the server returns to its pre-class
size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import gc
import math
import multiprocessing
import os
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
IDLE_SECONDS = float(os.environ.get("RUDPRK_TEACH_SESSION_TIMEOUT", "120"))
#: Worker processes that compute new runs (``experiments.teach --workers``); 0: in the thread of
#: the session that asked. Workers keep the server's interpreter free to render and send while a
#: run is computed, and use the second core.
WORKERS_ENV = "RUDPRK_TEACH_WORKERS"

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
    highlight: tuple[str, str] = ("neither", "")  # the highlighted run's scenario and kind


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
        classified = classify(model, upto=k)
        labels = classified["scenario"]
        kinds = classified.get("neither_kind", np.full(labels.shape, ""))
        counts = np.array([np.count_nonzero(labels == s) for s in SCENARIOS])
        low, high = proportion_ci(counts, model.R)
        shares = {
            s: (float(counts[i] / model.R), float(low[i]), float(high[i]))
            for i, s in enumerate(SCENARIOS)
        }
        h = model.highlight
        mine = (str(labels[h]), str(kinds[h]))
        quarters.append(Quarter(k, model.quarter, shares, _edges(model), mine))
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


def _run_fields(settings: Settings, seed: int, replicates: int, horizon: int) -> dict[str, Any]:
    """:func:`compute_run` in a worker process: the run's fields (a lock does not pickle)."""
    run = compute_run(settings, seed, replicates, horizon)
    return {
        f.name: getattr(run, f.name)
        for f in dataclasses.fields(run)
        if f.name not in ("cache", "lock")
    }


class Workers:
    """A small pool of processes that compute runs (forked from a preloaded server of forks)."""

    def __init__(self, count: int):
        self.count = count
        self.last_used = time.monotonic()
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["experiments.app.warm"])
                self._pool = ProcessPoolExecutor(self.count, mp_context=context)
            return self._pool

    def stop(self) -> None:
        """End the worker processes (and their memory); the next run starts them again."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=False)

    def compute(self, settings: Settings, seed: int, replicates: int, horizon: int) -> Run:
        """The run, computed in a worker; in this thread if the pool broke (a worker died)."""
        self.last_used = time.monotonic()
        try:
            future = self._executor().submit(_run_fields, settings, seed, replicates, horizon)
            return Run(**future.result())
        except BrokenProcessPool:
            with self._lock:
                self._pool = None
            return compute_run(settings, seed, replicates, horizon)


def _workers_from_environment() -> Workers | None:
    count = int(os.environ.get(WORKERS_ENV, "0") or 0)
    return Workers(count) if count > 0 else None


class RunCache:
    """An LRU cache of runs; one computation per key even when many sessions ask at once."""

    def __init__(
        self,
        size: int = CACHE_SIZE,
        idle_seconds: float = IDLE_SECONDS,
        workers: Workers | None = None,
    ):
        self.size = size
        self.workers = workers
        self.idle_seconds = idle_seconds
        self._runs: OrderedDict[tuple, Run] = OrderedDict()
        self._used: dict[tuple, float] = {}  # key -> monotonic time it was last asked for
        self._pending: dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self._janitor: threading.Thread | None = None
        self.computed = 0  # how many runs were computed (the rest were shared)

    def __len__(self) -> int:
        return len(self._runs)

    def drop_idle(self, now: float | None = None) -> int:
        """Drop the runs nobody asked for in ``idle_seconds``; returns how many went.

        A session still showing one keeps it alive by its own reference; only the cache lets go.
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [k for k in self._runs if now - self._used.get(k, now) > self.idle_seconds]
            for key in idle:
                del self._runs[key]
                self._used.pop(key, None)
        return len(idle)

    def report(self, dropped: int) -> None:
        """With ``RUDPRK_TEACH_TIMINGS`` set (the load test), one JSON line per janitor round:
        runs dropped and kept, live page sessions, the server's resident memory."""
        path = os.environ.get("RUDPRK_TEACH_TIMINGS")
        if not path:
            return
        import json

        try:
            from solara.server import kernel_context

            sessions = len(kernel_context.contexts)
        except ImportError:
            sessions = -1
        with open("/proc/self/statm", encoding="ascii") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        line = {"at": time.time(), "kind": "janitor", "dropped": dropped, "runs": len(self)}
        line.update(sessions=sessions, rss_mib=round(rss, 1), gc_objects=len(gc.get_objects()))
        names: dict[str, int] = {}
        for thread in threading.enumerate():
            stem = thread.name.split("-")[0].split(" ")[0]
            names[stem] = names.get(stem, 0) + 1
        line.update(blocks=sys.getallocatedblocks(), threads=names)
        try:
            import ipywidgets

            line["widgets"] = len(ipywidgets.Widget.widgets)
        except (ImportError, TypeError):
            pass
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    def _start_janitor(self) -> None:
        """Every so often: drop idle runs, collect garbage, return freed heap to the system."""
        if self._janitor is not None:
            return
        period = max(2.0, min(30.0, self.idle_seconds / 4))

        def loop() -> None:
            while True:
                time.sleep(period)
                dropped = self.drop_idle()
                if dropped:
                    gc.collect()
                workers = self.workers
                if workers is not None and time.monotonic() - workers.last_used > self.idle_seconds:
                    workers.stop()  # a worker's histories and heap go with it
                release_memory()
                self.report(dropped)

        self._janitor = threading.Thread(target=loop, name="run-cache-janitor", daemon=True)
        self._janitor.start()

    def get(self, settings: Settings, seed: int, replicates: int, horizon: int) -> Run:
        key = (settings, seed, replicates, horizon)
        while True:
            with self._lock:
                self._start_janitor()
                if key in self._runs:
                    self._runs.move_to_end(key)
                    self._used[key] = time.monotonic()
                    return self._runs[key]
                waiting = self._pending.get(key)
                if waiting is None:
                    self._pending[key] = threading.Event()
                    break
            waiting.wait()
        try:
            if self.workers is not None:
                run = self.workers.compute(settings, seed, replicates, horizon)
            else:
                run = compute_run(settings, seed, replicates, horizon)
            with self._lock:
                self._runs[key] = run
                self._used[key] = time.monotonic()
                self.computed += 1
                while len(self._runs) > self.size:
                    old, _ = self._runs.popitem(last=False)
                    self._used.pop(old, None)
            return run
        finally:
            with self._lock:
                self._pending.pop(key).set()


_LIBC: list[Any] = []


def release_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc ``malloc_trim``; elsewhere a
    no-op): without it the server's resident size stays at its peak after a class."""
    if not _LIBC:
        name = ctypes.util.find_library("c")
        try:
            _LIBC.append(ctypes.CDLL(name) if name else None)
        except OSError:
            _LIBC.append(None)
    libc = _LIBC[0]
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


CACHE = RunCache(workers=_workers_from_environment())


def ensemble_run(values: dict[str, Any], seed: int, replicates: int, horizon: int) -> Run:
    """The (shared) precomputed run of these parameter values."""
    return CACHE.get(settings_key(values), seed, replicates, horizon)


def slider_step(param: P.Param) -> float:
    """A round step giving about 100 slider positions over the declared range."""
    if param.kind is int:
        return 1
    return 10.0 ** math.floor(math.log10((param.high - param.low) / 100.0))
