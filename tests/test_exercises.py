"""Every teaching exercise composes with Hydra, changes what it claims, runs, has worksheets.

An exercise is ``conf/experiment/ex_NAME.yaml`` plus ``experiments/exercises/NAME.{en,mn}.md``
(issue 5). The comparison command runs it against the baseline with the same seed; one effect
the article names is checked on an ensemble: Seoul's shells make Russia's technology answer
likelier (M23, F11), so S1 gains.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from experiments import config
from experiments import exercise as ex
from experiments.runner import run_point
from sim import params as P

NAMES = ex.exercise_names()
SUGGESTED = {"rok_shells", "china_strict", "ceasefire", "half_stockpile", "monitoring_collapse"}


def composed(name: str) -> tuple[dict, object]:
    config.register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config.CONF_DIR), version_base=None):
        cfg = compose("config", overrides=[f"experiment=ex_{name}"])
    return config.run_settings(cfg), cfg


def test_there_are_at_least_six_exercises_including_the_suggested_ones():
    assert len(NAMES) >= 6
    assert SUGGESTED | {"us_asia"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_preset_composes_and_changes_what_it_claims(name):
    (params, seed, replicates, horizon), cfg = composed(name)
    assert cfg.experiment_name == f"ex_{name}"
    claimed = ex.exercise_overrides(name)
    assert claimed, "an exercise must change at least one parameter"
    changed = {k: v for k, v in params.items() if v != P.BY_KEY[k].default}
    assert changed == claimed
    # the preset header names the article ids the worksheets discuss
    ids = set(re.findall(r"\b[FM]\d\d\b", ex.preset_path(name).read_text().splitlines()[1]))
    assert ids


@pytest.mark.parametrize("name", NAMES)
def test_exercise_runs_at_small_size_with_its_values(name):
    params = P.resolve(ex.exercise_overrides(name))
    rows, _ = run_point(params, seed=7, replicates=60, horizon=20, quantiles=False)
    assert len(rows) == 60
    assert set(rows["scenario"]) <= {"S1", "S2", "neither"}
    for key, value in ex.exercise_overrides(name).items():
        assert (rows[key] == value).all(), key


@pytest.mark.parametrize("name", NAMES)
def test_worksheets_exist_in_both_languages(name):
    ids = set(re.findall(r"\b[FM]\d\d\b", ex.preset_path(name).read_text().splitlines()[1]))
    for lang in ("en", "mn"):
        path = ex.worksheet_path(name, lang)
        assert path.is_file(), f"missing worksheet {path}"
        text = path.read_text(encoding="utf-8")
        assert f"python -m experiments.exercise {name}" in text
        assert f"ex_{name}.yaml" in text
        assert ids <= set(re.findall(r"\b[FM]\d\d\b", text)), "worksheet misses article ids"
    mn = ex.worksheet_path(name, "mn").read_text(encoding="utf-8")
    assert len(re.findall(r"[\u0400-\u04FF]", mn)) > 300


QUESTIONS = {"en": "## Questions for discussion", "mn": "## Хэлэлцэх асуулт"}
PASSAGE = {"en": "## The article's passage", "mn": "## Өгүүллийн холбогдох хэсэг"}


def section(text: str, heading: str) -> str:
    part = text.split(heading, 1)[1]
    return re.split(r"\n## |\n<!-- teacher-note", part, maxsplit=1)[0].strip()


@pytest.mark.parametrize("lang", ["en", "mn"])
def test_each_worksheet_has_its_own_questions_passage_and_teacher_note(lang):
    """Issue 11: own questions (no two worksheets share one), the article passage it explores
    (quoting the preset's ids), and a generated teacher's note."""
    seen: dict[str, str] = {}
    for name in NAMES:
        text = ex.worksheet_path(name, lang).read_text(encoding="utf-8")
        questions = re.findall(r"^\d\. (.+)$", section(text, QUESTIONS[lang]), re.M)
        assert len(questions) >= 3, f"{name}.{lang}.md has fewer than 3 questions"
        for q in questions:
            assert q not in seen, f"{name}.{lang}.md repeats a question of {seen.get(q)}"
            seen[q] = name
        passage = section(text, PASSAGE[lang])
        ids = set(re.findall(r"\b[FM]\d\d\b", ex.preset_path(name).read_text().splitlines()[1]))
        assert ids <= set(re.findall(r"\b[FM]\d\d\b", passage)), f"{name}: passage misses ids"
        assert passage.count(">") >= 1, "the passage is quoted"
        assert text.count("<!-- teacher-note:begin -->") == 1


def test_teacher_notes_match_a_rerun_of_their_command():
    """Every note's numbers come from `python -m experiments.teacher_notes`; rerun it (--check)."""
    from experiments import teacher_notes

    before = {p: p.read_text(encoding="utf-8") for p in ex.WORKSHEET_DIR.glob("*.md")}
    assert teacher_notes.main(["--check"]) == 0, f"run `{teacher_notes.COMMAND}`"
    assert before == {p: p.read_text(encoding="utf-8") for p in ex.WORKSHEET_DIR.glob("*.md")}


def test_rok_shells_bring_more_technology_to_the_dprk():
    """M23/F11: once Seoul ships shells, Russia hands over technology sooner (common random
    numbers, 1,500 replicates: the margin is many standard errors of the mean)."""
    arms = {}
    for arm, values in (("baseline", {}), ("exercise", ex.exercise_overrides("rok_shells"))):
        rows, _ = run_point(
            P.resolve(values), seed=11, replicates=1500, horizon=40, quantiles=False
        )
        arms[arm] = rows["tech_tier_max"].to_numpy(dtype=float)
    diff = arms["exercise"] - arms["baseline"]
    assert diff.mean() > 5 * diff.std(ddof=1) / np.sqrt(diff.size)
    table = ex.compare("rok_shells", seed=11, replicates=300, horizon=40)
    assert np.allclose(table[["baseline_share", "exercise_share"]].sum(), 1.0)
    text = ex.format_comparison(table, "rok_shells", "mn")
    assert "Сөүл Киевт сум нийлүүлнэ" in text and "Вилсон" in text


def test_command_names_the_choices_for_an_unknown_exercise(capsys):
    assert ex.main(["no_such_exercise"]) == 1
    err = capsys.readouterr().err
    assert "unknown exercise 'no_such_exercise'" in err and "rok_shells" in err


def test_command_prints_the_comparison(capsys):
    assert ex.main(["half_stockpile", "--replicates", "200", "--horizon", "20"]) == 0
    out = capsys.readouterr().out
    for scenario in ("S1", "S2", "neither"):
        assert re.search(rf"^{scenario}\s+\s*\d+\.\d %", out, re.M)
    assert "Newcombe" in out


@pytest.mark.parametrize("name", NAMES)
def test_preset_composes_group_presets_instead_of_copying_values(name):
    """Issue 10.8: ``defaults: [override /GROUP: PRESET]`` and no parameter values of its own."""
    from omegaconf import OmegaConf

    node = OmegaConf.to_container(OmegaConf.load(ex.preset_path(name)))
    assert set(node) == {"defaults", "experiment_name"}, "the preset copies values"
    overrides = [d for d in node["defaults"] if isinstance(d, dict)]
    assert overrides and all(next(iter(d)).startswith("override /") for d in overrides)
    for entry in overrides:
        ((key, preset),) = entry.items()
        assert (config.CONF_DIR / key.split("/", 1)[1] / f"{preset}.yaml").is_file()
