"""Whether a record of observations is illustrative, and the line every output from one starts with.

The shipped ``examples/observations_example.csv`` shows the format of a record; its rows are not
facts. Issue 25: every output computed from such a record says so in its first line.
:func:`is_illustrative` recognises one (a comment line carrying the word ILLUSTRATIVE, or a source
that begins with it); :data:`LINE` is the sentence to print first. ``analysis.forecast`` uses
both; any other reader of records (``analysis.odds``, the teaching app) can import them without
importing the forecast.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["LINE", "MARK", "is_illustrative"]

#: What marks a record as illustrative: a comment line or a source that begins with this word.
MARK = "ILLUSTRATIVE"
#: The first line of every output computed from an illustrative record (fits 100 columns).
LINE = (
    "ILLUSTRATIVE RECORD: computed from example rows that are not facts; says nothing of the world."
)
#: Bytes read to decide (a record is at most 4 MiB: ``analysis.observations.MAX_RECORD_BYTES``).
MAX_BYTES = 4 * 2**20


def is_illustrative(path: str | Path | None) -> bool:
    """Whether the record at ``path`` is marked illustrative (a ``#`` comment line carrying the
    word ILLUSTRATIVE, or a ``source`` that begins with it, in any case); False for no record or
    one that cannot be read (its reader reports that)."""
    if path is None:
        return False
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            text = handle.read(MAX_BYTES)
    except OSError:
        return False
    lines = text.splitlines()
    if any(ln.lstrip().startswith("#") and MARK in ln.upper() for ln in lines):
        return True
    data = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        rows = list(csv.DictReader(data))
    except csv.Error:
        return False
    return any(str(row.get("source") or "").strip().upper().startswith(MARK) for row in rows)
