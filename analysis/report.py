"""``python -m analysis.report DIR [--out OUTDIR]``: a report on a run or a sweep for a memo.

Writes into ``OUTDIR`` (default ``RESULT/report``):

* ``report.html`` — self-contained (figures inline as SVG, CSS inline, no external URL, so it
  opens offline). Its first screen answers the question: a headline paragraph generated from the
  numbers (the most common scenario with its share and Wilson 95 % interval; the parameters that
  move S1 and S2 most, from the marginal effects of a grid or the Sobol' indices of a design; the
  conditions under which S1 wins, from scenario discovery), then the provenance (seed, config
  hash, model version, command), then the figures, then the tables (wide ones scroll inside their
  own box; a legend explains every column);
* ``figures/*.png`` and ``figures/*.svg`` — each figure in both formats;
* ``tables/*.csv`` and ``tables/*.md`` — each table in both formats.

Figures: for a sweep, heat maps of P(S1), P(S2) and P(neither) over two swept parameters faceted
by a third (one colour scale per scenario across its panels), the marginal effect of each swept
parameter, the PRIM boxes of S1 and S2 against the full parameter ranges; for a sampled design
(``sweep.json`` kind ``"design"``) also Sobol' indices and the PRIM peeling trajectory; for
every result, fan charts of key indicators split by scenario. Every axis carries its unit.

``DIR`` may also be a folder holding exactly one run or sweep (e.g. ``multirun/demo`` above its
time-stamped run): it is used; with several, the command lists them and stops. Everything is
computed and rendered before the first file is written, so a failure leaves no half-written
report; each file is written atomically. A replay directory is handed to
``analysis.replay_report.main``. A folder written by ``python -m experiments.argument`` or
``python -m experiments.robustness`` gets their tables and figures (``argument_sections``; also
added to a run's report when its folder holds them). A directory that is none of these ends with
exit status 2 and one message.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import api, figures, forecast, labels
from analysis import results as R
from analysis.compare import markdown_table
from analysis.discovery import PrimResult, prim_box
from analysis.html import page
from analysis.stats import SCENARIO_LABELS
from analysis.stats import scenario_table as scenario_stats
from sim import params as P

__all__ = ["Report", "build", "find_result", "headline", "main"]

#: Indicators shown as fan charts (recorded by experiments.runner.FAN_INDICATORS).
FAN_INDICATORS = ("defence", "economic", "technology", "munitions")
#: Cells listed in the HTML page (all of them go to the CSV/Markdown files).
HTML_MAX_ROWS = 60
#: The scenarios in the article's words (docs/ARTICLE.md, Хувилбар 1 and 2; ``analysis.labels``).
SCENARIO_WORDS = {
    "S1": f"S1 ({labels.SCENARIO_NAMES['S1'].split(': ', 1)[1]})",
    "S2": f"S2 ({labels.SCENARIO_NAMES['S2'].split(': ', 1)[1]})",
    "neither": "neither (a run that fits neither S1 nor S2)",
}
#: What the columns mean: the one label map (``analysis.labels``).
COLUMN_LEGEND = labels.EXPLAIN


@dataclass
class Report:
    """Everything a report holds, in memory, in the order of the page."""

    title: str
    headline: list[str] = field(default_factory=list)
    provenance: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[Any]]] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    html_tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # shown instead, if set

    def section(self, heading: str) -> list[Any]:
        items: list[Any] = []
        self.sections.append((heading, items))
        return items


@dataclass
class _Fig:
    name: str
    caption: str


@dataclass
class _Table:
    name: str
    caption: str
    html_rows: int = HTML_MAX_ROWS


@dataclass
class _Pre:
    text: str


@dataclass
class _Image:
    """A picture made elsewhere (not from this run), shown as it is."""

    name: str
    caption: str
    png: bytes


#: The project's map of the design card's two levers (issue 22), made by ``python -m
#: analysis.hedges`` and kept with the docs (``scripts/docs_numbers.py`` copies it there).
LEVERS_FIGURE = Path(__file__).resolve().parents[1] / "docs" / "figures" / "levers.png"


def _levers_section(rep: Report) -> None:
    """The map of sanctions enforcement × the DPRK's stockpile, history-matched and hedged."""
    items = rep.section("The design card's two levers (the project's map, not this run)")
    if not LEVERS_FIGURE.is_file():
        items.append(
            "The map of S1, S2 and neither over sanctions enforcement × the DPRK's stockpile is "
            "made by python -m analysis.hedges --out DIR (levers.png)."
        )
        return
    items.append(
        "S1, S2 and neither over sanctions enforcement × the DPRK's peacetime stockpile, every "
        "other parameter history-matched and each limit's strength drawn over its hedge range "
        "(python -m analysis.hedges; docs/ARGUMENT.md). It is the same for every report: read "
        "this run's cell against it."
    )
    items.append(_Image("levers", "The design card's two levers.", LEVERS_FIGURE.read_bytes()))


def _pct(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "–"


def _pct_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for c in out.columns:
        if c.endswith(("share", "ci_low", "ci_high")) and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(_pct)
    return out


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float | np.floating) else str(v)


# --- provenance ---------------------------------------------------------------------------------


def _hydra_overrides(path: Path) -> list[str] | None:
    """Hydra's record of the command-line overrides of a run or multirun (if any)."""
    import yaml

    for candidate in (path / ".hydra" / "overrides.yaml", path / "multirun.yaml"):
        if not candidate.is_file():
            continue
        try:
            data = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            return None
        if isinstance(data, list):
            return [str(x) for x in data]
        task = (((data or {}).get("hydra") or {}).get("overrides") or {}).get("task")
        return [str(x) for x in task] if isinstance(task, list) else None
    return None


def _sweep_identity(path: Path) -> dict[str, Any]:
    import json

    from contract.files import IDENTITY_FILE

    file = path / IDENTITY_FILE
    try:
        return dict(json.loads(file.read_text(encoding="utf-8"))) if file.is_file() else {}
    except (OSError, ValueError):
        return {}


def provenance(result: R.Run | R.Sweep) -> dict[str, str]:
    """Seed, config hash, model version and command of a run or sweep (``"unknown"`` if absent)."""
    out = {"directory": str(result.path), "model version": result.model_version}
    if isinstance(result, R.Run):
        s = result.summary
        out["seed"] = str(s.get("seed", "unknown"))
        out["config hash"] = str(s.get("config_hash") or "unknown")
        overrides = _hydra_overrides(result.path)
        if overrides is None and s.get("experiment"):
            overrides = [f"experiment={s['experiment']}", f"replicates={s.get('replicates')}"]
        multirun = ""
    else:
        meta, prov = result.meta, result.meta.get("provenance") or {}
        ident = _sweep_identity(result.path)
        out["seed"] = str(meta.get("seed", prov.get("seed", ident.get("seed", "unknown"))))
        config = ident.get("config_sha256") or prov.get("config_hash")
        if not config and "config_hash" in result.table:
            hashes = result.table["config_hash"].astype(str).unique()
            config = hashes[0] if len(hashes) == 1 else f"{len(hashes)} per-cell hashes"
        out["config hash"] = str(config or "unknown")
        if meta.get("sweep_identity") or ident.get("id"):
            out["config hash"] += f" (sweep identity {meta.get('sweep_identity') or ident['id']})"
        overrides = ident.get("overrides") or _hydra_overrides(result.path)
        multirun = "-m "
    if overrides is not None:
        out["command"] = "python -m experiments.run " + multirun + " ".join(overrides)
    else:
        out["command"] = "unknown (no Hydra record in the directory)"
    out["report"] = f"python -m analysis.report {result.path}"
    return out


def _provenance_lines(result: R.Run | R.Sweep) -> list[str]:
    lines = [f"{k}: {v}" for k, v in provenance(result).items()]
    if isinstance(result, R.Run):
        lines.append(f"one parameter point, n = {result.n:,} replicates")
    else:
        lines.append(
            f"{result.kind} sweep: {len(result.table):,} "
            f"{'design points' if result.kind == 'design' else 'cells'}, "
            f"{result.n:,} replicate runs; swept: {', '.join(result.swept) or '(none)'}"
        )
        for key in ("redone", "failed"):
            if result.meta.get(key):
                lines.append(f"{key} cells: {result.meta[key]}")
    return lines


# --- the headline -------------------------------------------------------------------------------


def _cases(table: pd.DataFrame, scenario: str) -> tuple[np.ndarray, str]:
    """Points where ``scenario`` is the most frequent outcome, or (if too few) above its rate."""
    share = table[f"{scenario}_share"].to_numpy(dtype=float)
    others = [s for s in SCENARIO_LABELS if s != scenario]
    dominant = np.all([share > table[f"{o}_share"].to_numpy(dtype=float) for o in others], axis=0)
    if dominant.sum() >= max(2, 0.01 * len(table)):
        return dominant, f"{scenario} is the most frequent outcome"
    rate = table[f"{scenario}_count"].sum() / max(int(table["n"].sum()), 1)
    return share > rate, f"{scenario} is more frequent than across the whole sweep"


def discover(result: R.Sweep, scenario: str) -> PrimResult | str:
    """PRIM box of the swept region where ``scenario`` concentrates, or why there is none.

    A design uses ``analysis.api.prim`` (its points); a grid runs PRIM over its cells, a case
    being a cell where the scenario is the most frequent outcome (or, when fewer than two cells
    qualify, more frequent than across the whole sweep). ``result.rule`` says which. When the
    cases are so common that the whole swept range already reaches the density threshold (0.5),
    the threshold is raised to halfway between their share and 1, so the box says where the
    scenario is *most* concentrated instead of restricting nothing.
    """
    if int(result.table[f"{scenario}_count"].sum()) == 0:
        return f"{scenario} occurs in none of the {result.n:,} runs"
    try:
        if result.kind == "design":
            box = api.prim(result, scenario)
            if box.res_dim == 0:
                base = float(box.trajectory["density"].iloc[0])
                box = api.prim(result, scenario, threshold=round((base + 1.0) / 2.0, 4))
            box.rule = str(box.rule)  # type: ignore[attr-defined]
            return box
        numeric = [k for k in result.swept if pd.api.types.is_numeric_dtype(result.table[k])]
        if not numeric:
            return "no numeric parameter was swept"
        y, rule = _cases(result.table, scenario)
        if not y.any() or y.all():
            return f"{scenario} is spread evenly over the cells"
        threshold = max(0.5, round((float(y.mean()) + 1.0) / 2.0, 4))
        box = prim_box(result.table[numeric], y, threshold=threshold, mass_min=0.05)
        box.rule = rule  # type: ignore[attr-defined]
        box.cases, box.points = int(y.sum()), len(y)  # type: ignore[attr-defined]
        return box
    except ValueError as error:
        return str(error)


def _bounds(result: R.Sweep) -> dict[str, tuple[float, float]]:
    """Full range of each swept parameter: the design's bounds, else the swept values."""
    out: dict[str, tuple[float, float]] = {}
    design_bounds = result.design.get("bounds") or {}
    if isinstance(design_bounds, list):
        names = result.design.get("parameters") or []
        design_bounds = dict(zip(names, design_bounds, strict=False))
    for key in result.swept:
        if key in design_bounds:
            out[key] = (float(design_bounds[key][0]), float(design_bounds[key][1]))
        elif pd.api.types.is_numeric_dtype(result.table[key]):
            out[key] = (float(result.table[key].min()), float(result.table[key].max()))
    return out


def tested_values(result: R.Sweep) -> dict[str, list[float]]:
    """For a grid: the values each numeric swept parameter was run at (empty for a design)."""
    if result.kind == "design":
        return {}
    out = {}
    for key in result.swept:
        column = result.table[key] if key in result.table else None
        if column is not None and pd.api.types.is_numeric_dtype(column):
            out[key] = sorted(float(v) for v in column.dropna().unique())
    return out


def _either(values: list[float]) -> str:
    shown = [_value(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def box_limits(
    box: PrimResult, bounds: dict[str, tuple[float, float]], tested: dict[str, list[float]]
) -> list[str]:
    """Each restricted parameter of a box in words.

    A grid's parameter (in ``tested``) is named by the tested values inside the box, with every
    value tested: "stockpile.dprk = 40 (tested: 10, 40)"; a bound between two tested values is
    never printed, because nothing between them was run. A sampled design's parameter gets its
    continuous bounds ("stockpile.dprk ≥ 25.3").
    """
    parts = []
    for r in box.box.itertuples(index=False):
        key = str(r.parameter)
        low, high = float(r.low), float(r.high)
        if key in tested:
            values = tested[key]
            inside = [v for v in values if low - 1e-9 <= v <= high + 1e-9]
            parts.append(f"{key} = {_either(inside)} (tested: {', '.join(map(_value, values))})")
            continue
        low_all, high_all = bounds.get(key, (np.nan, np.nan))
        lo, hi = f"{low:.3g}", f"{high:.3g}"  # a sampled bound to three significant digits
        if np.isclose(low, low_all):
            parts.append(f"{key} ≤ {hi}")
        elif np.isclose(high, high_all):
            parts.append(f"{key} ≥ {lo}")
        else:
            parts.append(f"{lo} ≤ {key} ≤ {hi}")
    return parts


def _box_words(
    box: PrimResult,
    bounds: dict[str, tuple[float, float]],
    tested: dict[str, list[float]] | None = None,
) -> str:
    parts = box_limits(box, bounds, tested or {})
    return " and ".join(parts) if parts else "anywhere in the swept ranges"


def box_table(box: PrimResult, tested: dict[str, list[float]]) -> pd.DataFrame:
    """The box's limits; for a grid also the tested values and those inside the box."""
    table = box.box.copy()
    if not tested:
        return table
    ins, alls = [], []
    for r in table.itertuples(index=False):
        values = tested.get(str(r.parameter), [])
        inside = [v for v in values if float(r.low) - 1e-9 <= v <= float(r.high) + 1e-9]
        ins.append(", ".join(map(_value, inside)))
        alls.append(", ".join(map(_value, values)))
    return table.assign(in_box=ins, tested=alls)[["parameter", "in_box", "tested"]]


def _movers(result: R.Sweep) -> dict[str, str]:
    """For S1 and S2: the parameter that moves it most, in words (grid: marginal effects)."""
    out = {}
    cells = result.cells()
    for s in ("S1", "S2"):
        best: tuple[float, str] | None = None
        for key in result.swept:
            pooled = R.pool_cells(cells, [key])
            share = pooled[f"{s}_share"].to_numpy(dtype=float)
            if len(share) < 2 or not np.isfinite(share).all():
                continue
            lo, hi = int(np.argmin(share)), int(np.argmax(share))
            span = float(share[hi] - share[lo])
            text = (
                f"{key}: from {_pct(share[lo])} at {_value(pooled[key].iloc[lo])} to "
                f"{_pct(share[hi])} at {_value(pooled[key].iloc[hi])}"
            )
            if best is None or span > best[0]:
                best = (span, text)
        if int(cells[f"{s}_count"].sum()) == 0:
            out[s] = f"no run ends in {s}, so no swept parameter moves P({s})"
        elif best is None or best[0] == 0:
            out[s] = f"P({s}) does not change across the swept values"
        else:
            out[s] = f"P({s}) moves most with {best[1]} (marginal effects)"
    return out


def _sobol_movers(ranking: pd.DataFrame, rare: dict[str, int]) -> dict[str, str]:
    out = {}
    for s in ("S1", "S2"):
        if f"P({s})" in rare:
            out[s] = f"{s} is too rare over these ranges to rank what moves it"
            continue
        top = ranking.sort_values(f"ST_{s}", ascending=False).head(2)
        named = [
            f"{r.parameter} (total Sobol' index {getattr(r, f'ST_{s}'):.2f})"
            for r in top.itertuples()
        ]
        out[s] = f"P({s}) moves most with " + " and then ".join(named)
    return out


def lead(result: R.Run | R.Sweep) -> tuple[pd.DataFrame, str]:
    """The scenario table of the point a reader asks about first, and where that point is.

    A run: the run itself. A grid: the cell at the defaults (every swept parameter at its
    ``sim.params`` default) or, when the grid has none, the cell nearest them. A sampled design
    has no such point: its table pools every design point (the sampled ranges as a whole).
    """
    if isinstance(result, R.Run):
        return api.scenario_table(result), "at this single parameter point"
    if result.kind == "design" or not result.swept:
        kind = "design points" if result.kind == "design" else "cells"
        return api.scenario_table(result), (
            f"over the {len(result.table):,} {kind} of this sampled design (counts pooled, i.e. the "
            "sampled ranges as a whole)"
        )
    row, exact = R.defaults_cell(result)
    cell = result.table.iloc[row]
    counts = {s: int(cell[f"{s}_count"]) for s in SCENARIO_LABELS}
    table = scenario_stats(counts)
    values = ", ".join(f"{k} = {_value(cell[k])}" for k in result.swept)
    if _history_matched(result):
        values += "; history-matched, the calibrated parameters drawn per replicate"
    if exact:
        where = f"at the defaults cell of this sweep ({values})"
    else:
        defaults = ", ".join(f"{k} = {_value(P.BY_KEY[k].default)}" for k in result.swept)
        where = (
            f"at the cell nearest the defaults ({values}; the sweep has no cell at the defaults, "
            f"{defaults})"
        )
    return table, where


def _history_matched(result: R.Sweep) -> bool:
    """Whether the sweep's runs drew the calibrated parameters from a posterior (issue 21)."""
    try:
        job = result.first_job()
    except (R.NotAResultDir, OSError, ValueError):
        return False
    return bool(job is not None and job.summary.get("posterior"))


def pooling_sentence(result: R.Sweep) -> str:
    """The pooled shares of a sweep and what pooling means."""
    table = api.scenario_table(result)
    kind = "design points" if result.kind == "design" else "cells"
    shares = "; ".join(
        f"{s} {_pct(table.loc[s, 'share'])} [{_pct(table.loc[s, 'ci_low'])}, "
        f"{_pct(table.loc[s, 'ci_high'])}]"
        for s in SCENARIO_LABELS
    )
    meaning = (
        "every point's runs added together, i.e. the parameters drawn across their sampled "
        "ranges: a share under those ranges, not at any one point"
        if result.kind == "design"
        else "every cell's runs added together as if they were one experiment, so the share "
        "depends on which values were swept and how many runs each cell had: it describes this "
        "grid, not any one world (the cells and heat maps show where the shares differ)"
    )
    return (
        f"Pooled over all {len(result.table):,} {kind} ({int(table['count'].sum()):,} runs): "
        f"{shares}. Pooling means {meaning}."
    )


def headline(
    result: R.Run | R.Sweep, ranking: pd.DataFrame | None = None, rare: dict[str, int] | None = None
) -> list[str]:
    """The report's first paragraph(s), generated from the numbers.

    It leads with the point a reader asks about (:func:`lead`: the run, or the defaults cell of a
    grid), then, for a sweep, the pooled shares with what pooling means, then what moves S1 and
    S2 and where S1 concentrates.
    """
    table, where = lead(result)
    top = str(table["share"].idxmax())
    row = table.loc[top]
    others = "; ".join(
        f"{s} {_pct(table.loc[s, 'share'])} [{_pct(table.loc[s, 'ci_low'])}, "
        f"{_pct(table.loc[s, 'ci_high'])}]"
        for s in SCENARIO_LABELS
        if s != top
    )
    first = (
        f"Most common outcome {where}: {SCENARIO_WORDS[top]}, {_pct(row['share'])} of "
        f"{int(table['count'].sum()):,} runs (Wilson 95 % interval {_pct(row['ci_low'])} to "
        f"{_pct(row['ci_high'])}); {others}."
    )
    paragraphs = [first]
    if isinstance(result, R.Run):
        paragraphs.append(_which_row(result))
        paragraphs.append(
            "Nothing varies between these runs but chance, so this report cannot say which "
            "parameter moves S1 or S2 or where S1 wins; a sweep can (make demo)."
        )
        return paragraphs
    if result.kind != "design" and result.swept:
        paragraphs.append(pooling_sentence(result))
    if not result.swept:
        return paragraphs
    movers = (
        _sobol_movers(ranking, rare or {})
        if ranking is not None and not ranking.empty
        else _movers(result)
    )
    bounds = _bounds(result)
    found = discover(result, "S1")
    if isinstance(found, str):
        where_s1 = f"Scenario discovery finds no region for S1: {found}."
    else:
        where_s1 = (
            f"S1 concentrates where {_box_words(found, bounds, tested_values(result))} (PRIM "
            f"box over the {'design points' if result.kind == 'design' else 'cells'}, a case "
            f"being where {found.rule}: coverage {_pct(found.coverage)}, density "  # type: ignore[attr-defined]
            f"{_pct(found.density)})."
        )
    second = f"{movers['S1']}; {movers['S2']}. {where_s1}"
    paragraphs.append(second[0].upper() + second[1:])
    return paragraphs


def _which_row(run: R.Run) -> str:
    """Which of the headline's three rows this run is (issue 21), and the commands of the others."""
    made = run.summary.get("posterior")
    if made:
        return (
            "History-matched: every replicate ran the record's 2000–2024 history with the "
            f"calibrated parameters drawn from {made['path']} (sha256 {made['sha256'][:12]}…); "
            "the headline's other rows: the defaults (python -m experiments.run) and your "
            f"record since 2024Q4 (python -m analysis.odds {run.path} RECORD.csv)."
        )
    return (
        "Every replicate continued its own 2000–2024 history from 2024Q3 with these parameters; "
        "the headline's other rows: history-matched (python -m experiments.run posterior=default) "
        "and, with a record since 2024Q4, python -m analysis.odds RUN_DIR RECORD.csv."
    )


# --- sections -----------------------------------------------------------------------------------


def _scenario_section(rep: Report, result: R.Run | R.Sweep) -> None:
    items = rep.section("Scenario table")
    table, where = lead(result)
    rep.tables["scenarios"] = table.reset_index()
    items.append(
        _Table(
            "scenarios",
            f"How often runs end in S1, S2 or neither {where}: count, share and 95 % interval "
            "(Wilson score interval).",
        )
    )
    if isinstance(result, R.Sweep) and result.kind != "design" and result.swept:
        rep.tables["scenarios_pooled"] = api.scenario_table(result).reset_index()
        items.append(
            _Table(
                "scenarios_pooled",
                "The same, pooled over every cell of the sweep (every cell's runs added together: "
                "a share of this grid, not of any one world).",
            )
        )


def _share_text(frame: pd.DataFrame, s: str) -> list[str]:
    return [
        f"{_pct(v)} [{_pct(lo)}, {_pct(hi)}]"
        for v, lo, hi in zip(
            frame[f"{s}_share"], frame[f"{s}_ci_low"], frame[f"{s}_ci_high"], strict=True
        )
    ]


def _compact_cells(cells: pd.DataFrame, swept: list[str]) -> pd.DataFrame:
    """The cell table for the page: the swept values, runs, one 'share [interval]' column per
    scenario (indicator means and counts are in the CSV beside the report)."""
    out = cells[[c for c in [*swept, "n"] if c in cells.columns]].copy()
    for s in SCENARIO_LABELS:
        out[f"{s} % [95 % interval]"] = _share_text(cells, s)
    return out


def _compact_marginal(table: pd.DataFrame) -> pd.DataFrame:
    """The marginal effects for the page: parameter in words, value, runs, shares [interval]."""
    out = pd.DataFrame(
        {
            "parameter": [labels.param_label(k) for k in table["parameter"]],
            "value": [_value(v) for v in table["value"]],
            "runs": table["n"].astype(int),
        }
    )
    for s in SCENARIO_LABELS:
        out[f"{s} % [95 % interval]"] = _share_text(table, s)
    return out


def _grid_sections(rep: Report, sweep: R.Sweep) -> None:
    swept = sweep.swept
    cells = sweep.cells()
    keep = [*swept, "job", "n"] + [
        f"{s}_{c}" for s in SCENARIO_LABELS for c in ("count", "share", "ci_low", "ci_high")
    ]
    keep += [c for c in cells.columns if c.endswith("_mean")]
    if sweep.kind == "design":
        rep.section("Design points").append(
            f"The {len(cells):,} design points (parameters, counts, shares, Wilson 95 % "
            f"intervals) are in {R.SWEEP_FILE}; they are not repeated here."
        )
    else:
        rep.tables["cells"] = cells[[c for c in keep if c in cells.columns]]
        rep.html_tables["cells"] = _compact_cells(cells, swept)
        items = rep.section("Cells of the sweep")
        items.append(
            _Table(
                "cells",
                "One row per cell: shares with Wilson 95 % intervals (counts and indicator means "
                "are in the CSV file).",
            )
        )
    numeric = [k for k in swept if pd.api.types.is_numeric_dtype(cells[k])]
    if len(numeric) >= 2:
        x, y = numeric[0], numeric[1]
        # a sampled design is binned; faceting binned cells by a third binned axis is unreadable
        facet = numeric[2] if len(numeric) >= 3 and sweep.kind != "design" else None
        rest = [k for k in swept if k not in (x, y, facet)]
        pooled = f" Pooled over {', '.join(rest)}." if rest else ""
        items = rep.section("Heat maps")
        for s in SCENARIO_LABELS:
            name = f"heatmap_{s}"
            rep.figures[name] = figures.heatmaps(cells, x, y, facet, s)
            facet_text = f", one panel per value of {facet}" if facet else ""
            items.append(
                _Fig(
                    name,
                    f"P({s}) over {x} × {y}{facet_text}; one colour scale for all panels, from "
                    f"the lowest to the highest P({s}) in the figure.{pooled}",
                )
            )
    elif swept:
        rep.section("Heat maps").append(
            "Heat maps need two swept numeric parameters; see the marginal effects instead."
        )
    if swept:
        items = rep.section("Marginal effects")
        frames = []
        for key in swept:
            part = R.pool_cells(cells, [key]).rename(columns={key: "value"})
            frames.append(part.assign(parameter=key))
        table = pd.concat(frames, ignore_index=True)
        rep.tables["marginal_effects"] = table[["parameter", *table.columns[:-1]]]
        rep.html_tables["marginal_effects"] = _compact_marginal(rep.tables["marginal_effects"])
        rep.figures["marginal_effects"] = figures.marginal_effects(cells, swept)
        items.append(
            _Fig(
                "marginal_effects",
                "P(S1) and P(S2) at each value of each swept parameter, counts pooled over the "
                "other swept parameters; bars are Wilson 95 % intervals"
                + (
                    " (a sampled design's values are binned into equal-count bins)."
                    if sweep.kind == "design"
                    else "."
                ),
            )
        )
        items.append(
            _Table(
                "marginal_effects",
                "The marginal effects as a table (counts and intervals' ends in the CSV file).",
            )
        )
        _boxes_section(rep, sweep)


def _boxes_section(rep: Report, sweep: R.Sweep) -> None:
    items = rep.section("Scenario discovery: where S1 and where S2 concentrate (PRIM)")
    bounds = _bounds(sweep)
    tested = tested_values(sweep)
    boxes, rules = {}, {}
    for s in ("S1", "S2"):
        found = discover(sweep, s)
        if isinstance(found, str):
            items.append(f"No PRIM box for {s}: {found}.")
            continue
        boxes[s], rules[s] = found, str(found.rule)  # type: ignore[attr-defined]
        rep.tables[f"prim_box_{s}"] = box_table(found, tested)
        items.append(
            f"{s}: a case is a {'point' if sweep.kind == 'design' else 'cell'} where "
            f"{found.rule}; the box {_box_words(found, bounds, tested)} holds "  # type: ignore[attr-defined]
            f"{_pct(found.coverage)} of the cases (coverage) and {_pct(found.density)} of the "
            f"points in it are cases (density); {found.res_dim} restricted parameter(s)."
        )
        items.append(_Table(f"prim_box_{s}", f"Limits of the PRIM box of {s}."))
    if tested and boxes:
        items.append(
            "A grid ran only the values listed as tested, so a box is named by the tested values "
            "it holds; nothing between two tested values was run."
        )
    if boxes:
        rep.figures["prim_boxes"] = figures.prim_boxes(boxes, bounds, rules, tested)
        items.append(
            _Fig(
                "prim_boxes",
                "Each box's range (coloured) against the parameter's full swept range (grey), "
                "for the parameters the box restricts"
                + ("; dots: the values the grid ran." if tested else "."),
            )
        )


def _fan_section(rep: Report, result: R.Run | R.Sweep) -> None:
    items = rep.section("How S1 and S2 runs differ over time (fan charts)")
    quantiles, note = R.fan_quantiles(result)
    if quantiles is None:
        items.append(f"No per-quarter quantiles were recorded ({note}).")
        return
    items.append(
        f"Per-quarter quantiles of each indicator, for all runs and for the runs of each "
        f"scenario: median line, 50 % band (quartiles) and 90 % band (5th–95th percentiles). "
        f"Shown for {note}."
    )
    for indicator in FAN_INDICATORS:
        if indicator not in set(quantiles["indicator"]):
            continue
        name = f"fan_{indicator}"
        rep.figures[name] = figures.fan_chart(quantiles, indicator)
        unit = figures.INDICATOR_UNITS.get(indicator, indicator)
        items.append(_Fig(name, f"Fan chart of {unit}, split by scenario."))


def _design_sections(rep: Report, sweep: R.Sweep) -> tuple[pd.DataFrame | None, dict[str, int]]:
    _, names, method = api.design_points(sweep)
    items = rep.section("Global sensitivity (Sobol' indices)")
    ranking, rare = None, {}
    if method != "sobol":
        items.append(
            f"This design was sampled with {method!r}; Sobol' indices need a Sobol'/Saltelli "
            "design (method 'sobol')."
        )
        if method == "morris":
            rep.tables["morris"] = api.sobol(sweep)
            items.append(_Table("morris", "Morris screening: mu_star (± 95 %) and sigma."))
    else:
        try:
            tidy = api.sobol(sweep)
        except ValueError as error:
            items.append(f"Sobol' indices could not be computed: {error}")
            tidy = None
        if tidy is not None:
            rep.tables["sobol"] = tidy
            items.append(
                "First-order and total Sobol' indices estimated with SALib (Saltelli scheme, no "
                "second-order terms), with 95 % bootstrap confidence half-widths (± 95 %; in the "
                "CSV: S1, ST and their _conf columns). Outputs: P(S1) and P(S2) per design point and cell means of "
                "key indicators. Caution: each point's P(S) is itself estimated from few "
                "replicates; that Monte-Carlo noise looks to the method like an interaction and "
                "adds a common floor to every total index, so read the ranking against that floor."
            )
            items.append(_Table("sobol", "Sobol' indices by output and parameter."))
            for output in ("P(S1)", "P(S2)"):
                part = tidy[tidy["output"] == output].set_index("parameter")
                if part.empty:
                    continue
                name = f"sobol_{output[2:4]}"
                rep.figures[name] = figures.sobol_chart(part, output)
                items.append(_Fig(name, f"Sobol' indices of {output} (bars: 95 % intervals)."))
            rare = api.rare_outputs(sweep)
            for output, informative in rare.items():
                items.append(
                    f"Caution: {output} is informative at only {informative} design point(s) "
                    f"(the scenario is too rare, or too common, over these ranges); its indices "
                    "are not reliable (SALib reports zeros when a block of outputs is constant)."
                )
            ranking = api.drivers(tidy)
            rep.tables["drivers"] = ranking
            items = rep.section("Which parameters drive S1 and which drive S2")
            items.append(_drivers_sentence(ranking, rare))
            items.append(
                _Table(
                    "drivers",
                    "Parameters ranked by total Sobol' index (rank 1 = largest) for P(S1) and "
                    "P(S2); 'drives' names the scenario whose total index is larger by more than "
                    "both 95 % half-widths together ('both': both clearly above 0).",
                )
            )
    items = rep.section("PRIM peeling trajectory and CART cross-check (S1)")
    try:
        box = api.prim(sweep, "S1")
    except ValueError as error:
        items.append(f"No PRIM box: {error}.")
        return ranking, rare
    rep.tables["prim_box"] = box.box
    rep.tables["prim_trajectory"] = box.trajectory.reset_index()
    items.append(
        f"PRIM (ema_workbench) over {box.points:,} design points; a case of interest is a point "  # type: ignore[attr-defined]
        f"where {box.rule} ({box.cases:,} cases). Chosen box (step {box.index} of the peeling "  # type: ignore[attr-defined]
        f"trajectory, density threshold {box.threshold:.2f}): coverage {box.coverage:.1%} "
        f"(share of all S1 cases inside the box), density {box.density:.1%} (share of points in "
        f"the box that are S1 cases), mass {box.mass:.1%}, {box.res_dim} restricted "
        f"dimension(s). Uses at most {api.PRIM_MAX_POINTS:,} design points."
    )
    items.append(_Table("prim_box", "Limits of the chosen box (restricted parameters only)."))
    rep.figures["prim_trajectory"] = figures.prim_chart(box)
    items.append(_Fig("prim_trajectory", "Peeling trajectory: coverage against density."))
    items.append(_Table("prim_trajectory", "The peeling trajectory.", html_rows=0))
    tree = api.cart(sweep, "S1")
    items.append("CART cross-check (scikit-learn, depth 3, same cases; class True = a case):")
    items.append(_Pre(tree))
    rep.tables["cart"] = pd.DataFrame({"tree": tree.splitlines()})
    return ranking, rare


def _drivers_sentence(ranking: pd.DataFrame, rare: dict[str, int]) -> str:
    def top(col: str, scenario: str) -> str:
        if f"P({scenario})" in rare:
            return f"{scenario} has too few informative design points to rank its drivers"
        order = ranking.sort_values(col, ascending=False).head(3)
        named = [f"{r.parameter} (ST = {getattr(r, col):.2f})" for r in order.itertuples()]
        return f"{scenario} is driven most by " + ", ".join(named)

    return top("ST_S1", "S1") + "; " + top("ST_S2", "S2") + "."


def build(source: str | Path | R.Run | R.Sweep) -> Report:
    """Compute every table and figure of the report for a run or sweep (nothing is written)."""
    result = api.open_result(source)
    rep = Report(title=f"Scenario report: {result.path.name or result.path}")
    rep.provenance = _provenance_lines(result)
    ranking, rare = None, {}
    _scenario_section(rep, result)
    if isinstance(result, R.Sweep):
        _grid_sections(rep, result)
        if result.kind == "design":
            ranking, rare = _design_sections(rep, result)
    _fan_section(rep, result)
    _levers_section(rep)
    argument_sections(rep, result.path)  # when the folder also holds the argument's outputs
    # Issue 14 hook: the dated forecast and updated odds, when RUN_DIR/forecast/ holds them.
    for heading, lines in forecast.report_lines(result.path):
        rep.section(heading).extend(lines)
    rep.headline = headline(result, ranking, rare)
    return rep


# --- rendering ----------------------------------------------------------------------------------


def legend(columns: list[str]) -> list[tuple[str, str]]:
    """(header in words, what the column means and its CSV name) for every column explained."""
    out = []
    for c in columns:
        text = labels.explain(c)
        if text is not None:
            out.append((labels.header(c), f"{text} (CSV column {c})"))
    return out


#: Per table, columns whose generic header would mislead (Sobol's "S1" is the first-order index).
HEADERS = {"sobol": {"S1": "first-order index", "S1_conf": "first-order index, ± 95 %"}}


def _headers(name: str) -> Any:
    """Column → header for table ``name``: its own overrides (:data:`HEADERS`), else the label map."""
    special = HEADERS.get(name, {})
    return lambda column: special.get(str(column), labels.header(column))


def _html_table(frame: pd.DataFrame, rows: int, name: str = "") -> str:
    shown = _pct_table(frame.head(rows) if rows else frame.iloc[:0])
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].map(lambda v: "–" if not np.isfinite(v) else f"{v:.4g}")
    special = HEADERS.get(name, {})
    shown.columns = [special.get(str(c), labels.header(c)) for c in shown.columns]
    text = shown.to_html(index=False, border=0, classes="t", na_rep="–")
    text = f"<div class='scroll'>{text}</div>"
    if rows and len(frame) > rows:
        text += f"<p class='note'>first {rows} of {len(frame)} rows; all in the CSV file.</p>"
    explained = legend([str(c) for c in frame.columns if str(c) not in special])
    if rows and explained:
        entries = "".join(
            f"<dt>{html.escape(c)}</dt><dd>{html.escape(d)}</dd>" for c, d in explained
        )
        text += f"<details class='legend'><summary>Columns</summary><dl>{entries}</dl></details>"
    return text


def _inline_svg(svg: bytes) -> str:
    """An SVG file's markup for inlining into HTML: no prolog, doctype, metadata or namespaces."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    return text


def render_html(rep: Report, svgs: dict[str, bytes]) -> str:
    """The self-contained page: headline, provenance, figures (inline SVG), then the tables."""
    body = [f"<h1>{html.escape(rep.title)}</h1>"]
    body += [
        f"<p class='headline'{' id=headline' if i == 0 else ''}>{html.escape(p)}</p>"
        for i, p in enumerate(rep.headline)
    ]
    body.append("<ul class='prov'>")
    body += [f"<li>{html.escape(line)}</li>" for line in rep.provenance]
    body.append("</ul>")
    tables: list[str] = []
    for heading, items in rep.sections:
        shown = [i for i in items if not isinstance(i, _Table)]
        if shown:
            body.append(f"<h2>{html.escape(heading)}</h2>")
        for item in shown:
            if isinstance(item, _Fig):
                body.append(
                    f"<figure id='fig-{item.name}'>{_inline_svg(svgs[item.name])}"
                    f"<figcaption>{html.escape(item.caption)} (figures/{item.name}.png, .svg)"
                    "</figcaption></figure>"
                )
            elif isinstance(item, _Pre):
                body.append(f"<pre>{html.escape(item.text)}</pre>")
            elif isinstance(item, _Image):
                data = base64.b64encode(item.png).decode("ascii")
                body.append(
                    f"<figure id='fig-{item.name}'><img alt='{html.escape(item.caption)}' "
                    f"style='max-width:100%' src='data:image/png;base64,{data}'>"
                    f"<figcaption>{html.escape(item.caption)} (figures/{item.name}.png)"
                    "</figcaption></figure>"
                )
            else:
                body.append(f"<p>{html.escape(str(item))}</p>")
        for item in items:
            if isinstance(item, _Table):
                tables.append(f"<h3>{html.escape(heading)}</h3>")
                tables.append(f"<p>{html.escape(item.caption)} (tables/{item.name}.csv, .md)</p>")
                if item.html_rows:
                    frame = rep.html_tables.get(item.name, rep.tables[item.name])
                    tables.append(_html_table(frame, item.html_rows, item.name))
    if tables:
        body += ["<h2>Tables</h2>", *tables]
    return page(rep.title, "\n".join(body))


def write(rep: Report, outdir: Path) -> Path:
    """Render every figure, then write figures, tables and (last) report.html atomically."""
    from contract.io import atomic_write

    pngs = {name: figures.to_png(fig) for name, fig in rep.figures.items()}
    svgs = {name: figures.to_svg(fig) for name, fig in rep.figures.items()}
    inline = {name: figures.to_svg(fig, text_as_text=True) for name, fig in rep.figures.items()}
    page = render_html(rep, inline)
    csvs = {name: t.to_csv(index=False) for name, t in rep.tables.items()}
    mds = {
        name: markdown_table(_pct_table(t).rename(columns=_headers(name)))
        for name, t in rep.tables.items()
    }
    for item in (i for _, items in rep.sections for i in items if isinstance(i, _Image)):
        atomic_write(
            outdir / "figures" / f"{item.name}.png", lambda p, b=item.png: p.write_bytes(b)
        )
    for name in rep.figures:
        atomic_write(outdir / "figures" / f"{name}.png", lambda p, b=pngs[name]: p.write_bytes(b))
        atomic_write(outdir / "figures" / f"{name}.svg", lambda p, b=svgs[name]: p.write_bytes(b))
    for name in rep.tables:
        atomic_write(outdir / "tables" / f"{name}.csv", lambda p, t=csvs[name]: p.write_text(t))
        atomic_write(outdir / "tables" / f"{name}.md", lambda p, t=mds[name]: p.write_text(t))
    path = outdir / "report.html"
    atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path


# --- the argument and the robustness of the headline (experiments.argument, .robustness) ------


def has_argument(folder: Path) -> bool:
    """Whether ``folder`` holds outputs of ``experiments.argument`` or ``experiments.robustness``."""
    from analysis import argument, robustness

    return (folder / argument.JSON_FILE).is_file() or (folder / robustness.JSON_FILE).is_file()


def argument_sections(rep: Report, folder: Path) -> list[str]:
    """Add the argument's table and figure and the robustness checks found in ``folder``.

    Reads the files the two commands wrote (``argument.csv``, ``robustness_*.csv``) and draws
    their figures again with the commands' own functions; returns the headline sentences.
    """
    from analysis import argument, robustness

    said: list[str] = []
    if (folder / argument.CSV_FILE).is_file():
        table = argument.read_table(folder / argument.CSV_FILE)
        items = rep.section("The argument, mechanism by mechanism")
        said.append(argument.headline(table))
        items.append(said[-1])
        rep.figures["argument"] = figures.readable(argument.figure(table))
        items.append(_Fig("argument", "S1, S2 and neither per row of the argument (Wilson 95 %)."))
        split = argument.page_tables(table)
        rep.tables["argument"] = argument.display_table(table)  # the CSV: every column
        rep.html_tables["argument"] = split["argument"]
        items.append(_Table("argument", "Shares per row, % with Wilson 95 % intervals."))
        for name, caption in (
            ("argument_changes", argument.method_note(table)),
            ("argument_flows", "Open breach and munitions per row, with paired changes."),
        ):
            rep.tables[name] = split[name]
            items.append(_Table(name, caption))
        neither = argument.neither_table(table)
        rep.tables["argument_neither"] = neither
        kinds = [c for c in neither.columns if not c.startswith("S2 fails")]
        rep.html_tables["argument_neither"] = neither[kinds]
        items.append(_Table("argument_neither", "What neither is made of, % of all runs."))
        rep.tables["argument_s2_fails"] = neither[
            ["row", *(c for c in neither if c.startswith("S2 fails"))]
        ]
        items.append(_Table("argument_s2_fails", "The first S2 marker that fails, % of all runs."))
        rep.tables["argument_rows"] = table[["row", "reference", "overrides", "why"]]
        items.append(_Table("argument_rows", "What each row switches, in the article's words."))
    if (folder / robustness.DEF_CSV).is_file():
        definitions = pd.read_csv(folder / robustness.DEF_CSV)
        summary = robustness.summarise_definitions(definitions)
        items = rep.section("Robustness: across classifier definitions")
        rep.figures["robustness_definitions"] = figures.readable(
            robustness.definitions_figure(definitions)
        )
        items.append(_Fig("robustness_definitions", "S2 against S1, one dot per definition."))
        rep.tables["robustness_definitions"] = summary
        items.append(_Table("robustness_definitions", "Shares across the definitions."))
    if (folder / robustness.MORRIS_CSV).is_file():
        morris = pd.read_csv(folder / robustness.MORRIS_CSV)
        items = rep.section("Robustness: Morris screening of every model parameter")
        names = robustness.carriers(morris)
        items.append("Parameters that carry S2 − S1: " + (", ".join(names) or "none") + ".")
        rep.figures["robustness_morris"] = figures.readable(robustness.morris_figure(morris))
        items.append(_Fig("robustness_morris", "Morris mu* of S2 − S1, noise floor dashed."))
        rep.tables["robustness_morris"] = morris
        items.append(_Table("robustness_morris", "Morris indices per output and parameter."))
    return said


def argument_report(folder: Path) -> Report:
    """A report of a folder that holds only the argument's or the robustness outputs."""
    import json

    rep = Report(title=f"The argument: {folder.name or folder}")
    for name in ("argument.json", "robustness.json"):
        if (folder / name).is_file():
            meta = json.loads((folder / name).read_text())
            rep.provenance += [
                f"{name}: {meta.get('command', '')}",
                f"seed {meta.get('seed')}; model version {meta.get('model_version')}; "
                f"config hash {meta.get('config_hash')}",
            ]
    rep.headline = argument_sections(rep, folder)
    return rep


# --- command line -------------------------------------------------------------------------------


def _replay(path: Path) -> int:
    if importlib.util.find_spec("analysis.replay_report") is None:
        print(
            f"error: {path} is a replay directory, but analysis.replay_report is not available",
            file=sys.stderr,
        )
        return 2
    from analysis import replay_report  # type: ignore[attr-defined]

    return int(replay_report.main(path) or 0)


def _is_result(path: Path) -> bool:
    return (path / R.SWEEP_FILE).is_file() or (
        (path / R.SUMMARY_FILE).is_file() and (path / R.RUNS_FILE).is_file()
    )


def candidates(folder: Path, depth: int = 3) -> list[Path]:
    """Runs and sweeps under ``folder`` (not the jobs inside a sweep), at most ``depth`` deep."""
    found: list[Path] = []
    if depth <= 0 or not folder.is_dir():
        return found
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if child.name == "report":
            continue
        if _is_result(child):
            found.append(child)
        else:
            found += candidates(child, depth - 1)
    return found


def find_result(path: Path) -> Path:
    """``path`` itself when it is a result, else the one run or sweep under it.

    Raises ``NotAResultDir`` naming the candidates when there are several, or saying what was
    expected when there is none.
    """
    if not path.is_dir() or _is_result(path) or (path / R.REPLAY_FILE).is_file():
        return path
    found = candidates(path)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        listed = ", ".join(str(p) for p in found[:20]) + (" …" if len(found) > 20 else "")
        raise R.NotAResultDir(
            path, f"holds {len(found)} runs or sweeps, pass one of them: {listed}"
        )
    return path  # R.load says what is missing


#: The terminal's width: every printed line fits in it (issue 25).
TERMINAL_WIDTH = 100


def _terminal(result: R.Run | R.Sweep, rep: Report) -> str:
    import textwrap

    table, where = lead(result)
    lines = textwrap.wrap(f"Scenarios {where}:", TERMINAL_WIDTH)
    lines.append(f"{'scenario':<9} {'count':>9} {'share':>7}   95 % interval (Wilson)")
    for s, r in table.iterrows():
        lines.append(
            f"{s:<9} {int(r['count']):>9,} {_pct(r['share']):>7}   "
            f"[{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]"
        )
    lines.append(f"n = {int(table['count'].sum()):,} runs")
    for paragraph in rep.headline:
        lines += ["", *textwrap.wrap(paragraph, TERMINAL_WIDTH, break_on_hyphens=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m analysis.report DIR [--out OUTDIR]``."""
    from contract.cli import OneLineParser

    parser = OneLineParser(prog="python -m analysis.report", description=__doc__)
    parser.add_argument("dir", type=Path, help="a run or sweep directory (or a folder with one)")
    parser.add_argument("--out", type=Path, help="output directory (default: DIR/report)")
    args = parser.parse_args(argv)
    try:
        if args.dir.is_dir() and not _is_result(args.dir) and has_argument(args.dir):
            rep = argument_report(args.dir)
            written = write(rep, args.out or (args.dir / "report"))
            import textwrap

            for paragraph in rep.headline:
                print("\n".join(textwrap.wrap(paragraph, TERMINAL_WIDTH, break_on_hyphens=False)))
            print(f"report: {written}")
            return 0
        path = find_result(args.dir)
        result = R.load(path)
        if isinstance(result, R.Replay):
            return _replay(path)
        rep = build(result)
    except R.NotAResultDir as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if path != args.dir:
        print(f"using the one result under {args.dir}: {path}")
    outdir = args.out or (path / "report")
    written = write(rep, outdir)
    print(_terminal(result, rep))
    print(f"report: {written}")
    print("figures and tables (PNG, SVG, CSV, Markdown): figures/ and tables/ beside it")
    return 0


if __name__ == "__main__":
    from contract.cli import run

    run(main)  # every expected error: one line, exit 2
