"""Clean shutdown: killing the driver of a joblib (or local Ray) sweep, or of one run on every
core, stops its worker processes.

The sweep (sanctions enforcement M10/M17 × the DPRK stockpile F07/M15, large cells so that jobs
are still running) starts in its own session; the test SIGKILLs only the driver — no handler of
the driver can run — and then watches every process of that session. The workers notice the
driver's death (``experiments.watchdog``) and end within a few seconds; no job finishes after
the driver is gone.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contract.files import DONE_FILE

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
GRACE_SECONDS = 8.0  # the watchdog polls every 0.5 s; loky's own helpers follow their workers


def session_processes(sid: int) -> list[tuple[int, str]]:
    """(pid, command) of every live (not zombie) process in session ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] not in ("Z", "X") and int(fields[3]) == sid:  # state, ..., session
            found.append((int(entry.name), cmd.strip()))
    return found


@contextlib.contextmanager
def own_session(cmd: list[str]) -> Iterator[subprocess.Popen]:
    """``cmd`` started in a session of its own (its id is the driver's pid); whatever of that
    session is still alive at the end is killed, so a failing test leaves nothing running."""
    driver = subprocess.Popen(
        cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield driver
    finally:
        for pid, _ in session_processes(driver.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def kill_driver(
    driver: subprocess.Popen, watched: Callable[[str], bool] = lambda command: True
) -> tuple[list[tuple[int, str]], float]:
    """SIGKILL the driver alone, then wait up to ``GRACE_SECONDS`` for the watched processes of
    its session to end: (those still running, seconds waited)."""
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    killed_at = time.monotonic()

    def left() -> list[tuple[int, str]]:
        return [p for p in session_processes(driver.pid) if watched(p[1])]

    while left() and time.monotonic() - killed_at < GRACE_SECONDS:
        time.sleep(0.2)
    return left(), time.monotonic() - killed_at


def test_killing_the_driver_stops_the_joblib_workers(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    cmd = [
        sys.executable, "-m", "experiments.run", "-m",
        "sanctions.enforcement=0.2,0.4,0.6,0.8", "stockpile.dprk=low,high",
        "replicates=150000", "output.quantiles=false",
        "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={root}",
    ]  # fmt: skip
    with own_session(cmd) as driver:
        deadline = time.monotonic() + 300
        while len(session_processes(driver.pid)) < 3 or not list(root.glob("*/.hydra")):
            assert driver.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
        time.sleep(1.0)  # the workers are inside their jobs
        workers = [p for p in session_processes(driver.pid) if p[0] != driver.pid]
        assert workers, "no worker process to watch"
        done_before = set(root.glob(f"*/{DONE_FILE}"))
        left, waited = kill_driver(driver)
        assert not left, f"still running {waited:.1f} s after: {left}"
        time.sleep(1.0)
        assert set(root.glob(f"*/{DONE_FILE}")) == done_before  # no job finished afterwards


def test_killing_a_run_on_every_core_stops_its_workers(tmp_path: Path) -> None:
    """One large run on two cores (issue 13): its worker and the pool's helpers end with it."""
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "experiments.run", "replicates=1000000", "output.workers=2",
        "output.quantiles=false", f"hydra.run.dir={out}",
    ]  # fmt: skip
    with own_session(cmd) as driver:
        deadline = time.monotonic() + 120
        while not any("forkserver" in c for _, c in session_processes(driver.pid)):
            assert driver.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no worker process started"
            time.sleep(0.1)
        time.sleep(3.0)  # the worker is computing batches
        assert len(session_processes(driver.pid)) >= 3, session_processes(driver.pid)
        left, waited = kill_driver(driver)
        assert not left, f"still running {waited:.1f} s after: {left}"
        assert not (out / "runs.parquet").exists()  # no half-written result under its name


def test_killing_the_driver_stops_the_ray_jobs(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    """A local Ray: the processes running jobs end with the driver; Ray's idle agents are named."""
    if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None:
        pytest.skip("hydra_plugins.hydra_ray_launcher is not installed (make test installs it)")
    root = tmp_path / "sweep"
    cmd = [
        sys.executable, "-m", "experiments.run", "-m",
        "sanctions.enforcement=0.2,0.4,0.6,0.8", "replicates=150000", "output.quantiles=false",
        "hydra/launcher=ray_local", "hydra.launcher.ray.init.num_cpus=2",
        f"hydra.sweep.dir={root}",
    ]  # fmt: skip
    with own_session(cmd) as driver:
        deadline = time.monotonic() + 300
        while not any("ray::_run_job" in c for _, c in session_processes(driver.pid)):
            assert driver.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no Ray job started"
            time.sleep(0.2)
        time.sleep(1.0)
        left, waited = kill_driver(driver, lambda command: "_run_job" in command)
        assert not left, f"Ray jobs still running: {left}"
        agents = sorted({c.split()[0] for _, c in session_processes(driver.pid)})
        record_property(
            "measured",
            f"Ray jobs ended {waited:.1f} s after the driver's SIGKILL; "
            f"Ray processes still idle then: {', '.join(agents) or 'none'}",
        )
