"""The scenario classifier: S1, S2 or neither, per replicate, by the markers of docs/ODD.md §7.9.1.

The article names two futures and judges the second likelier (ARTICLE.md, Дүгнэлт). Each is
defined marker by marker from the Mongolian text (§7.9.1 quotes the line of each), on *delivered*
cooperation measured against each replicate's own 2024Q3. Defence is two channels, munitions and
troops (F13), each with its own markers:

- **S1 "the alliance expands in every field"**: the munitions trade holds into the medium term,
  arms production grows, the economy expands, militarily useful technology goes over, and Russia
  no longer keeps to the old sanctions (loopholes or open breach; no open breach required).
- **S2 "merely a message"**: a short-term burst of munitions that neither expands nor lasts, the
  DPRK not drawn further into the war, barter trade that does not expand, only non-threatening
  technology, Russia formally within the old sanctions, no 'next level' document.

Anything else is ``neither``, with its kind (no burst, lasting defence, mixed, in between); no
run is forced into S1 or S2. Horizons and thresholds are ``classifier.*`` parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents import LOOPHOLES, OPEN_BREACH

if TYPE_CHECKING:  # the model, not ``sim.model``: sim's modules import one another one way
    from mesa import Model

SCENARIOS = ("S1", "S2", "neither")
# S2-defence: "limited room to expand" — the medium-term munitions rate may not exceed 2024Q3's.
NO_EXPANSION = 1.0
# Oil above the UN cap by less than this (float32 rounding of the trajectory) is not a breach.
CAP_TOLERANCE = 1e-6
HORIZONS = ("short", "medium", "long")


def _windows(model: Model, upto: int) -> dict[str, np.ndarray]:
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


def _ratio(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """A horizon's mean over the start level (the change relative to the start, §7.9)."""
    start = np.asarray(start, dtype=np.float64)
    return np.divide(values, start, out=np.full(values.shape, np.nan), where=start > 0)


def indicators(model: Model, upto: int | None = None) -> dict[str, np.ndarray]:
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
    tier = tr["tech_tier"]
    out: dict[str, np.ndarray] = {
        "munitions_total": _time_sum(tr["munitions"]),
        "oil_total": _time_sum(tr["oil"]),
        "refined_cap_exceeded": (
            tr["oil"] > np.asarray(model.p["sanctions.refined_cap"]) + CAP_TOLERANCE
        ).any(axis=0),
        "tech_tier_max": tier.max(axis=0).astype(np.int8),
        # S1 needs the technology within the short and medium term, not in year nine.
        "tech_tier_medium": np.where(win["long"], 0, tier).max(axis=0).astype(np.int8),
        "breach_share": breach.mean(axis=0),
        "loophole_share": (tr["posture"] == LOOPHOLES).mean(axis=0),
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
        # The munitions rate of the replicate's own 2024Q3 (issue 21), the base of its ratios.
        "munitions_start": np.asarray(model.start_state["munitions_rate"], dtype=float).copy(),
        # S2-troops: soldiers sent after 2024Q4 while none were deployed the quarter before.
        "troops_redeployed": (tr["troops"][1:] > tr["troops"][:-1]).any(axis=0)
        if upto > 1
        else np.zeros(model.R, dtype=bool),
        "defence_start": np.broadcast_to(model.start_levels["defence"], (model.R,)).astype(float),
        "economic_start": np.broadcast_to(model.start_levels["economic"], (model.R,)).astype(float),
    }
    for h in HORIZONS:
        mask = win[h]
        out[f"munitions_{h}"] = _time_sum(np.where(mask, tr["munitions"], 0))
        out[f"munitions_ratio_{h}"] = _ratio(_mean(tr["munitions"], mask), out["munitions_start"])
        out[f"breach_share_{h}"] = _mean(breach, mask)
        for d in ("political", "defence", "economic", "technology"):
            out[f"{d}_{h}"] = _mean(tr[d], mask)
        out[f"defence_ratio_{h}"] = _ratio(out[f"defence_{h}"], out["defence_start"])
        out[f"economic_ratio_{h}"] = _ratio(out[f"economic_{h}"], out["economic_start"])
    out["unobserved_share_medium"] = _mean(tr["posture"] >= LOOPHOLES, win["medium"])
    out["production_ratio_medium"] = _mean(tr["production"], win["medium"])
    later = win["medium"] | win["long"]
    out["cash_share_later"] = _mean(tr["cash_share"], later)
    return out


# The order in which S2's markers are checked for ``s2_failed`` (docs/ODD.md §7.9.1).
S2_MARKERS = ("burst", "defence", "troops", "economy", "technology", "sanctions", "documents")
S1_MARKERS = ("munitions", "production", "economy", "technology", "sanctions")
NEITHER_KINDS = ("no_burst", "lasting_defence", "mixed", "in_between")


def _fallback(ind: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The long-term value of ``name``, or the medium one while the long window is still empty
    (the app's live view): NaN comparisons are False, so in the first year no marker of the
    medium term holds and every run is "neither"."""
    long, medium = ind[f"{name}_long"], ind[f"{name}_medium"]
    return np.where(np.isnan(long), medium, long)


def markers(ind: dict[str, np.ndarray], p: dict) -> dict[str, dict[str, np.ndarray]]:
    """Each S1 and S2 marker of docs/ODD.md §7.9.1, per replicate (True = the marker holds)."""
    expands = ind["economic_ratio_medium"] >= p["classifier.s1_economic_growth"]
    s1 = {
        "munitions": ind["munitions_ratio_medium"] >= p["classifier.s1_defence_ratio"],
        "production": ind["production_ratio_medium"] >= p["classifier.s1_production_ratio"],
        "economy": expands,
        "technology": ind["tech_tier_medium"] >= p["classifier.s1_tech_tier"],
        "sanctions": ind["unobserved_share_medium"] >= p["classifier.s1_unobserved_share"],
    }
    s2 = {
        "burst": ind["munitions_ratio_short"] >= p["classifier.s2_burst_ratio"],
        "defence": (ind["munitions_ratio_medium"] <= NO_EXPANSION)
        & (_fallback(ind, "munitions_ratio") <= p["classifier.s2_defence_ratio"]),
        "troops": ~ind["troops_redeployed"],
        "economy": (ind["cash_share_later"] < p["classifier.s2_cash_share"])
        & ~expands
        & ~np.isnan(ind["economic_ratio_medium"]),
        "technology": ind["tech_tier_max"] <= p["classifier.s2_tech_tier"],
        "sanctions": ind["breach_share"] <= p["classifier.s2_breach_share"],
        "documents": ~ind["next_level_signed"],
    }
    return {"S1": s1, "S2": s2}


def label(ind: dict[str, np.ndarray], p: dict) -> dict[str, np.ndarray]:
    """S1, S2 or neither, the kind of neither and the first failing S2 marker (§7.9.1)."""
    mk = markers(ind, p)
    s1 = np.logical_and.reduce([mk["S1"][k] for k in S1_MARKERS])
    s2 = np.logical_and.reduce([mk["S2"][k] for k in S2_MARKERS])
    scenario = np.where(s1, "S1", np.where(s2, "S2", "neither"))
    widening = np.logical_or.reduce([mk["S1"][k] for k in S1_MARKERS if k != "munitions"])
    kind = np.select(
        [~mk["S2"]["burst"], mk["S1"]["munitions"], widening],
        ["no_burst", "lasting_defence", "mixed"],
        "in_between",
    )
    failed = np.full(scenario.shape, "", dtype=object)
    for name in reversed(S2_MARKERS):  # the first failing marker wins
        failed = np.where(~mk["S2"][name], name, failed)
    return {
        "scenario": scenario,
        "neither_kind": np.where(scenario == "neither", kind, ""),
        "s2_failed": np.where(scenario == "S2", "", failed).astype(str),
    }


def classify(model: Model, upto: int | None = None) -> dict[str, np.ndarray]:
    """Indicators plus the ``scenario`` label (and the kind of "neither") for every replicate."""
    ind = indicators(model, upto)
    ind.update(label(ind, model.p))
    return ind


def shares(labels: np.ndarray) -> dict[str, float]:
    """Share of each scenario (they sum to 1)."""
    n = max(len(labels), 1)
    return {s: float(np.count_nonzero(labels == s)) / n for s in SCENARIOS}
