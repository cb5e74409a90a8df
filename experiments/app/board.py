"""The teacher's class board page (``/board``): every submission, a chart, CSV export.

Reached at ``http://HOST:PORT/board``; shows nothing but a code field until the teacher code
(in ``DIR/teacher-code.txt`` of ``python -m experiments.teach --class-dir DIR``) is entered in
this browser session
(tried by ``experiments.classboard.Board.try_code``, which counts wrong codes in the board's
database per client address: after ``MAX_TRIES`` wrong codes that computer is locked out for
``LOCK_SECONDS``, and a reload or another session does not lift it). Unlocked, it lists the
submissions of the class (reloaded every ``REFRESH`` seconds and on demand), plots S1 and S2
against the settings students changed (:func:`experiments.app.charts.board_spec`) and offers
the board as CSV. Everything students typed is HTML-escaped (:func:`board_html`); the chart
shows names as Vega-Lite data (text, never markup).

The teacher can hide a row from the projected table and chart (and show it again), delete it for
good, and close or reopen submissions (:class:`experiments.classboard.Board`); hidden rows are
listed by number only. The chart is drawn for a projector (text of 14 px and more) and tells
final shares (the run reached its last quarter) from provisional ones.
"""

from __future__ import annotations

import math
import time
from html import escape
from typing import Any

import solara
import solara.lab
from solara.widgets import VegaLite

from experiments.app import charts
from experiments.app.components import (
    CSS,
    LanguageSwitch,
    class_board,
    client_key,
    count_text,
    heading,
    language,
)
from experiments.app.texts import fmt_value, setting_label
from experiments.classboard import LOCK_SECONDS, MAX_TRIES, BoardError, BoardLocked
from experiments.i18n import t, term

REFRESH = 3.0

__all__ = ["BoardPage", "LOCK_SECONDS", "MAX_TRIES", "board_html", "client_key", "count_text"]


def locked_text(seconds: float, lang: str) -> str:
    """The lock message with the minutes left (a reload does not lift it)."""
    return t("board.locked", lang, minutes=max(1, math.ceil(seconds / 60)))


def board_html(rows: list[dict[str, Any]], lang: str) -> str:
    """The submissions shown on the board (hidden ones left out) as an HTML table, newest first."""
    rows = [row for row in rows if not row.get("hidden")]
    if not rows:
        return f"<p>{escape(t('board.empty', lang))}</p>"
    head = ("board.number", "board.col_name", "board.col_group", "board.settings", "events.quarter")
    out = ["<table class='board-table'><thead><tr>"]
    out += [f"<th>{escape(t(k, lang))}</th>" for k in head]
    out += [f"<th class='num'>{escape(term(f'scenario.{s}', lang))}</th>" for s in ("S1", "S2")]
    out += ["</tr></thead><tbody>"]
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
    row_number = solara.use_reactive(0)
    notice = solara.use_reactive("")
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
        is_open = board.is_open()

        def moderate(action: str) -> None:
            number = int(row_number.value or 0)
            try:
                if action == "delete":
                    board.delete(unlocked.value, number)
                else:
                    board.hide(unlocked.value, number, hidden=action == "hide")
            except BoardError:
                notice.set(t("board.no_row", lang, number=number))
            else:
                notice.set(t("board.done", lang, number=number))
            tick.set(tick.value + 1)

        def toggle_open() -> None:
            board.set_open(unlocked.value, not is_open)
            tick.set(tick.value + 1)

        state = "board.state_open" if is_open else "board.state_closed"
        with solara.Div(classes=["teach-buttons", "board-moderation"]):
            solara.Div(children=[t(state, lang)], classes=["board-state"])
            solara.Button(
                t("board.close_submissions" if is_open else "board.open_submissions", lang),
                on_click=toggle_open,
                classes=["board-toggle"],
            )
            solara.InputInt(t("board.row", lang), value=row_number, classes=["board-row-number"])
            for action in ("hide", "show", "delete"):
                solara.Button(
                    t(f"board.{action}", lang),
                    on_click=lambda action=action: moderate(action),
                    classes=[f"board-{action}"],
                )
        if notice.value:
            solara.Div(children=[notice.value], classes=["board-notice"])
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
        shown = [row for row in rows if not row["hidden"]]
        hidden = [str(row["id"]) for row in rows if row["hidden"]]
        solara.Div(children=[count_text(len(shown), lang)], classes=["board-count"])
        if hidden:
            solara.Div(
                children=[t("board.hidden_rows", lang, numbers=", ".join(hidden))],
                classes=["board-hidden"],
            )
        if shown:
            solara.HTML(tag="div", unsafe_innerHTML=charts.board_legend_html(shown, lang))
            VegaLite.element(spec=charts.board_spec(shown, lang))
        solara.HTML(tag="div", unsafe_innerHTML=board_html(rows, lang))
