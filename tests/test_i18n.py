"""The teaching app's catalogues are complete in English and Mongolian (issue 5).

Fails when a key is missing in either catalogue, when a teaching parameter of ``sim.params`` has
no label or help text, when an event kind the model logs (``sim/*.py``) or an exercise preset has
no message, when the two languages disagree on a message's ``{fields}``, or when the Mongolian
catalogue is not Cyrillic. The article's ids (F01-F13, M01-M25) named for events must exist.

One Mongolian vocabulary (issue 24): ``experiments/i18n/glossary.json`` names each term once (the
article's own word where it has one); no Mongolian text of the catalogue, the worksheets (their
teacher's notes included), the app's panels and charts or the class board holds an English
scenario label (S1/S2/neither), "pp", a raw parameter or event key, "үр" for seed, or a name the
glossary says to avoid (ОХУ, БНАСАУ, БНХАУ …); the states have one name each in each language.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from experiments import exercise as ex
from experiments.i18n import EVENT_IDS, LANGUAGES, catalogue, glossary, t, term
from sim import params as P

REPO = Path(__file__).resolve().parents[1]
ARTICLE_IDS = {f"F{i:02d}" for i in range(1, 14)} | {f"M{i:02d}" for i in range(1, 26)}
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")


def logged_event_kinds() -> set[str]:
    """Every event kind the model's code logs (log_event / log_change calls)."""
    kinds = set()
    for path in (REPO / "sim").glob("*.py"):
        kinds |= set(re.findall(r"log_(?:event|change)\(\s*\"(\w+)\"", path.read_text()))
    return kinds


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_the_same_keys():
    en, mn = catalogue("en"), catalogue("mn")
    assert not set(en) - set(mn), f"missing in mn.json: {sorted(set(en) - set(mn))}"
    assert not set(mn) - set(en), f"missing in en.json: {sorted(set(mn) - set(en))}"
    assert all(value.strip() for lang in LANGUAGES for value in catalogue(lang).values())


def test_messages_take_the_same_fields_in_both_languages():
    en, mn = catalogue("en"), catalogue("mn")
    differ = {k for k in en if fields(en[k]) != fields(mn[k])}
    assert not differ, f"fields differ between en and mn: {sorted(differ)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_teaching_parameter_has_a_label_and_help(lang):
    teach = [p for p in P.PARAMETERS if p.teach]
    assert len(teach) >= 6
    for param in teach:
        assert t(f"param.{param.key}.label", lang)
        assert t(f"param.{param.key}.help", lang)
    # no label for a parameter that is not shown (a stale key after a rename)
    shown = {f"param.{p.key}.{part}" for p in teach for part in ("label", "help")}
    stale = {k for k in catalogue(lang) if k.startswith("param.")} - shown
    assert not stale, f"labels of parameters that are not teaching parameters: {sorted(stale)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_event_kind_has_a_message_and_article_ids(lang):
    kinds = logged_event_kinds()
    assert {"posture", "tech_transfer", "rok_shells", "next_level", "troops"} <= kinds
    for kind in kinds:
        assert kind in EVENT_IDS, f"event kind {kind!r} has no article ids in EVENT_IDS"
        keys = ("event.troops.on", "event.troops.off") if kind == "troops" else (f"event.{kind}",)
        for key in keys:
            assert t(key, lang)
    assert set(EVENT_IDS) <= kinds | set(EVENT_IDS)
    for ids in EVENT_IDS.values():
        assert ids and set(ids) <= ARTICLE_IDS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_flow_on_the_relations_graph_has_a_label(lang):
    """The network view labels every flow the model puts on an edge (model.relations)."""
    from experiments.app import EDGE_FLOWS
    from sim.model import RussiaDPRKModel

    model = RussiaDPRKModel(replicates=2, seed=1, horizon=2)
    model.step()
    names = {name for _, _, data in model.relations.edges(data=True) for name in data["flows"]}
    assert names, "the model puts no flows on the graph"
    for name in names:
        assert name in EDGE_FLOWS, (
            f"flow {name!r} has no label in experiments/app/charts.py EDGE_FLOWS"
        )
        assert t(EDGE_FLOWS[name], lang, value=1.0)


def test_event_ids_follow_the_article():
    # the pairs the article draws (ARTICLE.md): posture ↔ M17 reputation cost, technology ↔
    # M08/M18, Seoul's shells ↔ F11/M23, the next-level document ↔ M24, soldiers ↔ F13
    assert "M17" in EVENT_IDS["posture"]
    assert {"M08", "M18"} <= set(EVENT_IDS["tech_transfer"])
    assert {"F11", "M23"} <= set(EVENT_IDS["rok_shells"])
    assert EVENT_IDS["next_level"] == ("M24",)
    assert "F13" in EVENT_IDS["troops"]
    assert "F07" in EVENT_IDS["shipment_detected"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_exercise_has_a_title_and_question(lang):
    names = ex.exercise_names()
    assert len(names) >= 6
    for name in names:
        assert t(f"exercise.{name}.title", lang)
        assert t(f"exercise.{name}.question", lang).rstrip().endswith("?")


def test_mongolian_catalogue_is_cyrillic():
    not_cyrillic = []
    for key, text in catalogue("mn").items():
        plain = re.sub(r"\{[^}]*\}|\b[SFMQ]\d+\b|“(Step|Reset)”|seed", "", text)
        cyr, lat = len(CYRILLIC.findall(plain)), len(LATIN.findall(plain))
        if cyr == 0 or lat > 0.1 * (cyr + lat):
            not_cyrillic.append(key)
    assert not not_cyrillic, f"mn.json messages that are not Cyrillic: {not_cyrillic}"
    # and the English one is not (a copied file would pass the key checks)
    assert not any(CYRILLIC.search(v) for k, v in catalogue("en").items() if k != "language.mn")


def test_article_vocabulary_in_mongolian():
    """The Mongolian texts use the article's own terms (seed/article_mn.txt)."""
    text = " ".join(catalogue("mn").values())
    for word in ("хориг арга хэмжээ", "сум", "батлан хамгаалах", "чингэлэг", "Хувилбар 1"):
        assert word in text


def test_lookup_errors_are_clear():
    with pytest.raises(ValueError, match="choose one of en, mn"):
        t("app.title", "fr")
    with pytest.raises(KeyError, match="no.*text for 'no.such.key'"):
        t("no.such.key", "en")


def test_app_controls_come_from_the_declaration_and_the_catalogue():
    app = pytest.importorskip("experiments.app")
    for lang in LANGUAGES:
        params = app.model_params(lang, {})
        assert params["replicates"] == app.ENSEMBLE
        for param in (p for p in P.PARAMETERS if p.teach):
            control = params[param.key]
            assert control["label"] == t(f"param.{param.key}.label", lang)
            assert (control["min"], control["max"]) == (param.low, param.high)
            assert control["value"] == param.default
        assert not any(k in params for k in P.BY_KEY if not P.BY_KEY[k].teach)
    # an exercise's value shows on its slider; a non-slider value is passed as a fixed value
    params = app.model_params("en", {"rok.shell_hazard": 1.0, "dprk.troops_deployed": False})
    assert params["rok.shell_hazard"]["value"] == 1.0
    assert params["dprk.troops_deployed"] is False


def test_quarter_axis_labels_match_the_model_calendar():
    app = pytest.importorskip("experiments.app")
    from sim.model import RussiaDPRKModel
    from sim.world import quarter_label

    model = RussiaDPRKModel(replicates=2, seed=1, horizon=40)
    axis = app.quarter_axis(model.start_quarter, model.horizon, "q")
    first = int(re.search(r"\((\d+) \+ datum", axis["labelExpr"]).group(1))
    for k in axis["values"]:
        index = first + k - 1
        assert f"{index // 4}Q{index % 4 + 1}" == quarter_label(model.start_quarter, k)


# -- one Mongolian vocabulary (issue 24) ----------------------------------------------------------
ARTICLE_MN = re.sub(r"\s+", " ", (REPO / "docs" / "article_mn.txt").read_text(encoding="utf-8"))
# English scenario labels, the English unit, raw parameter keys and event kinds (outside code)
ENGLISH_IN_MN = re.compile(
    r"\b(S1|S2|neither|pp)\b|\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+\.[a-z_]+\b", re.IGNORECASE
)
SEED_AS_PLANT = re.compile(r"(?<![\w])үр(?![\w])(?! дүн)(?! ашиг)")


def english_in_mongolian(text: str) -> list[str]:
    """Words of ``text`` (Mongolian) that the glossary says to avoid, outside code spans."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"<!--.*?-->", " ", text)
    text = re.sub(r"(?m)^>.*$", " ", text)  # the article quoted: its own words, verbatim
    text = re.sub(r"\{[^}]*\}", " ", text)  # format fields
    found = [m.group(0) for m in ENGLISH_IN_MN.finditer(text)]
    found += [
        f"үр (seed): …{m.string[max(0, m.start() - 20) : m.end() + 10]}…"
        for m in SEED_AS_PLANT.finditer(text)
    ]
    for term_ in glossary().values():
        found += [avoid for avoid in term_.get("avoid_mn", []) if len(avoid) > 3 and avoid in text]
    # "seed" only as the option's name beside the Mongolian term
    for m in re.finditer(r"seed", text):
        before = text[max(0, m.start() - 30) : m.start()]
        if not (re.search(r"үнд(эс|сээр|эстэй)\s*\($", before)):
            found.append(f"seed without its Mongolian term: …{before}seed…")
    return found


def test_the_glossary_is_complete_and_uses_the_articles_words():
    terms = glossary()
    for key in ("scenario.S1", "scenario.S2", "scenario.neither", "percentage_points", "seed"):
        assert key in terms
    for key, entry in terms.items():
        assert entry["en"] and CYRILLIC.search(entry["mn"]), key
        assert entry["source"] in ("article", "chosen"), key
        if entry["source"] == "article":
            assert entry["mn"] in ARTICLE_MN, f"{key}: {entry['mn']!r} is not in the article"
        else:
            assert entry.get("why") or key.startswith(
                ("run", "quarter", "provisional", "final", "interval", "highlighted")
            ), key
    assert term("scenario.S1", "mn") == "Хувилбар 1" and term("seed", "mn") != "үр"
    with pytest.raises(KeyError, match="no term"):
        term("no.such.term", "mn")


def test_the_states_have_one_name_each_in_both_languages():
    for lang in LANGUAGES:
        for state in ("Russia", "DPRK", "China", "USA", "ROK", "Japan"):
            assert t(f"state.{state}", lang) == term(f"country.{state}", lang)
    for kind in __import__("sim.classifier", fromlist=["NEITHER_KINDS"]).NEITHER_KINDS:
        assert t(f"neither_kind.{kind}", "mn") and t(f"neither_kind.{kind}", "en")


def test_no_english_label_raw_key_or_pp_in_the_mongolian_catalogue_and_worksheets():
    bad = {k: english_in_mongolian(v) for k, v in catalogue("mn").items()}
    bad = {k: v for k, v in bad.items() if v and not k.startswith("language.")}
    assert not bad, f"mn.json: {bad}"
    for path in sorted((REPO / "experiments" / "exercises").glob("*.mn.md")):
        found = english_in_mongolian(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {found}"


def test_the_checker_finds_what_it_should():
    """The check above fails on the texts issue 24 found."""
    assert english_in_mongolian("| S1 | 0.0 % | +0.0 pp [-0.1, +0.1] |") == ["S1", "pp"]
    assert english_in_mongolian("(tech_transfer үйл явдал)") == ["tech_transfer"]
    assert english_in_mongolian("20241001 үр, тал бүрд")[0].startswith("үр")
    assert english_in_mongolian("ОХУ, БНАСАУ-ын уулзалт") == ["БНАСАУ"]
    assert english_in_mongolian("ижил санамсаргүй тооны үндсээр (seed) ажиллуулж") == []
    assert english_in_mongolian("энэ үр дүн, `rok.shell_hazard = 1.0`") == []


def test_the_app_board_and_notes_speak_the_glossary_in_mongolian():
    pytest.importorskip("solara")
    import pandas as pd

    from experiments import teacher_notes
    from experiments.app import charts, ensemble, lesson
    from experiments.app.board import board_html

    run = ensemble.ensemble_run({"rok.shell_hazard": 1.0}, 5, 60, 12)
    texts_ = [json.dumps(lesson.content(run, "mn"), ensure_ascii=False)]
    rows = [
        {
            "id": 1,
            "name": "Бат",
            "group": "1",
            "settings": {"rok.shell_hazard": 1.0},
            "quarter": "2027Q3",
            "step": 12,
            "horizon": 12,
            "S1": 0.1,
            "S2": 0.3,
            "hidden": False,
        },
        {
            "id": 2,
            "name": "Сараа",
            "group": "",
            "settings": {},
            "quarter": "2025Q1",
            "step": 2,
            "horizon": 12,
            "S1": 0.0,
            "S2": 0.0,
            "hidden": False,
        },
    ]
    texts_ += [
        board_html(rows, "mn"),
        json.dumps(charts.board_spec(rows, "mn"), ensure_ascii=False),
    ]
    table = pd.DataFrame(
        {
            "baseline_share": [0.1, 0.2, 0.7],
            "exercise_share": [0.2, 0.2, 0.6],
            "difference": [0.1, 0.0, -0.1],
            "diff_low": [0.05, -0.01, -0.15],
            "diff_high": [0.15, 0.01, -0.05],
        },
        index=["S1", "S2", "neither"],
    )
    note = teacher_notes.note("rok_shells", table, "mn", 4000, 40)
    assert "| Хувилбар 1 |" in note and "нэгж хувь [" in note
    texts_.append(note)
    for text in texts_:
        # chart specs hold field names and expressions: read only what a reader sees
        visible = (
            re.findall(
                r'"(?:text|title|scenario|status|band|line|setting|domain)": '
                r'(\[[^\]]*\]|"[^"]*")',
                text,
            )
            if text.startswith("{")
            else [text]
        )
        found = [w for v in visible for w in english_in_mongolian(v)]
        assert not found, found[:10]
    spec = charts.board_spec(rows, "mn")
    assert {p["scenario"] for p in spec["data"]["values"]} == {"Хувилбар 1", "Хувилбар 2"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_help_shows_the_map_of_the_two_levers(lang):
    """Issue 22: the app's help holds the project's map of enforcement × stockpile, captioned in
    the language of the page and said not to be the student's own run."""
    from experiments.app import texts

    page = texts.help_html(lang)
    assert texts.LEVERS_FIGURE.is_file()
    assert "<img" in page and "data:image/png;base64," in page
    assert t("help.levers", lang) in page.replace("&#x27;", "'")
    assert ("python -m analysis.hedges" in t("help.levers", lang)) == (lang == "en")
