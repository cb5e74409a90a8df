"""Every command of the run/sweep/folder family holds like the sweeps do (issue 23).

``python -m experiments.run`` (one run, ``-m`` sweeps), ``python -m experiments.replay`` and
``python -m experiments.argument``, by family of bad input:

* numbers — ``output.workers`` outside 0 (every core) … the available cores, launcher settings
  (``hydra.launcher.n_jobs=0``), and replicate counts that would not fit in memory: one line naming
  the key, exit 2, nothing written;
* folders — a different single run into a used ``hydra.run.dir`` is refused and the first run's
  files stay as they were, the same command is reused; ``hydra.sweep.subdir`` must differ per job
  and stay inside the sweep; the replay replaces only its own files in ``--out``;
* signals — Ctrl+C (SIGINT) and SIGTERM: ``error: interrupted`` on one line, exit 130, no
  ``done.json`` and no result file of a half-written run, no folder the command made;
* concurrency — a second process writing the same folder stops with one line;
* disk — a disk that fills up mid-run leaves no result file and says how much was needed.

Commands run as users call them (subprocesses from the repository root, small replicate counts);
inputs are drawn with hypothesis where a family allows it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract import files as F
from experiments import cores

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("RUDPRK_DEBUG", None)
FAST = settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: A run long enough to be interrupted (about 10 s on one core), short enough for a test.
LONG = ("replicates=400000", "output.workers=1", "output.quantiles=false")


def command(module: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return command("experiments.run", *args, timeout=timeout)


def one_line(done: subprocess.CompletedProcess, *words: str) -> str:
    """The single stderr line of a refused command; it names every one of ``words``."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (relative path → digest)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def result_files(folder: Path) -> list[str]:
    """Files under a result's name (or its completion marker) anywhere under ``folder``."""
    names = {*F.JOB_FILES, F.DONE_FILE}
    return sorted(str(p) for p in folder.rglob("*") if p.name in names) if folder.exists() else []


# --- numbers ------------------------------------------------------------------------------------


@FAST
@given(
    workers=st.one_of(
        st.integers(max_value=-1), st.integers(min_value=cores.available() + 1, max_value=10**6)
    )
)
def test_output_workers_outside_the_cores_is_refused_before_anything_runs(
    workers: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from experiments import config

    config.register()
    with pytest.raises(SystemExit) as exit_:
        config.preflight([f"output.workers={workers}", "replicates=50"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "output.workers" in err, err
    assert f"1 to {cores.available()}" in err, err


def test_output_workers_too_many_in_a_command_and_a_sweep(tmp_path: Path) -> None:
    too_many = cores.available() + 1
    out = tmp_path / "run"
    one_line(run(f"output.workers={too_many}", f"hydra.run.dir={out}"), "output.workers")
    one_line(run("output.workers=-1", f"hydra.run.dir={out}"), "output.workers")
    sweep = tmp_path / "sweep"
    done = run("-m", f"output.workers=1,{too_many}", "replicates=50", f"hydra.sweep.dir={sweep}")
    assert done.returncode == 2
    one_line(done, "output.workers")
    assert not out.exists() and not sweep.exists()


@FAST
@given(n_jobs=st.one_of(st.just(0), st.integers(max_value=-2), st.sampled_from(["0", "-3"])))
def test_joblib_n_jobs_zero_or_negative_is_refused(n_jobs: int | str) -> None:
    from hydra import compose, initialize_config_dir

    from experiments import config
    from sim.params import ParameterError

    config.register()
    with initialize_config_dir(config_dir=str(config.CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}"],
            return_hydra_config=True,
        )
    with pytest.raises(ParameterError, match="hydra.launcher.n_jobs"):
        config.check_launcher(cfg)


@pytest.mark.parametrize(
    "launcher",
    [
        ("hydra/launcher=joblib", "hydra.launcher.n_jobs=0"),
        ("hydra/launcher=joblib", "hydra.launcher.n_jobs=-3"),
        ("hydra.sweeper.max_batch_size=0",),
    ],
)
def test_launcher_settings_are_checked_before_any_job(tmp_path: Path, launcher: tuple) -> None:
    sweep = tmp_path / "sweep"
    done = run("-m", *launcher, "seed=1,2", "replicates=50", f"hydra.sweep.dir={sweep}")
    assert done.returncode == 2
    one_line(done, launcher[-1].split("=")[0])
    assert not sweep.exists()


def test_argument_replicates_beyond_memory_are_refused_with_the_estimate(tmp_path: Path) -> None:
    out = tmp_path / "argument"
    done = command("experiments.argument", "replicates=1000000000", f"out={out}", timeout=60)
    assert done.returncode == 2
    line = one_line(done, "replicates", "memory")
    assert "GB" in line or "MB" in line
    assert not out.exists()


def test_replay_replicates_beyond_memory_are_refused_with_the_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contract.io
    from experiments import replay

    monkeypatch.setattr(contract.io, "available_memory", lambda: 50 * 2**20)
    out = tmp_path / "replay"
    with pytest.raises(replay.ReplayError, match=r"--replicates=.*memory.*MB"):
        replay.main(["--replicates", "50", "--out", str(out)])
    assert not out.exists()


# --- folders ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("first") / "run"
    done = run("replicates=50", "seed=1", f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    assert (out / F.DONE_FILE).exists()
    yield out


@FAST
@given(
    change=st.one_of(
        st.integers(2, 10**6).map(lambda s: f"seed={s}"),
        st.integers(51, 80).map(lambda n: f"replicates={n}"),
        st.floats(0.0, 1.0).filter(lambda x: x != 0.5).map(lambda x: f"world.confrontation={x}"),
        st.sampled_from(["sanctions=strict", "output.quantiles=false", "horizon=30"]),
    )
)
def test_a_different_run_into_a_used_folder_is_refused_and_changes_nothing(
    first_run: Path, change: str
) -> None:
    before = hashes(first_run)
    args = {"replicates": "replicates=50", "seed": "seed=1"}
    args[change.split("=")[0]] = change
    done = run(*args.values(), f"hydra.run.dir={first_run}")
    assert done.returncode == 2
    one_line(done, "hydra.run.dir", "another run")
    assert hashes(first_run) == before


def test_the_same_run_again_is_reused(first_run: Path) -> None:
    def results() -> dict[str, str]:  # Hydra rewrites its own snapshot
        return {k: v for k, v in hashes(first_run).items() if not k.startswith(".hydra")}

    before = results()
    done = run("seed=1", "replicates=50", f"hydra.run.dir={first_run}")
    assert done.returncode == 0, done.stderr
    assert "reused" in done.stdout
    assert results() == before


def test_a_run_into_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = run("replicates=50", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 2
    one_line(done, "hydra.run.dir", "notes.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@FAST
@given(subdir=st.sampled_from(["0", "job", "'${hydra.job.num}/..'", "../escape", "/tmp/x", "."]))
def test_a_sweep_subdir_that_is_not_one_folder_per_job_inside_the_sweep_is_refused(
    tmp_path: Path, subdir: str
) -> None:
    sweep = tmp_path / "sweep"
    done = run(
        "-m",
        "seed=1,2",
        "replicates=50",
        f"hydra.sweep.dir={sweep}",
        f"hydra.sweep.subdir={subdir}",
    )
    assert done.returncode == 2
    one_line(done, "hydra.sweep.subdir")
    assert not sweep.exists() and not (tmp_path / "escape").exists()


def test_replay_keeps_files_it_did_not_write(tmp_path: Path) -> None:
    from experiments import replay

    out = tmp_path / "replay"
    assert replay.main(["--replicates", "20", "--out", str(out)]) == 0
    (out / "notes.md").write_text("my notes on the first replay")
    (out / "report.html").write_text("<p>my report</p>")
    first = json.loads((out / F.REPLAY_FILE).read_text())
    assert replay.main(["--replicates", "20", "--seed", "8", "--out", str(out)]) == 0
    assert (out / "notes.md").read_text() == "my notes on the first replay"
    assert (out / "report.html").read_text() == "<p>my report</p>"
    assert json.loads((out / F.REPLAY_FILE).read_text())["seed"] == 8 != first["seed"]
    assert not list(out.glob(F.TMP_GLOB)) and not list(tmp_path.glob(".replay*"))


def test_replay_refuses_a_folder_that_is_not_a_replay(tmp_path: Path) -> None:
    from experiments import replay

    (tmp_path / "runs.parquet").write_text("not the replay's")
    (tmp_path / "replay.json").write_text('{"kind": "something else"}')
    before = hashes(tmp_path)
    with pytest.raises(replay.ReplayError, match="not a replay directory"):
        replay.main(["--replicates", "20", "--out", str(tmp_path)])
    assert hashes(tmp_path) == before


# --- signals ------------------------------------------------------------------------------------


def start(*args: str, module: str = "experiments.run") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(process: subprocess.Popen, ready, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the command never got going"
        time.sleep(0.05)
    time.sleep(0.5)


def interrupted(process: subprocess.Popen, signum: int, group: bool = False) -> str:
    """Send ``signum`` (to the process group with ``group``: Ctrl+C); return its stderr."""
    try:
        os.killpg(process.pid, signum) if group else process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err[-3000:]
    assert err.strip() == "error: interrupted", err[-3000:]
    return err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_no_result_and_no_folder_it_made(
    tmp_path: Path, signum: int
) -> None:
    out = tmp_path / "run"
    process = start(*LONG, f"hydra.run.dir={out}")
    wait_for(process, lambda: list(out.glob(f".{F.RUNS_FILE}.*.tmp")))
    interrupted(process, signum, group=signum == signal.SIGINT)
    assert not out.exists()


def test_an_interrupted_run_into_its_own_folder_keeps_it_resumable(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()  # the user's folder: it stays, with what the same command needs to resume
    process = start(*LONG, f"hydra.run.dir={out}")
    wait_for(process, lambda: list(out.glob(f".{F.RUNS_FILE}.*.tmp")))
    interrupted(process, signal.SIGTERM)
    assert result_files(out) == [] and not list(out.glob(F.TMP_GLOB))
    assert (out / F.RUN_IDENTITY_FILE).exists()


@pytest.mark.parametrize("launcher", [(), ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")])
def test_an_interrupted_sweep_leaves_no_half_written_job(tmp_path: Path, launcher: tuple) -> None:
    root = tmp_path / "sweep"
    process = start("-m", *LONG, "seed=1,2", *launcher, f"hydra.sweep.dir={root}")
    wait_for(process, lambda: list(root.glob(f"*/.{F.RUNS_FILE}.*.tmp")))
    interrupted(process, signal.SIGINT, group=True)
    for job in root.glob("[0-9]*"):
        assert not (job / F.DONE_FILE).exists() or (job / F.SUMMARY_FILE).exists()
        assert (job / F.DONE_FILE).exists() or not (job / F.RUNS_FILE).exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_argument_leaves_no_folder(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "nested" / "argument"
    process = start("replicates=200000", f"out={out}", module="experiments.argument")
    wait_for(process, out.exists)
    interrupted(process, signum, group=signum == signal.SIGINT)
    assert not (tmp_path / "nested").exists()


# --- concurrency --------------------------------------------------------------------------------


def test_two_processes_never_write_one_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = start(*LONG, f"hydra.run.dir={out}")
    try:
        wait_for(first, lambda: list(out.glob(f".{F.RUNS_FILE}.*.tmp")))
        second = run(*LONG, f"hydra.run.dir={out}")
        assert second.returncode != 0
        one_line(second, "hydra.run.dir", "another process")
        assert first.poll() is None  # the first run goes on
    finally:
        interrupted(first, signal.SIGTERM)


def test_a_locked_sweep_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from contract.io import lock_folder; "
            f"lock_folder({str(root)!r}, 'x'); print('locked', flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        done = run("-m", "seed=1,2", "replicates=50", f"hydra.sweep.dir={root}")
        assert done.returncode == 2
        one_line(done, "hydra.sweep.dir", "another process")
        assert [p.name for p in root.iterdir()] == [F.LOCK_FILE]
    finally:
        holder.kill()
        holder.wait()


# --- disk ---------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs, nearly full (a filler file leaves 48 KB), or skip when none can be made."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (the in-process disk test covers this)")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * (free - 48 * 1024))
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_disk_that_fills_up_mid_run_leaves_no_result(small_disk: Path) -> None:
    out = small_disk / "run"
    done = run("replicates=50", f"hydra.run.dir={out}")
    assert done.returncode == 1
    one_line(done, "no space left", "needs about")
    assert result_files(small_disk) == [] and not list(small_disk.rglob(F.TMP_GLOB))
    assert not out.exists()


def test_a_full_disk_in_process_leaves_no_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contract.io import DiskFull
    from experiments import config
    from experiments import run as run_module

    config.register()
    cfg = config.preflight(["replicates=50"])
    calls = []

    def full(path: Path, frame, meta=None) -> None:
        calls.append(path)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("contract.io.write_parquet", full)
    out = tmp_path / "run"
    with pytest.raises(DiskFull, match=r"no space left.*needs about 9.0 kB"):
        run_module.run(cfg, out)
    assert calls and result_files(out) == [] and not list(out.glob(F.TMP_GLOB))
