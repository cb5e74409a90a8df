"""Solara components of the teaching app: the page, lesson card, sliders and submit card.

Mesa's generic SolaraViz controls ("Controls", "Play Interval", "Use Threads", "Page 0", an
English STEP/RESET) are replaced by :func:`Parameters` and the controls of
:class:`~experiments.app.lesson.LessonView`, whose every word comes from the catalogues, so a
Mongolian page is Mongolian throughout. The layout is a CSS grid
(:data:`CSS`): a sidebar of fixed width and a main area that starts to its right whatever the
language, sliders whose labels wrap above a full-width track with the value shown beside it,
panels that wrap to one column on a 1024 px screen.

Per-session state lives in ``solara.use_reactive`` values of :func:`Page` and in the module's
``language`` (Solara keeps one value per browser session); the ensembles are shared
(:mod:`experiments.app.ensemble`).
"""

from __future__ import annotations

import os
import threading
from html import escape
from typing import Any

import solara

from experiments import exercise as ex
from experiments.app import texts
from experiments.app.ensemble import Run, ensemble_run, slider_step
from experiments.app.lesson import LessonView, show
from experiments.i18n import LANGUAGES, check_language, t, term
from sim import params as P

ENSEMBLE = int(os.environ.get("RUDPRK_TEACH_REPLICATES", "1000"))
DEFAULT_LANGUAGE = check_language(os.environ.get("RUDPRK_TEACH_LANG", "en"))
SEED = P.RUN_KEYS["seed"]
HORIZON = P.RUN_KEYS["horizon"]
TEACH = tuple(p for p in P.PARAMETERS if p.teach)
BASELINE = "baseline"  # the exercise selector's value for the article's own assumptions

language = solara.reactive(DEFAULT_LANGUAGE)

CSS = """
.teach-app { display: grid; grid-template-columns: 330px minmax(0, 1fr); gap: 12px;
  padding: 8px 12px 8px 8px; box-sizing: border-box; width: 100%; max-width: 100vw;
  align-items: start; }
@media (max-width: 1150px) { .teach-app { grid-template-columns: 300px minmax(0, 1fr); } }
.teach-side, .teach-main, .teach-main-host { min-width: 0; }
.teach-side { display: flex; flex-direction: column; gap: 8px; overflow-wrap: anywhere; }
.teach-main { display: grid; grid-template-columns: repeat(auto-fill, minmax(450px, 1fr));
  gap: 10px; align-content: start; }
.teach-panel { min-width: 0; border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px;
  background: white; overflow-x: auto; }
.teach-panel h3 { font-size: 1.05rem; margin: 0 0 6px 0; line-height: 1.3; }
.teach-card { border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px; background: white; }
.teach-card h3 { font-size: 1rem; margin: 0 0 6px 0; }
.teach-param { margin: 6px 0 10px 0; }
.teach-param-label { white-space: normal; font-size: 0.85rem; line-height: 1.25; }
.teach-param-row { display: flex; align-items: center; gap: 8px; }
.teach-param-row .v-input { flex: 1 1 auto; min-width: 150px; margin: 0; padding: 0; }
.teach-param-value { flex: 0 0 auto; min-width: 3.2em; text-align: right; font-weight: 600;
  font-variant-numeric: tabular-nums; }
.teach-buttons { display: flex; flex-wrap: wrap; gap: 6px; }
.teach-submit .v-btn { margin-top: 10px; }
.teach-controls { grid-column: 1 / -1; display: flex; flex-wrap: wrap; align-items: center;
  gap: 6px 16px; }
.teach-controls .teach-finished { flex: 1 1 100%; margin-top: 0; }
.teach-buttons .v-btn { text-transform: none; letter-spacing: normal; }
.teach-finished { background: #e8f5e9; border-left: 4px solid #2e7d32; padding: 6px 8px;
  margin-top: 6px; }
.teach-app table, .teach-board table { border-collapse: collapse; width: 100%; }
.teach-app th, .teach-app td, .teach-board th, .teach-board td { text-align: left; padding: 2px 6px; vertical-align: top;
  border-bottom: 1px solid #eee; }
.teach-app td.num, .teach-app th.num, .teach-board .num { white-space: nowrap; text-align: right; }
.teach-app p { margin: 4px 0; white-space: normal; }
.teach-events { max-height: 70vh; overflow-y: auto; }
.teach-flows { grid-column: 1 / -1; }
.teach-highlight { background: #fff3e0; border-left: 4px solid #e6550d; padding: 4px 8px; }
.teach-key-title { font-size: 1rem; margin: 8px 0 2px 0; }
.teach-key-events { background: #fffde7; margin-bottom: 8px; }
.teach-main, .teach-side { font-size: 15px; }
.teach-note small { font-size: 13px; }
.teach-board { font-size: 17px; }
.board-legend { font-size: 18px; margin: 8px 0; }
.board-legend span { margin-left: 16px; }
.board-count { font-size: 20px; font-weight: 600; margin: 6px 0; }
.teach-app .v-btn, .teach-board .v-btn { text-transform: none; letter-spacing: normal; }
.teach-exercise .v-select__selection { white-space: normal; overflow: visible;
  text-overflow: clip; max-width: 100%; line-height: 1.3; }
.teach-exercise .v-select__selections { flex-wrap: wrap; }
.v-expansion-panel-header { white-space: normal; }
"""


@solara.component
def Layout(children: list[Any] | None = None) -> Any:
    """The app's frame: the stylesheet and the page, without Solara's app bar and tabs."""
    solara.Style(CSS)
    return solara.Column(children=children or [], style={"padding": "0", "width": "100%"})


# -- small pieces ---------------------------------------------------------------------------
def heading(tag: str, text: str) -> Any:
    """A heading element with escaped text."""
    return solara.HTML(tag=tag, unsafe_innerHTML=escape(text))


def exercise_values(name: str) -> dict[str, Any]:
    """Parameter values of an exercise preset (empty for the baseline)."""
    return {} if name == BASELINE else ex.exercise_overrides(name)


def changed(values: dict[str, Any]) -> dict[str, Any]:
    """The values that differ from the article's assumptions."""
    base = P.resolve({})
    return {k: v for k, v in sorted(values.items()) if v != base[k]}


def run_for(values: dict[str, Any]) -> Run:
    """The shared precomputed ensemble of these values."""
    return ensemble_run(changed(values), SEED, ENSEMBLE, HORIZON)


def model_params(lang: str, values: dict[str, Any]) -> dict[str, Any]:
    """The inputs of the page in Mesa's ``model_params`` form, from ``sim.params``.

    Run settings and non-teaching values are fixed; each teaching parameter is a slider (or a
    checkbox) with its range and default from the declaration and its label from the catalogue.
    """
    out: dict[str, Any] = {"replicates": ENSEMBLE, "seed": SEED, "horizon": HORIZON}
    out.update({k: v for k, v in values.items() if not P.BY_KEY[k].teach})
    for param in TEACH:
        value = values.get(param.key, param.default)
        label = t(f"param.{param.key}.label", lang)
        if param.kind is bool:
            out[param.key] = {"type": "Checkbox", "value": bool(value), "label": label}
            continue
        out[param.key] = {
            "type": "SliderInt" if param.kind is int else "SliderFloat",
            "value": param.kind(value),
            "label": label,
            "min": param.kind(param.low),
            "max": param.kind(param.high),
            "step": slider_step(param),
        }
    return out


@solara.component
def LanguageSwitch() -> None:
    with solara.ToggleButtonsSingle(
        value=language.value, on_value=language.set, classes=["teach-lang"]
    ):
        for code in LANGUAGES:
            solara.Button(t(f"language.{code}", code), value=code, classes=[f"lang-{code}"])


@solara.component
def Slider(key: str, control: dict[str, Any], on_value: Any) -> None:
    """One input of ``model_params``: its label wrapping above a full-width track, the value
    beside it."""
    kind, value, label = P.BY_KEY[key].kind, control["value"], control["label"]
    with solara.Div(classes=["teach-param", f"teach-param-{key.replace('.', '-')}"]):
        if control["type"] == "Checkbox":
            solara.Checkbox(label=label, value=bool(value), on_value=on_value)
            return
        solara.Div(children=[label], classes=["teach-param-label"])
        with solara.Div(classes=["teach-param-row"]):
            solara.v.Slider(
                v_model=value,
                min=control["min"],
                max=control["max"],
                step=control["step"],
                hide_details=True,
                dense=True,
                on_v_model=lambda v: on_value(kind(v)),
                class_="teach-slider",
            )
            solara.Div(children=[texts.fmt_value(value)], classes=["teach-param-value"])


@solara.component
def Parameters(pending: solara.Reactive[dict[str, Any]]) -> None:
    """The sliders of the teaching parameters (``sim.params``, ``teach=True``)."""
    lang = language.value

    def setter(key: str) -> Any:
        return lambda v: pending.set({**pending.value, key: v})

    with solara.Div(classes=["teach-card", "teach-params"]):
        heading("h3", t("panel.parameters", lang))
        solara.Warning(t("notice.reset", lang), dense=True, classes=["teach-reset-notice"])
        controls = model_params(lang, pending.value)
        for param in TEACH:
            Slider(param.key, controls[param.key], setter(param.key))
        solara.Details(
            summary=t("panel.help", lang),
            children=[solara.HTML("div", unsafe_innerHTML=texts.help_html(lang))],
        )


# -- the sidebar's lesson card and the class board's submit card ---------------------------------
@solara.component
def LessonCard(exercise: solara.Reactive[str], on_load: Any) -> None:
    """Language switch and exercise selector."""
    lang = language.value
    items = [{"text": t("exercise.none", lang), "value": BASELINE}] + [
        {"text": t(f"exercise.{name}.title", lang), "value": name} for name in ex.exercise_names()
    ]
    with solara.Div(classes=["teach-card", "teach-lesson"]):
        heading("h3", t("panel.teaching", lang))
        LanguageSwitch()
        solara.v.Select(
            label=t("exercise.label", lang),
            items=items,
            v_model=exercise.value,
            on_v_model=on_load,
            class_="teach-exercise",
            hide_details=True,
        )
        if exercise.value != BASELINE:
            name = exercise.value
            solara.Markdown(
                t(f"exercise.{name}.question", lang)
                + "\n\n"
                + t("exercise.loaded", lang, title=t(f"exercise.{name}.title", lang))
                + f"\n\n{t('exercise.command', lang)} `python -m experiments.exercise {name}`"
            )


CLIENT_HEADER = "x-rudprk-client"  # experiments.teach.CLIENT_HEADER, set by its origin guard
GUARD_ENV = "RUDPRK_TEACH_GUARD"
SESSION_COOKIES = ("solara-session-id", "solara-session-id-lax")


def client_key() -> str:
    """Which computer this session is: the client address the origin guard of
    ``experiments.teach`` passed on, else (the app served some other way, where a client could
    name itself) one key for every client."""
    if os.environ.get(GUARD_ENV) != "1":
        return "*"
    import solara.lab

    headers = solara.lab.headers.value or {}
    values = headers.get(CLIENT_HEADER) or ["*"]
    return str(values[-1])


def session_key() -> str:
    """Which student this is, for the board's per-session limits: a digest of Solara's session
    cookie (a reload keeps it), else of this page's kernel."""
    import hashlib

    import solara.lab

    cookies = solara.lab.cookies.value or {}
    value = next((cookies[name] for name in SESSION_COOKIES if cookies.get(name)), "")
    if not value:
        from solara.server import kernel_context

        value = "kernel:" + kernel_context.get_current_context().id
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def count_text(n: int, lang: str) -> str:
    """ "1 submission", "N submissions"."""
    return t("board.count_one", lang) if n == 1 else t("board.count", lang, n=n)


_BOARD_LOCK = threading.Lock()
_BOARD: list[Any] = []


def class_board() -> Any:
    """The class board of ``--class-dir`` (None when the app runs without one)."""
    folder = os.environ.get("RUDPRK_TEACH_CLASS_DIR")
    if not folder:
        return None
    with _BOARD_LOCK:
        if not _BOARD:
            from experiments.classboard import Board

            _BOARD.append(Board(folder))
        return _BOARD[0]


@solara.component
def SubmitCard(run: Run, view: LessonView) -> None:
    """Send this session's settings and shares to the class board (students can only add)."""
    lang = language.value
    board = class_board()
    name = solara.use_reactive("")
    group = solara.use_reactive("")
    message = solara.use_reactive("")
    sent = solara.use_reactive([])  # this session's own submissions, kept in the session only
    if board is None:
        return

    def submit() -> None:
        from experiments.classboard import (
            MAX_GROUP,
            MAX_NAME,
            MAX_PER_CLIENT,
            MAX_PER_SESSION,
            MIN_INTERVAL,
            BoardBusy,
            BoardClosed,
            BoardError,
            clean_text,
        )

        try:
            clean_text(name.value, "name", MAX_NAME, required=True)
            clean_text(group.value, "group", MAX_GROUP, required=False)
        except BoardError:  # said in the page's language
            message.set(t("board.bad_name", lang, name=MAX_NAME, group=MAX_GROUP))
            return
        step = view.step  # the quarter the student's page shows (synced from the browser)
        quarter = run.at(step)
        if quarter is None:
            message.set(t("board.run_first", lang))
            return
        result = {s: v[0] for s, v in quarter.shares.items()}
        result.update(
            quarter=quarter.label,
            step=step,
            horizon=run.horizon,
            replicates=run.replicates,
            seed=run.seed,
        )
        try:
            number = board.submit(
                name.value,
                group.value,
                dict(run.settings),
                result,
                session=session_key(),
                client=client_key(),
            )
        except BoardClosed:
            message.set(t("board.closed", lang))
            return
        except BoardBusy as busy:
            if busy.reason == "interval":
                wait = max(1, round(busy.seconds))
                message.set(t("board.wait", lang, interval=int(MIN_INTERVAL), seconds=wait))
            elif busy.reason == "session":
                message.set(t("board.session_full", lang, n=MAX_PER_SESSION))
            else:
                message.set(t("board.client_full", lang, n=MAX_PER_CLIENT))
            return
        except BoardError as error:
            message.set(t("board.refused", lang, reason=str(error)))
            return
        sent.set([*sent.value, (number, quarter.label, result["S1"], result["S2"])])
        message.set(t("board.sent", lang, number=number))

    with solara.Div(classes=["teach-card", "teach-submit"]):
        heading("h3", t("board.submit_title", lang))
        solara.InputText(
            t("board.name", lang), value=name, continuous_update=True, classes=["teach-name"]
        )
        solara.InputText(
            t("board.group", lang), value=group, continuous_update=True, classes=["teach-group"]
        )
        solara.Button(t("board.submit", lang), on_click=submit, classes=["teach-submit-button"])
        if message.value:
            solara.Div(children=[message.value], classes=["teach-submit-message"])
        for number, label, s1, s2 in sent.value:
            solara.Div(
                children=[
                    t(
                        "board.mine",
                        lang,
                        number=number,
                        quarter=label,
                        s1=s1,
                        s2=s2,
                        s1_name=term("scenario.S1", lang),
                        s2_name=term("scenario.S2", lang),
                    )
                ],
                classes=["teach-mine"],
            )


# -- the page -------------------------------------------------------------------------------------
@solara.component
def Page() -> None:
    """One browser session: its own settings, quarter and language; shared ensembles."""
    lang = language.value
    exercise = solara.use_reactive(BASELINE)
    pending = solara.use_reactive({})  # slider positions, applied on Reset
    applied = solara.use_reactive({})
    generation = solara.use_reactive(0)  # bumped by Reset and by loading an exercise
    run = solara.use_memo(lambda: run_for(applied.value), [tuple(sorted(applied.value.items()))])
    view = solara.use_memo(LessonView, [])
    shown = solara.use_ref((None, -1))  # (run, generation) the view shows

    def reset() -> None:
        applied.set(dict(pending.value))
        generation.set(generation.value + 1)

    def load(name: str) -> None:
        values = exercise_values(name)
        exercise.set(name)
        pending.set(dict(values))
        applied.set(dict(values))
        generation.set(generation.value + 1)

    view.on_reset = reset

    def put() -> None:
        # a language switch keeps the quarter; a new run or a Reset starts at quarter 0
        same = shown.current == (id(run), generation.value)
        show(view, run, lang, view.step if same else 0)
        shown.current = (id(run), generation.value)

    solara.use_effect(put, [id(run), lang, generation.value])

    solara.Title(t("app.title", lang))
    solara.Style(CSS)
    with solara.Div(classes=["teach-app"]):
        with solara.Div(classes=["teach-side"]):
            heading("h2", t("app.title", lang))
            LessonCard(exercise, load)
            Parameters(pending)
            SubmitCard(run, view)
        solara.Div(classes=["teach-main-host"], children=[view])
