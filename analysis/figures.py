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

Every axis names its quantity and unit in the words of ``analysis.labels`` (the one label map).
Readable at 1,280 px (issue 25): no figure is wider than the report's text column
(:data:`COLUMN_PX`, so nothing is scaled down), no text is smaller than :data:`MIN_FONT_PT`
(10.7 px on the page), legends sit outside the data (:func:`readable` moves any legend inside
an axes below the panels), and a heat map labels its cells only when they are big enough to hold
a readable label, otherwise the colour bar alone says the share. :func:`text_px` measures it.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import PercentFormatter

from analysis import labels
from analysis.discovery import PrimResult
from analysis.results import pool_cells
from analysis.sensitivity import sobol_bar_chart

__all__ = [
    "SCENARIO_COLOURS",
    "fan_chart",
    "heatmaps",
    "axis_label",
    "marginal_effects",
    "prim_boxes",
    "prim_chart",
    "readable",
    "sobol_chart",
    "text_px",
    "to_png",
    "to_svg",
]

#: One colour per outcome, used in every figure.
SCENARIO_COLOURS = {"all": "#444444", "S1": "#b2182b", "S2": "#2166ac", "neither": "#7f7f7f"}
SCENARIO_NAMES = labels.SCENARIO_NAMES  # the one label map


#: Sequential colour map per outcome (light = low share, dark = high share).
SCENARIO_CMAPS = {"S1": "Reds", "S2": "Blues", "neither": "Greys"}
#: What the fan-chart indicators measure, with their units (the one label map).
INDICATOR_UNITS = labels.INDICATORS

#: The report's text column at a 1,280 px window (analysis.html: body max-width 1,100 px)
#: and the smallest text allowed in it (issue 25: nothing under 10 px).
COLUMN_PX = 1100
MIN_TEXT_PX = 10.0
#: Fonts are set in points; a figure no wider than the column is drawn at 96 px per inch, so
#: 8 pt is 10.7 px on the page.
MIN_FONT_PT = 8.0
#: The widest figure that is not scaled down in the column (inches at 96 px per inch).
MAX_WIDTH_IN = COLUMN_PX / 96.0


def axis_label(key: str) -> str:
    """``stockpile.dprk`` → ``DPRK stockpile (thousand containers)`` (``analysis.labels``)."""
    return labels.param_label(key)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(min(width, MAX_WIDTH_IN), height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _texts(fig: Figure) -> list[Text]:
    return [
        t
        for t in fig.findobj(Text)
        if isinstance(t, Text) and t.get_visible() and t.get_text().strip()
    ]


def text_px(fig: Figure, column_px: float = COLUMN_PX) -> list[tuple[str, float]]:
    """(text, its height in CSS px) of every visible text of ``fig`` as the report shows it.

    The report inlines the SVG at its natural size (points, 96 px per inch) unless it is wider
    than the column, where it is scaled to the column's width.
    """
    scale = min(1.0, column_px / (fig.get_figwidth() * 96.0))
    return [(t.get_text(), t.get_fontsize() * 96.0 / 72.0 * scale) for t in _texts(fig)]


def readable(fig: Figure) -> Figure:
    """``fig`` made readable in the report's column: no wider than the column, no text under
    :data:`MIN_FONT_PT`, and every legend drawn inside an axes moved below the panels.

    For figures drawn elsewhere (``analysis.sensitivity``, ``analysis.discovery``,
    ``analysis.robustness``) and as a last pass over this module's own.
    """
    width, height = fig.get_size_inches()
    if width > MAX_WIDTH_IN:
        fig.set_size_inches(MAX_WIDTH_IN, height * max(MAX_WIDTH_IN / width, 0.75))
    for t in _texts(fig):
        if t.get_fontsize() < MIN_FONT_PT:
            t.set_fontsize(MIN_FONT_PT)
    handles: dict[str, object] = {}
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
            handles.setdefault(text.get_text(), handle)
        legend.remove()
    if handles:
        layout = fig.get_layout_engine()
        where = "outside lower center" if layout is not None else "lower center"
        fig.legend(
            list(handles.values()),
            list(handles),
            loc=where,
            ncol=min(len(handles), 4),
            frameon=False,
            fontsize=max(MIN_FONT_PT, 9.0),
        )
    return fig


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


#: A heat-map cell holds its label only when at least this big (inches); smaller cells are read
#: from the colour bar alone (issue 25: no label under 10 px).
CELL_LABEL_MIN = (0.45, 0.25)


def heatmaps(
    cells: pd.DataFrame,
    x: str,
    y: str,
    facet: str | None = None,
    scenario: str = "S1",
) -> Figure:
    """P(``scenario``) over ``x`` × ``y``, one panel per level of ``facet``.

    Counts are pooled over every other swept parameter (see ``analysis.results.pool_cells``);
    continuous parameters of a sampled design are binned. Each square is annotated with its share
    at a readable size when the squares are big enough (:data:`CELL_LABEL_MIN`), else the colour
    bar alone gives the share. All panels share one colour scale running from the lowest to the
    highest share of the scenario anywhere in the figure, so equal colours mean equal shares
    across panels.
    """
    by = [c for c in (facet, y, x) if c]
    pooled = pool_cells(cells, by)
    levels = sorted(pooled[facet].unique()) if facet else [None]
    width = min(3.4 * len(levels) + 1.6, MAX_WIDTH_IN)
    fig = _figure(width, 3.8)
    axes = fig.subplots(1, len(levels), squeeze=False)[0]
    share = f"{scenario}_share"
    vmin, vmax = float(pooled[share].min()), float(pooled[share].max())
    if vmax - vmin < 1e-6:  # the same share everywhere: a scale from 0 that still shows it
        vmin, vmax = 0.0, max(vmax, 0.01)
    fmt = "{:.0%}" if vmax >= 0.1 else "{:.1%}"
    panel = (width - 1.6) / len(levels)  # inches per panel, less the colour bar and labels
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
        ax.tick_params(labelsize=MIN_FONT_PT + 1)
        ax.set_xlabel(axis_label(x), fontsize=9)
        ax.set_ylabel(axis_label(y), fontsize=9)
        cell_w, cell_h = 0.8 * panel / grid.shape[1], 2.4 / grid.shape[0]
        if cell_w >= CELL_LABEL_MIN[0] and cell_h >= CELL_LABEL_MIN[1]:
            for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
                if np.isfinite(value):
                    colour = "white" if value > vmin + 0.6 * (vmax - vmin) else "black"
                    ax.text(
                        j, i, fmt.format(value), ha="center", va="center", fontsize=9, color=colour
                    )
        if level is not None:
            ax.set_title(labels.param_label(facet or "") + f" = {_fmt(level)}", fontsize=9)
    assert image is not None
    bar = fig.colorbar(image, ax=list(axes), label=f"P({scenario}) (% of runs)", shrink=0.9)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if vmax >= 0.1 else 1))
    fig.suptitle(f"Share of runs ending in {SCENARIO_NAMES[scenario]}", fontsize=11)
    return readable(fig)


#: Panels per row of the marginal-effects figure (more parameters wrap onto further rows).
PANELS_PER_ROW = 3


def marginal_effects(cells: pd.DataFrame, params: list[str]) -> Figure:
    """P(S1) and P(S2) against each parameter, pooled over the others, with Wilson 95 % bars."""
    count = max(len(params), 1)
    ncols = min(count, PANELS_PER_ROW)
    nrows = -(-count // ncols)
    fig = _figure(3.4 * ncols + 0.6, 2.9 * nrows + 0.8)
    grid = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    axes = list(grid.ravel())
    for ax in axes[len(params) :]:
        fig.delaxes(ax)
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
                label=SCENARIO_NAMES[s],
            )
            top = max(top, float(np.nanmax(pooled[f"{s}_ci_high"].to_numpy(dtype=float))))
        if not numeric:
            ax.set_xticks(pos, [str(v) for v in xs])
        ax.set_xlabel(axis_label(param), fontsize=9)
    axes[0].set_ylim(0.0, min(1.0, top * 1.1) if top > 0 else 1.0)
    for row in grid:
        row[0].set_ylabel("share of runs (%)", fontsize=9)
        row[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=2, frameon=False, fontsize=9)
    fig.suptitle(
        "Marginal effect of each swept parameter (pooled over the others; bars: Wilson 95 %)",
        fontsize=10,
    )
    return readable(fig)


def fan_chart(quantiles: pd.DataFrame, indicator: str, note: str = "") -> Figure:
    """Median with 50 % and 90 % bands of ``indicator`` over quarters, one panel per scenario.

    The legend (bands and median) sits below the panels, outside the data it explains.
    """
    rows = quantiles[quantiles["indicator"] == indicator]
    if rows.empty:
        known = sorted(quantiles["indicator"].unique())
        raise ValueError(f"no quantiles for indicator {indicator!r}; recorded: {known}")
    scenarios = [s for s in SCENARIO_COLOURS if s in set(rows["scenario"])]
    fig = _figure(2.6 * len(scenarios) + 0.8, 3.6)
    axes = fig.subplots(1, len(scenarios), squeeze=False, sharey=True)[0]
    grey = "#555555"
    for ax, scenario in zip(axes, scenarios, strict=True):
        part = rows[rows["scenario"] == scenario].sort_values("quarter")
        t = part["quarter"].to_numpy()
        colour = SCENARIO_COLOURS[scenario]
        ax.fill_between(t, part["q05"], part["q95"], color=colour, alpha=0.18)
        ax.fill_between(t, part["q25"], part["q75"], color=colour, alpha=0.38)
        ax.plot(t, part["q50"], color=colour, linewidth=1.6)
        n = int(part["n"].max())
        ax.set_title(f"{SCENARIO_NAMES[scenario]}\n(n = {n:,})", fontsize=9)
        step = max(1, len(t) // 3)
        ax.set_xticks(t[::step], part["label"].to_numpy()[::step], rotation=45, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlabel("quarter", fontsize=9)
    label = INDICATOR_UNITS.get(indicator, f"{indicator} (model units)")
    axes[0].set_ylabel(label.replace(" (", "\n("), fontsize=9)  # the unit on a second line
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    keys = [
        Patch(color=grey, alpha=0.18, label="90 % band (5th–95th percentile)"),
        Patch(color=grey, alpha=0.45, label="50 % band (quartiles)"),
        Line2D([], [], color=grey, linewidth=1.6, label="median"),
    ]
    fig.legend(handles=keys, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    title = f"{indicator}: median, 50 % and 90 % bands by quarter"
    fig.suptitle(title + (f"\n{note}" if note else ""), fontsize=10)
    return readable(fig)


def sobol_chart(indices: pd.DataFrame, output: str) -> Figure:
    """First-order and total Sobol' indices with 95 % bootstrap intervals for one output."""
    return readable(sobol_bar_chart(indices, title=f"Sobol' indices of {output}"))


def prim_chart(result: PrimResult) -> Figure:
    """Coverage–density peeling trajectory of a PRIM box (chosen box circled)."""
    return readable(result.plot_trajectory())


def _values(values: list[float]) -> str:
    return ", ".join(_fmt(float(v)) for v in values)


def prim_boxes(
    boxes: dict[str, PrimResult],
    bounds: dict[str, tuple[float, float]],
    rules: dict[str, str],
    tested: dict[str, list[float]] | None = None,
) -> Figure:
    """The PRIM box of each scenario against the full ranges of the parameters.

    One panel per scenario; one row per parameter the box restricts. The grey bar is the
    parameter's full (swept or sampled) range, the coloured bar the box's range; the panel title
    gives the box's coverage and density. ``rules`` says what a case of interest was. For a grid
    (``tested``: the values each parameter was run at) the grey dots are the tested values and the
    text names the tested values inside the box, never a bound between two of them.
    """
    tested = tested or {}
    fig = _figure(5.2 * max(len(boxes), 1) + 0.6, 3.4)
    axes = fig.subplots(1, max(len(boxes), 1), squeeze=False)[0]
    for ax, (scenario, box) in zip(axes, boxes.items(), strict=False):
        rows = box.box.reset_index(drop=True)
        colour = SCENARIO_COLOURS[scenario]
        names = []
        for i, r in enumerate(rows.itertuples(index=False)):
            key = str(r.parameter)
            low_all, high_all = bounds.get(key, (float(r.low), float(r.high)))
            span = float(high_all - low_all) or 1.0
            lo, hi = (float(r.low) - low_all) / span, (float(r.high) - low_all) / span
            ax.barh(i, 1.0, left=0.0, height=0.55, color="#dddddd")
            ax.barh(i, hi - lo, left=lo, height=0.55, color=colour, alpha=0.85)
            if key in tested:
                values = [float(v) for v in tested[key]]
                inside = [v for v in values if float(r.low) <= v <= float(r.high)]
                xs = [(v - low_all) / span for v in values]
                ax.plot(xs, [i] * len(xs), "o", color="#333333", ms=4)
                text = f"= {_values(inside)}"
                names.append(f"{labels.PARAM_WORDS.get(key, key)}\ntested {_values(values)}")
            else:
                text = f"{_fmt(float(r.low))} – {_fmt(float(r.high))}"
                names.append(
                    f"{labels.PARAM_WORDS.get(key, key)}\nfull {_fmt(low_all)} – {_fmt(high_all)}"
                )
            ax.text(1.03, i, text, va="center", fontsize=9)
        if not names:
            ax.text(0.5, 0.5, "the box restricts no parameter", ha="center", va="center")
        ax.set_yticks(range(len(names)), names, fontsize=9)
        ax.set_ylim(-0.6, max(len(names), 1) - 0.4)
        ax.set_xlim(0.0, 1.45)
        ax.set_xticks([0.0, 0.5, 1.0], ["low end", "middle", "high end"], fontsize=9)
        ax.set_xlabel("position in the parameter's full range", fontsize=9)
        ax.set_ylabel("restricted parameter", fontsize=9)
        ax.set_title(
            f"{SCENARIO_NAMES[scenario]}\ncoverage {box.coverage:.0%}, density {box.density:.0%}",
            fontsize=9,
        )
    fig.suptitle("Where each scenario concentrates (PRIM boxes)", fontsize=10)
    return readable(fig)


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
