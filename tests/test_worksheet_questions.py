"""Every worksheet question is answerable from what the teaching app shows for its exercise.

``experiments/exercises/answers.json`` declares, for each question of each worksheet
(``NAME.{en,mn}.md``), the places of the app where a student finds its answer (its ``places``
block gives the vocabulary). One test case per question and language (``no_barter-q1-en``):
both languages ask the same number of questions; the question has a declared place; the question
names its first place in words the app uses; an exercise it quotes by title is one it compares
with; and every place is really rendered — the exercise's settings (and those of every exercise
it is compared with) go through the app's own path (``components.run_for``: the shared
precomputed ensemble at the app's size, seed and horizon, about 0.2 s a run) and the app's
rendering functions (``texts.futures_html``, ``highlight_html``, ``events_html``, ``key_kinds``,
``help_html``, ``charts.flows_spec``, ``network_spec``, ``components.model_params``).
"""

from __future__ import annotations

import functools
import json
import math
import re
from html import escape
from typing import Any

import pytest

from experiments import exercise as ex
from experiments.app import charts, components, texts
from experiments.app.ensemble import FLOWS, Run
from experiments.i18n import EVENT_IDS, LANGUAGES, t, term
from sim import params as P
from sim.classifier import SCENARIOS
from sim.model import DOMAINS, STATES

ANSWERS = ex.WORKSHEET_DIR / "answers.json"
QUESTIONS = {"en": "## Questions for discussion", "mn": "## Хэлэлцэх асуулт"}
PASSAGE = {"en": "## The article's passage", "mn": "## Өгүүллийн холбогдох хэсэг"}
BASELINE = "baseline"
#: The keys each kind of place may have (besides "panel" and "against").
KEYS = {
    "futures": {"scenarios"},
    "highlight": set(),
    "flows": {"series"},
    "events": {"kind", "key"},
    "network": {"tie", "domain"},
    "changed": {"setting"},
    "sliders": {"param"},
    "passage": {"ids"},
}
#: Words by which a question names a place (lower case; Mongolian stems take any suffix): the
#: app's own words (panel titles, legend, chart titles, scenario names).
NAMES = {
    "futures": {"en": ("s1", "s2", "neither", "scenario", "share"), "mn": ("хувилбар", "хувь")},
    "highlight": {"en": ("highlighted run",), "mn": ("тодруулсан загварчлал",)},
    "flows": {"en": ("band", "flow"), "mn": ("зурвас", "урсгал")},
    "events": {"en": ("event log", "events"), "mn": ("үйл явд",)},
    "network": {"en": ("six states",), "mn": ("зургаан улс",)},
    "changed": {"en": ("changed settings",), "mn": ("өөрчилсөн тохиргоо",)},
    "sliders": {"en": ("slider",), "mn": ("гулсуур",)},
    "passage": {"en": ("article",), "mn": ("өгүүл",)},
}
SERIES_NAMES = {
    "en": {
        "munitions": "munitions",
        "oil": "oil",
        "tech_tier": "technology tier",
        "trade": "trade",
        "tourism": "touris",
    },
    "mn": {
        "munitions": "сум",
        "oil": "нефт",
        "tech_tier": "технологийн түвшин",
        "trade": "худалдаа",
        "tourism": "жуулч",
    },
}


def section(text: str, heading: str) -> str:
    """The body of the section under ``heading`` (up to the next section or teacher's note)."""
    if heading not in text:
        return ""
    part = text.split(heading, 1)[1]
    return re.split(r"\n## |\n<!-- teacher-note", part, maxsplit=1)[0].strip()


def questions(name: str, lang: str) -> dict[int, str]:
    """The numbered questions of a worksheet, by number."""
    text = ex.worksheet_path(name, lang).read_text(encoding="utf-8")
    found = re.findall(r"^(\d+)\. (.+)$", section(text, QUESTIONS[lang]), re.M)
    return {int(n): q for n, q in found}


@functools.cache
def answers() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The declared places, by exercise and question number."""
    return json.loads(ANSWERS.read_text(encoding="utf-8"))["questions"]


def cases() -> list[Any]:
    out = []
    for name in ex.exercise_names():
        numbers = set(questions(name, "en")) | set(questions(name, "mn"))
        numbers |= {int(n) for n in answers().get(name, {})}
        for n in sorted(numbers):
            for lang in LANGUAGES:
                out.append(pytest.param(name, n, lang, id=f"{name}-q{n}-{lang}"))
    return out


@functools.cache
def run_of(name: str) -> Run:
    """The run the app shows for an exercise (or the baseline), through the app's own path."""
    return components.run_for(components.exercise_values(name))


def exercise_title(name: str, lang: str) -> str:
    """What the app's exercise selector shows for ``name``."""
    return t("exercise.none" if name == BASELINE else f"exercise.{name}.title", lang)


# -- one check per kind of place: the place is rendered for this run ------------------------------
def check_futures(run: Run, place: dict, lang: str, main: bool) -> None:
    html = texts.futures_html(run, run.horizon, lang)
    final = run.at(run.horizon)
    for s in place.get("scenarios", SCENARIOS):
        assert s in SCENARIOS, f"unknown scenario {s!r}"
        assert escape(t(f"scenario.{s}", lang)) in html
        share = f"<span class='share-{s}'>{100 * final.shares[s][0]:.1f} %</span>"
        assert share in html, f"the futures panel does not show {s}'s share"


def check_highlight(run: Run, place: dict, lang: str, main: bool) -> None:
    scenario, kind = run.at(run.horizon).highlight
    line = texts.highlight_html(run, run.horizon, lang)
    assert escape(term(f"scenario.{scenario}", lang)) in line
    if scenario == "neither" and kind:
        assert escape(t(f"neither_kind.{kind}", lang)) in line
    assert line in texts.events_html(run, run.horizon, lang), "the log shows the highlighted run"


def check_flows(run: Run, place: dict, lang: str, main: bool) -> None:
    series = place["series"]
    assert series in FLOWS, f"{series!r} is not a key flow of the app ({', '.join(FLOWS)})"
    spec = charts.flows_spec(run, lang, run.horizon)
    title = " ".join(t(f"flow.{series}", lang).split())
    found = [c for c in spec["concat"] if " ".join(" ".join(c["title"]["text"]).split()) == title]
    assert len(found) == 1, f"no chart titled {title!r} in the flows panel"
    values = found[0]["data"]["values"]
    assert {v["quarter"] for v in values} == set(range(1, run.horizon + 1))
    assert all(math.isfinite(v[k]) for v in values for k in ("q05", "q95", "value"))
    median = {v["quarter"]: v["value"] for v in values if v["line"] == t("flows.median", lang)}
    assert median == {k + 1: round(float(run.bands[series][2, k]), 4) for k in range(run.horizon)}


def check_events(run: Run, place: dict, lang: str, main: bool) -> None:
    kind = place["kind"]
    assert kind in EVENT_IDS, f"{kind!r} is not an event kind of the app"
    html = texts.events_html(run, run.horizon, lang)
    keys = texts.key_kinds(dict(run.settings))
    if main and place.get("key"):
        assert kind in keys, f"{kind!r} is not among this exercise's key events {keys}"
    shown = f"teach-event-{kind}'" in html or (
        kind == texts.STANCE and "teach-event-stance_brief'" in html
    )
    happened = any(e["kind"] == kind for e in run.events_upto(run.horizon))
    assert shown == happened, f"the event log {'hides' if happened else 'shows'} {kind!r}"
    if not happened:  # an absence is an answer only in the exercise's key events
        assert kind in keys, f"{kind!r} neither happens nor is a key event: the log is silent"
        names_missing = escape(t(f"event_name.{kind}", lang)) in html
        assert "teach-key-events" in html or ("teach-key-none" in html and names_missing)


def _near(point: tuple[float, float], x: float, y: float) -> bool:
    return math.hypot(point[0] - x, point[1] - y) < 0.03


def check_network(run: Run, place: dict, lang: str, main: bool) -> None:
    spec = charts.network_spec(run, lang, run.horizon)
    text = json.dumps(spec, ensure_ascii=False)
    for state in STATES:
        assert all(word in text for word in t(f"state.{state}", lang).split())
    if "tie" not in place:
        return
    a, b = place["tie"].split("–")
    assert a in STATES and b in STATES, f"unknown tie {place['tie']!r}"
    domain = place.get("domain")
    assert domain is None or domain in DOMAINS, f"unknown domain {domain!r}"
    pa, pb = charts.POSITIONS[a], charts.POSITIONS[b]
    segments = [
        s
        for layer in spec["layer"]
        for s in layer.get("data", {}).get("values", [])
        if "domain" in s and s["q"] >= 1
    ]
    drawn = [
        s
        for s in segments
        if (domain is None or s["domain"] == t(f"domain.{domain}", lang))
        and (
            (_near(pa, s["x"], s["y"]) and _near(pb, s["x2"], s["y2"]))
            or (_near(pb, s["x"], s["y"]) and _near(pa, s["x2"], s["y2"]))
        )
    ]
    assert drawn, f"no {domain or ''} line of {place['tie']} is drawn in any quarter"


def check_changed(run: Run, place: dict, lang: str, main: bool) -> None:
    key = place["setting"]
    assert key in dict(run.settings), f"the exercise does not change {key!r}"
    html = texts.futures_html(run, run.horizon, lang)
    assert escape(t("futures.changed", lang)) in html
    assert escape(texts.setting_label(key, lang)) in html


def check_sliders(run: Run, place: dict, lang: str, main: bool) -> None:
    key = place["param"]
    param = P.BY_KEY[key]
    assert param.teach, f"{key!r} has no slider"
    values = dict(run.settings)
    control = components.model_params(lang, values)[key]
    assert control["value"] == param.kind(values.get(key, param.default))
    help_text = texts.help_html(lang)
    assert escape(t(f"param.{key}.label", lang)) in help_text
    assert escape(t(f"param.{key}.help", lang)) in help_text


CHECKS = {
    "futures": check_futures,
    "highlight": check_highlight,
    "flows": check_flows,
    "events": check_events,
    "network": check_network,
    "changed": check_changed,
    "sliders": check_sliders,
}


def named(place: dict, question: str, lang: str) -> bool:
    """Whether the question's text names this place in the app's words."""
    words = NAMES[place["panel"]][lang]
    if place["panel"] == "flows":
        words = (*words, SERIES_NAMES[lang][place["series"]])
    return any(word in question.lower() for word in words)


@pytest.mark.parametrize("name, number, lang", cases())
def test_question_is_answerable_from_the_app(name: str, number: int, lang: str) -> None:
    asked = {code: questions(name, code) for code in LANGUAGES}
    assert sorted(asked["en"]) == sorted(asked["mn"]), "the worksheets ask different questions"
    assert list(asked[lang]) == list(range(1, len(asked[lang]) + 1)), "questions numbered 1..n"
    question = asked[lang].get(number)
    assert question, f"{name}.{lang}.md has no question {number} but answers.json declares it"
    places = answers().get(name, {}).get(str(number))
    assert places, f"no place declared in answers.json for {name} question {number}"
    assert named(places[0], question, lang), f"the question does not name {places[0]}"
    compared = {other for place in places for other in place.get("against", [])}
    titles = {exercise_title(other, lang): other for other in ex.exercise_names()}
    for quoted in re.findall(r"“([^”]+)”", question):
        if quoted in titles:
            assert titles[quoted] in compared, f"quotes “{quoted}” but does not compare with it"
    worksheet = ex.worksheet_path(name, lang).read_text(encoding="utf-8")
    for place in places:
        panel = place["panel"]
        assert panel in KEYS, f"unknown panel {panel!r}"
        assert set(place) - {"panel", "against"} <= KEYS[panel], f"unknown keys in {place}"
        if panel == "passage":
            passage = section(worksheet, PASSAGE[lang])
            assert place["ids"] and passage.count(">") >= 1
            for article_id in place["ids"]:
                assert re.search(rf"\b{article_id}\b", passage), f"passage lacks {article_id}"
            continue
        CHECKS[panel](run_of(name), place, lang, True)
        for other in place.get("against", []):
            assert other != name and (other == BASELINE or other in ex.exercise_names())
            assert exercise_title(other, lang)  # the selector lists it
            if panel != "changed":
                CHECKS[panel](run_of(other), place, lang, False)


def test_answers_declare_only_existing_questions() -> None:
    """No stale declaration: every declared exercise and question exists in the worksheets, and
    the vocabulary documented in the file is the one this test checks."""
    documented = json.loads(ANSWERS.read_text(encoding="utf-8"))["places"]
    assert set(documented) == set(KEYS) | {"against"}
    for name, declared in answers().items():
        assert name in ex.exercise_names(), f"answers.json names unknown exercise {name!r}"
        assert {int(n) for n in declared} <= set(questions(name, "en")), name
