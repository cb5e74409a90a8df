"""The teaching app: Mesa's SolaraViz page of ``RussiaDPRKModel`` for what-if exercises.

Started by ``python -m experiments.teach`` (which applies the offline environment first). The page
shows, for an ensemble of ``ENSEMBLE`` replicates (default 1,000) advancing one quarter per step:

- sliders generated from ``sim.params.PARAMETERS`` where ``teach=True`` — ranges and defaults from
  the declaration, labels and help texts from the catalogues ``experiments/i18n/*.json`` keyed by
  the parameter key (no second list);
- the futures panel: live shares of S1, S2 and neither with Wilson 95 % intervals
  (``analysis.stats.proportion_ci``) from ``sim.classifier.classify(model, upto=model.steps)``;
- a network view of the six states (``model.relations``): one line per cooperation domain, its
  width the ensemble mean, and the flows of the quarter as labels;
- the key flows (munitions, oil, technology tier, trade, tourism) as ensemble bands with the
  highlighted replicate (``model.highlight``) drawn on top;
- the event log of the highlighted replicate (``model.events``), each event with its localized
  message and the article ids that explain it (``experiments.i18n.EVENT_IDS``);
- SolaraViz's Step, Play and Reset; a notice that parameter changes take effect on Reset; a
  language switch (English / Mongolian Cyrillic); an exercise selector that loads the parameter
  values of a preset ``conf/experiment/ex_*.yaml``.

Per-session state: every browser session gets its own model, created inside ``Page``; the
module-level ``solara.reactive`` values (language, exercise) are kept per session by Solara. The
ensemble summary (classification, intervals, bands) is computed once per quarter and cached on
the model, so the panels never repeat it.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import solara
from mesa.visualization import SolaraViz
from solara.widgets import VegaLite

from analysis.stats import proportion_ci
from experiments import exercise as ex
from experiments.i18n import EVENT_IDS, LANGUAGES, check_language, t
from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import DOMAINS, STATES, RussiaDPRKModel

ENSEMBLE = int(os.environ.get("RUDPRK_TEACH_REPLICATES", "1000"))
DEFAULT_LANGUAGE = check_language(os.environ.get("RUDPRK_TEACH_LANG", "en"))
SEED = P.RUN_KEYS["seed"]
HORIZON = P.RUN_KEYS["horizon"]
TEACH = tuple(p for p in P.PARAMETERS if p.teach)
BASELINE = "baseline"  # the exercise selector's value for the article's own assumptions

# The key flows of the time-series panel (catalogue keys flow.<name>; see flow_series).
FLOWS = ("munitions", "oil", "tech_tier", "trade", "tourism")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
DOMAIN_COLOURS = dict(zip(DOMAINS, ("#1f77b4", "#d62728", "#2ca02c", "#9467bd"), strict=True))
POSITIONS = {  # a rough map of Northeast Asia (x east, y north)
    "Russia": (0.30, 0.88),
    "China": (0.12, 0.40),
    "DPRK": (0.42, 0.55),
    "ROK": (0.52, 0.22),
    "Japan": (0.80, 0.40),
    "USA": (0.92, 0.85),
}
LABEL_POSITIONS = {("Russia", "DPRK"): (0.62, 0.72), ("DPRK", "China"): (0.22, 0.56)}
EDGE_FLOWS = {  # flow names of model.relations → catalogue keys
    "munitions DPRK→Russia": "edge.munitions",
    "oil products Russia→DPRK": "edge.oil",
    "gas Russia→DPRK": "edge.gas",
    "tourists Russia→DPRK": "edge.tourism",
    "labour DPRK→Russia": "edge.labour",
    "trade": "edge.trade",
}

# Per-session reactive state (Solara keeps one value per browser session).
language = solara.reactive(DEFAULT_LANGUAGE)
exercise = solara.reactive(BASELINE)
generation = solara.reactive(0)  # bumped when an exercise is loaded: remounts the controls


class TeachingModel(RussiaDPRKModel):
    """``RussiaDPRKModel`` as SolaraViz re-creates it on Reset.

    Mesa's Reset passes a ``scenario`` (``mesa.experimental.scenarios``) to models that take
    ``**kwargs``; this model draws its randomness from seed-keyed streams (``sim.rng``) and
    takes no scenario, so the argument is dropped here rather than read as a parameter.
    """

    def __init__(self, *, scenario: Any = None, **kwargs: Any):
        super().__init__(**kwargs)


# -- parameters -----------------------------------------------------------------------------
def exercise_values(name: str) -> dict[str, Any]:
    """Parameter values of an exercise preset (empty for the baseline)."""
    return {} if name == BASELINE else ex.exercise_overrides(name)


def new_model(values: dict[str, Any]) -> TeachingModel:
    """A fresh ensemble with the given parameter values."""
    return TeachingModel(replicates=ENSEMBLE, seed=SEED, horizon=HORIZON, **values)


def slider_step(param: P.Param) -> float:
    """A round step giving about 100 slider positions over the declared range."""
    return 10.0 ** math.floor(math.log10((param.high - param.low) / 100.0))


def control(param: P.Param, value: Any, lang: str) -> dict[str, Any]:
    """SolaraViz's description of the input for one parameter, from its declaration."""
    label = t(f"param.{param.key}.label", lang)
    if param.kind is bool:
        return {"type": "Checkbox", "value": bool(value), "label": label}
    if param.kind is int:
        kind, step = "SliderInt", 1
    else:
        kind, step = "SliderFloat", slider_step(param)
    return {
        "type": kind,
        "value": param.kind(value),
        "label": label,
        "min": param.kind(param.low),
        "max": param.kind(param.high),
        "step": step,
    }


def model_params(lang: str, values: dict[str, Any]) -> dict[str, Any]:
    """SolaraViz ``model_params``: the run settings and exercise values fixed, the rest inputs.

    Keys are the dotted parameter keys; SolaraViz passes them to the model on Reset, which takes
    them as ``**overrides``.
    """
    out: dict[str, Any] = {"replicates": ENSEMBLE, "seed": SEED, "horizon": HORIZON}
    out.update({k: v for k, v in values.items() if not P.BY_KEY[k].teach})
    for param in TEACH:
        out[param.key] = control(param, values.get(param.key, param.default), lang)
    return out


def changed_parameters(model: RussiaDPRKModel) -> dict[str, Any]:
    """Parameters whose value in ``model`` differs from the article's assumptions."""
    return {
        key: value
        for key, value in model.p.items()
        if not isinstance(value, np.ndarray) and value != P.BY_KEY[key].default
    }


# -- the ensemble summary, once per quarter -------------------------------------------------
def flow_series(model: RussiaDPRKModel, upto: int) -> dict[str, np.ndarray]:
    """The key flows, (quarters, replicates), for the quarters run so far."""
    tr = {k: v[:upto] for k, v in model.trajectory.items()}
    return {
        "munitions": tr["munitions"],
        "oil": tr["oil"],
        "tech_tier": tr["tech_tier"],
        "trade": np.asarray(RussiaDPRKModel.russia_trade_at(tr["economic"])),
        "tourism": tr["tourism"],
    }


def ensemble_summary(model: RussiaDPRKModel) -> dict[str, Any]:
    """Scenario shares with intervals and flow bands at the model's current quarter.

    Computed once per quarter and cached on the model (every panel reads the same summary).
    """
    cached = getattr(model, "_teach_summary", None)
    if cached is not None and cached["step"] == model.steps:
        return cached
    steps = model.steps
    summary: dict[str, Any] = {"step": steps, "quarter": model.quarter, "n": model.R}
    if steps > 0:
        labels = classify(model, upto=steps)["scenario"]
        counts = np.array([np.count_nonzero(labels == s) for s in SCENARIOS])
        low, high = proportion_ci(counts, model.R)
        summary["shares"] = {
            s: (counts[i] / model.R, float(low[i]), float(high[i])) for i, s in enumerate(SCENARIOS)
        }
        series = flow_series(model, steps)
        h = model.highlight
        summary["bands"] = {
            name: (np.quantile(values, QUANTILES, axis=1), values[:, h].copy())
            for name, values in series.items()
        }
    model._teach_summary = summary
    return summary


# -- figures: Vega-Lite specs, drawn in the browser -----------------------------------------
# The charts are Vega-Lite specs rendered by the browser (Solara's VegaLite widget, the widget
# behind solara.FigureAltair): the server only fills in numbers, which keeps a step of a
# 1,000-replicate ensemble well under the page-update budget (drawing PNGs with Matplotlib
# took 0.3-0.8 s per step on a 2-core machine).
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def quarter_axis(model: RussiaDPRKModel, title: str) -> dict[str, Any]:
    """A quantitative x axis over steps 1..horizon labelled with calendar quarters."""
    year, q = int(model.start_quarter[:4]), int(model.start_quarter[-1])
    first = year * 4 + q - 1  # quarter_label(start, k) is quarter index first + k - 1
    label = f"floor(({first} + datum.value - 1) / 4) + 'Q' + (({first} + datum.value - 1) % 4 + 1)"
    ticks = list(range(1, model.horizon + 1, 8))
    return {
        "title": title,
        "values": ticks,
        "labelExpr": label,
        "labelFontSize": 9,
        "titleFontSize": 9,
    }


def flows_spec(model: RussiaDPRKModel, lang: str) -> dict[str, Any]:
    """Ensemble bands (5-95 %, 25-75 %, median) and the highlighted replicate of each flow."""
    summary = ensemble_summary(model)
    x_axis = quarter_axis(model, t("flows.quarter", lang))
    x_scale = {"domain": [1, model.horizon], "nice": False}
    legend = {
        "domain": [t(k, lang) for k in ("flows.median", "flows.highlight")],
        "range": ["#08306b", "#e6550d"],
    }
    charts = []
    for name in FLOWS:
        values = []
        if "bands" in summary:
            q, highlight = summary["bands"][name]
            values = [
                {
                    "quarter": k + 1,
                    "q05": float(q[0, k]),
                    "q25": float(q[1, k]),
                    "q50": float(q[2, k]),
                    "q75": float(q[3, k]),
                    "q95": float(q[4, k]),
                    "highlight": float(highlight[k]),
                }
                for k in range(q.shape[1])
            ]
        x = {"field": "quarter", "type": "quantitative", "scale": x_scale, "axis": x_axis}
        charts.append(
            {
                "title": {
                    "text": t(f"flow.{name}", lang).replace(" (", "\n(").split("\n"),
                    "fontSize": 9,
                    "anchor": "start",
                },
                "width": 165,
                "height": 55,
                "data": {"values": values},
                "layer": [
                    {
                        "mark": {"type": "area", "color": "#c6dbef"},
                        "encoding": {
                            "x": x,
                            "y": {"field": "q05", "type": "quantitative", "title": None},
                            "y2": {"field": "q95"},
                        },
                    },
                    {
                        "mark": {"type": "area", "color": "#6baed6"},
                        "encoding": {
                            "x": x,
                            "y": {"field": "q25", "type": "quantitative"},
                            "y2": {"field": "q75"},
                        },
                    },
                    {
                        "transform": [
                            {
                                "fold": ["q50", "highlight"],
                                "as": ["series", "value"],
                            },
                            {
                                "calculate": f"datum.series == 'q50' ? '{legend['domain'][0]}' "
                                f": '{legend['domain'][1]}'",
                                "as": "line",
                            },
                        ],
                        "mark": {"type": "line", "strokeWidth": 1.5},
                        "encoding": {
                            "x": x,
                            "y": {"field": "value", "type": "quantitative"},
                            "color": {
                                "field": "line",
                                "type": "nominal",
                                "scale": legend,
                                "legend": {"title": None, "orient": "bottom"},
                            },
                        },
                    },
                ],
            }
        )
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "columns": 2,
        "concat": charts,
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 9}},
        "usermeta": {"step": model.steps, "bands": t("flows.outer", lang)},
        "description": f"{t('flows.outer', lang)}; {t('flows.inner', lang)}",
    }


def network_spec(model: RussiaDPRKModel, lang: str) -> dict[str, Any]:
    """The six states; one line per cooperation domain (width = ensemble mean), flow labels."""
    segments, labels = [], []
    for a, b, data in model.relations.edges(data=True):
        (xa, ya), (xb, yb) = POSITIONS[a], POSITIONS[b]
        length = math.hypot(xb - xa, yb - ya)
        nx_, ny_ = -(yb - ya) / length, (xb - xa) / length  # unit normal of the edge
        for i, domain in enumerate(DOMAINS):
            value = float(np.mean(data[domain]))
            if value < 0.02:
                continue
            off = (i - 1.5) * 0.012
            segments.append(
                {
                    "x": xa + off * nx_,
                    "y": ya + off * ny_,
                    "x2": xb + off * nx_,
                    "y2": yb + off * ny_,
                    "domain": t(f"domain.{domain}", lang),
                    "width": round(0.5 + 7.0 * value, 2),
                    "value": round(value, 3),
                }
            )
        flows = data.get("flows") or {}
        if flows and model.steps > 0:
            where = LABEL_POSITIONS.get((a, b), ((xa + xb) / 2, (ya + yb) / 2))
            labels.append(
                {
                    "x": where[0],
                    "y": where[1],
                    "text": [
                        t(EDGE_FLOWS[name], lang, value=float(np.mean(v)))
                        for name, v in flows.items()
                    ],
                }
            )
    nodes = [
        {"x": POSITIONS[s][0], "y": POSITIONS[s][1], "text": t(f"state.{s}", lang)} for s in STATES
    ]
    x = {"field": "x", "type": "quantitative", "scale": {"domain": [-0.05, 1.08]}, "axis": None}
    y = {"field": "y", "type": "quantitative", "scale": {"domain": [0.05, 1.0]}, "axis": None}
    colours = {
        "domain": [t(f"domain.{d}", lang) for d in DOMAINS],
        "range": list(DOMAIN_COLOURS.values()),
    }
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "width": 440,
        "height": 290,
        "title": {"text": t("network.note", lang), "fontSize": 10, "anchor": "start"},
        "layer": [
            {
                "data": {"values": segments},
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
                        "legend": {"title": None, "orient": "bottom", "columns": 4},
                    },
                    "strokeWidth": {"field": "width", "type": "quantitative", "scale": None},
                    "tooltip": [{"field": "domain"}, {"field": "value"}],
                },
            },
            {
                "data": {"values": labels},
                "mark": {"type": "text", "fontSize": 9, "color": "#333333"},
                "encoding": {"x": x, "y": y, "text": {"field": "text"}},
            },
            {
                "data": {"values": nodes},
                "mark": {"type": "circle", "size": 900, "color": "#fff7bc", "stroke": "#555555"},
                "encoding": {"x": x, "y": y},
            },
            {
                "data": {"values": nodes},
                "mark": {"type": "text", "fontSize": 11, "fontWeight": "bold"},
                "encoding": {"x": x, "y": y, "text": {"field": "text"}},
            },
        ],
        "config": {"view": {"stroke": None}},
        "usermeta": {"step": model.steps},
    }


# -- text of the panels ------------------------------------------------------------------------
def event_message(event: dict[str, Any], lang: str) -> str:
    """The localized message of one event of ``model.events``."""
    kind = event["kind"]
    if kind == "posture":
        return t(
            "event.posture",
            lang,
            before=t(f"posture.{event['before']}", lang),
            after=t(f"posture.{event['after']}", lang),
        )
    if kind == "troops":
        return t("event.troops.on" if event["after"] else "event.troops.off", lang)
    return t(f"event.{kind}", lang)


def futures_markdown(model: RussiaDPRKModel, lang: str) -> str:
    """The futures panel as Markdown."""
    summary = ensemble_summary(model)
    changed = changed_parameters(model)
    lines = []
    if changed:
        parts = [
            f"{t(f'param.{k}.label', lang) if P.BY_KEY[k].teach else k} = {v:g}"
            if not isinstance(v, bool)
            else f"{k} = {v}"
            for k, v in changed.items()
        ]
        lines.append(f"*{t('futures.changed', lang)}* " + "; ".join(parts))
    else:
        lines.append(f"*{t('futures.none_changed', lang)}*")
    lines.append("")
    if "shares" not in summary:
        lines.append(t("futures.before_first", lang))
        return "\n".join(lines)
    lines.append(
        "**"
        + t(
            "futures.quarter",
            lang,
            quarter=summary["quarter"],
            step=summary["step"],
            horizon=model.horizon,
            n=summary["n"],
        )
        + "**"
    )
    lines += [
        "",
        f"| {t('futures.scenario', lang)} | {t('futures.share', lang)} | "
        f"{t('futures.interval', lang)} |",
        "|---|---:|---:|",
    ]
    for s in SCENARIOS:
        share, low, high = summary["shares"][s]
        lines.append(
            f"| {t(f'scenario.{s}', lang)} | <span class='share-{s}'>{100 * share:.1f} %</span> "
            f"| {100 * low:.1f} – {100 * high:.1f} % |"
        )
    if summary["step"] < model.horizon:
        medium_start = int(np.max(model.p["classifier.short"])) + 1
        note = t("futures.note", lang, medium_start=medium_start, horizon=model.horizon)
        lines += ["", f"<small>{note}</small>"]
    return "\n".join(lines)


def events_markdown(model: RussiaDPRKModel, lang: str, limit: int = 40) -> str:
    """The event log of the highlighted replicate as a Markdown table, newest first."""
    events = model.events[-limit:][::-1]
    if not events:
        return t("events.empty", lang)
    lines = [
        f"| {t('events.quarter', lang)} | {t('events.event', lang)} | {t('events.ids', lang)} |",
        "|---|---|---|",
    ]
    for event in events:
        ids = ", ".join(EVENT_IDS[event["kind"]])
        lines.append(f"| {event['quarter']} | {event_message(event, lang)} | {ids} |")
    return "\n".join(lines)


def help_markdown(lang: str) -> str:
    """Help texts of the teaching parameters, with their article ids."""
    return "\n\n".join(
        f"**{t(f'param.{p.key}.label', lang)}** ({', '.join(p.ids)}): "
        f"{t(f'param.{p.key}.help', lang)}"
        for p in TEACH
    )


# -- components ---------------------------------------------------------------------------------
@solara.component
def FuturesPanel(model: RussiaDPRKModel, step: int) -> None:
    lang = language.value
    with solara.Column(classes=["teach-futures"], style={"padding": "8px", "overflow": "auto"}):
        solara.Markdown(f"### {t('panel.futures', lang)}")
        solara.Markdown(futures_markdown(model, lang))
        # machine-readable marker of the quarter shown (the browser test waits for it)
        solara.Text(str(step), classes=["teach-step"], style={"display": "none"})


@solara.component
def NetworkView(model: RussiaDPRKModel, step: int) -> None:
    lang = language.value
    spec = solara.use_memo(lambda: network_spec(model, lang), [id(model), step, lang])
    with solara.Column(classes=["teach-network"], style={"padding": "4px"}):
        solara.Markdown(f"**{t('panel.network', lang)}**")
        VegaLite.element(spec=spec)


@solara.component
def FlowsView(model: RussiaDPRKModel, step: int) -> None:
    lang = language.value
    spec = solara.use_memo(lambda: flows_spec(model, lang), [id(model), step, lang])
    with solara.Column(classes=["teach-flows"], style={"padding": "4px"}):
        solara.Markdown(f"**{t('panel.flows', lang)}**")
        VegaLite.element(spec=spec)


@solara.component
def EventLog(model: RussiaDPRKModel, step: int) -> None:
    lang = language.value
    with solara.Column(classes=["teach-events"], style={"padding": "8px", "overflow": "auto"}):
        solara.Markdown(f"### {t('panel.events', lang)}")
        solara.Markdown(events_markdown(model, lang))


def _panel(component: Any) -> Any:
    """A SolaraViz component: Mesa re-renders it after every step and reset."""

    def render(model: RussiaDPRKModel) -> Any:
        return component(model, step=model.steps)

    render.__name__ = component.__name__
    return render


COMPONENTS = [(_panel(c), 0) for c in (FuturesPanel, NetworkView, FlowsView, EventLog)]


@solara.component
def LessonCard(model: solara.Reactive[RussiaDPRKModel]) -> None:
    """Language switch, exercise selector and the Reset notice (in the sidebar)."""
    lang = language.value

    def load(name: str) -> None:
        exercise.value = name
        model.value = new_model(exercise_values(name))
        generation.value += 1  # remount SolaraViz so its sliders show the preset's values

    items = [{"text": t("exercise.none", lang), "value": BASELINE}] + [
        {"text": t(f"exercise.{name}.title", lang), "value": name} for name in ex.exercise_names()
    ]
    with solara.Card(t("panel.teaching", lang), classes=["teach-lesson"]):
        with solara.ToggleButtonsSingle(value=lang, on_value=language.set):
            for code in LANGUAGES:
                solara.Button(t(f"language.{code}", code), value=code, classes=[f"lang-{code}"])
        solara.v.Select(
            label=t("exercise.label", lang),
            items=items,
            v_model=exercise.value,
            on_v_model=load,
            class_="teach-exercise",
        )
        if exercise.value != BASELINE:
            name = exercise.value
            solara.Markdown(
                t(f"exercise.{name}.question", lang)
                + "\n\n"
                + t("exercise.loaded", lang, title=t(f"exercise.{name}.title", lang))
                + f"\n\n{t('exercise.command', lang)} `python -m experiments.exercise {name}`"
            )
        solara.Warning(t("notice.reset", lang), dense=True, classes=["teach-reset-notice"])
        solara.Details(
            summary=t("panel.help", lang), children=[solara.Markdown(help_markdown(lang))]
        )


@solara.component
def Page() -> None:
    """One browser session: its own model, its own language and exercise."""
    lang = language.value
    initial = solara.use_memo(lambda: new_model(exercise_values(exercise.value)), [])
    model = solara.use_reactive(initial)
    values = exercise_values(exercise.value)
    solara.Title(t("app.title", lang))
    with solara.Sidebar():
        LessonCard(model)
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(lang, values),
        name=t("app.title", lang),
        play_interval=150,
    ).key(f"viz-{generation.value}")
