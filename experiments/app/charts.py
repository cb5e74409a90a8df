"""Vega-Lite specs of the teaching app's charts, drawn by the browser.

The server only fills numbers into these dicts (Solara's ``VegaLite`` widget, the one behind
``solara.FigureAltair``, draws them); a Matplotlib PNG per step took 0.3–0.8 s on two cores.
Both charts hold a whole precomputed :class:`~experiments.app.ensemble.Run` and declare a
``step`` parameter that filters their data to the quarters revealed so far
(:class:`experiments.app.reveal.RevealChart` sets it on Step; nothing is drawn of later quarters,
though the numbers are in the page — a reader of the browser's developer tools can read ahead):

- :func:`network_spec`: the six states, one line per cooperation domain (width = ensemble mean;
  political, defence, economic, technology — M07, M22) and the quarter's flows as labels;
- :func:`flows_spec`: the key flows (munitions F07/M15, oil M12, technology tier M08/M18, trade
  M09/M16, tourism F08) as ensemble bands (5–95 %, 25–75 %, median) with the highlighted run.
"""

from __future__ import annotations

import math
import textwrap
from html import escape
from typing import Any

from experiments.app.ensemble import FLOWS, Run
from experiments.app.texts import setting_label
from experiments.i18n import t, term
from sim.model import DOMAINS, STATES

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
DOMAIN_COLOURS = dict(zip(DOMAINS, ("#1f77b4", "#d62728", "#2ca02c", "#9467bd"), strict=True))
POSITIONS = {  # a rough map of Northeast Asia (x east, y north)
    "Russia": (0.30, 0.88),
    "China": (0.12, 0.40),
    "DPRK": (0.42, 0.55),
    "ROK": (0.52, 0.22),
    "Japan": (0.80, 0.40),
    "USA": (0.92, 0.85),
}
LABEL_POSITIONS = {("Russia", "DPRK"): (0.62, 0.86), ("DPRK", "China"): (0.20, 0.54)}
EDGE_FLOWS = {  # flow names of model.relations → catalogue keys
    "munitions DPRK→Russia": "edge.munitions",
    "oil products Russia→DPRK": "edge.oil",
    "gas Russia→DPRK": "edge.gas",
    "tourists Russia→DPRK": "edge.tourism",
    "labour DPRK→Russia": "edge.labour",
    "trade": "edge.trade",
}
#: Chart sizes (px): the network fits a 460 px column; the flows panel spans the main area
#: (two charts a row fit the 690 px of a 1024 px screen).
NETWORK_SIZE = (420, 320)
FLOW_SIZE = (250, 110)
#: Where each state's name goes (x, y offsets from its node, in the chart's units), clear of
#: the lines; a long name wraps to two lines.
NAME_OFFSETS = {
    "Russia": (0.0, 0.075),
    "USA": (0.0, 0.075),
    "Japan": (0.0, -0.09),
    "ROK": (0.0, -0.09),
    "China": (0.0, -0.09),
    "DPRK": (0.13, 0.0),
}
#: Smallest text in the charts (px): readable at the back of a room at 1024×768 (issue 24);
#: Vega-Lite's defaults (10-11 px axis labels) are overridden everywhere by :func:`font_config`.
MIN_FONT = 12
BOARD_FONT = 16  # the board is projected for the whole class
#: vega-embed reads this from the spec: no action menu (its items are English and one opens
#: an external editor)
EMBED = {"embedOptions": {"actions": False}}


def font_config(size: int = MIN_FONT) -> dict[str, Any]:
    """A Vega-Lite ``config`` that sets every text of a chart to at least ``size`` px."""
    return {
        "view": {"stroke": None},
        "axis": {"labelFontSize": size, "titleFontSize": size},
        "legend": {"labelFontSize": size, "titleFontSize": size, "labelLimit": 400},
        "header": {"labelFontSize": size, "titleFontSize": size},
        "title": {"fontSize": size + 1, "subtitleFontSize": size},
        "text": {"fontSize": size},
        "mark": {"fontSize": size},
    }


def lines(text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` characters (Vega titles do not wrap)."""
    return textwrap.wrap(text, width) or [text]


def quarter_axis(start_quarter: str, horizon: int, title: str) -> dict[str, Any]:
    """A quantitative x axis over steps 1..horizon labelled with calendar quarters."""
    year, q = int(start_quarter[:4]), int(start_quarter[-1])
    first = year * 4 + q - 1  # quarter_label(start, k) is quarter index first + k - 1
    label = f"floor(({first} + datum.value - 1) / 4) + 'Q' + (({first} + datum.value - 1) % 4 + 1)"
    return {
        "title": title,
        "values": list(range(1, horizon + 1, 8)),
        "labelExpr": label,
        "labelFontSize": MIN_FONT,
        "titleFontSize": MIN_FONT,
    }


def step_param(step: int) -> list[dict[str, Any]]:
    """The ``step`` parameter (a Vega signal) that reveals quarters 1..step."""
    return [{"name": "step", "value": step}]


def flows_spec(run: Run, lang: str, step: int = 0) -> dict[str, Any]:
    """Ensemble bands and the highlighted replicate of each key flow, filtered to ``step``.

    One legend names every band and line: 5–95 % and 25–75 % of runs, the median, the
    highlighted run. Each chart is ``FLOW_SIZE`` px, its text at least ``MIN_FONT`` px.
    """
    x_axis = quarter_axis(run.start_quarter, run.horizon, t("flows.quarter", lang))
    x_scale = {"domain": [1, run.horizon], "nice": False}
    outer, inner = t("flows.outer", lang), t("flows.inner", lang)
    median, highlight = t("flows.median", lang), t("flows.highlight", lang)
    legend = {
        "domain": [outer, inner, median, highlight],
        "range": ["#c6dbef", "#6baed6", "#08306b", "#e6550d"],
    }
    colour_legend = {"title": None, "orient": "bottom", "columns": 2, "symbolSize": 200}
    x = {"field": "quarter", "type": "quantitative", "scale": x_scale, "axis": x_axis}
    charts = []
    for name in FLOWS:
        q, h = run.bands[name], run.highlight[name]
        values = [
            {
                "quarter": k + 1,
                "q05": round(float(q[0, k]), 4),
                "q25": round(float(q[1, k]), 4),
                "q75": round(float(q[3, k]), 4),
                "q95": round(float(q[4, k]), 4),
                "line": line,
                "value": round(float(v), 4),
            }
            for k in range(run.horizon)
            for line, v in ((median, q[2, k]), (highlight, h[k]))
        ]
        charts.append(
            {
                "title": {
                    "text": [
                        line
                        for part in t(f"flow.{name}", lang).replace(" (", "\n(").split("\n")
                        for line in lines(part, 40)
                    ],
                    "fontSize": MIN_FONT + 1,
                    "anchor": "start",
                    "frame": "bounds",
                },
                "width": FLOW_SIZE[0],
                "height": FLOW_SIZE[1],
                "data": {"values": values},
                "transform": [{"filter": "datum.quarter <= step"}],
                "layer": [
                    {
                        "transform": [{"calculate": repr(outer), "as": "band"}],
                        "mark": {"type": "area"},
                        "encoding": {
                            "x": x,
                            "y": {"field": "q05", "type": "quantitative", "title": None},
                            "y2": {"field": "q95"},
                            "color": {
                                "field": "band",
                                "type": "nominal",
                                "scale": legend,
                                "legend": colour_legend,
                            },
                        },
                    },
                    {
                        "transform": [{"calculate": repr(inner), "as": "band"}],
                        "mark": {"type": "area"},
                        "encoding": {
                            "x": x,
                            "y": {"field": "q25", "type": "quantitative"},
                            "y2": {"field": "q75"},
                            "color": {"field": "band", "type": "nominal", "scale": legend},
                        },
                    },
                    {
                        "mark": {"type": "line", "strokeWidth": 2},
                        "encoding": {
                            "x": x,
                            "y": {"field": "value", "type": "quantitative"},
                            "color": {"field": "line", "type": "nominal", "scale": legend},
                        },
                    },
                ],
            }
        )
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "params": step_param(step),
        "padding": 10,
        "columns": 2,
        "spacing": 24,
        "concat": charts,
        "config": font_config(MIN_FONT),
        "usermeta": EMBED,
        "description": f"{outer}; {inner}; {median}; {highlight}",
    }


def network_spec(run: Run, lang: str, step: int = 0) -> dict[str, Any]:
    """The six states at quarter ``step``: lines by domain (width = mean), flow labels."""
    segments: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    quarters = [(0, run.start_edges)] + [(q.step, q.edges) for q in run.quarters]
    for k, edges in quarters:
        _network_quarter(k, edges, lang, segments, labels)
    return _network(segments, labels, lang, step)


def _network_quarter(
    k: int, edges: list[dict[str, Any]], lang: str, segments: list, labels: list
) -> None:
    """Line segments and flow labels of quarter ``k`` (field ``q``)."""
    for edge in edges:
        a, b = edge["a"], edge["b"]
        (xa, ya), (xb, yb) = POSITIONS[a], POSITIONS[b]
        length = math.hypot(xb - xa, yb - ya)
        nx_, ny_ = -(yb - ya) / length, (xb - xa) / length  # unit normal of the edge
        for i, domain in enumerate(DOMAINS):
            value = edge["domains"][domain]
            if value < 0.02:
                continue
            off = (i - 1.5) * 0.012
            segments.append(
                {
                    "q": k,
                    "x": xa + off * nx_,
                    "y": ya + off * ny_,
                    "x2": xb + off * nx_,
                    "y2": yb + off * ny_,
                    "domain": t(f"domain.{domain}", lang),
                    "width": round(0.5 + 7.0 * value, 2),
                    "value": round(value, 3),
                }
            )
        if edge["flows"] and k > 0:
            where = LABEL_POSITIONS.get((a, b), ((xa + xb) / 2, (ya + yb) / 2))
            text = [
                t(EDGE_FLOWS[name], lang, value=value)
                for name, value in edge["flows"].items()
                if name in EDGE_FLOWS  # a flow the lead adds later shows once it has a label
            ]
            labels.append({"q": k, "x": where[0], "y": where[1], "text": text})


def _network(segments: list, labels: list, lang: str, step: int) -> dict[str, Any]:
    """The network spec around its (all-quarter) segments and labels."""
    nodes = [{"x": POSITIONS[s][0], "y": POSITIONS[s][1]} for s in STATES]
    names = [
        {
            "x": POSITIONS[s][0] + NAME_OFFSETS[s][0],
            "y": POSITIONS[s][1] + NAME_OFFSETS[s][1],
            "text": lines(t(f"state.{s}", lang), 9),
        }
        for s in STATES
    ]
    x = {"field": "x", "type": "quantitative", "scale": {"domain": [-0.05, 1.08]}, "axis": None}
    y = {"field": "y", "type": "quantitative", "scale": {"domain": [0.03, 1.02]}, "axis": None}
    colours = {
        "domain": [t(f"domain.{d}", lang) for d in DOMAINS],
        "range": list(DOMAIN_COLOURS.values()),
    }
    this_quarter = [{"filter": "datum.q == step"}]
    name_font = {"fontSize": MIN_FONT + 2, "fontWeight": "bold", "lineHeight": MIN_FONT + 3}
    flow_font = {"fontSize": MIN_FONT, "lineHeight": MIN_FONT + 2}
    halo = {"stroke": "white", "strokeWidth": 4, "strokeJoin": "round", "color": "white"}
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "params": step_param(step),
        "width": NETWORK_SIZE[0],
        "height": NETWORK_SIZE[1],
        "title": {
            "text": lines(t("network.note", lang), 62),
            "fontSize": MIN_FONT,
            "fontWeight": "normal",
            "anchor": "start",
        },
        "layer": [
            {
                "data": {"values": segments},
                "transform": this_quarter,
                "mark": {"type": "rule", "opacity": 0.8},
                "encoding": {
                    "x": x,
                    "y": y,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "color": {
                        "field": "domain",
                        "type": "nominal",
                        "scale": colours,
                        "legend": {"title": None, "orient": "bottom", "columns": 2},
                    },
                    "strokeWidth": {"field": "width", "type": "quantitative", "scale": None},
                    "tooltip": [{"field": "domain"}, {"field": "value"}],
                },
            },
            {
                "data": {"values": nodes},
                "mark": {"type": "circle", "size": 260, "color": "#fff7bc", "stroke": "#555555"},
                "encoding": {"x": x, "y": y},
            },
            *(
                {
                    "data": {"values": data},
                    "transform": transform,
                    "mark": {"type": "text", **font, **style},
                    "encoding": {"x": x, "y": y, "text": {"field": "text"}},
                }
                for data, transform, font in (
                    (labels, this_quarter, flow_font),
                    (names, [], name_font),
                )
                for style in (halo, {"color": "#222222"})  # a white halo under each text
            ),
        ],
        "config": font_config(MIN_FONT),
        "usermeta": EMBED,
    }


def board_legend_html(rows: list[dict[str, Any]], lang: str) -> str:
    """The key of the board chart's circles: filled = final shares, open = provisional."""
    horizon = max((int(row["horizon"]) for row in rows), default=40)
    final = t("board.final", lang, horizon=horizon)
    provisional = t("board.provisional", lang, horizon=horizon)
    return (
        f"<div class='board-legend'><strong>{escape(t('board.result', lang))}:</strong> "
        f"<span class='board-final'>● {escape(final)}</span> "
        f"<span class='board-provisional'>○ {escape(provisional)}</span></div>"
    )


def board_spec(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The class board's chart, for a projector: scenario shares against each changed setting.

    ``rows`` are the shown board submissions (``experiments.classboard``); one chart per changed
    parameter (x = its value), and one for submissions that changed nothing. Scenario 1 and 2
    (the glossary's names) by colour; a share of a run that reached its last quarter (final) is
    a filled circle, one of a run stopped earlier (provisional) an open one, said in the legend.
    Text of ``BOARD_FONT`` px and more; ticks far enough apart not to overlap.
    """
    points = []
    horizon = max((int(row["horizon"]) for row in rows), default=40)
    final, provisional = (
        t("board.final", lang, horizon=horizon),
        t("board.provisional", lang, horizon=horizon),
    )
    names = {s: term(f"scenario.{s}", lang) for s in ("S1", "S2")}
    colours = {"domain": list(names.values()), "range": ["#d62728", "#1f77b4"]}
    for row in rows:
        changed = row["settings"] or {"": None}
        status = final if int(row["step"]) >= int(row["horizon"]) else provisional
        for key, value in changed.items():
            label = setting_label(key, lang) if key else t("board.unchanged", lang)
            for scenario in ("S1", "S2"):
                points.append(
                    {
                        "setting": label,
                        "value": float(value) if value is not None else 0.0,  # bool: 0/1
                        "scenario": names[scenario],
                        "share": row[scenario],
                        "status": status,
                        "who": row["name"],
                        "number": int(row["id"]),
                    }
                )
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "data": {"values": points},
        "facet": {
            "field": "setting",
            "type": "nominal",
            "title": None,
            "header": {"labelFontSize": BOARD_FONT + 2, "labelLimit": 420},
        },
        "columns": 2,
        "spec": {
            "width": 420,
            "height": 260,
            "mark": {"type": "point", "filled": True, "size": 220, "strokeWidth": 3},
            "encoding": {
                "x": {
                    "field": "value",
                    "type": "quantitative",
                    "title": t("board.value", lang),
                    "axis": {"tickCount": 5, "labelOverlap": "greedy", "format": "~g"},
                    "scale": {"zero": False, "padding": 20},
                },
                "y": {
                    "field": "share",
                    "type": "quantitative",
                    "title": t("futures.share", lang),
                    "scale": {"domain": [0, 1]},
                    "axis": {"format": ".0%", "tickCount": 5},
                },
                "color": {
                    "field": "scenario",
                    "type": "nominal",
                    "scale": colours,
                    "legend": {"title": None, "orient": "top", "symbolSize": 220},
                },
                "stroke": {
                    "field": "scenario",
                    "type": "nominal",
                    "scale": colours,
                    "legend": None,
                },
                "fillOpacity": {
                    "field": "status",
                    "type": "nominal",
                    "scale": {"domain": [final, provisional], "range": [1.0, 0.0]},
                    "legend": None,  # said above the chart: board_legend_html
                },
                "tooltip": [
                    {"field": "number"},
                    {"field": "who"},
                    {"field": "value"},
                    {"field": "share", "format": ".1%"},
                    {"field": "status"},
                ],
            },
        },
        "resolve": {"scale": {"x": "independent"}},
        "config": font_config(BOARD_FONT),
        "usermeta": EMBED,
    }
