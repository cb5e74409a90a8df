"""What can be observed since 2024Q4: the one declaration of observable indicators and the record.

The article was written in autumn 2024; the model's forward runs start in 2024Q4 (step 1). Users
keep a *record of observations* — a CSV ``quarter,indicator,relation,value,source`` — of what has
been seen since: shipments reported, documents signed, troops deployed, a ceasefire, links built.
This module declares, once, every indicator such a row may name (``INDICATORS``: name, kind,
unit, meaning in the world, article ids, tolerance), parses and checks a record with one-line
errors (``ObservationError``), and regenerates the per-quarter value of every indicator for every
replicate of a run (``simulate``) so that a record can be compared with each replicate.

Where the values come from. Levels named after ``sim.model.TRACKED`` are read from the model's
per-quarter trajectories; events are either derived from those (``munitions > 0``, the ceasefire
from ``war``, the summit) or read from the model's state after each quarter (the treaty, the 'next
level' document, a detected shipment, the pipeline, Seoul's shells). ``check_against_model`` verifies every source against
the model in use, so a renamed model variable shows up as one failing test, not wrong answers.

Regeneration rather than storage: replicate k of seed s is the same trajectory in any batch
(``sim.rng``), so a run directory's ``summary.json`` (seed, replicates, horizon, parameters) is
enough to rebuild every replicate's quarters exactly; ``simulate`` checks the rebuilt scenario
labels against ``runs.parquet`` when asked. Nothing here writes files.

Ids: F02 (treaty), F03 (pipeline), F06–F09, F11, F13, M01, M03, M06–M25, S1, S2.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from contract.cli import OneLineParser, UsageError
from contract.cli import run as run_command
from contract.safe import read_text
from sim.classifier import classify
from sim.model import TRACKED, RussiaDPRKModel
from sim.params import RUN_KEYS
from sim.world import FORWARD_START, quarter_index, quarter_label

RELATIONS = ("==", ">=", "<=", ">", "<")
COLUMNS = ("quarter", "indicator", "relation", "value", "source")
#: A record is a few hundred rows written by hand; these limits stop a wrong file (a database
#: dump, ``/dev/zero``) at once instead of reading it into memory.
MAX_RECORD_BYTES = 4 * 2**20
MAX_RECORD_LINES = 50_000
#: A quarter as written in a record: a four-digit year (ASCII digits), Q, 1–4.
QUARTER = re.compile(r"([0-9]{4})Q([1-4])")
#: A value: an ASCII decimal number (no thousands separators, no other scripts' digits).
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
EVENT, LEVEL = "event", "level"

Reader = Callable[[RussiaDPRKModel], np.ndarray]


@dataclass(frozen=True)
class Indicator:
    """One observable indicator: a per-quarter value for every replicate.

    ``kind`` is ``event`` (0 or 1: did it happen / is it so at the end of the quarter) or
    ``level`` (a number in ``low..high``; ``integer`` levels take whole values). ``tracked`` names
    the ``sim.model.TRACKED`` trajectory it is read from; ``state`` reads it from the model after
    each quarter; ``derive`` computes it from tracked trajectories and the parameters.
    ``tolerance`` is how far a replicate's value may miss an observed level and still count as
    consistent with it (0 for events and whole-number levels).
    """

    name: str
    kind: str
    unit: str
    meaning: str
    ids: tuple[str, ...]
    low: float = 0.0
    high: float = 1.0
    integer: bool = False
    tolerance: float = 0.0
    tracked: str | None = None
    state: Reader | None = None
    derive: Callable[[Mapping[str, np.ndarray], Mapping[str, Any]], np.ndarray] | None = None
    needs: tuple[str, ...] = ()  # tracked trajectories a derived indicator reads


def _level(name: str, unit: str, meaning: str, ids: tuple[str, ...], **kw: Any) -> Indicator:
    return Indicator(name, LEVEL, unit, meaning, ids, tracked=name, **kw)


def _event(name: str, meaning: str, ids: tuple[str, ...], **kw: Any) -> Indicator:
    return Indicator(name, EVENT, "0 = no, 1 = yes", meaning, ids, integer=True, **kw)


def _cap(p: Mapping[str, Any]) -> np.ndarray:
    return np.asarray(p["sanctions.refined_cap"], dtype=np.float64) + 1e-6


# fmt: off
INDICATORS: tuple[Indicator, ...] = (
    # --- levels recorded by the model every quarter (sim.model.TRACKED) -----------------------
    _level('confrontation', 'index 0–1', 'Russia–West confrontation (0 = the détente of the 2000s, '
           '1 = open confrontation)', ('M02', 'M25'), tolerance=0.05),
    _level('political', 'index 0–1', 'Russia–DPRK political cooperation actually implemented: '
           'visits, joint statements, documents in force', ('M07', 'M22'), tolerance=0.05),
    _level('defence', 'index 0–1', 'Russia–DPRK defence cooperation: implemented agreements plus '
           'the real flows of munitions and troops', ('M07', 'F07', 'F13'), tolerance=0.05),
    _level('economic', 'index 0–1', 'Russia–DPRK economic cooperation implemented: trade, '
           'barter, projects', ('M09', 'M16', 'M22'), tolerance=0.05),
    _level('technology', 'index 0–1', 'Russia–DPRK technology cooperation: agreements and the '
           'tier handed over', ('M08', 'M18'), tolerance=0.05),
    _level('munitions', 'thousand containers per quarter', 'artillery munitions shipped from the '
           'DPRK to Russia in the quarter (F07: ~1,000 containers in a month)', ('F07', 'M04', 'M15'),
           high=20.0, tolerance=0.5),
    _level('production', 'multiple of own production', "the DPRK's munitions production capacity "
           'as a multiple of what its own economy makes (Russian inputs raise it up to a ceiling); '
           'estimates only (e.g. the ROK defence minister on factories at full capacity)',
           ('M04', 'M08', 'M15'), high=10.0, tolerance=0.25),
    _level('stockpile_ratio', 'stockpile / reserve', "the DPRK's munitions stockpile relative to the "
           'reserve it will not ship below (1 = at the reserve; infinite with no reserve); hardly '
           'observable, estimates only', ('M15',), high=math.inf, tolerance=0.2),
    _level('oil', 'million barrels per quarter', 'refined oil products delivered by Russia to the '
           'DPRK (UN cap: 0.125 per quarter, 500,000 bbl a year)', ('F09', 'M13'), high=2.0,
           tolerance=0.02),
    _level('tech_tier', 'tier 0–4', 'highest technology handed over: 0 none, 1 civil and space, '
           '2 conventional military, 3 missile, 4 nuclear', ('M08', 'M18', 'M19'), high=4.0,
           integer=True),
    _level('posture', '0–2', "Russia's sanctions posture: 0 observes them, 1 uses loopholes, "
           '2 breaches them openly', ('M10', 'M17'), high=2.0, integer=True),
    _level('cash_share', 'share of trade', 'share of Russia–DPRK trade paid in cash rather than '
           'barter', ('M16',), tolerance=0.05),
    _level('tourism', 'index 0–1', 'Russian tourist flows to the DPRK (F08: first groups 2024-02)',
           ('F08', 'M11'), tolerance=0.05),
    _level('labour', 'index 0–1', "DPRK workers in Russia, e.g. as 'students'", ('M12',),
           tolerance=0.05),
    _level('china_share', "share of the DPRK's trade", "China's share of the DPRK's foreign trade",
           ('M06',), low=0.0, high=1.0, tolerance=0.03),
    _level('troops', '0 or 1', 'North Korean soldiers fighting for Russia (F13: Kursk)', ('F13',),
           high=1.0, integer=True),
    _level('trade', "model units (China's trade is measured in the same units)", 'Russia–DPRK '
           'trade volume in the quarter, barter and cash', ('M09', 'M16'), high=100.0,
           tolerance=0.05),
    Indicator('infrastructure_links', LEVEL, 'links 0–4', 'transport and communication links '
              'begun (bridge, rail, air, telecom)', ('M14',), high=4.0, integer=True,
              tracked='links'),
    # --- events -------------------------------------------------------------------------------
    _event('treaty_in_force', 'the 2024 comprehensive strategic partnership treaty (mutual '
           'defence) is in force', ('F02', 'M07'), state=lambda m: m.russia.defence_treaty),
    _event('next_level_document', "a 'next level' document beyond the 2024 treaty is signed",
           ('M24', 'S2'), state=lambda m: m.russia.next_level),
    _event('ceasefire', 'the war in Ukraine has ended in a ceasefire', ('M03',),
           derive=lambda tr, p: tr['war'] == 0, needs=('war',)),
    _event('summit', 'a summit-level Russia–DPRK meeting takes place in the quarter', ('M01',),
           derive=lambda tr, p: tr['summit'] > 0, needs=('summit',)),
    _event('munitions_shipped', 'the DPRK ships munitions to Russia in the quarter', ('F07', 'M04'),
           derive=lambda tr, p: tr['munitions'] > 0, needs=('munitions',)),
    _event('shipment_detected', "a covert shipment is detected and published (satellite "
           'images, US statements)', ('F07', 'M10'), state=lambda m: m.shipments_detected > 0),
    _event('oil_above_cap', 'refined oil deliveries in the quarter exceed the UN cap',
           ('F09', 'M13'), derive=lambda tr, p: tr['oil'] > _cap(p), needs=('oil',)),
    _event('open_breach', 'Russia openly sets the UN sanctions aside', ('M17', 'S1'),
           derive=lambda tr, p: tr['posture'] == 2, needs=('posture',)),
    _event('military_technology', 'militarily significant technology (tier 2 or higher) has '
           'been handed over', ('M08', 'S1'), derive=lambda tr, p: tr['tech_tier'] >= 2,
           needs=('tech_tier',)),
    _event('troops_deployed', 'North Korean soldiers fight for Russia', ('F13',),
           derive=lambda tr, p: tr['troops'] > 0, needs=('troops',)),
    _event('gas_pipeline', 'a Russia–DPRK gas pipeline has been built', ('F03', 'M13'),
           state=lambda m: m.gas_pipeline),
    _event('rok_ships_shells', 'Seoul has sent shells to Kyiv', ('F11', 'M23'),
           state=lambda m: m.rok.ships_shells),
)
# fmt: on

BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}


class ObservationError(ValueError):
    """A record row (or a command's argument) that cannot be used; the message is one line."""


@dataclass(frozen=True)
class Observation:
    """One row of a record: at the end of ``quarter``, ``indicator relation value`` was seen."""

    quarter: str
    indicator: str
    relation: str
    value: float
    source: str = ""

    @property
    def step(self) -> int:
        """Index into a trajectory: 0 is 2024Q4."""
        return quarter_index(self.quarter) - quarter_index(FORWARD_START)


# --- checking against the model ------------------------------------------------------------


def check_against_model(model: RussiaDPRKModel | None = None) -> list[str]:
    """Problems with the declaration against the model in use (empty when all is well).

    Every ``tracked`` and ``needs`` name must be in ``sim.model.TRACKED``, every ``state`` reader
    must return one value per replicate, and every tracked trajectory must be declared here (so a
    new one is documented, not silently left out).
    """
    problems = []
    for ind in INDICATORS:
        for name in (ind.tracked, *ind.needs):
            if name is not None and name not in TRACKED:
                problems.append(f"{ind.name}: {name!r} is not in sim.model.TRACKED")
    declared = {i.tracked for i in INDICATORS if i.tracked} | {
        n for i in INDICATORS for n in i.needs
    }
    problems += [
        f"TRACKED {t!r} is not declared as an indicator" for t in TRACKED if t not in declared
    ]
    model = model or RussiaDPRKModel(replicates=3, seed=1, horizon=1).run()
    for ind in INDICATORS:
        if ind.state is None:
            continue
        try:
            value = np.asarray(ind.state(model))
        except AttributeError as error:
            problems.append(f"{ind.name}: the model has no such state ({error})")
            continue
        if value.shape != (model.R,):
            problems.append(f"{ind.name}: reader returned shape {value.shape}, not ({model.R},)")
    return problems


# --- the record ---------------------------------------------------------------------------


def last_quarter(horizon: int) -> str:
    """The last quarter a run of ``horizon`` quarters reaches."""
    return quarter_label(FORWARD_START, horizon)


def _shown(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters for an error message."""
    return text if len(text) <= limit else text[:limit] + "…"


def _quarter(text: str, horizon: int | None, where: str) -> str:
    label = text.strip().upper()
    if not QUARTER.fullmatch(label):
        raise ObservationError(
            f"{where}: quarter {_shown(text)!r} is not like 2025Q2 (a four-digit year, Q, 1–4)"
        )
    if quarter_index(label) < quarter_index(FORWARD_START):
        raise ObservationError(
            f"{where}: quarter {label} is before {FORWARD_START}, where the model starts "
            "(the article was written in autumn 2024)"
        )
    if horizon is not None and quarter_index(label) > quarter_index(last_quarter(horizon)):
        raise ObservationError(
            f"{where}: quarter {label} is after the run's last quarter {last_quarter(horizon)} "
            f"(horizon {horizon})"
        )
    return label


def parse_row(
    row: Mapping[str, str], horizon: int | None = None, where: str = "row"
) -> Observation:
    """Check one record row and return it as an ``Observation``."""
    quarter = _quarter(row.get("quarter") or "", horizon, where)
    name = (row.get("indicator") or "").strip()
    if name not in BY_NAME:
        import difflib

        close = difflib.get_close_matches(name, BY_NAME, n=2) if len(name) <= 64 else []
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise ObservationError(
            f"{where}: unknown indicator {_shown(name)!r}; {hint}known: {', '.join(BY_NAME)} "
            "(python -m analysis.observations list)"
        )
    ind = BY_NAME[name]
    relation = (row.get("relation") or "").strip()
    if relation not in RELATIONS:
        raise ObservationError(
            f"{where}: relation {_shown(relation)!r} is not one of {' '.join(RELATIONS)}"
        )
    text = (row.get("value") or "").strip()
    value = float(text) if len(text) <= 40 and NUMBER.fullmatch(text) else math.nan
    text = _shown(text)
    allowed = (
        "0 or 1"
        if ind.kind == EVENT
        else f"a {'whole ' if ind.integer else ''}number in {ind.low:g}..{ind.high:g} ({ind.unit})"
    )
    if not math.isfinite(value) or not (ind.low <= value <= ind.high):
        raise ObservationError(f"{where}: {name} value {text!r} is not allowed: expected {allowed}")
    if ind.integer and value != int(value):
        raise ObservationError(f"{where}: {name} value {text!r} is not allowed: expected {allowed}")
    return Observation(quarter, name, relation, value, (row.get("source") or "").strip())


def read_record(path: str | Path, horizon: int | None = None) -> list[Observation]:
    """Read and check a record file; raise ``ObservationError`` naming the first bad line.

    UTF-8 with or without a byte-order mark, any line endings; at most ``MAX_RECORD_BYTES`` and
    ``MAX_RECORD_LINES`` (the error names the limit).
    """
    path = Path(path)
    try:
        text = read_text(
            path,
            max_bytes=MAX_RECORD_BYTES,
            max_lines=MAX_RECORD_LINES,
            what="a record of observations (CSV quarter,indicator,relation,value,source)",
        )
    except UsageError as error:
        raise ObservationError(str(error)) from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    reader = csv.DictReader(lines)
    out = []
    try:
        header = tuple(h.strip() for h in (reader.fieldnames or ()))
        if header != COLUMNS:
            shown = ",".join(header)
            shown = shown if len(shown) <= 80 else shown[:80] + "…"
            raise ObservationError(f"{path}: header {shown!r} must be {','.join(COLUMNS)}")
        for n, row in enumerate(reader, start=2):
            if None in row:
                raise ObservationError(
                    f"{path} data line {n - 1}: too many fields (quote the source)"
                )
            out.append(parse_row(row, horizon, where=f"{path} data line {n - 1}"))
    except csv.Error as error:
        line = max(reader.line_num - 1, 1)
        raise ObservationError(f"{path} data line {line}: not CSV ({error})") from None
    return out


def record_from_rows(
    rows: Iterable[Mapping[str, Any]], horizon: int | None = None
) -> list[Observation]:
    """Build a checked record from dicts (values may be numbers)."""
    return [
        parse_row({k: str(v) for k, v in row.items()}, horizon, where=f"row {i + 1}")
        for i, row in enumerate(rows)
    ]


def holds(values: np.ndarray, obs: Observation, scale: float = 1.0) -> np.ndarray:
    """Which replicates' values are consistent with ``obs`` (boolean, one per replicate).

    The tolerance (``Indicator.tolerance`` × ``scale``) widens the observation: ``==`` holds
    within ± tolerance, ``>=``/``>`` accept values down to ``value − tolerance``, ``<=``/``<`` up
    to ``value + tolerance``. Events and whole-number levels compare exactly.
    """
    tol = BY_NAME[obs.indicator].tolerance * scale
    x, v = np.asarray(values, dtype=np.float64), obs.value
    if obs.relation == "==":
        return np.abs(x - v) <= tol + 1e-9
    if obs.relation == ">=":
        return x >= v - tol - 1e-9
    if obs.relation == ">":
        return x > v - tol + 1e-9
    if obs.relation == "<=":
        return x <= v + tol + 1e-9
    return x < v + tol - 1e-9


# --- regenerating the indicators of a run ---------------------------------------------------


def needed_tracked(names: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for n in names:
        ind = BY_NAME[n]
        out |= {ind.tracked} if ind.tracked else set(ind.needs)
    return out


def simulate(
    params: Mapping[str, Any],
    *,
    seed: int,
    replicates: int | np.ndarray,
    horizon: int,
    names: Sequence[str] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Run the replicates and return ``({indicator: (horizon, R) float32}, scenario labels)``.

    ``names`` limits the indicators returned (default: all). The model is stepped here so that
    state-based events can be read after every quarter; the tracked ones come from
    ``model.trajectory``.
    """
    names = list(BY_NAME) if names is None else list(names)
    model = RussiaDPRKModel(dict(params), replicates=replicates, seed=seed, horizon=horizon)
    states = [n for n in names if BY_NAME[n].state is not None]
    out = {n: np.zeros((horizon, model.R), dtype=np.float32) for n in states}
    while model.running:
        model.step()
        t = model.steps - 1
        if t < horizon:
            for n in states:
                out[n][t] = BY_NAME[n].state(model)  # type: ignore[misc]
    assert model.trajectory is not None
    for n in names:
        ind = BY_NAME[n]
        if ind.tracked:
            out[n] = model.trajectory[ind.tracked]
        elif ind.derive is not None:
            out[n] = ind.derive(model.trajectory, model.p).astype(np.float32)
    labels = classify(model)["scenario"]
    return out, labels


#: The longest run ``python -m experiments.run`` makes (``experiments.config.MAX_HORIZON``).
MAX_HORIZON = 400

#: Replicates whose 2024Q3 state makes the persistence baseline (issue 21: the start is stochastic).
BASELINE_REPLICATES = 2000


def starting_state(
    params: Mapping[str, Any] | None = None,
    *,
    seed: int = RUN_KEYS["seed"],
    replicates: int = BASELINE_REPLICATES,
) -> dict[str, np.ndarray]:
    """Every indicator in the model's own 2024Q3 state, one value per replicate.

    This is the persistence baseline 'nothing changes from 2024Q3'. Since issue 21 each replicate
    reaches 2024Q3 through its own history, so the baseline is an ensemble too: a yes/no
    proposition holds with the share of replicates where it held in 2024Q3 (the treaty signed in
    some histories, not in others); the munitions and oil of 2024Q3 keep flowing in it.
    """
    model = RussiaDPRKModel(dict(params or {}), replicates=replicates, seed=seed, horizon=1)
    model.record()  # at step 0 this writes row -1, i.e. row 0 of a one-quarter trajectory
    assert model.trajectory is not None
    tracked = {k: v[:1].astype(np.float64) for k, v in model.trajectory.items()}
    out = {}
    for ind in INDICATORS:
        if ind.tracked:
            value = tracked[ind.tracked]
        elif ind.state is not None:
            value = np.asarray(ind.state(model), dtype=np.float64)
        else:
            assert ind.derive is not None
            value = np.asarray(ind.derive(tracked, model.p), dtype=np.float64)
        out[ind.name] = np.broadcast_to(np.ravel(value), (model.R,)).astype(np.float64)
    return out


# --- command line ---------------------------------------------------------------------------


def table_markdown() -> str:
    """The documented list of indicators as a Markdown table (docs/FORECAST.md)."""
    lines = [
        "| indicator | kind | unit / values | tolerance | what an observation means | ids |",
        "|---|---|---|---|---|---|",
    ]
    for i in INDICATORS:
        lines.append(
            f"| `{i.name}` | {i.kind} | {i.unit} | {i.tolerance:g} | {i.meaning} | "
            f"{', '.join(i.ids)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(
        prog="python -m analysis.observations",
        description="List the observable indicators or check a record of observations.",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print the indicators as a Markdown table")
    check = sub.add_parser("check", help="check a record file")
    check.add_argument("record")
    check.add_argument(
        "--horizon", type=int, default=None, help="quarters of the run (default: none)"
    )
    args = ap.parse_args(argv)
    if args.command == "list":
        print(table_markdown())
        return 0
    try:
        if args.horizon is not None and not 1 <= args.horizon <= MAX_HORIZON:
            raise ObservationError(
                f"--horizon={args.horizon} is out of range: expected 1 to {MAX_HORIZON} quarters"
            )
        record = read_record(args.record, args.horizon)
    except ObservationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for o in record:
        print(f"{o.quarter} {o.indicator} {o.relation} {o.value:g}  ({o.source})")
    print(f"{len(record)} observation(s), all valid")
    return 0


if __name__ == "__main__":
    run_command(main)  # every expected error one line, Ctrl+C and SIGTERM too
