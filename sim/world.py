"""The world outside the Russia–DPRK relationship: confrontation, war, trilateral, UN regime.

Two sources of the same quarterly inputs:

- ``ForwardWorld`` (forward runs from 2024Q4): the Russia–West confrontation follows a noisy
  return to a target that falls when the war ends in a ceasefire (M02, M03, M25); the war ends
  with a constant chance per quarter; the trilateral and UN monitoring are the parameters.
- ``ReplayWorld`` (validation, 2000Q1–2024Q3): the same inputs read quarter by quarter from the
  sourced file ``sim/data/replay_inputs.csv``. Only inputs the article treats as outside the
  bilateral relationship are read; the bilateral behaviour stays model output.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model import RussiaDPRKModel

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


class ForwardWorld:
    """Stochastic world inputs for forward runs (M02, M03, M25, F01, F06)."""

    start_quarter = FORWARD_START

    def __init__(self, model: RussiaDPRKModel):
        self.model = model
        p, R = model.p, model.R
        self.confrontation = np.broadcast_to(
            np.asarray(p["world.confrontation"], float), (R,)
        ).copy()
        self.war = np.ones(R)  # the war in Ukraine is under way in autumn 2024 (M03, F13)
        self.trilateral = np.asarray(p["japan.trilateral"], float)
        self.un_monitoring = np.asarray(p["sanctions.un_monitoring"], float)
        self.border_open = 1.0
        self.sanctions_in_force = True

    def advance(self) -> None:
        """The quarter's confrontation and war.

        Names: M03 (the war raises confrontation), M02 (a ceasefire brings it down towards
        détente), M25 (a world order in flux: shocks).
        """
        m, p = self.model, self.model.p
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


@dataclass(frozen=True)
class ReplaySchedule:
    """Quarter-by-quarter inputs read from the replay file."""

    quarters: tuple[str, ...]
    columns: dict[str, np.ndarray]
    sources: tuple[str, ...]


DATA_FILE = "replay_inputs.csv"
NUMERIC = ("confrontation", "war", "trilateral", "un_resolutions", "un_monitoring", "border_open")


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


class ReplayWorld:
    """World inputs replayed from data; ``counterfactual='no_war'`` removes the 2022 war.

    Args:
        schedule: the inputs (default: ``load_schedule()``).
        counterfactual: None, or 'no_war' (no full-scale war; confrontation held at its level
            of the last pre-war quarter) to test that P3/P4 depend on the war input.
    """

    COUNTERFACTUALS = (None, "no_war")

    def __init__(self, schedule: ReplaySchedule | None = None, counterfactual: str | None = None):
        if counterfactual not in self.COUNTERFACTUALS:
            raise ValueError(
                f"counterfactual={counterfactual!r} is not known; allowed: {self.COUNTERFACTUALS}"
            )
        self.schedule = schedule or load_schedule()
        self.counterfactual = counterfactual
        self.start_quarter = self.schedule.quarters[0]
        cols = {k: v.copy() for k, v in self.schedule.columns.items()}
        if counterfactual == "no_war":
            war = cols["war"] > 0
            if war.any():
                first = int(np.argmax(war))
                cols["confrontation"][first:] = cols["confrontation"][max(first - 1, 0)]
                cols["war"][:] = 0.0
        self.columns = cols
        self.model: Any = None

    @property
    def quarters(self) -> int:
        return len(self.schedule.quarters)

    def bind(self, model: RussiaDPRKModel) -> ReplayWorld:
        if model.horizon > self.quarters:
            from sim.params import ParameterError

            raise ParameterError(
                f"horizon={model.horizon} is longer than the replay data "
                f"({self.quarters} quarters, {self.schedule.quarters[0]}–{self.schedule.quarters[-1]})"
            )
        bound = ReplayWorld.__new__(ReplayWorld)
        bound.__dict__.update(self.__dict__)
        bound.model = model
        bound._set(0)
        return bound

    def _set(self, i: int) -> None:
        R = self.model.R
        c = self.columns
        i = min(i, self.quarters - 1)
        self.confrontation = np.full(R, c["confrontation"][i])
        self.war = np.full(R, c["war"][i])
        self.trilateral = float(c["trilateral"][i])
        self.un_monitoring = float(c["un_monitoring"][i])
        self.border_open = float(c["border_open"][i])
        self.sanctions_in_force = bool(c["un_resolutions"][i] > 0)

    def advance(self) -> None:
        self._set(self.model.steps - 1)
