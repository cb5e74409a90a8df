"""Static figures of scenario shares and indicator trajectories (Matplotlib, Agg, no pyplot).

Every function takes tables (the DataFrames of ``analysis.results``/``analysis.api``) and returns
a :class:`matplotlib.figure.Figure` drawn on an Agg canvas: no global figure state, nothing is
shown, safe in a server or a test. ``to_png``/``to_svg`` serialise a figure for the report.

* :func:`heatmaps` — P(S1), P(S2) or P(neither) over two swept parameters, one panel per level
  of a third, all panels on one colour scale (the scenario's range over the whole sweep);
* :func:`marginal_effects` — each swept parameter's pooled effect on P(S1) and P(S2), Wilson 95 %
  intervals;
* :func:`fan_chart` — median, 50 % and 90 % bands of an indicator over quarters, one panel per
  scenario (all runs, S1, S2, neither), so a reader sees *how* S1 and S2 runs differ over time;
* :func:`sobol_chart` and :func:`prim_chart` — the bar chart of ``analysis.sensitivity`` and the
  peeling trajectory of ``analysis.discovery``;
* :func:`prim_boxes` — the PRIM box of each scenario drawn against the full parameter ranges
  (coverage and density in the panel titles).

Every axis names its quantity and unit (parameters: ``sim.params`` units; shares: % of runs).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from analysis.discovery import PrimResult
from analysis.results import pool_cells
from analysis.sensitivity import sobol_bar_chart
from sim import params as P

__all__ = [
    "SCENARIO_COLOURS",
    "fan_chart",
    "heatmaps",
    "axis_label",
    "marginal_effects",
    "prim_boxes",
    "prim_chart",
    "sobol_chart",
    "to_png",
    "to_svg",
]

#: One colour per outcome, used in every figure.
SCENARIO_COLOURS = {"all": "#444444", "S1": "#b2182b", "S2": "#2166ac", "neither": "#7f7f7f"}
SCENARIO_NAMES = {
    "all": "all runs",
    "S1": "S1: the alliance expands",  # ARTICLE.md, Хувилбар 1
    "S2": "S2: a message to the West",  # ARTICLE.md, Хувилбар 2
    "neither": "neither",
}


#: Sequential colour map per outcome (light = low share, dark = high share).
SCENARIO_CMAPS = {"S1": "Reds", "S2": "Blues", "neither": "Greys"}
#: What the fan-chart indicators measure, with their units (sim.model, per quarter).
INDICATOR_UNITS = {
    "defence": "delivered defence cooperation (index 0–1)",
    "economic": "delivered economic cooperation (index 0–1)",
    "technology": "technology tier reached (share of the top tier, 0–1)",
    "munitions": "munitions shipped (thousand containers per quarter)",
    "oil": "oil supplied (million barrels per quarter)",
    "tourism": "tourism (index 0–1)",
    "posture": "Russia's sanctions posture (level)",
}


def axis_label(key: str) -> str:
    """``stockpile.dprk`` → ``stockpile.dprk (thousand containers)``: a parameter with its unit."""
    param = P.BY_KEY.get(key)
    return f"{key} ({param.unit})" if param is not None and param.unit else key


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


def heatmaps(
    cells: pd.DataFrame,
    x: str,
    y: str,
    facet: str | None = None,
    scenario: str = "S1",
) -> Figure:
    """P(``scenario``) over ``x`` × ``y``, one panel per level of ``facet``.

    Counts are pooled over every other swept parameter (see ``analysis.results.pool_cells``);
    continuous parameters of a sampled design are binned. Each square is annotated with its share.
    All panels share one colour scale running from the lowest to the highest share of the
    scenario anywhere in the figure, so equal colours mean equal shares across panels.
    """
    by = [c for c in (facet, y, x) if c]
    pooled = pool_cells(cells, by)
    levels = sorted(pooled[facet].unique()) if facet else [None]
    fig = _figure(min(3.4 * len(levels) + 1.4, 12.0), 3.6)
    axes = fig.subplots(1, len(levels), squeeze=False)[0]
    share = f"{scenario}_share"
    vmin, vmax = float(pooled[share].min()), float(pooled[share].max())
    if vmax - vmin < 1e-6:  # the same share everywhere: a scale from 0 that still shows it
        vmin, vmax = 0.0, max(vmax, 0.01)
    fmt = "{:.0%}" if vmax >= 0.1 else "{:.1%}"
    image = None
    for ax, level in zip(axes, levels, strict=True):
        part = pooled if level is None else pooled[pooled[facet] == level]
        grid = part.pivot_table(index=y, columns=x, values=share, aggfunc="mean")
        image = ax.imshow(
            grid.to_numpy(dtype=float),
            origin="lower",
            aspect="auto",
            cmap=SCENARIO_CMAPS[scenario],
            vmin=vmin,
            vmax=vmax,
        )
        ax.set_xticks(range(grid.shape[1]), [_fmt(v) for v in grid.columns], rotation=45)
        ax.set_yticks(range(grid.shape[0]), [_fmt(v) for v in grid.index])
        ax.set_xlabel(axis_label(x), fontsize=8)
        ax.set_ylabel(axis_label(y), fontsize=8)
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            if np.isfinite(value):
                colour = "white" if value > vmin + 0.6 * (vmax - vmin) else "black"
                ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=7, color=colour)
        if level is not None:
            ax.set_title(f"{facet} = {_fmt(level)}", fontsize=9)
    assert image is not None
    bar = fig.colorbar(image, ax=list(axes), label=f"P({scenario}) (% of runs)", shrink=0.9)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if vmax >= 0.1 else 1))
    fig.suptitle(f"Share of runs ending in {SCENARIO_NAMES[scenario]}", fontsize=10)
    return fig


def marginal_effects(cells: pd.DataFrame, params: list[str]) -> Figure:
    """P(S1) and P(S2) against each parameter, pooled over the others, with Wilson 95 % bars."""
    fig = _figure(min(3.2 * max(len(params), 1) + 0.5, 16.0), 3.2)
    axes = fig.subplots(1, max(len(params), 1), squeeze=False, sharey=True)[0]
    top = 0.0
    for ax, param in zip(axes, params, strict=False):
        pooled = pool_cells(cells, [param])
        xs = pooled[param]
        numeric = pd.api.types.is_numeric_dtype(xs) and not pd.api.types.is_bool_dtype(xs)
        pos = xs.to_numpy(dtype=float) if numeric else np.arange(len(xs))
        for s in ("S1", "S2"):
            share = pooled[f"{s}_share"].to_numpy(dtype=float)
            err = np.vstack(
                [
                    share - pooled[f"{s}_ci_low"].to_numpy(),
                    pooled[f"{s}_ci_high"].to_numpy() - share,
                ]
            )
            ax.errorbar(
                pos,
                share,
                yerr=err,
                marker="o",
                ms=4,
                capsize=3,
                color=SCENARIO_COLOURS[s],
                label=s,
            )
            top = max(top, float(np.nanmax(pooled[f"{s}_ci_high"].to_numpy(dtype=float))))
        if not numeric:
            ax.set_xticks(pos, [str(v) for v in xs])
        ax.set_xlabel(axis_label(param), fontsize=8)
    axes[0].set_ylim(0.0, min(1.0, top * 1.1) if top > 0 else 1.0)
    axes[0].set_ylabel("share of runs (%, 95 % Wilson interval)")
    axes[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0].legend(frameon=False)
    fig.suptitle("Marginal effect of each swept parameter (pooled over the others)", fontsize=10)
    return fig


def fan_chart(quantiles: pd.DataFrame, indicator: str, note: str = "") -> Figure:
    """Median with 50 % and 90 % bands of ``indicator`` over quarters, one panel per scenario."""
    rows = quantiles[quantiles["indicator"] == indicator]
    if rows.empty:
        known = sorted(quantiles["indicator"].unique())
        raise ValueError(f"no quantiles for indicator {indicator!r}; recorded: {known}")
    scenarios = [s for s in SCENARIO_COLOURS if s in set(rows["scenario"])]
    fig = _figure(3.0 * len(scenarios) + 0.5, 3.0)
    axes = fig.subplots(1, len(scenarios), squeeze=False, sharey=True)[0]
    for ax, scenario in zip(axes, scenarios, strict=True):
        part = rows[rows["scenario"] == scenario].sort_values("quarter")
        t = part["quarter"].to_numpy()
        colour = SCENARIO_COLOURS[scenario]
        ax.fill_between(t, part["q05"], part["q95"], color=colour, alpha=0.18, label="90 %")
        ax.fill_between(t, part["q25"], part["q75"], color=colour, alpha=0.38, label="50 %")
        ax.plot(t, part["q50"], color=colour, linewidth=1.6, label="median")
        n = int(part["n"].max())
        ax.set_title(f"{SCENARIO_NAMES[scenario]} (n = {n:,})", fontsize=8)
        step = max(1, len(t) // 4)
        ax.set_xticks(t[::step], part["label"].to_numpy()[::step], rotation=45, fontsize=7)
        ax.set_xlabel("quarter", fontsize=8)
    label = INDICATOR_UNITS.get(indicator, f"{indicator} (model units)")
    axes[0].set_ylabel(label.replace(" (", "\n("), fontsize=8)  # the unit on a second line
    axes[0].legend(frameon=False, fontsize=7, loc="best")
    title = f"{indicator}: median, 50 % and 90 % bands by quarter"
    fig.suptitle(title + (f"\n{note}" if note else ""), fontsize=9)
    return fig


def sobol_chart(indices: pd.DataFrame, output: str) -> Figure:
    """First-order and total Sobol' indices with 95 % bootstrap intervals for one output."""
    return sobol_bar_chart(indices, title=f"Sobol' indices of {output}")


def prim_chart(result: PrimResult) -> Figure:
    """Coverage–density peeling trajectory of a PRIM box (chosen box circled)."""
    return result.plot_trajectory()


def prim_boxes(
    boxes: dict[str, PrimResult], bounds: dict[str, tuple[float, float]], rules: dict[str, str]
) -> Figure:
    """The PRIM box of each scenario against the full ranges of the parameters.

    One panel per scenario; one row per parameter the box restricts. The grey bar is the
    parameter's full (swept or sampled) range, the coloured bar the box's range; the panel title
    gives the box's coverage and density. ``rules`` says what a case of interest was.
    """
    fig = _figure(6.4 * max(len(boxes), 1) / (1.4 if len(boxes) > 1 else 1.0), 3.2)
    axes = fig.subplots(1, max(len(boxes), 1), squeeze=False)[0]
    for ax, (scenario, box) in zip(axes, boxes.items(), strict=False):
        rows = box.box.reset_index(drop=True)
        colour = SCENARIO_COLOURS[scenario]
        names = []
        for i, r in enumerate(rows.itertuples(index=False)):
            low_all, high_all = bounds.get(str(r.parameter), (float(r.low), float(r.high)))
            span = float(high_all - low_all) or 1.0
            lo, hi = (float(r.low) - low_all) / span, (float(r.high) - low_all) / span
            ax.barh(i, 1.0, left=0.0, height=0.55, color="#dddddd")
            ax.barh(i, hi - lo, left=lo, height=0.55, color=colour, alpha=0.85)
            ax.text(
                1.02, i, f"{_fmt(float(r.low))} – {_fmt(float(r.high))}", va="center", fontsize=7
            )
            names.append(f"{r.parameter}\nfull {_fmt(low_all)} – {_fmt(high_all)}")
        if not names:
            ax.text(0.5, 0.5, "the box restricts no parameter", ha="center", va="center")
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_xlim(0.0, 1.35)
        ax.set_xticks([0.0, 0.5, 1.0], ["low end", "middle", "high end"])
        ax.set_xlabel("position in the parameter's full range", fontsize=8)
        ax.set_ylabel("restricted parameter", fontsize=8)
        ax.set_title(
            f"{SCENARIO_NAMES[scenario]}\ncoverage {box.coverage:.0%}, density {box.density:.0%}",
            fontsize=8,
        )
    fig.suptitle("Where each scenario concentrates (PRIM boxes)", fontsize=10)
    return fig


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def to_svg(fig: Figure, text_as_text: bool = False) -> bytes:
    """The figure as SVG bytes.

    By default text is drawn as paths (no fonts are needed to view the file); with
    ``text_as_text`` it stays ``<text>`` elements (selectable and searchable, as in report.html).
    """
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none" if text_as_text else "path"}):
        fig.savefig(buffer, format="svg")
    return buffer.getvalue()
