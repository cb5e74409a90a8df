"""The teaching app's catalogues are complete in English and Mongolian (issue 5).

Fails when a key is missing in either catalogue, when a teaching parameter of ``sim.params`` has
no label or help text, when an event kind the model logs (``sim/*.py``) or an exercise preset has
no message, when the two languages disagree on a message's ``{fields}``, or when the Mongolian
catalogue is not Cyrillic. The article's ids (F01-F13, M01-M25) named for events must exist.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from experiments import exercise as ex
from experiments.i18n import EVENT_IDS, LANGUAGES, catalogue, t
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
    for term in ("хориг арга хэмжээ", "сум", "батлан хамгаалах", "чингэлэг", "Хувилбар 1"):
        assert term in text


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
