"""The progress line of a running sweep: cells done, runs per second, time left.

A background thread in the driver reads the jobs' ``done.json`` markers (``contract.files``), so
it works with every launcher (the driver's launcher call blocks; job return values never reach it
with parallel launchers).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from contract.files import DONE_FILE, ERROR_FILE


def job_dirs(root: Path) -> list[tuple[int, Path]]:
    """``(job number, directory)`` of every job directory under a sweep root, in job order."""
    jobs = []
    for path in root.iterdir() if root.is_dir() else []:
        if path.is_dir() and path.name.isdigit():
            jobs.append((int(path.name), path))
    return sorted(jobs)


class Progress:
    """A background thread printing ``cells done, runs/s, time left`` while the sweep runs.

    It reads the jobs' ``done.json`` markers, so it works with every launcher (the driver's
    launcher call blocks; job return values never reach it with parallel launchers).
    """

    def __init__(self, root: Path, total: int | None, started: float, interval: float = 0.0):
        self.root, self.total, self.started = Path(root), total, started
        self.tty = sys.stderr.isatty()
        self.interval = interval or (1.0 if self.tty else 15.0)
        self._stop = threading.Event()
        self._seen: dict[int, int] = {}
        self._failed: set[int] = set()
        self._thread = threading.Thread(target=self._loop, name="sweep-progress", daemon=True)

    def start(self) -> Progress:
        self._thread.start()
        return self

    def _scan(self) -> None:
        for job, path in job_dirs(self.root):
            if job in self._seen:
                continue
            try:
                done = json.loads((path / DONE_FILE).read_text())
                self._seen[job] = int(done["n"]) if done["finished_at"] >= self.started else 0
            except (OSError, ValueError, KeyError):
                if (path / ERROR_FILE).exists():
                    self._failed.add(job)

    def line(self) -> str:
        self._scan()
        elapsed = max(time.time() - self.started, 1e-9)
        done = len(self._seen) + len(self._failed)
        ran = [n for n in self._seen.values() if n > 0]
        rate = sum(ran) / elapsed
        total = "?" if self.total is None else str(self.total)
        text = f"sweep: {done}/{total} cells done, {rate:,.0f} runs/s"
        if self.total and ran:
            left = max(self.total - done, 0) * elapsed / len(ran)
            text += f", ~{_clock(left)} left"
        if self._failed:
            text += f", {len(self._failed)} failed"
        return text

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._print(self.line())

    def _print(self, text: str) -> None:
        end = "\r" if self.tty else "\n"
        print(text.ljust(79) if self.tty else text, end=end, file=sys.stderr, flush=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        print(self.line(), file=sys.stderr, flush=True)


_PROGRESS: dict[str, Progress] = {}


def start_progress(root: Path | str, total: int | None, started: float) -> None:
    """Start the progress line of the sweep at ``root`` (driver side)."""
    _PROGRESS[str(root)] = Progress(Path(str(root)), total, started).start()


def stop_progress(root: Path | str) -> None:
    """Stop it and print the final line."""
    progress = _PROGRESS.pop(str(root), None)
    if progress is not None:
        progress.stop()


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
