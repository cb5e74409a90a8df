"""The lesson's main area as one widget: Step and Play run in the browser, not on the server.

A class of thirty stepping at once must not queue thirty server renders per click on two cores
(issue 11). With the run precomputed (:mod:`experiments.app.ensemble`), everything a quarter
shows is known at Reset: :class:`LessonView` receives, once per run and language, the futures
panel and event log of every quarter as HTML (:mod:`experiments.app.texts`), the two charts'
specs with every quarter's data and a ``step`` parameter (:mod:`experiments.app.charts`), and the
control labels. Step and Play (``lesson.vue``) then only move ``step`` in the browser — the
panels show quarter ``step``, the charts redraw through their ``step`` signal — and the new value
reaches the server as one synced trait (read when a student submits to the class board). Reset
goes to the server (``vue_reset``): it applies the sliders and sends the new run.

The browser holds the numbers of later quarters (a student with the developer tools open could
read ahead); the page shows quarters 1..step only. ``data-drawn-step`` on each chart says which
quarter it has drawn (the browser tests wait for it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipyvuetify as v
import traitlets

from experiments.app import charts, texts
from experiments.app.ensemble import Run
from experiments.i18n import t

PLAY_INTERVAL_MS = 600


class LessonView(v.VuetifyTemplate):
    """Controls, futures, network, flows and event log of one run, stepped in the browser."""

    template_file = str(Path(__file__).resolve().with_name("lesson.vue"))
    run_id = traitlets.Unicode("").tag(sync=True)
    quarters = traitlets.List().tag(sync=True)  # per quarter 0..horizon: futures, events HTML
    network_spec = traitlets.Dict().tag(sync=True)
    flows_spec = traitlets.Dict().tag(sync=True)
    labels = traitlets.Dict().tag(sync=True)
    horizon = traitlets.Int(1).tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    play_interval = traitlets.Int(PLAY_INTERVAL_MS).tag(sync=True)

    on_reset: Callable[[], None] | None = None

    def vue_reset(self, *_: Any) -> None:
        if self.on_reset is not None:
            self.on_reset()


def labels(lang: str, horizon: int) -> dict[str, str]:
    """Every word of the main area in ``lang``."""
    return {
        "reset": t("control.reset", lang),
        "step": t("control.step", lang),
        "play": t("control.play", lang),
        "pause": t("control.pause", lang),
        "progress": t("control.progress", lang, step="{step}", horizon="{horizon}"),
        "finished": t("control.finished", lang, horizon=horizon),
        "futures": t("panel.futures", lang),
        "network": t("panel.network", lang),
        "flows": t("panel.flows", lang),
        "events": t("panel.events", lang),
    }


def content(run: Run, lang: str) -> dict[str, Any]:
    """The traits of a run in a language (made once per run and language, shared by sessions)."""

    def make() -> dict[str, Any]:
        return {
            "run_id": f"{id(run)}-{lang}",
            "quarters": [
                {
                    "futures": texts.futures_html(run, k, lang),
                    "events": texts.events_html(run, k, lang),
                }
                for k in range(run.horizon + 1)
            ],
            "network_spec": charts.network_spec(run, lang),
            "flows_spec": charts.flows_spec(run, lang),
            "labels": labels(lang, run.horizon),
            "horizon": run.horizon,
        }

    return run.memo(("lesson", lang), make)


def show(view: LessonView, run: Run, lang: str, step: int) -> None:
    """Put a run (at quarter ``step``) into the view, in one message."""
    traits = content(run, lang)
    with view.hold_sync():
        for name, value in traits.items():
            setattr(view, name, value)
        view.step = min(step, run.horizon)
