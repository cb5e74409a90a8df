"""The scenario classifier: S1, S2 or neither, per replicate.

The article names two futures and judges the second likelier (ARTICLE.md, Дүгнэлт):

- **S1 "the alliance expands in every field"**: defence and economic cooperation stay strong into
  the medium term, militarily significant technology is handed over, Russia openly sets the
  sanctions regime aside (M03–M14).
- **S2 "a message on the international stage"**: a short burst of defence cooperation that does
  not last into the long term, barter trade, Russia formally within the old sanctions, no
  advanced technology, no 'next level' document (M15–M24).

Anything else — a rupture, a mixed path — is ``neither``; no run is forced into S1 or S2.

Horizons (the article gives no lengths): short = quarters 1..``classifier.short`` (default the
first year), medium = up to ``classifier.medium`` (four years: one US and one ROK electoral
cycle), long = the rest of the horizon. Thresholds are ``classifier.*`` parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents import OPEN_BREACH

if TYPE_CHECKING:
    from sim.model import RussiaDPRKModel

SCENARIOS = ("S1", "S2", "neither")
HORIZONS = ("short", "medium", "long")


def _windows(model: RussiaDPRKModel, upto: int) -> dict[str, np.ndarray]:
    """Boolean (T, R) masks of the short, medium and long windows, cut at ``upto`` quarters."""
    p = model.p
    t = np.arange(upto)[:, None]
    short = np.asarray(p["classifier.short"])[None, ...]
    medium = np.asarray(p["classifier.medium"])[None, ...]
    masks = {"short": t < short, "medium": (t >= short) & (t < medium), "long": t >= medium}
    shape = (upto, model.R)
    return {k: np.broadcast_to(v, shape) for k, v in masks.items()}


def _time_sum(values: np.ndarray) -> np.ndarray:
    """Sum over quarters in float64, in time order, one replicate at a time.

    numpy's ``sum(axis=0)`` may pair terms differently for one column than for many, which
    would make a replicate's indicators depend (in the last bits) on its batch.
    """
    total = np.zeros(values.shape[1:], dtype=np.float64)
    for row in values:
        total += row
    return total


def _mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n = mask.sum(axis=0)
    total = _time_sum(np.where(mask, values, 0.0))
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def indicators(model: RussiaDPRKModel, upto: int | None = None) -> dict[str, np.ndarray]:
    """Per-replicate indicators over the short, medium and long horizons (CONTRACT: runs.parquet).

    ``upto`` cuts the trajectory (for the app's live shares); default: all recorded quarters.
    Indicators of state rather than trajectory (next-level document, summits, links, gas, war,
    Seoul's shells) are read at the model's current quarter, so cut at ``upto=model.steps``.
    """
    if model.trajectory is None:
        raise ValueError("the model was run with record=False: nothing to classify")
    upto = model.steps if upto is None else min(upto, model.steps)
    if upto < 1:
        raise ValueError("nothing to classify before the first quarter")
    tr = {k: v[:upto] for k, v in model.trajectory.items()}
    win = _windows(model, upto)
    breach = tr["posture"] == OPEN_BREACH
    out: dict[str, np.ndarray] = {
        "munitions_total": _time_sum(tr["munitions"]),
        "oil_total": _time_sum(tr["oil"]),
        "refined_cap_exceeded": (
            tr["oil"] > np.asarray(model.p["sanctions.refined_cap"]) + 1e-6
        ).any(axis=0),
        "tech_tier_max": tr["tech_tier"].max(axis=0).astype(np.int8),
        # S1 needs the technology within the short and medium term, not in year nine.
        "tech_tier_medium": np.where(win["long"], 0, tr["tech_tier"]).max(axis=0).astype(np.int8),
        "breach_share": breach.mean(axis=0),
        "loophole_share": (tr["posture"] == 1).mean(axis=0),
        "cash_share_long": np.zeros(model.R),
        "tourism_final": tr["tourism"][-1].astype(np.float64),
        "labour_final": tr["labour"][-1].astype(np.float64),
        "infrastructure_links": model.infrastructure.astype(np.int8),
        "gas_total": model.gas_total.copy(),
        "gas_pipeline": model.gas_pipeline.copy(),
        "troops_deployed_final": tr["troops"][-1] > 0,
        "troops_share": _time_sum(tr["troops"]) / upto,
        "next_level_signed": model.russia.next_level.copy(),
        "stockpile_min_ratio": tr["stockpile_ratio"].min(axis=0).astype(np.float64),
        "china_share_final": tr["china_share"][-1].astype(np.float64),
        "summits": model.summit_count.copy(),
        "rok_ships_shells": model.rok.ships_shells.copy(),
        "war_ended": model.world.war == 0,
    }
    for h in HORIZONS:
        mask = win[h]
        out[f"munitions_{h}"] = _time_sum(np.where(mask, tr["munitions"], 0.0))
        out[f"breach_share_{h}"] = _mean(breach, mask)
        for d in ("political", "defence", "economic", "technology"):
            out[f"{d}_{h}"] = _mean(tr[d], mask)
    cash = _mean(tr["cash_share"], win["long"])
    out["cash_share_long"] = np.where(np.isnan(cash), _mean(tr["cash_share"], win["medium"]), cash)
    return out


def label(ind: dict[str, np.ndarray], p: dict) -> np.ndarray:
    """S1, S2 or neither from the indicators and the ``classifier.*`` thresholds."""
    defence_long = np.where(
        np.isnan(ind["defence_long"]), ind["defence_medium"], ind["defence_long"]
    )
    s1 = (
        (ind["defence_medium"] >= p["classifier.s1_defence"])
        & (ind["economic_medium"] >= p["classifier.s1_economic"])
        & (ind["tech_tier_medium"] >= p["classifier.s1_tech_tier"])
        & (ind["breach_share_medium"] >= p["classifier.s1_breach_share"])
    )
    burst = ind["munitions_short"] > 0  # S2 begins with a short-term burst of defence trade
    s2 = (
        ~s1
        & burst
        & (defence_long < p["classifier.s2_defence_long"])
        & (ind["tech_tier_max"] <= p["classifier.s2_tech_tier"])
        & (ind["breach_share"] <= p["classifier.s2_breach_share"])
        & ~ind["next_level_signed"]
        & (ind["cash_share_long"] < p["classifier.s2_cash_share"])
    )
    # While a trajectory is cut short (the app's live view, ``upto``), an empty long window falls
    # back to the medium one, so a run can be provisionally S2 from quarter 5 on; NaN comparisons
    # are False, so in the first year (empty medium window) every run is "neither".
    return np.where(s1, "S1", np.where(s2, "S2", "neither"))


def classify(model: RussiaDPRKModel, upto: int | None = None) -> dict[str, np.ndarray]:
    """Indicators plus the ``scenario`` label for every replicate."""
    ind = indicators(model, upto)
    ind["scenario"] = label(ind, model.p)
    return ind


def shares(labels: np.ndarray) -> dict[str, float]:
    """Share of each scenario (they sum to 1)."""
    n = max(len(labels), 1)
    return {s: float(np.count_nonzero(labels == s)) / n for s in SCENARIOS}
