"""The teacher's class board page (``/board``): every submission, a chart, CSV export.

Reached at ``http://HOST:PORT/board``; shows nothing but a code field until the teacher code
printed by ``python -m experiments.teach --class-dir DIR`` is entered in this browser session
(tried by ``experiments.classboard.Board.try_code``, which counts wrong codes in the board's
database per client address: after ``MAX_TRIES`` wrong codes that computer is locked out for
``LOCK_SECONDS``, and a reload or another session does not lift it). Unlocked, it lists the
submissions of the class (reloaded every ``REFRESH`` seconds and on demand), plots S1 and S2
against the settings students changed (:func:`experiments.app.charts.board_spec`) and offers
the board as CSV. Everything students typed is HTML-escaped (:func:`board_html`); the chart
shows names as Vega-Lite data (text, never markup).
"""

from __future__ import annotations

import math
import os
import time
from html import escape
from typing import Any

import solara
import solara.lab
from solara.widgets import VegaLite

from experiments.app import charts
from experiments.app.components import CSS, LanguageSwitch, class_board, heading, language
from experiments.app.texts import fmt_value, setting_label
from experiments.classboard import LOCK_SECONDS, MAX_TRIES, BoardLocked
from experiments.i18n import t

REFRESH = 3.0
CLIENT_HEADER = "x-rudprk-client"  # experiments.teach.CLIENT_HEADER, set by its origin guard
GUARD_ENV = "RUDPRK_TEACH_GUARD"
# the lock is stated with its time; "reload the page" (the catalogue's board.locked) no longer
# lifts it
LOCKED = {
    "en": "Too many wrong codes from this computer: the board stays locked for {minutes} more "
    "minute(s).",
    "mn": "Энэ компьютерээс буруу код хэт олон удаа оруулсан тул самбар дахиад {minutes} "
    "минутын турш түгжигдсэн байна.",
}

__all__ = ["BoardPage", "LOCK_SECONDS", "MAX_TRIES", "board_html", "client_key"]


def client_key() -> str:
    """Who is trying codes: the client address the origin guard of ``experiments.teach``
    passed on, else (the app served some other way, where a client could name itself) one key
    for every client."""
    if os.environ.get(GUARD_ENV) != "1":
        return "*"
    headers = solara.lab.headers.value or {}
    values = headers.get(CLIENT_HEADER) or ["*"]
    return str(values[-1])


def locked_text(seconds: float, lang: str) -> str:
    return LOCKED.get(lang, LOCKED["en"]).format(minutes=max(1, math.ceil(seconds / 60)))


def board_html(rows: list[dict[str, Any]], lang: str) -> str:
    """The submissions as an HTML table, newest first."""
    if not rows:
        return f"<p>{escape(t('board.empty', lang))}</p>"
    head = ("board.number", "board.col_name", "board.col_group", "board.settings", "events.quarter")
    out = ["<table class='board-table'><thead><tr>"]
    out += [f"<th>{escape(t(k, lang))}</th>" for k in head]
    out += ["<th class='num'>S1</th><th class='num'>S2</th>", "</tr></thead><tbody>"]
    for row in reversed(rows):
        settings = "; ".join(
            f"{setting_label(k, lang)} = {fmt_value(v)}" for k, v in row["settings"].items()
        ) or t("board.unchanged", lang)
        out.append(
            f"<tr class='board-row'><td class='num'>{int(row['id'])}</td>"
            f"<td>{escape(row['name'])}</td><td>{escape(row['group'])}</td>"
            f"<td>{escape(settings)}</td><td class='num'>{escape(row['quarter'])}</td>"
            f"<td class='num'>{100 * row['S1']:.1f} %</td>"
            f"<td class='num'>{100 * row['S2']:.1f} %</td></tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)


@solara.component
def BoardPage() -> None:
    """The teacher's board; locked until the teacher code is entered."""
    lang = language.value
    board = class_board()
    code = solara.use_reactive("")
    unlocked = solara.use_reactive("")  # the accepted code, kept in this session only
    tries = solara.use_reactive(0)  # wrong codes of this session (the count that locks is the
    tick = solara.use_reactive(0)  # board's, per client address)
    client = client_key()
    solara.Title(t("board.title", lang))
    solara.Style(CSS)

    def refresh_loop() -> None:
        while unlocked.value:
            time.sleep(REFRESH)
            tick.set(tick.value + 1)

    solara.use_thread(refresh_loop, dependencies=[bool(unlocked.value)])

    def try_code() -> None:
        given = code.value
        code.set("")
        try:
            right = board is not None and board.try_code(given, client)
        except BoardLocked:
            right = False
        if right:
            unlocked.set(given)
        else:
            tries.set(tries.value + 1)

    with solara.Div(classes=["teach-board"], style={"padding": "12px", "max-width": "1400px"}):
        heading("h2", t("board.title", lang))
        LanguageSwitch()
        if board is None:
            solara.Warning(t("board.disabled", lang))
            return
        if not unlocked.value:
            _ = tries.value  # re-checked after every try
            wait = board.lock_wait(client)
            if wait > 0:
                solara.Error(locked_text(wait, lang), classes=["board-locked"])
                return
            solara.InputText(
                t("board.code", lang),
                value=code,
                password=True,
                continuous_update=True,
                classes=["board-code"],
            )
            solara.Button(t("board.open", lang), on_click=try_code, classes=["board-open"])
            if tries.value:
                solara.Error(t("board.wrong_code", lang), classes=["board-wrong"])
            return
        rows = board.submissions(unlocked.value)
        _ = tick.value  # re-read every REFRESH seconds
        with solara.Div(classes=["teach-buttons"]):
            solara.Button(
                t("board.refresh", lang),
                on_click=lambda: tick.set(tick.value + 1),
                classes=["board-refresh"],
            )
            solara.FileDownload(
                lambda: board.to_csv(unlocked.value).encode("utf-8"),
                filename="class-board.csv",
                mime_type="text/csv",
                children=[solara.Button(t("board.export", lang), classes=["board-export"])],
            )
        solara.Div(children=[t("board.count", lang, n=len(rows))], classes=["board-count"])
        if rows:
            VegaLite.element(spec=charts.board_spec(rows, lang))
        solara.HTML(tag="div", unsafe_innerHTML=board_html(rows, lang))
