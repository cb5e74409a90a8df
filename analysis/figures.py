"""Static figures of scenario shares and indicator trajectories (Matplotlib, Agg, no pyplot).

Every function takes tables (the DataFrames of ``analysis.results``/``analysis.api``) and returns
a :class:`matplotlib.figure.Figure` drawn on an Agg canvas: no global figure state, nothing is
shown, safe in a server or a test. ``to_png``/``to_svg`` serialise a figure for the report.

* :func:`heatmaps` — P(S1) or P(S2) over two swept parameters, one panel per level of a third;
* :func:`marginal_effects` — each swept parameter's pooled effect on P(S1) and P(S2), Wilson 95 %
  intervals;
* :func:`fan_chart` — median, 50 % and 90 % bands of an indicator over quarters, one panel per
  scenario (all runs, S1, S2, neither), so a reader sees *how* S1 and S2 runs differ over time;
* :func:`sobol_chart` and :func:`prim_chart` — the bar chart of ``analysis.sensitivity`` and the
  peeling trajectory of ``analysis.discovery``.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.discovery import PrimResult
from analysis.results import pool_cells
from analysis.sensitivity import sobol_bar_chart

__all__ = [
    "SCENARIO_COLOURS",
    "fan_chart",
    "heatmaps",
    "marginal_effects",
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
    """
    by = [c for c in (facet, y, x) if c]
    pooled = pool_cells(cells, by)
    levels = sorted(pooled[facet].unique()) if facet else [None]
    fig = _figure(min(3.4 * len(levels) + 1.2, 16.0), 3.4)
    axes = fig.subplots(1, len(levels), squeeze=False)[0]
    share = f"{scenario}_share"
    vmax = max(float(pooled[share].max()), 1e-9)
    fmt = "{:.0%}" if vmax >= 0.1 else "{:.1%}"
    image = None
    for ax, level in zip(axes, levels, strict=True):
        part = pooled if level is None else pooled[pooled[facet] == level]
        grid = part.pivot_table(index=y, columns=x, values=share, aggfunc="mean")
        image = ax.imshow(
            grid.to_numpy(dtype=float),
            origin="lower",
            aspect="auto",
            cmap="Reds" if scenario == "S1" else "Blues",
            vmin=0.0,
            vmax=vmax,
        )
        ax.set_xticks(range(grid.shape[1]), [_fmt(v) for v in grid.columns], rotation=45)
        ax.set_yticks(range(grid.shape[0]), [_fmt(v) for v in grid.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            if np.isfinite(value):
                colour = "white" if value > 0.6 * vmax else "black"
                ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=7, color=colour)
        if level is not None:
            ax.set_title(f"{facet} = {_fmt(level)}", fontsize=9)
    assert image is not None
    fig.colorbar(image, ax=list(axes), label=f"P({scenario})", shrink=0.9)
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
        ax.set_xlabel(param)
    axes[0].set_ylim(0.0, min(1.0, top * 1.1) if top > 0 else 1.0)
    axes[0].set_ylabel("share of runs (95 % Wilson interval)")
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
    axes[0].set_ylabel(indicator)
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


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def to_svg(fig: Figure) -> bytes:
    """The figure as SVG bytes (text kept as paths: no fonts are needed to view it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()
