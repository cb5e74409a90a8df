"""Clean shutdown of a parallel sweep: a job in a worker process stops when the driver is gone.

The sweep's driver records itself (host, pid, process start time) in the environment before the
launcher starts its workers (joblib's loky processes, a local Ray's workers inherit it).
:func:`guard`, called when a job starts, runs a daemon thread in a worker process that checks the
driver every half second and ends the worker (``os._exit``) once the driver has died, even by
SIGKILL — so no worker goes on computing cells nobody will aggregate. Partial files it leaves are
temporary files that the next run removes. Jobs on another host (Slurm) are not watched: their
scheduler owns them.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

ENV = "RUDPRK_SWEEP_DRIVER"
POLL_SECONDS = 0.5
EXIT_CODE = 75
_started: list[threading.Thread] = []


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def identity() -> str:
    """This process as ``host:pid:start``, the value :func:`guard` watches."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or ''}"


def mark_driver() -> None:
    """Record this process as the sweep's driver (call before the launcher starts workers)."""
    os.environ[ENV] = identity()


def driver_alive(value: str) -> bool:
    """Whether the driver recorded as ``host:pid:start`` still runs (True if it cannot tell)."""
    host, _, rest = value.partition(":")
    pid_text, _, stamp = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or not stamp:
        return True
    return _start_time(int(pid_text)) == stamp


def _watch(value: str) -> None:
    stop = threading.Event()
    while not stop.wait(POLL_SECONDS):
        if not driver_alive(value):
            os._exit(EXIT_CODE)


def in_worker() -> bool:
    """Whether this process is a worker of a sweep (the driver recorded itself, not this pid)."""
    value = os.environ.get(ENV, "")
    return bool(value) and value.split(":")[1:2] != [str(os.getpid())]


def guard() -> None:
    """In a worker process of a sweep, end the process when the driver dies (once per process)."""
    value = os.environ.get(ENV, "")
    if not value or _started or value.split(":")[1:2] == [str(os.getpid())]:
        return  # not in a sweep, already watching, or this is the driver itself
    thread = threading.Thread(target=_watch, args=(value,), name="driver-watchdog", daemon=True)
    thread.start()
    _started.append(thread)
