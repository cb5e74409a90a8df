"""The teaching app: what-if exercises on ``RussiaDPRKModel`` for a class, and its class board.

Started by ``python -m experiments.teach`` (offline environment first). Like the ``app.py`` of
Mesa's examples, this module only puts the page together: the model's parameters as inputs
(``model_params``, generated from ``sim.params`` where ``teach=True``), the visualisation, and
the page. Mesa's own ``SolaraViz`` is not used: its controls are English-only ("Controls", "Play
Interval", "Use Threads", "Page 0") and it steps the model on the server on every click, which a
class of thirty on two cores cannot afford. The parts, by concern:

- :mod:`experiments.app.ensemble` — the ensembles (default 1,000 replicates), precomputed once
  per setting and seed and shared by all sessions, revealed quarter by quarter;
- :mod:`experiments.app.charts` — Vega-Lite specs (network of the six states, key flows, board);
- :mod:`experiments.app.texts` — the futures panel, the readable event log, slider help;
- :mod:`experiments.app.lesson` — the main area (controls, futures, network, flows, event log)
  as one widget whose Step and Play run in the browser (``lesson.vue``);
- :mod:`experiments.app.components` — the Solara components and the page layout;
- :mod:`experiments.app.board` — the teacher's board page (``/board``, needs the teacher code).

Routes: ``/`` the lesson page, ``/board`` the class board.
"""

from __future__ import annotations

import solara

from experiments.app.board import BoardPage
from experiments.app.charts import EDGE_FLOWS, quarter_axis
from experiments.app.components import (
    ENSEMBLE,
    Layout,
    Page,
    model_params,
    run_for,
)
from experiments.app.lesson import LessonView

__all__ = [
    "LessonView",
    "EDGE_FLOWS",
    "ENSEMBLE",
    "BoardPage",
    "Layout",
    "Page",
    "model_params",
    "quarter_axis",
    "routes",
    "run_for",
]


routes = [
    solara.Route(path="/", component=Page, label="lesson", layout=Layout),
    solara.Route(path="board", component=BoardPage, label="board"),
]
