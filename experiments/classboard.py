"""The class board: what-ifs that students submit, kept in SQLite in the class folder.

Like NetLogo's HubNet for a classroom: each student sends the settings they changed and the
scenario shares they got (S1, S2, neither at the quarter reached), with a name or group number;
the teacher's board page lists them all, plots S1/S2 against the settings and exports CSV.

- One class, one folder: ``python -m experiments.teach --class-dir DIR`` keeps the board in
  ``DIR/board.sqlite``; a restart with the same folder keeps every submission, another folder is
  another class with its own board (and its own teacher code), so two classes never share one.
- The teacher code (``secrets``, 8 characters) is made when the folder is first used, kept in the
  database and printed at every start. Reading the board (``submissions``, ``to_csv``) needs it;
  :class:`BoardError` otherwise. Students can only *add* a submission: nothing here lets a
  student session read, change or delete another's.
- Student input is validated like any parameter input: every setting through ``sim.params``
  (``Param.resolve`` and the cross-parameter checks), the name and group by length and
  characters, the shares as probabilities; a bad value raises ``BoardError`` naming it.

No Solara here: ``experiments.teach`` opens the board (and prints the code) before the server
starts; the board page is ``experiments.app.board``.
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import secrets
import sqlite3
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim import params as P
from sim.classifier import SCENARIOS

DB_NAME = "board.sqlite"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
CODE_LENGTH = 8
MAX_NAME = 40
MAX_GROUP = 20
MAX_SUBMISSIONS = 5000  # per class: a runaway script cannot fill the disk
CSV_COLUMNS = (
    "id",
    "submitted",
    "name",
    "group",
    "quarter",
    "step",
    "horizon",
    "replicates",
    "seed",
    "S1",
    "S2",
    "neither",
    "settings",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submitted TEXT NOT NULL,
    name TEXT NOT NULL,
    grp TEXT NOT NULL,
    quarter TEXT NOT NULL,
    step INTEGER NOT NULL,
    horizon INTEGER NOT NULL,
    replicates INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    S1 REAL NOT NULL,
    S2 REAL NOT NULL,
    neither REAL NOT NULL,
    settings TEXT NOT NULL
);
"""


class BoardError(ValueError):
    """A refused board operation: one line naming what was wrong and what is allowed."""


def clean_text(value: Any, what: str, limit: int, required: bool) -> str:
    """A name or group: printable text of at most ``limit`` characters, trimmed."""
    if value is None:
        value = ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BoardError(f"{what} must be text of at most {limit} characters")
    text = unicodedata.normalize("NFC", str(value)).strip()
    if required and not text:
        raise BoardError(f"{what} is empty: give a name or a group number")
    if len(text) > limit:
        raise BoardError(f"{what} is {len(text)} characters long: at most {limit} are allowed")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise BoardError(f"{what} contains control characters: only printable text is allowed")
    return text


def clean_settings(settings: Any) -> dict[str, Any]:
    """Changed parameters by dotted key, each validated by ``sim.params``."""
    if not isinstance(settings, dict):
        raise BoardError("settings must map parameter keys to values")
    out = {}
    for key, value in sorted(settings.items()):
        if key not in P.BY_KEY:
            raise BoardError(f"unknown parameter {key!r}: {P.suggest(str(key))}")
        try:
            out[key] = P.BY_KEY[key].resolve(value)
        except P.ParameterError as error:
            raise BoardError(str(error)) from None
    try:
        P.resolve(out)
    except P.ParameterError as error:
        raise BoardError(str(error)) from None
    return out


def clean_result(result: Any) -> dict[str, Any]:
    """Shares of S1, S2 and neither (probabilities summing to 1) and where the run stood."""
    if not isinstance(result, dict):
        raise BoardError("result must hold the shares S1, S2, neither and the quarter reached")
    out: dict[str, Any] = {}
    for s in SCENARIOS:
        share = result.get(s)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise BoardError(f"result {s}={share!r} is not allowed: expected a share in [0, 1]")
        out[s] = float(share)
    if abs(sum(out[s] for s in SCENARIOS) - 1.0) > 1e-6:
        raise BoardError("result shares S1 + S2 + neither must add up to 1")
    for key, low, high in (
        ("horizon", 1, 400),
        ("step", 0, None),
        ("replicates", 1, 100_000),
        ("seed", 0, P.MAX_SEED),
    ):
        value = result.get(key)
        top = out["horizon"] if high is None else high
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
            raise BoardError(f"result {key}={value!r} is not allowed: expected {low} to {top}")
        out[key] = value
    quarter = result.get("quarter", "")
    if not isinstance(quarter, str) or len(quarter) > 8 or not set(quarter) <= set("0123456789Q"):
        raise BoardError(f"result quarter={quarter!r} is not allowed: expected e.g. 2025Q3")
    out["quarter"] = quarter
    return out


def new_code() -> str:
    """A fresh teacher code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Board:
    """The class board of one class folder."""

    def __init__(self, class_dir: str | Path):
        self.class_dir = Path(class_dir)
        self.path = self.class_dir / DB_NAME
        try:
            self.class_dir.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('teacher_code', ?)", (new_code(),))
                db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('created', ?)",
                    (datetime.now(UTC).isoformat(timespec="seconds"),),
                )
        except (OSError, sqlite3.Error) as error:
            raise BoardError(
                f"--class-dir={class_dir}: cannot keep a board there ({error})"
            ) from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a submission survives a crash once stored
        return db

    @property
    def teacher_code(self) -> str:
        with self._connect() as db:
            return db.execute("SELECT value FROM meta WHERE key='teacher_code'").fetchone()[0]

    def check_code(self, code: Any) -> bool:
        """Whether ``code`` is this class's teacher code (constant-time comparison)."""
        if not isinstance(code, str):
            return False
        given = code.strip().upper().encode()
        return hmac.compare_digest(given, self.teacher_code.encode())

    def _require(self, code: Any) -> None:
        if not self.check_code(code):
            raise BoardError("the board needs the teacher code printed when the app started")

    def submit(self, name: Any, group: Any, settings: Any, result: Any) -> int:
        """Store one submission (validated); returns its number. Students can only add."""
        row_name = clean_text(name, "name", MAX_NAME, required=True)
        row_group = clean_text(group, "group", MAX_GROUP, required=False)
        row_settings = clean_settings(settings)
        row = clean_result(result)
        with self._connect() as db:
            (count,) = db.execute("SELECT COUNT(*) FROM submissions").fetchone()
            if count >= MAX_SUBMISSIONS:
                raise BoardError(f"the board is full ({MAX_SUBMISSIONS} submissions)")
            cursor = db.execute(
                "INSERT INTO submissions (submitted, name, grp, quarter, step, horizon, "
                "replicates, seed, S1, S2, neither, settings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    row_name,
                    row_group,
                    row["quarter"],
                    row["step"],
                    row["horizon"],
                    row["replicates"],
                    row["seed"],
                    row["S1"],
                    row["S2"],
                    row["neither"],
                    json.dumps(row_settings, sort_keys=True),
                ),
            )
            return int(cursor.lastrowid)

    def submissions(self, code: Any) -> list[dict[str, Any]]:
        """Every submission, oldest first; needs the teacher code."""
        self._require(code)
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM submissions ORDER BY id").fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["group"] = item.pop("grp")
            item["settings"] = json.loads(item["settings"])
            out.append(item)
        return out

    def to_csv(self, code: Any) -> str:
        """The board as CSV (one row per submission, settings as JSON); needs the teacher code."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.submissions(code):
            values = {**row, "settings": json.dumps(row["settings"], sort_keys=True)}
            writer.writerow([_csv_safe(values[c]) for c in CSV_COLUMNS])
        return buffer.getvalue()


def _csv_safe(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
