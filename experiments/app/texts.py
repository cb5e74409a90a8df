"""The teaching app's texts: futures panel, event log and slider help, as small HTML fragments.

Every word comes from the catalogues ``experiments/i18n/{en,mn}.json``; the server builds plain
HTML (no Markdown parsing per step) and caches it per run, quarter and language.

The event log (issue 11) keeps only what a class should discuss, each with its article ids
(``experiments.i18n.EVENT_IDS``):

- **discussable** kinds are listed the first time they happen in the highlighted run: a shipment
  detected (F07, M10), technology handed over (M08, M18, M23), the treaty or a next-level
  document (F02, M21, M24), a ceasefire (M02, M03), Seoul's shells (F11, M23), soldiers (F13,
  M21), the pipeline (F03, M13), a new transport link (M14); repeats of a kind become one line
  ("… N times more, last in 2027Q1");
- a **change of Russia's sanctions stance** (M17, M10) is listed only once it has lasted
  ``LASTING`` quarters; the back-and-forth changes are one summary line;
- **summits** (M01, M22) happen most quarters: one summary line with their count;
- kinds the app does not know (the model may add some) are counted in one line, never dropped
  silently and never breaking the page.

Above the log, :func:`highlight_html` says which scenario the highlighted run is in at the
quarter shown (and, for "neither", which kind), and the **key events of the exercise** — the
event kinds whose article ids meet those of the settings changed (:func:`key_kinds`; Seoul's
shells and technology for ``rok.shell_hazard``) — stay at the top, however long the log grows.
"""

from __future__ import annotations

import base64
import functools
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from experiments.app.ensemble import Run
from experiments.i18n import EVENT_IDS, t, term
from sim import params as P
from sim.classifier import SCENARIOS

DISCUSS = (
    "shipment_detected",
    "tech_transfer",
    "treaty",
    "next_level",
    "ceasefire",
    "rok_shells",
    "troops",
    "pipeline",
    "infrastructure",
)
SUMMARISED = ("summit",)
STANCE = "posture"
LASTING = 4  # quarters a stance change must hold to be listed


def fmt_value(value: Any) -> str:
    """A parameter value as shown on the page."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return f"{value:g}"


def setting_label(key: str, lang: str) -> str:
    """A parameter's name on the page: its slider label, its ``setting.*`` text, or its key."""
    if P.BY_KEY[key].teach:
        return t(f"param.{key}.label", lang)
    try:
        return t(f"setting.{key}", lang)
    except KeyError:
        return key


def changed_line(settings: dict[str, Any], lang: str) -> str:
    """The line naming every parameter that differs from the article's assumptions."""
    if not settings:
        return f"<p class='teach-changed'><em>{escape(t('futures.none_changed', lang))}</em></p>"
    parts = []
    for key, value in settings.items():
        name = setting_label(key, lang)
        parts.append(f"{escape(name)} = {escape(fmt_value(value))}")
    return (
        f"<p class='teach-changed'><em>{escape(t('futures.changed', lang))}</em> "
        + "; ".join(parts)
        + "</p>"
    )


def futures_html(run: Run, step: int, lang: str) -> str:
    """The futures panel at quarter ``step``: shares with intervals, status and notes."""
    changed = {k: v for k, v in run.settings if v != P.BY_KEY[k].resolve(P.BY_KEY[k].default)}
    out = [changed_line(changed, lang)]
    quarter = run.at(step)
    if quarter is None:
        out.append(f"<p>{escape(t('futures.before_first', lang))}</p>")
        return "\n".join(out)
    head = t(
        "futures.quarter",
        lang,
        quarter=quarter.label,
        step=step,
        horizon=run.horizon,
        n=run.replicates,
    )
    out.append(f"<p class='teach-quarter'><strong>{escape(head)}</strong></p>")
    out.append("<table class='teach-shares'><thead><tr>")
    for key in ("futures.scenario", "futures.share", "futures.interval"):
        out.append(f"<th>{escape(t(key, lang))}</th>")
    out.append("</tr></thead><tbody>")
    for s in SCENARIOS:
        share, low, high = quarter.shares[s]
        out.append(
            f"<tr><td>{escape(t(f'scenario.{s}', lang))}</td>"
            f"<td class='num'><span class='share-{s}'>{100 * share:.1f} %</span></td>"
            f"<td class='num'>{100 * low:.1f} – {100 * high:.1f} %</td></tr>"
        )
    out.append("</tbody></table>")
    out.append(highlight_html(run, step, lang))
    if step < run.horizon:
        note = t("futures.note", lang, medium_start=run.medium_start, horizon=run.horizon)
        out.append(f"<p class='teach-note'><small>{escape(note)}</small></p>")
    else:
        out.append(
            f"<p class='teach-final'><strong>{escape(t('futures.final', lang))}</strong></p>"
        )
    return "\n".join(out)


def highlight_html(run: Run, step: int, lang: str) -> str:
    """Which scenario the highlighted run is in at quarter ``step`` (and its kind of neither)."""
    quarter = run.at(step)
    n = f"{run.replicates:,}".replace(",", "," if lang == "en" else " ")
    head = t("highlight.title", lang, n=n)
    if quarter is None:
        body = t("highlight.before_first", lang)
    else:
        scenario, kind = quarter.highlight
        status = t("highlight.final" if step >= run.horizon else "highlight.provisional", lang)
        body = t(
            "highlight.scenario",
            lang,
            quarter=quarter.label,
            scenario=term(f"scenario.{scenario}", lang),
            status=status,
            share=f"{100 * quarter.shares[scenario][0]:.1f} %",
        )
        if scenario == "neither" and kind:
            body += " " + t("highlight.kind", lang, kind=t(f"neither_kind.{kind}", lang)) + "."
    return (
        f"<p class='teach-highlight teach-highlight-{escape(quarter.highlight[0] if quarter else 'none')}'>"
        f"<strong>{escape(head)}</strong> {escape(body)}</p>"
    )


def key_kinds(settings: dict[str, Any]) -> tuple[str, ...]:
    """The event kinds an exercise is about: those whose article ids meet the changed
    settings' ids (``sim.params``), in the order of ``EVENT_IDS``."""
    ids = {i for key in settings for i in P.BY_KEY[key].ids}
    return tuple(kind for kind, kind_ids in EVENT_IDS.items() if ids & set(kind_ids))


def event_message(event: dict[str, Any], lang: str) -> str:
    """The localized message of one event of ``model.events``."""
    kind = event["kind"]
    if kind == STANCE:
        return t(
            "event.posture",
            lang,
            before=t(f"posture.{event['before']}", lang),
            after=t(f"posture.{event['after']}", lang),
        )
    if kind == "troops":
        return t("event.troops.on" if event["after"] else "event.troops.off", lang)
    return t(f"event.{kind}", lang)


def readable_events(events: list[dict[str, Any]], step: int) -> list[dict[str, Any]]:
    """The event log's entries at quarter ``step``, oldest first (language-free).

    Each entry: ``step`` and ``quarter`` (when it happened), ``kind``, ``event`` (the first one;
    None for a summary), ``more`` (repeats after it), ``last`` (quarter of the last repeat).
    ``events`` must hold quarters 1..step only.
    """
    entries: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    unknown: Counter[str] = Counter()
    stance = [e for e in events if e["kind"] == STANCE]
    for e in events:
        kind = e["kind"]
        if kind in DISCUSS:
            key = kind if kind != "troops" else f"troops.{bool(e.get('after'))}"
            if key in entries:
                entries[key]["more"] += 1
                entries[key]["last"] = e["quarter"]
            else:
                entries[key] = {"step": e["step"], "quarter": e["quarter"], "kind": kind}
                entries[key].update(event=e, more=0, last=e["quarter"])
                out.append(entries[key])
        elif kind not in SUMMARISED and kind != STANCE:
            unknown[kind] += 1
    # stance changes: listed once they have held LASTING quarters, the others summarised
    brief = []
    for i, e in enumerate(stance):
        until = stance[i + 1]["step"] if i + 1 < len(stance) else None
        held = (until if until is not None else step + 1) - e["step"]
        if held >= LASTING:
            out.append({"step": e["step"], "quarter": e["quarter"], "kind": STANCE, "event": e})
            out[-1].update(more=0, last=e["quarter"])
        elif until is not None:
            brief.append(e)
    if brief:
        out.append(
            {"step": brief[-1]["step"], "quarter": brief[-1]["quarter"], "kind": "stance_brief"}
        )
        out[-1].update(event=None, more=len(brief), last=brief[-1]["quarter"])
    summits = [e for e in events if e["kind"] in SUMMARISED]
    if summits:
        out.append({"step": summits[-1]["step"], "quarter": summits[-1]["quarter"]})
        out[-1].update(kind="summit_count", event=None, more=len(summits), last=None)
    if unknown:
        out.append({"step": step, "quarter": "", "kind": "unknown", "event": None})
        out[-1].update(more=sum(unknown.values()), last=None)
    out.sort(key=lambda entry: entry["step"])
    return out


def entry_text(entry: dict[str, Any], lang: str) -> tuple[str, tuple[str, ...]]:
    """The message and article ids of one event-log entry."""
    kind = entry["kind"]
    if kind == "stance_brief":
        return t("events.stance_brief", lang, n=entry["more"]), EVENT_IDS[STANCE]
    if kind == "summit_count":
        return t("events.summits", lang, n=entry["more"]), EVENT_IDS["summit"]
    if kind == "unknown":
        return t("events.other", lang, n=entry["more"]), ()
    text = event_message(entry["event"], lang)
    if entry["more"]:
        text += " " + t("events.repeated", lang, n=entry["more"], last=entry["last"])
    return text, EVENT_IDS.get(kind, ())


def _event_table(entries: list[dict[str, Any]], lang: str, css: str) -> str:
    rows = [
        f"<table class='teach-event-table {css}'><thead><tr>"
        + "".join(
            f"<th>{escape(t(k, lang))}</th>"
            for k in ("events.quarter", "events.event", "events.ids")
        )
        + "</tr></thead><tbody>"
    ]
    for entry in entries:
        text, ids = entry_text(entry, lang)
        rows.append(
            f"<tr class='teach-event teach-event-{escape(entry['kind'])}'>"
            f"<td class='num'>{escape(entry['quarter'])}</td><td>{escape(text)}</td>"
            f"<td class='num'>{escape(', '.join(ids))}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def events_html(run: Run, step: int, lang: str) -> str:
    """The event log of the highlighted run at quarter ``step``: its scenario, the exercise's
    key events (oldest first, always at the top), then every other entry, newest first."""
    entries = readable_events(run.events_upto(step), step)
    out = [highlight_html(run, step, lang)]
    keys = key_kinds(dict(run.settings))
    if keys:
        pinned = [e for e in entries if e["kind"] in keys]
        if pinned:
            out.append(f"<h4 class='teach-key-title'>{escape(t('events.key', lang))}</h4>")
            out.append(_event_table(pinned, lang, "teach-key-events"))
        else:
            names = ", ".join(t(f"event_name.{k}", lang) for k in keys)
            out.append(
                f"<p class='teach-key-none'>{escape(t('events.key_none', lang, events=names))}</p>"
            )
        entries = [e for e in entries if e["kind"] not in keys]
    if entries:
        out.append(_event_table(list(reversed(entries)), lang, "teach-other-events"))
    elif not keys:
        out.append(f"<p>{escape(t('events.empty', lang))}</p>")
    return "\n".join(out)


#: The project's map of the design card's two levers (issue 22: python -m analysis.hedges, kept
#: with the docs by scripts/docs_numbers.py), shown under the sliders' help.
LEVERS_FIGURE = Path(__file__).resolve().parents[2] / "docs" / "figures" / "levers.png"


@functools.cache
def _levers_png() -> str:
    """The map as base64 (read once per process), or "" when the figure is not there."""
    if not LEVERS_FIGURE.is_file():
        return ""
    return base64.b64encode(LEVERS_FIGURE.read_bytes()).decode("ascii")


def help_html(lang: str) -> str:
    """Help texts of the teaching parameters, with their article ids, and the map of the two
    levers (sanctions enforcement × the DPRK's stockpile) when the project's figure is there."""
    parts = [
        f"<p><strong>{escape(t(f'param.{p.key}.label', lang))}</strong> "
        f"({escape(', '.join(p.ids))}): {escape(t(f'param.{p.key}.help', lang))}</p>"
        for p in P.PARAMETERS
        if p.teach
    ]
    data = _levers_png()
    if data:
        caption = escape(t("help.levers", lang))
        parts.append(
            f"<figure class='teach-levers'><img style='max-width:100%' alt='{caption}' "
            f"src='data:image/png;base64,{data}'><figcaption>{caption}</figcaption></figure>"
        )
    return "\n".join(parts)
