"""Every failure is one line: a corpus of bad inputs across the commands, run as a user would.

For each input the command runs in a fresh empty folder (``subprocess``) and must exit non-zero,
print no traceback, print one line on stderr naming the key or path that was wrong, and leave
no new file behind — no ``outputs/``, no ``.hydra/``, nothing in the result folders it was
pointed at. Commands: ``experiments.run`` (Hydra's own parse and composition errors included),
``analysis.report``, ``analysis.compare``, ``experiments.replay``, ``experiments.exercise``,
``experiments.sweep`` and the argument errors of ``experiments.teach``. The number of inputs is printed in the test
summary ("measured values").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from contract import files as F
from sim import params as P

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_DIR": str(ROOT / "no-such-git-dir")}
ENV.pop("RUDPRK_DEBUG", None)


def files_under(*dirs: Path) -> set[str]:
    return {str(p) for d in dirs for p in d.rglob("*")}


@pytest.fixture(scope="module")
def corpus_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A good run, a good sweep, and broken copies of the run (each a different fault)."""
    from analysis_fixtures import write_grid_sweep, write_run

    base = tmp_path_factory.mktemp("corpus")
    run = base / "run"
    write_run(run, {}, seed=1, replicates=200)
    sweep = write_grid_sweep(
        base / "sweep", {"sanctions.enforcement": [0.2, 0.8]}, seed=2, replicates=200
    )
    broken = {}
    for fault in ("quantiles", "types", "truncated", "flipped", "sweepjson", "notjson"):
        broken[fault] = base / f"broken_{fault}"
        shutil.copytree(run, broken[fault])
    (broken["quantiles"] / F.QUANTILES_FILE).write_bytes(b"not parquet at all")
    summary = json.loads((run / F.SUMMARY_FILE).read_text())
    (broken["types"] / F.SUMMARY_FILE).write_text(json.dumps({**summary, "n": "many"}))
    runs = broken["truncated"] / F.RUNS_FILE
    runs.write_bytes(runs.read_bytes()[: runs.stat().st_size // 2])
    (broken["notjson"] / F.SUMMARY_FILE).write_text("{ this is not json")
    shutil.rmtree(broken["sweepjson"])
    shutil.copytree(sweep, broken["sweepjson"])
    (broken["sweepjson"] / F.SWEEP_JSON).write_text("[1, 2, 3]")
    flipped = broken["flipped"] / F.RUNS_FILE
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 1
    flipped.write_bytes(bytes(data))
    # a run whose done.json records hashes: the flip must be noticed by the report
    from contract.io import sha256

    (broken["flipped"] / F.DONE_FILE).write_text(
        json.dumps({"sha256": {F.RUNS_FILE: sha256(run / F.RUNS_FILE)}})
    )
    a_file = base / "a_file.txt"
    a_file.write_text("not a directory")
    empty = base / "empty"
    empty.mkdir()
    return {"base": base, "run": run, "sweep": sweep, "file": a_file, "empty": empty, **broken}


def cases(d: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    """(command, arguments, what the one line must name)."""
    run, sweep, file = str(d["run"]), str(d["sweep"]), str(d["file"])
    under_file = f"{file}/out"
    R = "experiments.run"
    c: list[tuple[str, list[str], str]] = [
        # Hydra's grammar
        (R, ["sanctions.enforcement=[0.1"], "sanctions.enforcement"),
        (R, ["-m", "sanctions.enforcement=0.1,"], "sanctions.enforcement"),
        (R, [f"hydra.run.dir={d['base']}/résultats"], "hydra.run.dir"),  # unquoted non-ASCII
        (R, ["sanctions.enforcement=0.1)"], "sanctions.enforcement"),
        (R, ["sanctions.enforcement='0.1"], "sanctions.enforcement"),
        (R, ["=0.5"], "=0.5"),
        (R, ["~seed"], "seed"),
        (R, ["~sanctions.enforcement"], "sanctions.enforcement"),
        (R, ["--foo"], "--foo"),
        (R, ["sanctions.enforcement=0.1,0.2"], "sanctions.enforcement"),  # a sweep without -m
        # composition
        (R, ["experiment=lhs_design", "design.chunk=5"], "design.chunk"),
        (R, ["hydra/launcher=nope"], "hydra/launcher"),
        (R, ["-m", "hydra/launcher=nope"], "hydra/launcher"),
        (R, ["+new_key=1"], "new_key"),
        (R, ["discard=maybe"], "discard"),
        (R, ["output.quantiles=maybe"], "output.quantiles"),
        (R, ["sanctions.enforcement=${oops}"], "sanctions.enforcement"),
        # values
        (R, ["seed=-1"], "seed"),
        (R, ["seed=abc"], "seed"),
        (R, [f"seed={2**63}"], "seed"),
        (R, ["replicates=0"], "replicates"),
        (R, ["replicates=abc"], "replicates"),
        (R, ["replicates=1.5"], "replicates"),
        (R, ["replicates=10000000000"], "replicates"),
        (R, ["horizon=0"], "horizon"),
        (R, ["horizon=401"], "horizon"),
        (R, ["horizon=soon"], "horizon"),
        (R, ["sanctions.enforcment=0.5"], "sanctions.enforcment"),
        (R, ["world.confrontation=1.5"], "world.confrontation"),
        (R, ["world.confrontation=abc"], "world.confrontation"),
        (R, ["dprk.troops_deployed=3"], "dprk.troops_deployed"),
        (R, ["stockpile.dprk=huge"], "stockpile.dprk"),
        (R, ["russia=nonexistent"], "russia"),
        (R, ["world=nope"], "world"),
        (R, ["experiment=nope"], "experiment"),
        (R, ["output.batch_size=0"], "output.batch_size"),
        (R, ["classifier.medium=50"], "classifier.medium"),
        (R, ["design.method=bogus", "design.parameters=[sanctions.enforcement]"], "design.method"),
        (R, ["experiment=lhs_design", "design.parameters=[nope.key]"], "nope.key"),
        (R, ["experiment=lhs_design", "design.points=0"], "design.points"),
        (R, ["-m", "replicates=10,many"], "replicates"),
        (R, ["-m", "stockpile.dprk=low,huge"], "stockpile.dprk"),
        (R, ["-m", "world.confrontation=0.5,1.5"], "world.confrontation"),
        (R, ["-m", "sanctions=strict,nope"], "sanctions"),
        # output folders
        (R, [f"hydra.run.dir={under_file}"], "hydra.run.dir"),
        (R, ["-m", "seed=1,2", f"hydra.sweep.dir={under_file}"], "hydra.sweep.dir"),
        (R, ["-m", "seed=1,2", f"hydra.sweep.dir={sweep}"], "hydra.sweep.dir"),  # another sweep
        # analysis.report
        ("analysis.report", [str(d["base"] / "missing")], "missing"),
        ("analysis.report", [file], file),
        ("analysis.report", [str(d["empty"])], str(d["empty"])),
        ("analysis.report", [str(d["quantiles"])], F.QUANTILES_FILE),
        ("analysis.report", [str(d["types"])], F.SUMMARY_FILE),
        ("analysis.report", [str(d["notjson"])], F.SUMMARY_FILE),
        ("analysis.report", [str(d["truncated"])], F.RUNS_FILE),
        ("analysis.report", [str(d["flipped"])], F.RUNS_FILE),
        ("analysis.report", [str(d["sweepjson"])], F.SWEEP_JSON),
        ("analysis.report", [run, "--out", under_file], file),
        ("analysis.report", [], "dir"),
        ("analysis.report", [run, "--bogus"], "--bogus"),
        # analysis.compare
        ("analysis.compare", [str(d["base"] / "missing"), run], "missing"),
        ("analysis.compare", [run, file], file),
        ("analysis.compare", [run, str(d["truncated"])], F.RUNS_FILE),
        ("analysis.compare", [run, str(d["types"])], F.SUMMARY_FILE),
        ("analysis.compare", [run, run, "--out", under_file], file),
        ("analysis.compare", [run], "dir_b"),
        # experiments.replay
        ("experiments.replay", ["--replicates", "0"], "--replicates"),
        ("experiments.replay", ["--replicates", "1000000000"], "--replicates"),
        ("experiments.replay", ["--seed", "-4"], "--seed"),
        ("experiments.replay", ["--out", under_file], file),
        ("experiments.replay", ["--out", file], file),
        ("experiments.replay", ["--counterfactual", "nope"], "--counterfactual"),
        ("experiments.replay", ["russia.summit_rat=0.5"], "russia.summit_rat"),
        ("experiments.replay", ["russia.summit_rate=7"], "russia.summit_rate"),
        ("experiments.replay", ["oops"], "oops"),
        # experiments.exercise
        ("experiments.exercise", [], "name"),
        ("experiments.exercise", ["no_such_exercise"], "no_such_exercise"),
        ("experiments.exercise", ["ceasefire", "--lang", "xx"], "--lang"),
        ("experiments.exercise", ["ceasefire", "--replicates", "abc"], "--replicates"),
        # experiments.sweep (re-aggregation)
        ("experiments.sweep", [], "multirun"),
        ("experiments.sweep", [str(d["empty"])], str(d["empty"])),
        # experiments.teach (argument errors only)
        ("experiments.teach", ["--port", "abc"], "--port"),
        ("experiments.teach", ["--lang", "xx"], "--lang"),
        ("experiments.teach", ["--replicates", "abc"], "--replicates"),
        ("experiments.teach", ["--bogus"], "--bogus"),
    ]
    return c


def attempt(case: tuple[str, list[str], str], folder: Path) -> str | None:
    """Run one bad input in ``folder``; return what was wrong with the answer, or None."""
    module, args, names = case
    folder.mkdir()
    try:
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=folder,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "timed out (the input was accepted?)"
    err = done.stderr.strip()
    lines = err.splitlines()
    problems = []
    if done.returncode == 0:
        problems.append("exit 0")
    if "Traceback" in err:
        problems.append("traceback")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr")
    elif names not in lines[0]:
        problems.append(f"the line does not name {names!r}")
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    if left:
        problems.append(f"left {left[:3]}")
    if problems:
        return f"{module} {' '.join(args)}: {'; '.join(problems)} | {err[-400:]!r}"
    return None


def test_every_bad_input_is_one_line_and_leaves_nothing(
    corpus_dirs: dict[str, Path], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    corpus = cases(corpus_dirs)
    assert len(corpus) >= 60
    keep = [corpus_dirs[k] for k in corpus_dirs if k not in ("file",)]
    before = files_under(*keep)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(lambda ic: attempt(ic[1], tmp_path / f"case{ic[0]}"), enumerate(corpus))
        )
    failures = [a for a in answers if a]
    new = files_under(*keep) - before
    commands = sorted({c[0] for c in corpus})
    record_property(
        "measured",
        f"{len(corpus)} bad inputs across {len(commands)} commands: "
        f"{len(corpus) - len(failures)} answered with one line, exit != 0, no file left",
    )
    assert not failures, "\n".join(failures)
    assert not new, sorted(new)[:5]


def test_replicates_one_billion_refuses_in_seconds_or_fits(tmp_path: Path) -> None:
    """``replicates=1000000000``: refused with one line when the disk cannot hold the output."""
    from contract.io import free_bytes
    from experiments.config import DISK_BYTES_PER_REPLICATE

    if free_bytes(tmp_path) > 10**9 * DISK_BYTES_PER_REPLICATE:
        pytest.skip("this disk could hold a billion replicates; the refusal cannot be shown")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "experiments.run", "replicates=1000000000", f"hydra.run.dir={out}"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "replicates" in line and "free" in line, line
    assert not out.exists()
    assert P.RUN_KEYS["replicates"] < 10**9
