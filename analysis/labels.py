"""The one label map: column names and parameter keys in words, with units, and number formats.

Every table header of the reports (``analysis.report``, ``analysis.compare``, the argument), every
figure axis (``analysis.figures``) and, by import, the teaching app reads its words from here, so
one quantity is called one thing everywhere:

* :func:`header` — a column name as a short header in words with its unit
  (``ci_low`` → "95 % interval, low (%)", ``stockpile.dprk`` → "DPRK stockpile (thousand
  containers)", ``S1_share`` → "S1 share (%)");
* :func:`explain` — the longer sentence of a column for the legend under a table;
* :func:`param_label` — a model parameter in words with its unit (figure axes);
* :func:`format_p` — a p-value as a statistician writes it ("< 0.001", never "0").

A column the map does not know is returned with its underscores as spaces, never as a raw
``snake_case`` name.
"""

from __future__ import annotations

import math

from sim import params as P

__all__ = [
    "COLUMNS",
    "INDICATORS",
    "PARAM_WORDS",
    "SCENARIO_NAMES",
    "explain",
    "format_p",
    "header",
    "param_label",
]

SCENARIOS = ("S1", "S2", "neither")

#: The outcomes in the article's words (docs/ARTICLE.md, Хувилбар 1 and 2).
SCENARIO_NAMES = {
    "all": "all runs",
    "S1": "S1: the alliance expands",  # ARTICLE.md, Хувилбар 1
    "S2": "S2: a message to the West",  # ARTICLE.md, Хувилбар 2
    "neither": "neither",
}

#: What the per-quarter indicators measure, with their units (sim.model, per quarter).
INDICATORS = {
    "defence": "delivered defence cooperation (index 0–1)",
    "economic": "delivered economic cooperation (index 0–1)",
    "technology": "technology tier reached (share of the top tier, 0–1)",
    "munitions": "munitions shipped (thousand containers per quarter)",
    "oil": "oil supplied (million barrels per quarter)",
    "tourism": "tourism (index 0–1)",
    "posture": "Russia's sanctions posture (level)",
}

#: Short words for the parameters readers meet most (swept in the demo and the designs); any
#: other parameter is named from its key (``world.ceasefire_hazard`` → "world: ceasefire hazard").
PARAM_WORDS = {
    "world.confrontation": "Russia–West confrontation",
    "world.ceasefire_hazard": "ceasefire chance",
    "sanctions.enforcement": "sanctions enforcement",
    "sanctions.un_monitoring": "UN monitoring",
    "sanctions.detection": "publication of shipments",
    "stockpile.dprk": "DPRK stockpile",
    "stockpile.reserve": "DPRK reserve",
    "japan.trilateral": "US–Japan–ROK cohesion",
    "japan.surveillance": "Japanese surveillance",
}

#: column → (words, unit or ""); the unit goes in brackets after the words.
COLUMNS: dict[str, tuple[str, str]] = {
    "scenario": ("scenario", ""),
    "job": ("job", ""),
    "point": ("design point", ""),
    "n": ("runs", ""),
    "count": ("runs in the scenario", ""),
    "share": ("share", "%"),
    "ci_low": ("95 % interval, low", "%"),
    "ci_high": ("95 % interval, high", "%"),
    "munitions_total_mean": ("munitions shipped, mean", "thousand containers"),
    "defence_long_mean": ("defence cooperation, long term, mean", "index 0–1"),
    "economic_medium_mean": ("economic cooperation, medium term, mean", "index 0–1"),
    "tech_tier_max_mean": ("highest technology tier, mean", "tier"),
    "breach_share_mean": ("quarters in open breach, mean", "share 0–1"),
    "parameter": ("parameter", ""),
    "value": ("value", ""),
    "output": ("output", ""),
    "S1_conf": ("first-order index, ± 95 %", ""),
    "ST": ("total index", ""),
    "ST_conf": ("total index, ± 95 %", ""),
    "ST_S1": ("total index for P(S1)", ""),
    "ST_S2": ("total index for P(S2)", ""),
    "ST_S1_conf": ("total index for P(S1), ± 95 %", ""),
    "ST_S2_conf": ("total index for P(S2), ± 95 %", ""),
    "rank_S1": ("rank for P(S1)", ""),
    "rank_S2": ("rank for P(S2)", ""),
    "low": ("box from", ""),
    "high": ("box to", ""),
    "tested": ("values tested", ""),
    "in_box": ("values in the box", ""),
    "coverage": ("coverage", "share 0–1"),
    "density": ("density", "share 0–1"),
    "mass": ("mass", "share 0–1"),
    "res_dim": ("parameters restricted", ""),
    "step": ("step", ""),
    "drives": ("drives", ""),
    "tree": ("decision tree", ""),
    "mu_star": ("μ*", ""),
    "mu_star_conf": ("μ*, ± 95 %", ""),
    "sigma": ("σ", ""),
    "row": ("row", ""),
    "reference": ("read against", ""),
    "overrides": ("what it sets", ""),
    "why": ("why, in the article's words", ""),
    "no_burst": ("no short-term burst", "%"),
    "lasting_defence": ("lasting defence", "%"),
    "mixed": ("mixed", "%"),
    "in_between": ("in between", "%"),
    "quarter": ("quarter", ""),
    "events": ("events scored", ""),
    "levels": ("levels scored", ""),
    "brier": ("Brier score", ""),
    "crps": ("CRPS", "indicator's unit"),
    "coverage50": ("in the 50 % interval", "share 0–1"),
    "coverage90": ("in the 90 % interval", "share 0–1"),
    "share_a": ("share in A", "%"),
    "share_b": ("share in B", "%"),
    "p_value": ("p", ""),
    "p_adjusted": ("p (Holm)", ""),
    "significant": ("significant", ""),
    "cohens_h": ("Cohen's h", ""),
    "test": ("test", ""),
    "n_a": ("runs in A", ""),
    "n_b": ("runs in B", ""),
    "b_only": ("pairs only B in it", ""),
    "a_only": ("pairs only A in it", ""),
    "prior_share": ("share before the record", "%"),
    "ensemble": ("ensemble", ""),
    "definitions": ("classifier definitions", ""),
    "share_s2_above_s1": ("definitions with S2 > S1", "share 0–1"),
    "min": ("lowest share", "0–1"),
    "median": ("median share", "0–1"),
    "max": ("highest share", "0–1"),
}

#: What the columns mean, for the legend under a table ("the scenario" is replaced by S1 etc.).
EXPLAIN = {
    "job": "job directory of the cell inside the sweep folder (0, 1, …)",
    "point": "index of the design point",
    "n": "replicate runs in the cell",
    "count": "runs that ended in the scenario",
    "share": "share of runs that ended in the scenario",
    "ci_low": "lower end of the Wilson 95 % interval of the share",
    "ci_high": "upper end of the Wilson 95 % interval of the share",
    "munitions_total_mean": "mean over the runs of the munitions shipped DPRK→Russia over the "
    "horizon (thousand containers, F07)",
    "defence_long_mean": "mean delivered defence cooperation in the long term (index 0–1)",
    "economic_medium_mean": "mean delivered economic cooperation in the medium term (index 0–1)",
    "tech_tier_max_mean": "mean of the highest technology tier Russia transferred (tier number, "
    "M18)",
    "breach_share_mean": "mean share of quarters in which Russia openly breached the UN "
    "sanctions (0–1, M17)",
    "parameter": "the model parameter",
    "value": "the parameter's value (a bin midpoint for a sampled design)",
    "output": "the model output the index is about",
    "S1_conf": "95 % half-width of the first-order index",
    "ST": "total Sobol' index (share of the output's variance due to the parameter, "
    "interactions included)",
    "ST_conf": "95 % half-width of the total index",
    "low": "lower limit of the box",
    "high": "upper limit of the box",
    "tested": "every value of the parameter the sweep ran",
    "in_box": "the tested values inside the box (a grid's box holds tested values only)",
    "coverage": "share of all cases of interest that fall inside the box",
    "density": "share of the points inside the box that are cases of interest",
    "mass": "share of all points inside the box",
    "res_dim": "number of parameters the box restricts",
    "step": "step on the peeling trajectory",
    "drives": "the scenario whose total index is clearly larger",
}


def _unit(words: str, unit: str) -> str:
    return f"{words} ({unit})" if unit else words


def param_label(key: str) -> str:
    """A model parameter in words with its unit: ``stockpile.dprk`` → "DPRK stockpile (thousand
    containers)"; a key not in ``sim.params`` is returned in words without a unit."""
    param = P.BY_KEY.get(key)
    if key in PARAM_WORDS:
        words = PARAM_WORDS[key]
    elif "." in key:
        group, name = key.split(".", 1)
        words = f"{group}: {name.replace('_', ' ')}"
    else:
        words = key.replace("_", " ")
    unit = param.unit if param is not None and param.unit not in ("on/off",) else ""
    return _unit(words, unit)


def header(column: str) -> str:
    """A column name as a table header in words with its unit (see the module docstring)."""
    column = str(column)
    if column in P.BY_KEY:
        return param_label(column)
    if column in COLUMNS:
        return _unit(*COLUMNS[column])
    for s in SCENARIOS:
        rest = column[len(s) + 1 :]
        if column.startswith(f"{s}_") and rest in COLUMNS:
            words, unit = COLUMNS[rest]
            if rest == "count":
                return f"runs in {s}"
            if rest == "share":
                return _unit(f"{s} share", unit)
            return _unit(f"{s} {words}", unit)
    if column.startswith("neither_") or column.startswith("s2_failed_"):
        return column.replace("s2_failed_", "S2 fails: ").replace("_", " ")
    return column.replace("_", " ")


def explain(column: str) -> str | None:
    """The legend sentence of a column, or None when its header says all there is."""
    column = str(column)
    if column in P.BY_KEY:
        param = P.BY_KEY[column]
        return f"{column}: {param.meaning} ({param.unit}; {', '.join(param.ids)})"
    if column in EXPLAIN:
        return EXPLAIN[column]
    for s in SCENARIOS:
        rest = column[len(s) + 1 :]
        if column.startswith(f"{s}_") and rest in EXPLAIN:
            return EXPLAIN[rest].replace("the scenario", s)
    return None


def format_p(p: float, digits: int = 3) -> str:
    """A p-value as a statistician writes it: "< 0.001" below 0.001, never "0"; "–" if missing."""
    if p is None or not math.isfinite(float(p)):
        return "–"
    p = float(p)
    floor = 10.0**-digits
    if p < floor:
        return f"< {floor:.{digits}f}"
    return f"{p:.{digits}f}" if p < 0.995 else "1.00"
