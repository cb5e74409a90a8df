"""The class board: what-ifs that students submit, kept in SQLite in the class folder.

Like NetLogo's HubNet for a classroom: each student sends the settings they changed and the
scenario shares they got (S1, S2, neither at the quarter reached), with a name or group number;
the teacher's board page lists them all, plots S1/S2 against the settings and exports CSV.

- One class, one folder: ``python -m experiments.teach --class-dir DIR`` keeps the board in
  ``DIR/board.sqlite`` (file mode 0600: readable by its owner only); a restart with the same
  folder keeps every submission, another folder is another class with its own board (and its
  own teacher code), so two classes never share one.
- The teacher code (``secrets``, 8 characters) is made when the folder is first used and
  printed then (:attr:`Board.fresh_code`); the database keeps only a salted scrypt hash of it
  (:func:`hash_code`), never the code itself. A board of an older version that kept the code in
  plain text is migrated when opened (hashed, the plain text securely deleted). A forgotten
  code cannot be recovered: :meth:`Board.new_teacher_code` makes a new one.
- Reading the board (``submissions``, ``to_csv``) needs the code; :class:`BoardError`
  otherwise. The board page tries codes through :meth:`Board.try_code`, which counts wrong
  codes in the database per client address: after ``MAX_TRIES`` wrong codes within
  ``LOCK_SECONDS`` that client is locked out for ``LOCK_SECONDS`` (:class:`BoardLocked`),
  whatever page loads, reloads or restarts happen meanwhile.
- Students can only *add* a submission: nothing here lets a student session read, change or
  delete another's. What a page sends is limited per student session (the session cookie,
  which a reload keeps) and per client address, counted in the database in the same
  ``BEGIN IMMEDIATE`` transaction as the insert (so concurrent writers cannot overshoot): one
  submission per ``MIN_INTERVAL`` seconds and at most ``MAX_PER_SESSION`` per session
  (:class:`BoardBusy`), at most ``MAX_PER_CLIENT`` per address; one session at its cap is refused
  alone, the class goes on. ``MAX_SUBMISSIONS`` per class only guards the disk.
- The teacher (with the code) can hide a row from the projected board and show it again, delete
  it for good (``secure_delete``: its text is overwritten), and close or reopen submissions
  (:class:`BoardClosed` while closed).
- Student input is validated like any parameter input: every setting through ``sim.params``
  (``Param.resolve`` and the cross-parameter checks), the name and group by length and
  characters, the shares as probabilities; a bad value raises ``BoardError`` naming it. The CSV
  export turns text a spreadsheet would read as a formula into plain text (:func:`_csv_safe`).

No Solara here: ``experiments.teach`` opens the board (and prints the code) before the server
starts; the board page is ``experiments.app.board``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import secrets
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sim import params as P
from sim.classifier import SCENARIOS

DB_NAME = "board.sqlite"
DB_MODE = 0o600  # the board holds students' names: its owner only
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
CODE_LENGTH = 8
MAX_CODE_INPUT = 64  # longer input is wrong without hashing it
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MiB and some 50 ms per check
MAX_TRIES = 5  # wrong teacher codes per client within LOCK_SECONDS ...
LOCK_SECONDS = 600  # ... lock that client out for this long
MAX_NAME = 40
MAX_GROUP = 20
MAX_SUBMISSIONS = 20_000  # per class, a disk guard: the limits below come first
MAX_PER_SESSION = 20  # submissions of one student session (page and its reloads)
MAX_PER_CLIENT = 200  # submissions from one address (a classroom behind one NAT: 30 × 6)
MIN_INTERVAL = 10.0  # seconds between two submissions of one session
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
    "hidden",
)
EXTRA_COLUMNS = (  # added to boards of earlier versions when opened
    ("session", "TEXT NOT NULL DEFAULT ''"),
    ("client", "TEXT NOT NULL DEFAULT ''"),
    ("hidden", "INTEGER NOT NULL DEFAULT 0"),
    ("at", "REAL NOT NULL DEFAULT 0"),
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
CREATE TABLE IF NOT EXISTS code_failures (client TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS code_failures_by_client ON code_failures (client, at);
"""


def _now() -> float:
    """Wall-clock seconds (a lockout outlasts a restart); tests replace it."""
    return time.time()


class BoardError(ValueError):
    """A refused board operation: one line naming what was wrong and what is allowed."""


class BoardBusy(BoardError):
    """A student session sends too fast or has reached its cap: only that session is refused."""

    def __init__(self, message: str, reason: str, seconds: float = 0.0):
        self.reason = reason  # "interval", "session" or "client"
        self.seconds = max(0.0, seconds)
        super().__init__(message)


class BoardClosed(BoardError):
    """The teacher has closed submissions."""

    def __init__(self) -> None:
        super().__init__("the teacher has closed the board to submissions")


class BoardLocked(BoardError):
    """Too many wrong teacher codes from one client: no more tries for ``seconds``."""

    def __init__(self, seconds: float):
        self.seconds = max(0.0, seconds)
        minutes = max(1, -int(-self.seconds // 60))
        super().__init__(
            f"{MAX_TRIES} wrong teacher codes: the board is locked for this client for "
            f"{minutes} more minute(s)"
        )


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


def _normal_code(code: Any) -> bytes | None:
    """The code as typed, trimmed and upper-cased (read aloud, typed in any case)."""
    if not isinstance(code, str) or len(code) > MAX_CODE_INPUT:
        return None
    return code.strip().upper().encode()


def hash_code(code: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$SALT$HASH`` of a teacher code, with a random 16-byte salt."""
    salt = secrets.token_bytes(16) if salt is None else salt
    given = _normal_code(code)
    if given is None:
        raise BoardError(f"a teacher code is text of at most {MAX_CODE_INPUT} characters")
    digest = hashlib.scrypt(given, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_code(code: Any, stored: str) -> bool:
    """Whether ``code`` matches the stored hash (constant-time comparison of the digests)."""
    given = _normal_code(code)
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        salt_bytes = bytes.fromhex(salt)
        n_, r_, p_ = int(n), int(r), int(p)
    except (AttributeError, ValueError):
        return False
    if given is None:
        return False
    derived = hashlib.scrypt(
        given, salt=salt_bytes, n=n_, r=r_, p=p_, dklen=len(expected), maxmem=2**26
    )
    return hmac.compare_digest(derived, expected)


class Board:
    """The class board of one class folder."""

    def __init__(self, class_dir: str | Path):
        self.class_dir = Path(class_dir)
        self.path = self.class_dir / DB_NAME
        self.fresh_code: str | None = None  # the code, if this open made it (print it once)
        self.migrated = False  # whether this open hashed a plain-text code of an older board
        self._verified: dict[str, str] = {}  # stored hash -> keyed digest of a code it accepted
        self._key = secrets.token_bytes(16)
        self._lock = threading.Lock()
        try:
            self.class_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._restrict()
            with self._db() as db:
                db.executescript(SCHEMA)
                have = {row[1] for row in db.execute("PRAGMA table_info(submissions)")}
                for name, kind in EXTRA_COLUMNS:
                    if name not in have:
                        db.execute(f"ALTER TABLE submissions ADD COLUMN {name} {kind}")
                db.execute("CREATE INDEX IF NOT EXISTS by_session ON submissions (session, at)")
                db.execute("CREATE INDEX IF NOT EXISTS by_client ON submissions (client)")
            with self._write() as db:
                rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
                plain = rows.get("teacher_code")
                if plain is not None:  # an older board: hash its code, keep the code
                    if "teacher_code_hash" not in rows:
                        self._store_hash(db, hash_code(plain))
                    db.execute("DELETE FROM meta WHERE key='teacher_code'")
                    self.migrated = True
                elif "teacher_code_hash" not in rows:
                    self.fresh_code = new_code()
                    self._store_hash(db, hash_code(self.fresh_code))
                db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('created', ?)",
                    (datetime.now(UTC).isoformat(timespec="seconds"),),
                )
            if self.migrated:
                self._scrub()
        except (OSError, sqlite3.Error) as error:
            raise BoardError(
                f"--class-dir={class_dir}: cannot keep a board there ({error})"
            ) from None

    # -- the database --------------------------------------------------------------------------
    def _restrict(self) -> None:
        """Create the database file 0600, and make an existing one (and its WAL) 0600."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, DB_MODE)
        os.close(fd)
        for path in (self.path, *(Path(f"{self.path}{s}") for s in ("-wal", "-shm"))):
            if path.exists() and (path.stat().st_mode & 0o777) != DB_MODE:
                os.chmod(path, DB_MODE)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a submission survives a crash once stored
            db.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten, not left over
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``): reads inside it see
        what no other writer can change before it commits."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _scrub(self) -> None:
        """Leave no copy of deleted text in the file or its write-ahead log."""
        with self._db() as db:
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def _store_hash(db: sqlite3.Connection, stored: str) -> None:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('teacher_code_hash', ?)", (stored,))

    # -- the teacher code ----------------------------------------------------------------------
    def new_teacher_code(self) -> str:
        """Replace the teacher code by a fresh one (a forgotten code cannot be recovered)."""
        code = new_code()
        with self._write() as db:
            self._store_hash(db, hash_code(code))
            db.execute("DELETE FROM code_failures")
        self.fresh_code = code
        return code

    def _stored_hash(self) -> str:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key='teacher_code_hash'").fetchone()
        if row is None:
            raise BoardError(f"{self.path}: the board has no teacher code")
        return row[0]

    def check_code(self, code: Any) -> bool:
        """Whether ``code`` is this class's teacher code (scrypt, constant-time comparison).

        Counts nothing: the board page tries codes through :meth:`try_code`.
        """
        given = _normal_code(code)
        if given is None:
            return False
        stored = self._stored_hash()
        keyed = hmac.new(self._key, given, "sha256").hexdigest()
        with self._lock:
            if hmac.compare_digest(self._verified.get(stored, ""), keyed):
                return True  # accepted before: the page re-reads every few seconds
        if not verify_code(code, stored):
            return False
        with self._lock:
            self._verified = {stored: keyed}
        return True

    def _lock_wait(self, db: sqlite3.Connection, client: str, now: float) -> float:
        rows = db.execute(
            "SELECT at FROM code_failures WHERE client=? AND at > ? ORDER BY at DESC",
            (client, now - LOCK_SECONDS),
        ).fetchall()
        if len(rows) < MAX_TRIES:
            return 0.0
        return max(0.0, rows[0][0] + LOCK_SECONDS - now)

    def lock_wait(self, client: str) -> float:
        """Seconds until ``client`` may try a teacher code again (0: it may now)."""
        with self._db() as db:
            return self._lock_wait(db, str(client), _now())

    def try_code(self, code: Any, client: str) -> bool:
        """Check a code typed by ``client`` (an address), counting wrong ones in the database.

        Raises :class:`BoardLocked` once ``client`` gave ``MAX_TRIES`` wrong codes within
        ``LOCK_SECONDS``, until ``LOCK_SECONDS`` after the last of them. A try counts as wrong
        until the code is proven right, so parallel tries cannot exceed the limit; a right code
        clears the client's count.
        """
        client, now = str(client), _now()
        with self._write() as db:
            db.execute("DELETE FROM code_failures WHERE at <= ?", (now - LOCK_SECONDS,))
            wait = self._lock_wait(db, client, now)
            if wait > 0:
                raise BoardLocked(wait)
            db.execute("INSERT INTO code_failures VALUES (?, ?)", (client, now))
        if not self.check_code(code):
            return False
        with self._write() as db:
            db.execute("DELETE FROM code_failures WHERE client=?", (client,))
        return True

    def _require(self, code: Any) -> None:
        if not self.check_code(code):
            raise BoardError("the board needs the teacher code printed when the app started")

    # -- submissions ---------------------------------------------------------------------------
    def submit(
        self,
        name: Any,
        group: Any,
        settings: Any,
        result: Any,
        *,
        session: str | None = None,
        client: str = "",
    ) -> int:
        """Store one submission (validated); returns its number. Students can only add.

        ``session`` is the student's page session (the app passes the session cookie, which a
        reload keeps) and ``client`` its address: with a session, at most one submission per
        ``MIN_INTERVAL`` seconds and ``MAX_PER_SESSION`` in all (:class:`BoardBusy`), and at most
        ``MAX_PER_CLIENT`` per address; ``None`` (scripts, tests) skips the per-session limits.
        The counts and the insert are one ``BEGIN IMMEDIATE`` transaction: concurrent
        submissions end exactly at a cap.
        """
        row_name = clean_text(name, "name", MAX_NAME, required=True)
        row_group = clean_text(group, "group", MAX_GROUP, required=False)
        row_settings = clean_settings(settings)
        row = clean_result(result)
        now = _now()
        with self._write() as db:
            if self._meta(db, "submissions_open", "1") != "1":
                raise BoardClosed()
            if session is not None:
                key = str(session)[:200]
                (mine, last) = db.execute(
                    "SELECT COUNT(*), MAX(at) FROM submissions WHERE session=?", (key,)
                ).fetchone()
                if mine >= MAX_PER_SESSION:
                    raise BoardBusy(
                        f"this page has sent {MAX_PER_SESSION} submissions, the most one "
                        "student may send",
                        "session",
                    )
                if last is not None and now - last < MIN_INTERVAL:
                    wait = MIN_INTERVAL - (now - last)
                    raise BoardBusy(
                        f"one submission per {MIN_INTERVAL:.0f} seconds: wait {wait:.0f} s",
                        "interval",
                        wait,
                    )
                (theirs,) = db.execute(
                    "SELECT COUNT(*) FROM submissions WHERE client=?", (str(client),)
                ).fetchone()
                if client and theirs >= MAX_PER_CLIENT:
                    raise BoardBusy(
                        f"this computer has sent {MAX_PER_CLIENT} submissions", "client"
                    )
            (count,) = db.execute("SELECT COUNT(*) FROM submissions").fetchone()
            if count >= MAX_SUBMISSIONS:
                raise BoardError(f"the board is full ({MAX_SUBMISSIONS} submissions)")
            cursor = db.execute(
                "INSERT INTO submissions (submitted, name, grp, quarter, step, horizon, "
                "replicates, seed, S1, S2, neither, settings, session, client, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    "" if session is None else str(session)[:200],
                    str(client)[:100],
                    now,
                ),
            )
            return int(cursor.lastrowid)

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str, default: str) -> str:
        row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else row[0]

    # -- the teacher's moderation --------------------------------------------------------------
    def is_open(self) -> bool:
        """Whether students may submit (needs no code: the submit card says so)."""
        with self._db() as db:
            return self._meta(db, "submissions_open", "1") == "1"

    def set_open(self, code: Any, open_: bool) -> None:
        """Open or close the board to submissions; needs the teacher code."""
        self._require(code)
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('submissions_open', ?)",
                ("1" if open_ else "0",),
            )

    def _row_exists(self, db: sqlite3.Connection, number: Any) -> int:
        if isinstance(number, bool) or not isinstance(number, int):
            raise BoardError(f"row number {number!r} is not a whole number")
        if db.execute("SELECT 1 FROM submissions WHERE id=?", (number,)).fetchone() is None:
            raise BoardError(f"there is no submission number {number}")
        return number

    def hide(self, code: Any, number: Any, hidden: bool = True) -> None:
        """Hide a row from the board's table and chart (or show it again); needs the code."""
        self._require(code)
        with self._write() as db:
            number = self._row_exists(db, number)
            db.execute("UPDATE submissions SET hidden=? WHERE id=?", (int(bool(hidden)), number))

    def delete(self, code: Any, number: Any) -> None:
        """Delete a row for good (its text overwritten on disk); needs the teacher code."""
        self._require(code)
        with self._write() as db:
            number = self._row_exists(db, number)
            db.execute("DELETE FROM submissions WHERE id=?", (number,))
        with self._db() as db:  # the write-ahead log still holds the row's old page: fold it in
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def count(self) -> int:
        """How many submissions the board holds (no names: needs no code)."""
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0])

    def submissions(self, code: Any) -> list[dict[str, Any]]:
        """Every submission, oldest first; needs the teacher code."""
        self._require(code)
        with self._db() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM submissions ORDER BY id").fetchall()
        out = []
        for row in rows:
            item = dict(row)
            item["group"] = item.pop("grp")
            item["settings"] = json.loads(item["settings"])
            item["hidden"] = bool(item["hidden"])
            for private in ("session", "client", "at"):  # who sent it stays in the database
                item.pop(private, None)
            out.append(item)
        return out

    def to_csv(self, code: Any) -> str:
        """The board as CSV (one row per submission, settings as JSON); needs the teacher code."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.submissions(code):
            values = {**row, "settings": json.dumps(row["settings"], sort_keys=True)}
            values["hidden"] = int(row["hidden"])
            writer.writerow([_csv_safe(values[c]) for c in CSV_COLUMNS])
        return buffer.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe.

    Also when it starts with a full-width sign (＝, ＋, －, ＠: the same under NFKC), which some
    spreadsheets read as the ASCII one.
    """
    if isinstance(value, str) and value:
        first = unicodedata.normalize("NFKC", value[0])[:1]
        if value[0] in FORMULA_START or first in FORMULA_START:
            return "'" + value
    return value
