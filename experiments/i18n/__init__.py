"""Message catalogues of the teaching app: English (``en.json``) and Mongolian Cyrillic (``mn.json``).

One flat JSON catalogue per language, keyed by dotted message keys: ``param.<dotted key>.label``
and ``.help`` for every teaching parameter of ``sim.params`` (``teach=True``), ``event.<kind>``
for every event the model logs, ``exercise.<name>.title`` and ``.question`` for every exercise
preset, and the app's panel titles and notices. The Mongolian catalogue uses the article's own
terms (``docs/article_mn.txt``) as its vocabulary. ``tests/test_i18n.py`` fails when a key is
missing in either catalogue.

``glossary.json`` is the one Mongolian vocabulary of the project (English term → Mongolian term,
the article's own word where it has one, and why where it has none): :func:`term` gives a term
in a language (the app's charts, the board and the teacher's notes use it for the scenario
names, percentage points and seed), and ``tests/test_i18n.py`` checks that no Mongolian text
uses a word the glossary says to avoid (S1/S2/neither, pp, "үр" for seed, ОХУ/БНАСАУ/БНХАУ).

``EVENT_IDS`` names the article ids that explain each event kind of ``RussiaDPRKModel.events``;
the app shows them next to the localized message.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "mn")
HERE = Path(__file__).resolve().parent

#: Article ids (../shared/ARTICLE.md) that explain each event kind the model logs.
EVENT_IDS: dict[str, tuple[str, ...]] = {
    "shipment_detected": ("F07", "M10"),
    "pipeline": ("F03", "M13"),
    "posture": ("M17", "M10"),
    "tech_transfer": ("M08", "M18", "M23"),
    "rok_shells": ("F11", "M23"),
    "next_level": ("M24",),
    "troops": ("F13", "M21"),
    "summit": ("M01", "M22"),
    "treaty": ("F02", "M21"),
    "infrastructure": ("M14",),
    "ceasefire": ("M02", "M03"),
}


def check_language(lang: str) -> str:
    """Return ``lang`` if a catalogue exists for it, else raise ``ValueError`` naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(
            f"language {lang!r} is not available: choose one of {', '.join(LANGUAGES)}"
        )
    return lang


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, by key."""
    check_language(lang)
    with open(HERE / f"{lang}.json", encoding="utf-8") as handle:
        return json.load(handle)


@functools.cache
def glossary() -> dict[str, dict[str, Any]]:
    """The project's vocabulary (``glossary.json``): term key → {"en", "mn", "source", …}."""
    with open(HERE / "glossary.json", encoding="utf-8") as handle:
        return json.load(handle)["terms"]


def term(key: str, lang: str = "en") -> str:
    """A glossary term in ``lang``, e.g. ``term("scenario.S1", "mn")`` → "Хувилбар 1"."""
    check_language(lang)
    terms = glossary()
    if key not in terms:
        raise KeyError(f"no term {key!r} in experiments/i18n/glossary.json")
    return terms[key][lang]


def t(key: str, lang: str = "en", **fields: Any) -> str:
    """The message ``key`` in ``lang``, with ``{name}`` fields filled from ``fields``."""
    messages = catalogue(lang)
    if key not in messages:
        raise KeyError(f"no {lang} text for {key!r} in experiments/i18n/{lang}.json")
    text = messages[key]
    return text.format(**fields) if fields else text
