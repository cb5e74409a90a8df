"""The teaching app's server side: precomputed runs, the readable event log, the class board.

- A precomputed run revealed at quarter k shows what a model stepped k times shows (the shares of
  ``classify(model, upto=k)``), and nothing of later quarters (issue 11).
- The event log keeps discussable events with article ids, summarises repeats, lists a stance
  change only once it has lasted, and tolerates event kinds it does not know.
- The class board (``experiments.classboard``): submissions survive a restart, two class folders
  never share a board, reading needs the teacher code, student input is validated by
  ``sim.params``.
- ``experiments.teach`` refuses a public address without the explicit flag.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from experiments import teach
from experiments.classboard import Board, BoardError
from experiments.i18n import EVENT_IDS, t
from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import RussiaDPRKModel

SMALL = {"replicates": 120, "horizon": 12, "seed": 5}


@pytest.fixture(scope="module")
def ensemble():
    pytest.importorskip("solara")
    from experiments.app import ensemble

    return ensemble


def test_revealed_quarter_equals_a_model_stepped_that_far(ensemble):
    values = {"rok.shell_hazard": 1.0}
    run = ensemble.ensemble_run(values, SMALL["seed"], SMALL["replicates"], SMALL["horizon"])
    for k in (1, 5, 9, SMALL["horizon"]):
        model = RussiaDPRKModel(
            replicates=SMALL["replicates"], seed=SMALL["seed"], horizon=SMALL["horizon"], **values
        )
        for _ in range(k):
            model.step()
        classified = classify(model, upto=k)
        labels = classified["scenario"]
        for s in SCENARIOS:
            assert run.at(k).shares[s][0] == np.count_nonzero(labels == s) / SMALL["replicates"]
        h = model.highlight  # the highlighted run's scenario and kind, as the page states them
        assert run.at(k).highlight == (labels[h], classified["neither_kind"][h])
        assert run.at(k).label == model.quarter
        assert [e for e in model.events] == run.events_upto(k)
    assert run.at(0) is None


def test_runs_are_shared_and_validated(ensemble):
    a = ensemble.ensemble_run({}, 3, 50, 8)
    computed = ensemble.CACHE.computed
    assert ensemble.ensemble_run({}, 3, 50, 8) is a
    assert ensemble.CACHE.computed == computed
    assert ensemble.ensemble_run({}, 4, 50, 8) is not a
    with pytest.raises(P.ParameterError, match="rok.shell_hazard"):
        ensemble.settings_key({"rok.shell_hazard": 7.0})
    with pytest.raises(P.ParameterError, match="unknown parameter"):
        ensemble.settings_key({"rok.no_such": 1.0})


def test_texts_of_a_quarter_show_nothing_later(ensemble):
    from experiments.app import texts

    run = ensemble.ensemble_run({"rok.shell_hazard": 1.0}, 5, 60, 12)
    first = next(e for e in run.events if e["kind"] == "rok_shells")
    before = texts.events_html(run, first["step"] - 1, "en")
    after = texts.events_html(run, first["step"], "en")
    assert t("event.rok_shells", "en") not in before
    assert t("event.rok_shells", "en") in after
    assert "F11" in after


def ev(step: int, kind: str, **extra) -> dict:
    return {"step": step, "quarter": f"Q{step}", "kind": kind, **extra}


def test_event_log_summarises_noise_and_keeps_what_to_discuss():
    pytest.importorskip("solara")
    from experiments.app import texts

    events = [ev(k, "summit") for k in range(1, 11)]
    events += [ev(2, "shipment_detected"), ev(5, "shipment_detected"), ev(7, "shipment_detected")]
    # stance flips back and forth, then one change that lasts
    events += [ev(k, "posture", before=k % 2, after=(k + 1) % 2) for k in (3, 4, 5)]
    events += [ev(6, "posture", before=0, after=2)]
    events += [ev(8, "something_new"), ev(9, "something_new")]
    entries = texts.readable_events(events, 12)
    kinds = [e["kind"] for e in entries]
    assert kinds.count("summit_count") == 1 and "summit" not in kinds
    shipment = next(e for e in entries if e["kind"] == "shipment_detected")
    assert shipment["step"] == 2 and shipment["more"] == 2 and shipment["last"] == "Q7"
    lasting = [e for e in entries if e["kind"] == "posture"]
    assert [e["step"] for e in lasting] == [6]  # held from 6 to 12
    brief = next(e for e in entries if e["kind"] == "stance_brief")
    assert brief["more"] == 3
    assert next(e for e in entries if e["kind"] == "unknown")["more"] == 2
    # a stance change is listed only once it has lasted: not yet at quarter 8
    assert not [e for e in texts.readable_events(events[:-2], 8) if e["kind"] == "posture"]
    for lang in ("en", "mn"):
        for entry in entries:
            text, ids = texts.entry_text(entry, lang)
            assert text
            if entry["kind"] not in ("unknown",):
                assert ids and set(ids) <= {i for v in EVENT_IDS.values() for i in v}
    assert len(entries) < len(events) / 3


def test_event_log_states_the_highlighted_runs_scenario_and_pins_the_exercises_events(ensemble):
    """Issue 24: the log says where the highlighted run stands (and which kind of neither) and
    keeps the exercise's own events (Seoul's shells for rok.shell_hazard) at its top."""
    from experiments.app import texts
    from experiments.i18n import term

    assert texts.key_kinds({"rok.shell_hazard": 1.0})[:2] == ("tech_transfer", "rok_shells")
    assert texts.key_kinds({}) == ()
    run = ensemble.ensemble_run({"rok.shell_hazard": 1.0}, SMALL["seed"], 60, SMALL["horizon"])
    first = min(e["step"] for e in run.events if e["kind"] == "rok_shells")
    for lang in ("en", "mn"):
        html = texts.events_html(run, SMALL["horizon"], lang)
        scenario, kind = run.at(SMALL["horizon"]).highlight
        top = html.split("<table")[0]
        assert "teach-highlight" in top and term(f"scenario.{scenario}", lang) in top
        if scenario == "neither" and kind:
            assert t(f"neither_kind.{kind}", lang) in top
        # the pinned table comes before every other event and holds Seoul's decision
        pinned = html.split("teach-key-events")[1].split("</table>")[0]
        assert "teach-event-rok_shells" in pinned
        assert html.index("teach-key-events") < html.index("teach-other-events")
        assert "teach-event-rok_shells" not in html.split("teach-other-events")[1]
        if first > 1:  # before it happens the log names what to watch for
            early = texts.events_html(run, first - 1, lang)
            assert t("event_name.rok_shells", lang) in early
        # baseline: no pinned section, still the scenario line
    base = ensemble.ensemble_run({}, SMALL["seed"], 60, SMALL["horizon"])
    assert "teach-key" not in texts.events_html(base, 5, "en")
    assert "teach-highlight" in texts.events_html(base, 0, "en")


# -- class board ---------------------------------------------------------------------------------
RESULT = {"S1": 0.25, "S2": 0.5, "neither": 0.25, "quarter": "2034Q3", "step": 40}
RESULT |= {"horizon": 40, "replicates": 1000, "seed": 20241001}


def test_board_keeps_submissions_across_restarts_and_exports_csv(tmp_path):
    board = Board(tmp_path / "class-a")
    code = board.fresh_code
    board.submit("Bat", "3", {"rok.shell_hazard": 1.0}, RESULT)
    board.submit("Saraa", "", {}, {**RESULT, "S1": 0.1, "neither": 0.4})
    again = Board(tmp_path / "class-a")  # a restart opens the same folder
    assert again.fresh_code is None and again.check_code(code)  # the same code, not shown again
    rows = again.submissions(code)
    assert [r["name"] for r in rows] == ["Bat", "Saraa"]
    assert rows[0]["settings"] == {"rok.shell_hazard": 1.0} and rows[0]["S1"] == 0.25
    table = list(csv.DictReader(io.StringIO(again.to_csv(code))))
    assert [r["name"] for r in table] == ["Bat", "Saraa"]
    assert float(table[1]["S1"]) == 0.1 and table[0]["group"] == "3"


def test_two_classes_never_share_a_board(tmp_path):
    a, b = Board(tmp_path / "a"), Board(tmp_path / "b")
    a.submit("Bat", "1", {}, RESULT)
    assert a.fresh_code != b.fresh_code
    assert b.submissions(b.fresh_code) == []
    with pytest.raises(BoardError, match="teacher code"):
        b.submissions(a.fresh_code)


@pytest.mark.parametrize("code", [None, "", "WRONG123", 12345678])
def test_reading_the_board_needs_the_teacher_code(tmp_path, code):
    board = Board(tmp_path / "c")
    board.submit("Bat", "1", {}, RESULT)
    with pytest.raises(BoardError, match="teacher code"):
        board.submissions(code)
    with pytest.raises(BoardError, match="teacher code"):
        board.to_csv(code)
    assert board.check_code(board.fresh_code.lower())  # read aloud, typed in any case


@pytest.mark.parametrize(
    "name, group, settings, result, match",
    [
        ("", "", {}, RESULT, "name is empty"),
        ("x" * 41, "", {}, RESULT, "at most 40"),
        ("Bat\x00", "", {}, RESULT, "control characters"),
        ("Bat", "g" * 21, {}, RESULT, "at most 20"),
        ("Bat", "", {"rok.shell_hazard": 2.0}, RESULT, "rok.shell_hazard"),
        ("Bat", "", {"rok.shell_hazrd": 1.0}, RESULT, "unknown parameter"),
        ("Bat", "", {"dprk.troops_deployed": "yes"}, RESULT, "dprk.troops_deployed"),
        ("Bat", "", ["rok.shell_hazard"], RESULT, "settings must map"),
        ("Bat", "", {}, {**RESULT, "S1": 1.5}, "S1"),
        ("Bat", "", {}, {**RESULT, "S1": 0.5}, "add up to 1"),
        ("Bat", "", {}, {**RESULT, "step": 41}, "step"),
        ("Bat", "", {}, {**RESULT, "quarter": "<script>"}, "quarter"),
    ],
)
def test_student_input_is_validated(tmp_path, name, group, settings, result, match):
    board = Board(tmp_path / "d")
    with pytest.raises(BoardError, match=match):
        board.submit(name, group, settings, result)
    assert board.submissions(board.fresh_code) == []


def test_csv_cells_cannot_become_spreadsheet_formulas(tmp_path):
    board = Board(tmp_path / "e")
    board.submit("=HYPERLINK(1)", "+1", {}, RESULT)
    row = next(csv.DictReader(io.StringIO(board.to_csv(board.fresh_code))))
    assert row["name"] == "'=HYPERLINK(1)" and row["group"] == "'+1"


def test_a_class_folder_that_cannot_be_used_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BoardError, match="--class-dir"):
        Board(blocker / "class")


# -- experiments.teach options ---------------------------------------------------------------------
def test_public_address_needs_the_explicit_flag():
    args = teach.parse_args(["--host", "0.0.0.0", "--port", "1"])
    assert "--i-know-this-is-public" in teach.check(args)
    args = teach.parse_args(["--host", "127.0.0.1", "--port", "0"])
    assert "out of range" in teach.check(args)
    assert teach.is_loopback("127.0.0.1") and teach.is_loopback("::1")
    assert not teach.is_loopback("0.0.0.0") and not teach.is_loopback("192.168.1.5")


def test_port_check_is_not_blocked_by_time_wait(tmp_path):
    """SO_REUSEADDR: a closed connection's TIME-WAIT does not make the port look busy."""
    import socket

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.listen()
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end goes to TIME-WAIT
    client.close()
    server.close()
    assert teach.check(teach.parse_args(["--port", str(port)])) is None
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        message = teach.check(teach.parse_args(["--port", str(busy.getsockname()[1])]))
        assert message and "cannot listen" in message
    finally:
        busy.close()


def test_board_chart_reads_at_projector_scale_and_tells_final_from_provisional():
    """Issue 24: the board's chart was tiny, its ticks overlapped, provisional (quarter 12) and
    final shares looked alike, and it said "1 submissions"."""
    pytest.importorskip("solara")
    from experiments.app import charts
    from experiments.app.components import count_text
    from experiments.i18n import term

    rows = [
        {"id": 1, "name": "Bat", "settings": {"rok.shell_hazard": 1.0}, "step": 40, **RESULT},
        {"id": 2, "name": "Saraa", "settings": {"rok.shell_hazard": 0.5}, **RESULT, "step": 12},
    ]
    for lang in ("en", "mn"):
        spec = charts.board_spec(rows, lang)
        config = spec["config"]
        sizes = [config["axis"]["labelFontSize"], config["axis"]["titleFontSize"]]
        sizes += [config["legend"]["labelFontSize"], spec["facet"]["header"]["labelFontSize"]]
        assert min(sizes) >= 16 and spec["spec"]["width"] >= 400
        assert spec["spec"]["encoding"]["x"]["axis"]["labelOverlap"]
        final = t("board.final", lang, horizon=40)
        provisional = t("board.provisional", lang, horizon=40)
        status = {p["number"]: p["status"] for p in spec["data"]["values"]}
        assert status == {1: final, 2: provisional}
        opacity = spec["spec"]["encoding"]["fillOpacity"]["scale"]
        assert opacity == {"domain": [final, provisional], "range": [1.0, 0.0]}  # open circles
        key = charts.board_legend_html(rows, lang)
        assert final in key and provisional in key
        names = {p["scenario"] for p in spec["data"]["values"]}
        assert names == {term("scenario.S1", lang), term("scenario.S2", lang)}
    assert count_text(1, "en") == "1 submission" and count_text(2, "en") == "2 submissions"
    assert count_text(0, "en") == "0 submissions"


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["--session-timeout", "5"], "--session-timeout=5 is out of range"),
        (["--session-timeout", "100000"], "--session-timeout=100000 is out of range"),
        (["--workers", "9"], "--workers=9 is out of range"),
        (["--workers", "-1"], "--workers=-1 is out of range"),
    ],
)
def test_classroom_options_are_checked(argv, problem):
    assert problem in teach.check(teach.parse_args(["--port", "1", *argv]))


def test_the_server_names_what_each_websocket_message_asks_for():
    """The load test reads these names from the server's timing log (issue 24)."""

    def comm(data: dict) -> dict:
        return {"header": {"msg_type": "comm_msg"}, "content": {"comm_id": "c", "data": data}}

    assert teach.message_kind(comm({"method": "custom", "content": {"event": "reset"}})) == (
        "event:reset"
    )
    assert teach.message_kind(comm({"method": "update", "state": {"step": 3}})) == "update:step"
    assert teach.message_kind(comm({"method": "run", "args": {}})) == "control:run"
    assert teach.message_kind({"header": {"msg_type": "comm_open"}}) == "comm_open"


def test_the_server_restarts_itself_on_the_c_allocator_unless_one_was_chosen(monkeypatch):
    """Issue 24: pymalloc's arenas kept a class's memory; the server runs with PYTHONMALLOC=malloc
    (same command, same arguments), and a PYTHONMALLOC the user set is kept."""
    calls = []
    monkeypatch.setattr(teach.os, "execve", lambda *a: calls.append(a))
    monkeypatch.delenv("PYTHONMALLOC", raising=False)
    teach.use_c_allocator(["--port", "9000", "--lang", "mn"])
    ((path, command, env),) = calls
    assert command[1:] == ["-m", "experiments.teach", "--port", "9000", "--lang", "mn"]
    assert path == command[0] and env["PYTHONMALLOC"] == "malloc"
    monkeypatch.setenv("PYTHONMALLOC", "pymalloc")
    teach.use_c_allocator(["--port", "9000"])
    assert len(calls) == 1, "a PYTHONMALLOC the user set was overridden"


def test_the_pruner_returns_freed_memory_and_logs_each_trim(monkeypatch):
    """Every period the pruner ends idle threads, then calls malloc_trim(0) and logs its time."""
    import asyncio
    import threading

    trims, lines, done = [], [], threading.Event()

    def trim(pad):
        trims.append(pad)
        if len(trims) >= 2:
            done.set()
        return 1

    monkeypatch.setattr(
        teach, "libc_function", lambda name: trim if name == "malloc_trim" else None
    )
    loop = asyncio.new_event_loop()
    server = threading.Thread(target=loop.run_forever, daemon=True)
    server.start()
    monkeypatch.setattr(teach, "SERVER_LOOP", [loop])
    try:
        teach.start_thread_pruner(period=0.05, log=lines.append)
        assert done.wait(10), "malloc_trim was not called every period"
    finally:
        monkeypatch.setattr(teach, "SERVER_LOOP", [])
        loop.call_soon_threadsafe(loop.stop)
        server.join(5)
    assert trims[:2] == [0, 0]
    assert lines and lines[0]["kind"] == "malloc_trim" and lines[0]["wall_ms"] >= 0


@pytest.mark.parametrize(
    "argv, names",
    [
        (["--sessions", "0"], "--sessions=0"),
        (["--write", "NOMARKERS", "--sessions", "1", "--browsers", "0"], "lacks the markers"),
        (["--write", "BLOCK", "--pymalloc"], "--pymalloc"),
        (["--bogus"], "--bogus"),
    ],
)
def test_the_load_script_refuses_bad_input_before_the_class(tmp_path, argv, names):
    """scripts/classroom_load.py: one line, exit 2, before any server starts; no file touched."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "classroom_load.py"
    plain = tmp_path / "plain.md"
    plain.write_text("no block here\n", encoding="utf-8")
    block = tmp_path / "block.md"
    block.write_text("<!-- classroom-load:begin -->\nold\n<!-- classroom-load:end -->\n")
    paths = {"NOMARKERS": str(plain), "BLOCK": str(block)}
    argv = [paths.get(a, a) for a in argv]
    done = subprocess.run(
        [sys.executable, str(script), *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and names in done.stderr and done.stdout == ""
    assert plain.read_text() == "no block here\n" and "\nold\n" in block.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["block.md", "plain.md"]
