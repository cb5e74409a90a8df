"""The class board holds like the rest of the project (issue 23).

- The teacher code is kept as a salted scrypt hash, never in plain text, in a 0600 database
  file; a board of an older version with a plain-text code is migrated when opened.
- Wrong codes are counted in the database per client address, so the lockout after five of
  them holds across page reloads, new sessions and restarts, for ``LOCK_SECONDS``.
- Requests with another site's ``Origin`` (or a ``Host`` that is not this machine) are refused
  by the origin guard of ``experiments.teach``: such a page cannot open the app's websocket, so
  it cannot submit; checked on the ASGI guard and against a running server.
- The 5,000-row cap is counted and inserted in one transaction: 30 concurrent writers at
  4,995 rows end at exactly 5,000.
- What students typed is escaped in the board's HTML and cannot become a spreadsheet formula
  in its CSV.

Issue 24 (a room of teenagers):

- one student session may send one submission per ``MIN_INTERVAL`` seconds and
  ``MAX_PER_SESSION`` in all, counted in the database (a reload or a restart does not reset
  it); a session at its cap is refused alone, the others go on; one address at most
  ``MAX_PER_CLIENT``;
- the teacher (with the code, never without) hides a row from the board, deletes one for good
  (its text gone from the file) and closes or reopens submissions;
- the teacher code is written to a 0600 file, not to the terminal; ``/resourcez`` and
  ``/readyz`` answer 404; ``POST /_solara/api/close/x`` answers 400 and prints one line, no
  traceback.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from experiments import classboard, teach
from experiments.classboard import (
    LOCK_SECONDS,
    MAX_PER_CLIENT,
    MAX_PER_SESSION,
    MAX_SUBMISSIONS,
    MAX_TRIES,
    MIN_INTERVAL,
    Board,
    BoardBusy,
    BoardClosed,
    BoardError,
    BoardLocked,
)

REPO = Path(__file__).resolve().parents[1]
RESULT = {"S1": 0.25, "S2": 0.5, "neither": 0.25, "quarter": "2034Q3", "step": 40}
RESULT |= {"horizon": 40, "replicates": 1000, "seed": 20241001}
OLD_SCHEMA = classboard.SCHEMA.split("CREATE TABLE IF NOT EXISTS code_failures")[0]


def file_bytes(board: Board) -> bytes:
    """The database file and whatever SQLite keeps beside it (WAL, shared memory)."""
    out = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{board.path}{suffix}")
        if path.exists():
            out += path.read_bytes()
    return out


# -- the teacher code is hashed, the file is 0600 ------------------------------------------------
def test_the_code_is_not_in_the_database_file_and_the_file_is_0600(tmp_path):
    board = Board(tmp_path / "class")
    code = board.fresh_code
    assert code and board.check_code(code)
    board.submit("Bat", "1", {}, RESULT)
    data = file_bytes(board)
    assert data and code.encode() not in data and code.lower().encode() not in data
    for suffix in ("", "-wal", "-shm"):  # SQLite gives its side files the database's mode
        path = Path(f"{board.path}{suffix}")
        assert not path.exists() or stat.S_IMODE(path.stat().st_mode) == 0o600, path
    with closing(sqlite3.connect(board.path)) as db:
        values = [v for (v,) in db.execute("SELECT value FROM meta")]
    assert code not in values
    assert any(v.startswith("scrypt$") for v in values)
    # two boards with the same code still store different hashes (the salt)
    assert classboard.hash_code(code) != classboard.hash_code(code)
    again = Board(tmp_path / "class")  # a restart cannot show the code any more
    assert again.fresh_code is None and again.check_code(code.lower())


def test_a_plain_text_code_of_an_older_board_is_migrated_on_open(tmp_path):
    folder = tmp_path / "old-class"
    folder.mkdir()
    path = folder / classboard.DB_NAME
    # as the previous version kept it: the code in plain text, the file world-readable
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('teacher_code', 'PLAIN234')")
        db.execute("INSERT INTO meta VALUES ('created', '2026-01-01T00:00:00+00:00')")
    os.chmod(path, 0o644)
    assert b"PLAIN234" in path.read_bytes()
    board = Board(folder)
    assert board.migrated and board.fresh_code is None
    assert board.check_code("plain234") and not board.check_code("PLAIN235")
    assert b"PLAIN234" not in file_bytes(board)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not Board(folder).migrated  # once is enough


def test_a_new_teacher_code_replaces_the_old_one(tmp_path):
    board = Board(tmp_path / "class")
    old = board.fresh_code
    new = board.new_teacher_code()
    assert new != old and board.check_code(new) and not board.check_code(old)
    assert new.encode() not in file_bytes(board)


# -- the lockout is the server's ---------------------------------------------------------------
def test_five_wrong_codes_lock_the_client_across_reloads_and_restarts(tmp_path, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(classboard, "_now", lambda: clock[0])
    board = Board(tmp_path / "class")
    code = board.fresh_code
    for _ in range(MAX_TRIES):
        assert board.try_code("WRONG234", "10.0.0.7") is False
        clock[0] += 1
    with pytest.raises(BoardLocked, match="locked"):  # even the right code is refused now
        board.try_code(code, "10.0.0.7")
    # a reload, another session, a restart: each opens the board anew; the count is the board's
    reloaded = Board(tmp_path / "class")
    assert reloaded.lock_wait("10.0.0.7") > LOCK_SECONDS - 10
    with pytest.raises(BoardLocked):
        reloaded.try_code(code, "10.0.0.7")
    assert reloaded.try_code(code, "10.0.0.8")  # another computer is not locked out
    clock[0] += LOCK_SECONDS - 30
    with pytest.raises(BoardLocked):
        reloaded.try_code(code, "10.0.0.7")
    clock[0] += 60  # the stated time has passed
    assert reloaded.lock_wait("10.0.0.7") == 0
    assert reloaded.try_code(code, "10.0.0.7")


def test_a_right_code_clears_the_count_and_parallel_tries_do_not_exceed_it(tmp_path):
    board = Board(tmp_path / "class")
    code = board.fresh_code
    for _ in range(MAX_TRIES - 1):
        assert not board.try_code("WRONG234", "a")
    assert board.try_code(code, "a")
    assert board.lock_wait("a") == 0
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def guess() -> None:
        barrier.wait()
        try:
            outcomes.append("wrong" if not board.try_code("WRONG234", "b") else "right")
        except BoardLocked:
            outcomes.append("locked")

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["locked"] * (12 - MAX_TRIES) + ["wrong"] * MAX_TRIES


# -- the row cap holds under concurrent writers --------------------------------------------------
def test_thirty_concurrent_writers_at_4995_rows_end_at_exactly_5000(tmp_path):
    board = Board(tmp_path / "class")
    start = MAX_SUBMISSIONS - 5
    row = ("2026-01-01T00:00:00+00:00", "x", "", "2034Q3", 40, 40, 1000, 1, 0.25, 0.5, 0.25, "{}")
    with closing(sqlite3.connect(board.path)) as db, db:
        db.executemany(
            "INSERT INTO submissions (submitted, name, grp, quarter, step, horizon, replicates, "
            "seed, S1, S2, neither, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row] * start,
        )
    assert board.count() == start
    writers = 30
    barrier = threading.Barrier(writers)
    stored: list[int] = []
    refused: list[str] = []

    def write(i: int) -> None:
        barrier.wait()
        try:
            stored.append(board.submit(f"student {i}", "", {}, RESULT))
        except BoardError as error:
            refused.append(str(error))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert board.count() == MAX_SUBMISSIONS
    assert len(stored) == 5 and len(refused) == writers - 5
    assert all("full" in message for message in refused)


# -- what one student session may send -----------------------------------------------------------
def test_one_session_is_rate_limited_and_capped_alone_across_reloads(tmp_path, monkeypatch):
    clock = [2_000_000.0]
    monkeypatch.setattr(classboard, "_now", lambda: clock[0])
    board = Board(tmp_path / "class")
    board.submit("Bat", "1", {}, RESULT, session="s-bat", client="10.0.0.5")
    with pytest.raises(BoardBusy, match="one submission per") as busy:  # 25 rows in 7 s: no
        board.submit("Bat", "1", {}, RESULT, session="s-bat", client="10.0.0.5")
    assert busy.value.reason == "interval" and 0 < busy.value.seconds <= MIN_INTERVAL
    # a reload (a new page, the same session cookie) or a restart does not reset the count
    with pytest.raises(BoardBusy):
        Board(tmp_path / "class").submit("Bat", "1", {}, RESULT, session="s-bat")
    board.submit("Saraa", "2", {}, RESULT, session="s-saraa", client="10.0.0.6")  # others go on
    for _ in range(MAX_PER_SESSION - 1):
        clock[0] += MIN_INTERVAL + 0.1
        board.submit("Bat", "1", {}, RESULT, session="s-bat", client="10.0.0.5")
    clock[0] += MIN_INTERVAL + 0.1
    with pytest.raises(BoardBusy, match=str(MAX_PER_SESSION)) as full:
        board.submit("Bat", "1", {}, RESULT, session="s-bat", client="10.0.0.5")
    assert full.value.reason == "session"
    board.submit("Saraa", "2", {}, RESULT, session="s-saraa", client="10.0.0.6")  # not global
    assert board.count() == MAX_PER_SESSION + 2


def test_one_address_is_capped_whatever_sessions_it_makes(tmp_path):
    board = Board(tmp_path / "class")
    row = ("2026-01-01T00:00:00+00:00", "x", "", "2034Q3", 40, 40, 1000, 1, 0.25, 0.5, 0.25, "{}")
    with closing(sqlite3.connect(board.path)) as db, db:
        db.executemany(
            "INSERT INTO submissions (submitted, name, grp, quarter, step, horizon, replicates, "
            "seed, S1, S2, neither, settings, session, client) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, f"cookie-{i}", "10.0.0.9") for i in range(MAX_PER_CLIENT)],
        )
    with pytest.raises(BoardBusy) as busy:  # a new session cookie from the same computer
        board.submit("x", "", {}, RESULT, session="cookie-new", client="10.0.0.9")
    assert busy.value.reason == "client"
    board.submit("y", "", {}, RESULT, session="cookie-other", client="10.0.0.10")


# -- the teacher moderates -----------------------------------------------------------------------
def test_the_teacher_hides_deletes_and_closes_and_nobody_else_can(tmp_path):
    pytest.importorskip("solara")
    from experiments.app.board import board_html

    board = Board(tmp_path / "class")
    code = board.fresh_code
    rude = board.submit("Rude Name 12345", "", {}, RESULT)
    kept = board.submit("Saraa", "2", {}, RESULT)
    for action in (
        lambda c: board.hide(c, rude),
        lambda c: board.delete(c, rude),
        lambda c: board.set_open(c, False),
    ):
        with pytest.raises(BoardError, match="teacher code"):
            action("WRONG234")
    board.hide(code, rude)
    rows = board.submissions(code)
    assert [r["hidden"] for r in rows] == [True, False]
    page = board_html(rows, "en")
    assert "Rude Name" not in page and "Saraa" in page
    board.hide(code, rude, hidden=False)
    assert "Rude Name" in board_html(board.submissions(code), "en")
    with pytest.raises(BoardError, match="no submission number 99"):
        board.hide(code, 99)
    board.delete(code, rude)
    assert [r["id"] for r in board.submissions(code)] == [kept]
    assert b"Rude Name 12345" not in file_bytes(board)  # overwritten, the WAL folded in
    board.set_open(code, False)
    assert not board.is_open()
    with pytest.raises(BoardClosed):
        board.submit("Bat", "1", {}, RESULT, session="s")
    assert not Board(tmp_path / "class").is_open()  # closed stays closed across a restart
    board.set_open(code, True)
    board.submit("Bat", "1", {}, RESULT, session="s")
    assert "session" not in board.submissions(code)[0]  # who sent it stays in the database


# -- foreign origins are refused -----------------------------------------------------------------
def run_guard(scope: dict) -> tuple[list[dict], list[dict]]:
    """Pass one request through :class:`teach.OriginGuard`: (what the app saw, what was sent)."""
    seen: list[dict] = []
    sent: list[dict] = []

    async def app(scope, receive, send):
        seen.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    guard = teach.OriginGuard(app, extra_hosts={"teacher-laptop"})
    # A loop of its own in a thread of its own: earlier tests (the browser's) may leave an event
    # loop running in this thread, and asyncio.run refuses to start inside one.
    worker = threading.Thread(target=asyncio.run, args=(guard(scope, receive, send),))
    worker.start()
    worker.join()
    return seen, sent


def ws_scope(origin: str | None, host: str = "127.0.0.1:8765", kind: str = "websocket") -> dict:
    headers = [(b"host", host.encode()), (b"x-rudprk-client", b"spoofed")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {
        "type": kind,
        "scheme": "ws" if kind == "websocket" else "http",
        "path": "/jupyter/api/kernels/k/channels",
        "headers": headers,
        "client": ("192.168.1.23", 50000),
    }


@pytest.mark.parametrize(
    "origin, host",
    [
        ("http://evil.example", "127.0.0.1:8765"),
        ("http://127.0.0.1:9999", "127.0.0.1:8765"),  # another port is another site
        ("https://127.0.0.1:8765", "127.0.0.1:8765"),
        ("null", "127.0.0.1:8765"),
        ("http://evil.example:8765", "evil.example:8765"),  # DNS rebinding: the Host is foreign
        (None, "evil.example:8765"),
    ],
)
def test_the_guard_refuses_foreign_origins_and_hosts(origin, host):
    seen, sent = run_guard(ws_scope(origin, host))
    assert seen == [] and sent == [{"type": "websocket.close", "code": 1008}]
    seen, sent = run_guard(ws_scope(origin, host, kind="http"))
    assert seen == [] and sent[0]["status"] == 403


@pytest.mark.parametrize(
    "origin, host",
    [
        ("http://127.0.0.1:8765", "127.0.0.1:8765"),
        ("http://localhost:8765", "localhost:8765"),
        ("http://[::1]:8765", "[::1]:8765"),
        ("http://192.168.1.5:8765", "192.168.1.5:8765"),
        ("http://teacher-laptop:8765", "teacher-laptop:8765"),
        (None, "127.0.0.1:8765"),  # not a browser's cross-site request
    ],
)
def test_the_guard_passes_the_app_itself_with_the_real_client_address(origin, host):
    seen, sent = run_guard(ws_scope(origin, host))
    assert len(seen) == 1
    client = [v for k, v in seen[0]["headers"] if k == teach.CLIENT_HEADER]
    assert client == [b"192.168.1.23"]  # the client's own header is dropped
    seen, sent = run_guard(ws_scope(origin, host, kind="http"))
    assert len(seen) == 1 and sent[0]["status"] == 200
    assert (b"content-security-policy", b"frame-ancestors 'self'") in sent[0]["headers"]


def test_the_guard_hides_introspection_and_answers_a_failing_route_in_one_line(capsys):
    scope = ws_scope(None, kind="http") | {"path": "/resourcez", "method": "GET"}
    seen, sent = run_guard(scope)
    assert seen == [] and sent[0]["status"] == 404
    seen, sent = run_guard(scope | {"path": "/readyz"})
    assert seen == [] and sent[0]["status"] == 404
    sent: list[dict] = []

    async def failing(scope, receive, send):
        raise KeyError("session_id")

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    guard = teach.OriginGuard(failing, extra_hosts=set())
    close = scope | {"path": "/_solara/api/close/x", "method": "POST"}
    worker = threading.Thread(target=asyncio.run, args=(guard(close, receive, send),))
    worker.start()
    worker.join()
    assert sent[0]["status"] == 400
    err = capsys.readouterr().err
    assert err.strip() == "bad request POST /_solara/api/close/x: KeyError"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def handshake(port: int, origin: str, host: str | None = None) -> int:
    """The HTTP status of a websocket handshake to the app's kernel channel."""
    host = host or f"127.0.0.1:{port}"
    request = (
        "GET /jupyter/api/kernels/kernel-1/channels?session_id=page-1 HTTP/1.1\r\n"
        f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request.encode())
        status = sock.recv(4096).split(b"\r\n", 1)[0]
    return int(status.split()[1])


def http_status(port: int, host: str, origin: str | None = None) -> int:
    request = f"GET /board HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
    if origin:
        request += f"Origin: {origin}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall((request + "\r\n").encode())
        status = sock.recv(4096).split(b"\r\n", 1)[0]
    return int(status.split()[1])


@pytest.fixture
def teach_server(tmp_path):
    """``python -m experiments.teach --class-dir`` on a free port, stopped at the end."""
    pytest.importorskip("solara")
    from experiments.solara_env import offline_environment

    port = free_port()
    env = {**os.environ, **offline_environment(), "SOLARA_HOME": str(tmp_path / "solara-home")}
    env.pop("PYTEST_CURRENT_TEST", None)
    log = tmp_path / "server.log"
    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(port)]
    cmd += ["--class-dir", str(tmp_path / "class"), "--replicates", "20"]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the app did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield port, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_a_foreign_origin_cannot_open_the_running_apps_websocket(teach_server):
    port, log = teach_server
    here = f"http://127.0.0.1:{port}"
    assert handshake(port, "http://evil.example") == 403
    assert handshake(port, f"http://127.0.0.1:{port + 1}") == 403
    assert handshake(port, "http://evil.example", host=f"evil.example:{port}") == 403
    assert http_status(port, f"evil.example:{port}") == 403  # DNS rebinding
    assert http_status(port, f"127.0.0.1:{port}", origin="http://evil.example") == 403
    assert handshake(port, here) == 101  # the app's own page still connects
    assert http_status(port, f"127.0.0.1:{port}") == 200
    assert "refused websocket" in log.read_text()


def http_request(port: int, method: str, path: str) -> tuple[int, bytes]:
    request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    request += "Content-Length: 0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b"\r\n", 1)[0].split()[1]), data


def test_the_running_app_keeps_its_code_introspection_and_tracebacks_from_students(
    teach_server, tmp_path
):
    port, log = teach_server
    code_file = tmp_path / "class" / "teacher-code.txt"
    code = code_file.read_text().strip()
    assert stat.S_IMODE(code_file.stat().st_mode) == 0o600
    for path in ("/resourcez", "/resourcez?verbose", "/readyz"):
        status, body = http_request(port, "GET", path)
        assert status == 404 and b"memory" not in body.lower() and b"cpu" not in body.lower()
    status, body = http_request(port, "POST", "/_solara/api/close/x")
    assert status == 400 and b"Traceback" not in body
    time.sleep(0.5)
    text = log.read_text()
    assert "bad request POST /_solara/api/close/x" in text
    assert "Traceback" not in text
    assert code not in text and f"teacher code: in {code_file}" in text


# -- what students typed stays text -------------------------------------------------------------
def test_names_are_escaped_in_the_board_and_cannot_be_formulas_in_its_csv(tmp_path):
    pytest.importorskip("solara")
    from experiments.app.board import board_html

    board = Board(tmp_path / "class")
    board.submit("<img src=x onerror=alert(1)>", "<b>7", {}, RESULT)
    board.submit("＝HYPERLINK(1)", "－2", {}, RESULT)  # full-width signs
    rows = board.submissions(board.fresh_code)
    page = board_html(rows, "en")
    assert "<img" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    table = list(csv.DictReader(io.StringIO(board.to_csv(board.fresh_code))))
    assert table[1]["name"] == "'＝HYPERLINK(1)" and table[1]["group"] == "'－2"
    assert json.loads(table[0]["settings"]) == {}
