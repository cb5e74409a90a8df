"""The world outside the Russia–DPRK relationship: confrontation, war, trilateral, UN regime.

One world, one history (issue 21). Every run starts in 2000Q1. Up to 2024Q3 the quarterly inputs
are read from the sourced file ``sim/data/replay_inputs.csv`` (``History``); from 2024Q4 on they
follow the forward assumptions (``World.advance``): the Russia–West confrontation returns, with
shocks, to a target that falls when the war ends in a ceasefire (M02, M03, M25); the war ends
with a constant chance per quarter; the trilateral and UN monitoring are the parameters. Only
inputs the article treats as outside the bilateral relationship are read from the record; the
bilateral behaviour stays model output, so a forward run continues its own past.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the model, not ``sim.model``: sim's modules import one another one way
    from mesa import Model

HISTORY_START = "2000Q1"
FORWARD_START = "2024Q4"
QUARTERS_PER_YEAR = 4


def quarter_index(label: str) -> int:
    """'2024Q4' -> 2024 * 4 + 3."""
    year, q = label.upper().split("Q")
    return int(year) * QUARTERS_PER_YEAR + int(q) - 1


def quarter_label(start: str, steps: int) -> str:
    """Label of the quarter reached after ``steps`` steps from ``start`` (step 1 is ``start``)."""
    i = quarter_index(start) + steps - 1
    return f"{i // QUARTERS_PER_YEAR}Q{i % QUARTERS_PER_YEAR + 1}"


@dataclass(frozen=True)
class ReplaySchedule:
    """Quarter-by-quarter inputs read from the replay file."""

    quarters: tuple[str, ...]
    columns: dict[str, np.ndarray]
    sources: tuple[str, ...]


DATA_FILE = "replay_inputs.csv"
NUMERIC = (
    "confrontation",
    "war",
    "trilateral",
    "un_resolutions",
    "un_monitoring",
    "border_open",
    "visits_open",
)


def load_schedule(path: str | Path | None = None) -> ReplaySchedule:
    """Read the replay inputs (default: the file shipped in ``sim/data``)."""
    if path is None:
        text = resources.files("sim").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    columns = {c: np.array([float(r[c]) for r in rows]) for c in NUMERIC}
    return ReplaySchedule(
        tuple(r["quarter"] for r in rows), columns, tuple(r.get("source", "") for r in rows)
    )


class History:
    """The record's inputs 2000Q1–2024Q3; ``counterfactual='no_war'`` removes the 2022 war.

    Args:
        schedule: the inputs (default: ``load_schedule()``).
        counterfactual: None, or 'no_war' (no full-scale war; confrontation held at its level
            of the last pre-war quarter) to test that the munitions flow and the treaty depend
            on the war input. A counterfactual history also changes the forward start.
    """

    COUNTERFACTUALS = (None, "no_war")

    def __init__(self, schedule: ReplaySchedule | None = None, counterfactual: str | None = None):
        if counterfactual not in self.COUNTERFACTUALS:
            raise ValueError(
                f"counterfactual={counterfactual!r} is not known; allowed: {self.COUNTERFACTUALS}"
            )
        self.schedule = schedule or load_schedule()
        self.counterfactual = counterfactual
        cols = {k: v.copy() for k, v in self.schedule.columns.items()}
        if counterfactual == "no_war":
            war = cols["war"] > 0
            if war.any():
                first = int(np.argmax(war))
                cols["confrontation"][first:] = cols["confrontation"][max(first - 1, 0)]
                cols["war"][:] = 0.0
        self.columns = cols
        self.start_quarter = self.schedule.quarters[0]
        last = quarter_label(FORWARD_START, 0)
        if self.start_quarter != HISTORY_START or self.schedule.quarters[-1] != last:
            raise ValueError(
                f"the history must run from {HISTORY_START} to {last}, not "
                f"{self.start_quarter}–{self.schedule.quarters[-1]}"
            )

    @property
    def quarters(self) -> int:
        return len(self.schedule.quarters)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.schedule.quarters


_DEFAULT_HISTORY: list[History] = []


def default_history() -> History:
    """The shipped record's history, read once per process."""
    if not _DEFAULT_HISTORY:
        _DEFAULT_HISTORY.append(History())
    return _DEFAULT_HISTORY[0]


class World:
    """The quarter's world inputs: read from the history, then forward (M02, M03, M25, F01, F06).

    ``advance`` is called once a quarter with the quarter's number counted from 2000Q1 (1 is
    2000Q1). Quarters the history covers read its row; later quarters continue from the last
    state: the confrontation from its recorded 2024Q3 level, the war as it was.
    """

    def __init__(self, model: Model, history: History):
        self.model = model
        self.history = history
        self._set(0)

    @property
    def quarters(self) -> int:
        """Quarters of history before the forward part."""
        return self.history.quarters

    def _set(self, i: int) -> None:
        R, c = self.model.R, self.history.columns
        self.confrontation = np.full(R, c["confrontation"][i])
        self.war = np.full(R, c["war"][i])
        self.trilateral = float(c["trilateral"][i])
        self.un_monitoring = float(c["un_monitoring"][i])
        self.border_open = float(c["border_open"][i])
        self.visits_open = float(c["visits_open"][i])
        self.after_record = 0.0  # a quarter of the record
        self.sanctions_in_force = bool(c["un_resolutions"][i] > 0)

    def advance(self, quarter: int) -> None:
        """Set the inputs of quarter ``quarter`` (1 = 2000Q1)."""
        if quarter <= self.quarters:
            self._set(quarter - 1)
        else:
            self.forward()

    def forward(self) -> None:
        """A forward quarter's confrontation and war; the trilateral and monitoring as assumed.

        Names: M03 (the war raises confrontation), M02 (a ceasefire brings it down towards
        détente), M25 (a world order in flux: shocks), F01 (the trilateral), F06 (monitoring).
        """
        m, p = self.model, self.model.p
        self.trilateral = np.asarray(p["japan.trilateral"], float)
        self.un_monitoring = np.asarray(p["sanctions.un_monitoring"], float)
        self.border_open = 1.0
        self.visits_open = 1.0
        self.after_record = 1.0  # a quarter after the record: the forward assumptions hold
        self.sanctions_in_force = True
        ceasefire = m.uniform("ceasefire") < p["world.ceasefire_hazard"]
        ended = (self.war > 0) & ceasefire
        self.war = np.where(ended, 0.0, self.war)
        m.log_event("ceasefire", ended)
        target = np.clip(
            p["world.confrontation"] - p["world.ceasefire_relief"] * (1 - self.war), 0, 1
        )
        gap = p["world.persistence"] * (self.confrontation - target)
        shock = p["world.volatility"] * m.normal("confrontation")
        self.confrontation = np.clip(target + gap + shock, 0.0, 1.0)
