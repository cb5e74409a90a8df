"""Bad inputs to the reader commands (issue 23): one line, a non-zero exit, nothing half-written.

Commands: ``analysis.observations``, ``analysis.odds``, ``analysis.forecast``,
``analysis.calibrate``, ``analysis.compare`` (its outputs), ``experiments.exercise`` and the
command line of ``experiments.teach``. Each is run as ``python -m`` runs it — its ``__main__``
block, in this process through ``runpy`` (fast) or, where a signal, a hang or a memory blow-up is
the point, in a subprocess — and must answer with exactly one ``error: …`` line on stderr, a
non-zero exit, no traceback and no file left behind. Families: encoding, sizes, numbers, folders,
signals, disk; inputs are generated with hypothesis where a family allows it.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import itertools
import json
import os
import pathlib
import resource
import runpy
import shutil
import signal
import subprocess
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from contract import files as F
from contract.io import sha256

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_DIR": str(ROOT / "no-such-git-dir")}
ENV.pop("RUDPRK_DEBUG", None)
HEADER = "quarter,indicator,relation,value,source"
GOOD_ROW = "2025Q1,ceasefire,==,0,news"
FEW = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_count = itertools.count()


@dataclass
class Answer:
    code: int | None  # None: an exception escaped (a traceback)
    out: str
    err: str

    def problems(self, names: str = "") -> list[str]:
        lines = self.err.strip().splitlines()
        found = []
        if self.code in (0, None):
            found.append(f"exit {self.code}")
        if "Traceback" in self.err:
            found.append("traceback")
        if len(lines) != 1:
            found.append(f"{len(lines)} lines on stderr")
        elif not lines[0].startswith("error: ") or names not in lines[0]:
            found.append(f"the line does not name {names!r}")
        return found


def command(module: str, *args: str) -> Answer:
    """Run ``python -m module args`` in this process (its ``__main__`` block, via runpy)."""
    old_argv, old_term = sys.argv, signal.getsignal(signal.SIGTERM)
    out, err = io.StringIO(), io.StringIO()
    sys.argv = [module, *map(str, args)]
    code: int | None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                runpy.run_module(module, run_name="__main__", alter_sys=False)
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
        if isinstance(end.code, str):
            err.write(end.code + "\n")
    except BaseException:  # noqa: BLE001 - what a user would see: a traceback
        err.write(traceback.format_exc())
        code = None
    finally:
        sys.argv = old_argv
        signal.signal(signal.SIGTERM, old_term)
    return Answer(code, out.getvalue(), err.getvalue())


def subprocess_command(
    module: str, *args: str, timeout: float = 120, memory: int | None = None
) -> Answer:
    """Run ``python -m module args`` in a subprocess (``memory``: an address-space limit)."""

    def limit() -> None:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    try:
        done = subprocess.run(
            [sys.executable, "-m", module, *map(str, args)],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired:
        return Answer(None, "", f"timed out after {timeout} s (the input was accepted?)")
    return Answer(done.returncode, done.stdout, done.stderr)


def ok(answer: Answer, names: str = "") -> None:
    problems = answer.problems(names)
    assert not problems, f"{'; '.join(problems)} | {answer.err[-600:]!r}"


def files_in(*folders: Path) -> set[str]:
    return {str(p) for d in folders for p in d.rglob("*")}


def fresh(base: Path, name: str = "x") -> Path:
    """A new, not yet existing path under ``base`` (hypothesis examples share the folder)."""
    return base / f"{name}{next(_count)}"


def reseal(run: Path, summary: object | None = None) -> None:
    """Write ``done.json`` anew so that it matches the files now in ``run``, as a writer that
    put wrong contents there would (the hashes then do not give the fault away)."""
    if summary is not None:
        text = summary if isinstance(summary, str) else json.dumps(summary)
        (run / F.SUMMARY_FILE).write_text(text, encoding="utf-8")
    done = json.loads((run / F.DONE_FILE).read_text())
    done["sha256"] = {f: sha256(run / f) for f in F.JOB_FILES if (run / f).is_file()}
    (run / F.DONE_FILE).write_text(json.dumps(done))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readers")


@pytest.fixture(scope="module")
def run_dir(base: Path) -> Path:
    """A finished run of 50 replicates (with its done.json), as experiments.run writes it."""
    from analysis_fixtures import write_run

    run = base / "run"
    write_run(run, {}, seed=3, replicates=50)
    return run


@pytest.fixture(scope="module")
def record(base: Path) -> Path:
    path = base / "record.csv"
    path.write_text(f"{HEADER}\n{GOOD_ROW}\n", encoding="utf-8")
    return path


def copy_run(run_dir: Path, base: Path) -> Path:
    target = fresh(base, "copy")
    shutil.copytree(run_dir, target)
    return target


# --- encoding -----------------------------------------------------------------------------------


@FEW
@given(
    junk=st.binary(min_size=1, max_size=40).filter(lambda b: not _utf8(b)),
    where=st.sampled_from(["header", "row", "source"]),
)
def test_a_record_that_is_not_utf8_is_one_line(base: Path, junk: bytes, where: str) -> None:
    path = fresh(base, "latin").with_suffix(".csv")
    head, row = HEADER.encode(), GOOD_ROW.encode()
    data = {
        "header": junk + head + b"\n" + row,
        "row": head + b"\n" + junk + b"\n" + row,
        "source": head + b"\n" + row + junk,
    }[where]
    path.write_bytes(data + b"\n")
    answer = command("analysis.observations", "check", path)
    ok(answer, str(path))
    assert "UTF-8" in answer.err


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@FEW
@given(bom=st.booleans(), newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_a_spreadsheet_record_with_bom_and_crlf_is_accepted(
    base: Path, bom: bool, newline: str
) -> None:
    from analysis import observations as O

    rows = [HEADER, "# a comment", GOOD_ROW, "2025Q2,troops_deployed,==,1,Kursk"]
    path = fresh(base, "excel").with_suffix(".csv")
    path.write_bytes(("\ufeff" if bom else "").encode() + newline.join(rows).encode() + b"\r\n")
    answer = command("analysis.observations", "check", path)
    assert answer.code == 0, answer.err
    assert "2 observation(s), all valid" in answer.out
    assert [o.indicator for o in O.read_record(path)] == ["ceasefire", "troops_deployed"]


@FEW
@given(
    year=st.one_of(
        st.text(alphabet="⁰¹²³⁴⁵⁶⁷⁸⁹", min_size=4, max_size=4),
        st.text(alphabet="٠١٢٣٤٥٦٧٨٩०१२३", min_size=4, max_size=4),
        st.text(alphabet="0123456789", min_size=5, max_size=6000),
    )
)
def test_a_year_in_other_digits_or_with_thousands_of_digits_is_one_line(
    base: Path, year: str
) -> None:
    path = fresh(base, "year").with_suffix(".csv")
    path.write_text(f"{HEADER}\n{year}Q2,ceasefire,==,0,x\n", encoding="utf-8")
    answer = command("analysis.observations", "check", path)
    ok(answer, "data line 1")
    assert "four-digit year" in answer.err and len(answer.err) < 2000


FORMULA = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from(["=", "+", "-", "@"]),
    st.text(alphabet="abcCMD|!'/A0()", min_size=1, max_size=20),
)


@settings(FEW, max_examples=3)
@given(sources=st.lists(FORMULA, min_size=1, max_size=4, unique=True))
def test_score_rows_carry_no_live_formula(run_dir: Path, base: Path, sources: list[str]) -> None:
    """A record's ``=cmd|...`` source is written as text (a leading apostrophe), not a formula."""
    record = fresh(base, "formula").with_suffix(".csv")
    with record.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerows(["2025Q1", "ceasefire", "==", "0", source] for source in sources)
    out = fresh(base, "forecast")
    answer = command("analysis.forecast", run_dir, "--record", record, "--out", out)
    assert answer.code == 0, answer.err
    with (out / "score_rows.csv").open(newline="", encoding="utf-8") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
    assert all("'" + source in cells for source in sources)


# --- sizes --------------------------------------------------------------------------------------


def test_check_dev_zero_ends_at_once_with_the_size_limit() -> None:
    started = time.monotonic()
    answer = subprocess_command(
        "analysis.observations", "check", "/dev/zero", timeout=60, memory=2 * 2**30
    )
    ok(answer, "/dev/zero")
    assert "MiB" in answer.err and time.monotonic() - started < 30


def test_a_record_over_the_line_limit_is_refused_naming_it(base: Path) -> None:
    from analysis import observations as O

    path = base / "many_lines.csv"
    path.write_text(HEADER + "\n" + "#\n" * O.MAX_RECORD_LINES + GOOD_ROW + "\n")
    answer = command("analysis.observations", "check", path)
    ok(answer, f"{O.MAX_RECORD_LINES:,} lines")


def test_a_record_over_the_size_limit_is_refused_naming_it(base: Path) -> None:
    from analysis import observations as O

    path = base / "big.csv"
    path.write_text(f"{HEADER}\n2025Q1,ceasefire,==,0,{'x' * O.MAX_RECORD_BYTES}\n")
    ok(command("analysis.observations", "check", path), "MiB")


@FEW
@given(width=st.integers(min_value=140_000, max_value=1_000_000))
def test_a_field_longer_than_csv_allows_is_one_line(base: Path, width: int) -> None:
    path = fresh(base, "wide").with_suffix(".csv")
    path.write_text(f'{HEADER}\n2025Q1,ceasefire,==,0,"{"y" * width}\n')
    ok(command("analysis.observations", "check", path), "data line")


def test_an_absurd_replicate_count_is_refused_before_simulating(
    run_dir: Path, base: Path, record: Path
) -> None:
    run = copy_run(run_dir, base)
    summary = json.loads((run / F.SUMMARY_FILE).read_text())
    reseal(run, {**summary, "replicates": 10**12, "n": 10**12})
    for module, args in (
        ("analysis.odds", [run, record]),
        ("analysis.forecast", [run]),
    ):
        ok(subprocess_command(module, *args, timeout=90), "50 rows")
    assert not (run / "forecast").exists()


@pytest.mark.parametrize(
    ("module", "args", "names"),
    [
        ("experiments.exercise", ["ceasefire", "--replicates", "100000000000"], "--replicates"),
        ("analysis.odds", ["RUN", "RECORD", "--budget", str(10**12)], "--budget"),
        ("analysis.forecast", ["RUN", "--replicates", str(10**12)], "--replicates"),
        ("analysis.calibrate", ["--out", "OUT", "--particles", str(10**9)], "--particles"),
    ],
)
def test_absurd_sizes_are_refused_at_once(
    run_dir: Path, base: Path, record: Path, module: str, args: list[str], names: str
) -> None:
    out = fresh(base, "out")
    args = [{"RUN": str(run_dir), "RECORD": str(record), "OUT": str(out)}.get(a, a) for a in args]
    answer = subprocess_command(module, *args, timeout=90, memory=4 * 2**30)
    ok(answer, names)
    assert not out.exists()


# --- numbers ------------------------------------------------------------------------------------

BAD_FLOATS = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "-1", "-0.5", "1e308"]),
    st.floats(max_value=-1e-9).map(repr),
)


@FEW
@given(option=st.sampled_from(["--tolerance-scale", "--min-ess", "--budget"]), data=st.data())
def test_bad_numeric_options_of_odds_are_one_line(
    run_dir: Path, record: Path, option: str, data: st.DataObject
) -> None:
    if option == "--tolerance-scale":
        value = data.draw(BAD_FLOATS)
    else:
        value = str(data.draw(st.integers(max_value=0)))
    ok(command("analysis.odds", run_dir, record, option, value), option)


@FEW
@given(seed=st.one_of(st.integers(max_value=-1), st.integers(min_value=2**63, max_value=2**70)))
def test_a_negative_or_huge_seed_is_one_line(base: Path, seed: int) -> None:
    out = fresh(base, "calibration")
    ok(command("analysis.calibrate", "--out", out, "--seed", str(seed)), "--seed")
    ok(command("experiments.exercise", "ceasefire", "--seed", str(seed)), "--seed")
    assert not out.exists()


@FEW
@given(
    key=st.sampled_from(["n", "replicates", "seed", "horizon"]),
    value=st.one_of(
        st.just(float("nan")),
        st.just(float("inf")),
        st.sampled_from([-1, 0, 1.5, True, "many", None, [50], {"n": 50}, 10**30]),
    ),
)
def test_summary_numbers_that_are_not_whole_numbers_in_range_are_refused(
    run_dir: Path, base: Path, record: Path, key: str, value: object
) -> None:
    assume(not (key == "seed" and value == 0))  # seed 0 is a seed
    run = copy_run(run_dir, base)
    summary = json.loads((run / F.SUMMARY_FILE).read_text())
    # Python writes NaN and Infinity, which JSON does not allow: the reader refuses them too
    reseal(run, json.dumps({**summary, key: value}))
    ok(command("analysis.odds", run, record), F.SUMMARY_FILE)
    ok(command("analysis.forecast", run), F.SUMMARY_FILE)
    assert not (run / "forecast").exists()


def test_values_and_horizon_of_the_check_command_are_validated(base: Path) -> None:
    path = base / "values.csv"
    path.write_text(f"{HEADER}\n2025Q1,tourism,>=,1_0,x\n2025Q1,tourism,>=,٠,x\n")
    ok(command("analysis.observations", "check", path), "data line 1")
    good = base / "good.csv"
    good.write_text(f"{HEADER}\n{GOOD_ROW}\n")
    ok(command("analysis.observations", "check", good, "--horizon", "-3"), "--horizon")
    ok(command("analysis.observations", "check", good, "--horizon", "x" * 30), "--horizon")


# --- folders ------------------------------------------------------------------------------------


def _truncate(run: Path) -> None:
    runs = run / F.RUNS_FILE
    runs.write_bytes(runs.read_bytes()[: runs.stat().st_size // 2])


def _flip(run: Path) -> None:
    runs = run / F.RUNS_FILE
    data = bytearray(runs.read_bytes())
    data[len(data) // 2] ^= 1
    runs.write_bytes(bytes(data))


FAULTS = {
    "runs missing": (lambda r: (r / F.RUNS_FILE).unlink(), F.RUNS_FILE, False),
    "runs truncated": (_truncate, F.RUNS_FILE, False),
    "runs truncated, resealed": (_truncate, F.RUNS_FILE, True),
    "runs flipped": (_flip, F.RUNS_FILE, False),
    "no done.json": (lambda r: (r / F.DONE_FILE).unlink(), F.DONE_FILE, False),
    "done.json corrupt": (lambda r: (r / F.DONE_FILE).write_text("{"), F.DONE_FILE, False),
    "done.json names a path": (
        lambda r: (r / F.DONE_FILE).write_text(
            json.dumps({"n": 50, "sha256": {"../../x": "0", **_hashes(r)}})
        ),
        F.DONE_FILE,
        False,
    ),
    "summary corrupt": (lambda r: (r / F.SUMMARY_FILE).write_text("{ not json"), "", True),
    "summary a list": (lambda r: (r / F.SUMMARY_FILE).write_text("[1, 2]"), "", True),
    "summary NaN": (lambda r: (r / F.SUMMARY_FILE).write_text("NaN"), "", True),
    "summary without fields": (lambda r: (r / F.SUMMARY_FILE).write_text("{}"), "", True),
    "summary deep": (lambda r: (r / F.SUMMARY_FILE).write_text("[" * 100_000), "", True),
    "summary of another model": (
        lambda r: _edit_summary(r, model_version="0.0.1+gdeadbeef"),
        "model",
        True,
    ),
}


def _hashes(run: Path) -> dict[str, str]:
    return json.loads((run / F.DONE_FILE).read_text())["sha256"]


def _edit_summary(run: Path, **changes: object) -> None:
    summary = json.loads((run / F.SUMMARY_FILE).read_text())
    (run / F.SUMMARY_FILE).write_text(json.dumps({**summary, **changes}))


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_run_folder_that_breaks_the_contract_is_refused(
    run_dir: Path, base: Path, record: Path, fault: str
) -> None:
    make, names, resealed = FAULTS[fault]
    run = copy_run(run_dir, base)
    make(run)
    if resealed:
        reseal(run)
    before = files_in(run)
    ok(command("analysis.odds", run, record), names)
    ok(command("analysis.forecast", run, "--record", record), names)
    assert files_in(run) == before


@pytest.mark.parametrize("module", ["analysis.odds", "analysis.forecast", "analysis.calibrate"])
def test_an_out_under_an_existing_file_is_one_line_before_any_work(
    run_dir: Path, base: Path, record: Path, module: str
) -> None:
    a_file = base / f"a_file_{module}"
    a_file.write_text("not a folder")
    out = a_file / "out"
    args = {
        "analysis.odds": [run_dir, record, "--out", out / "odds.json"],
        "analysis.forecast": [run_dir, "--out", out],
        "analysis.calibrate": ["--out", out],
    }[module]
    started = time.monotonic()
    ok(command(module, *args), str(a_file))
    assert time.monotonic() - started < 20 and a_file.read_text() == "not a folder"


def test_a_symlinked_forecast_folder_is_not_written_through(run_dir: Path, base: Path) -> None:
    run = copy_run(run_dir, base)
    outside = base / "outside_forecast"
    outside.mkdir()
    (run / "forecast").symlink_to(outside)
    ok(command("analysis.forecast", run), "symbolic link")
    assert not list(outside.iterdir())


def test_a_symlinked_job_folder_is_not_written_through(run_dir: Path, base: Path) -> None:
    elsewhere = copy_run(run_dir, base)
    sweep = base / "sweep_with_link"
    sweep.mkdir()
    (sweep / "0").symlink_to(elsewhere)
    ok(command("analysis.forecast", sweep / "0"), "symbolic link")
    assert not (elsewhere / "forecast").exists()


def test_compare_md_shows_html_in_folder_names_as_text(run_dir: Path, base: Path) -> None:
    name = "<img src=x onerror=alert(1)>"
    a = base / name
    shutil.copytree(run_dir, a)
    out = base / "compared"
    answer = command("analysis.compare", a, run_dir, "--out", out)
    assert answer.code == 0, answer.err
    md = (out / "compare.md").read_text(encoding="utf-8")
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md


def test_readers_accept_the_contract_they_check(run_dir: Path, record: Path, base: Path) -> None:
    """The good run passes every check (the refusals above are not refusals of everything)."""
    out = fresh(base, "odds")
    answer = command("analysis.odds", run_dir, record, "--min-ess", "1", "--out", out / "o.json")
    assert answer.code == 0, answer.err
    assert json.loads((out / "o.json").read_text())["n"] == 50


def test_a_run_of_experiments_run_is_read(base: Path, record: Path) -> None:
    """What ``python -m experiments.run`` writes meets the checks (the writer's contract)."""
    out = base / "made_by_experiments_run"
    made = subprocess.run(
        [sys.executable, "-m", "experiments.run", "replicates=50", f"hydra.run.dir={out}"],
        cwd=base,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    answer = command("analysis.odds", out, record, "--min-ess", "1")
    assert answer.code == 0, answer.err


# --- signals ------------------------------------------------------------------------------------


def _handler_installed(pid: int, timeout: float = 120) -> bool:
    """Wait until the process catches SIGTERM (``contract.cli.run`` has started)."""
    bit = 1 << (signal.SIGTERM - 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        caught = next(ln for ln in status.splitlines() if ln.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & bit:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize(
    ("sig", "module"),
    [
        (signal.SIGTERM, "analysis.odds"),
        (signal.SIGINT, "analysis.odds"),
        (signal.SIGTERM, "analysis.calibrate"),
        (signal.SIGTERM, "experiments.exercise"),
    ],
)
def test_sigterm_and_ctrl_c_end_with_one_line_and_leave_nothing(
    run_dir: Path, base: Path, sig: signal.Signals, module: str
) -> None:
    out = fresh(base, "signalled")
    many = base / "rare.csv"  # a rare observation: the command keeps regenerating replicates
    many.write_text(f"{HEADER}\n2025Q1,ceasefire,==,1,x\n2025Q2,summit,==,1,x\n")
    args = {
        "analysis.odds": [run_dir, many, "--min-ess", "1000000", "--budget", "5000000"]
        + ["--out", out / "odds.json"],
        "analysis.calibrate": ["--out", out, "--particles", "5000"],
        "experiments.exercise": ["ceasefire", "--replicates", "5000000"],
    }[module]
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        installed = _handler_installed(proc.pid)
        time.sleep(0.5)  # well inside the work
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert installed, "the command never caught SIGTERM"
    assert proc.returncode == 130, err
    assert err.strip() == "error: interrupted", err
    assert not out.exists()
    assert not list(base.glob(".*.tmp"))


def test_an_interrupt_while_writing_removes_what_was_written(
    run_dir: Path, base: Path, record: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+C after the first of the forecast's files is in place: none of them stays."""
    real = os.replace
    out = fresh(base, "interrupted")
    placed: list[object] = []

    def replace(src: object, dst: object) -> None:
        if Path(str(dst)).parent == out:  # a forecast file put in place
            if placed:
                raise KeyboardInterrupt
            placed.append(dst)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    answer = command("analysis.forecast", run_dir, "--record", record, "--out", out)
    monkeypatch.undo()
    assert answer.code == 130 and answer.err.strip() == "error: interrupted", answer.err
    assert not out.exists()


# --- disk ---------------------------------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch):
    """Every temporary file of an output gets half its bytes, then the disk is full."""
    for method in ("write_bytes", "write_text"):
        real = getattr(pathlib.Path, method)

        def write(self: Path, data: object, *args: object, _real=real, **kw: object) -> int:
            if self.name.endswith(".tmp"):
                _real(self, data[: len(data) // 2], *args, **kw)  # type: ignore[index]
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return _real(self, data, *args, **kw)

        monkeypatch.setattr(pathlib.Path, method, write)
    yield


@pytest.mark.parametrize("module", ["analysis.forecast", "analysis.odds", "analysis.compare"])
def test_a_full_disk_is_one_line_and_keeps_what_was_there(
    run_dir: Path, base: Path, record: Path, module: str, full_disk: None
) -> None:
    out = fresh(base, "full")
    out.mkdir()
    (out / "forecast.csv").write_text("an earlier forecast")  # not written by this call
    args = {
        "analysis.forecast": [run_dir, "--record", record, "--out", out],
        "analysis.odds": [run_dir, record, "--min-ess", "1", "--out", out / "odds.json"],
        "analysis.compare": [run_dir, run_dir, "--out", out],
    }[module]
    answer = command(module, *args)
    ok(answer, "No space left on device")
    assert sorted(p.name for p in out.iterdir()) == ["forecast.csv"]
    assert (out / "forecast.csv").read_text() == "an earlier forecast"


def test_teach_command_line_errors_are_one_line() -> None:
    for args in (["--port", "0"], ["--replicates", "-5"], ["--host", "0.0.0.0"]):
        ok(command("experiments.teach", *args), args[0])
