"""Writing result files: one atomic write, content hashes, provenance, streaming Parquet.

Every file is written to a temporary name (``.NAME.*.tmp``) in the same directory and renamed into
place, so a crash never leaves a half-written file that looks complete; a later run removes the
leftovers (:func:`remove_stale_tmp`). ``sha256`` is what ``done.json`` records per file, so resume
trusts content, not sizes. ``provenance`` is stored in ``summary.json`` and the Parquet metadata.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contract.files import LOCK_FILE, TMP_GLOB
from sim import __version__

ROOT = Path(__file__).resolve().parents[1]


def model_version() -> str:
    """Package version plus the git commit of the source tree when there is one.

    ``.dirty`` marks edited tracked files: results the commit alone does not reproduce.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = bool(commit) and bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", False
    if not commit:
        return __version__
    return f"{__version__}+g{commit}" + (".dirty" if dirty else "")


def versions() -> dict[str, str]:
    """Versions of the libraries a result depends on."""
    out = {}
    for dist in ("mesa", "numpy", "hydra-core", "pyarrow"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def provenance(config_hash: str, seed: int) -> dict[str, Any]:
    """What goes with every result: config hash, model version, seed, library versions."""
    return {
        "config_hash": config_hash,
        "model_version": model_version(),
        "seed": int(seed),
        "versions": versions(),
    }


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def temp_path(path: Path) -> Path:
    """A fresh temporary file next to ``path`` (``.NAME.*.tmp``), made with ordinary modes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
    return Path(name)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` for a temporary file next to ``path``, then rename it into place."""
    tmp = temp_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write a text file (UTF-8) atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def replace_between(text: str, start: str, end: str, body: str, where: str = "the file") -> str:
    """``text`` with what lies between the markers ``start`` and ``end`` (a generated block of
    the docs) replaced by ``body`` on lines of its own; ``ValueError`` naming ``where`` and the
    markers if one is missing."""
    if start not in text or end not in text:
        raise ValueError(f"{where} lacks the markers of a generated block: {start} … {end}")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body.rstrip()}\n{end}{tail}"


def _meta(table: pa.Table, meta: dict[str, Any] | None) -> pa.Table:
    if not meta:
        return table
    existing = table.schema.metadata or {}
    blob = json.dumps(meta, sort_keys=True, default=str).encode()
    return table.replace_schema_metadata({**existing, b"rudprk": blob})


def _dictionary(names: list[str]) -> list[str]:
    # Dictionary encoding only pays for the label column; off elsewhere it writes ~40 % faster.
    return [c for c in ("scenario",) if c in names]


def write_parquet(path: Path, frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
    """Write a DataFrame as Parquet atomically, with ``meta`` in the schema metadata."""
    table = _meta(pa.Table.from_pandas(frame, preserve_index=False), meta)
    dictionary = _dictionary(table.column_names)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, use_dictionary=dictionary))


class ParquetStream:
    """Append DataFrames to one Parquet file in batches; it appears under its name only on close.

    Memory is bounded by one batch. ``abort()`` (or an exception inside ``with``) removes the
    temporary file and leaves any earlier file at ``path`` untouched.
    """

    def __init__(self, path: Path, meta: dict[str, Any] | None = None) -> None:
        self.path, self.meta = Path(path), meta
        self.tmp = temp_path(self.path)
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        table = _meta(pa.Table.from_pandas(frame, preserve_index=False), self.meta)
        if self.writer is None:
            self.writer = pq.ParquetWriter(
                self.tmp, table.schema, use_dictionary=_dictionary(table.column_names)
            )
        self.writer.write_table(table.cast(self.writer.schema))
        self.rows += len(frame)

    def close(self, empty: pd.DataFrame | None = None) -> None:
        """Finish the file and rename it into place (``empty`` gives the schema of no rows)."""
        if self.writer is None:
            if empty is None:
                raise ValueError(f"{self.path.name}: nothing was written")
            self.write(empty)
        assert self.writer is not None
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> ParquetStream:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is not None:
            self.abort()


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON (indented, numpy values converted) atomically."""
    text = json.dumps(payload, indent=2, sort_keys=False, default=jsonable)
    write_text(path, text + "\n")


def jsonable(value: Any) -> Any:
    """A numpy value as plain JSON (``json.dumps(..., default=jsonable)``), anything else as text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_tmp(directory: Path) -> list[Path]:
    """Remove temporary files that a killed atomic write left in ``directory``; return them."""
    removed = []
    for tmp in Path(directory).glob(TMP_GLOB) if Path(directory).is_dir() else []:
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def writable_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot become a writable directory, or None when it can."""
    path = Path(path).absolute()
    for parent in (path, *path.parents):
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a directory"
            if not os.access(parent, os.W_OK | os.X_OK):
                return f"{parent} is not writable"
            return None
    return None


def free_bytes(path: Path) -> int:
    """Free bytes on the file system that holds ``path`` (or its nearest existing parent)."""
    import shutil

    path = Path(path).absolute()
    for parent in (path, *path.parents):
        if parent.exists():
            return shutil.disk_usage(parent).free
    return shutil.disk_usage("/").free


def available_memory() -> int:
    """Bytes of memory this process may still use: MemAvailable, capped by a cgroup limit."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit.isdigit():
            found.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            return 1 << 62  # cannot tell: do not refuse
    return min(found)


class DiskFull(OSError):
    """The disk filled up while a command wrote its outputs (the message says how much)."""


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk (or a quota) is full (pyarrow's errors carry no errno)."""
    if not isinstance(error, OSError):
        return False
    text = str(error)
    return error.errno in (errno.ENOSPC, errno.EDQUOT) or any(
        words in text for words in ("No space left on device", "Disk quota exceeded")
    )


def size_text(n: float) -> str:
    """``9000`` → ``9.0 kB``; ``1.5e9`` → ``1.5 GB``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{int(n)} bytes"


def disk_full_message(where: Path, need: int | None = None) -> str:
    """One line for a full disk: where, how much was needed (an estimate) and what is free."""
    needed = f"; the output needs about {size_text(need)}" if need else ""
    return (
        f"no space left on the disk of {where}{needed}, {size_text(free_bytes(where))} free "
        "there now; nothing was kept: free some space or choose a folder on a larger disk"
    )


class FolderBusy(OSError):
    """Another process holds a folder's lock."""


_held: dict[Path, int] = {}  # folder -> the descriptor of its lock file, held by this process


def lock_folder(folder: Path, key: str) -> bool:
    """Hold ``folder``'s lock (``LOCK_FILE`` in it, ``fcntl.flock``) until :func:`unlock_folder`
    or the end of this process. Returns False if this process already held it. Raises
    :class:`FolderBusy` (one line naming ``key``) when another process holds it."""
    import fcntl

    folder = Path(folder).absolute()
    if folder in _held:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise FolderBusy(
            f"{key}={folder} is being written by another process; wait until it ends, or "
            "choose another folder"
        ) from None
    _held[folder] = fd  # the file stays empty: taking the lock changes no byte of the folder
    return True


def unlock_folder(folder: Path) -> None:
    """Release a lock taken by :func:`lock_folder` (the lock file stays)."""
    fd = _held.pop(Path(folder).absolute(), None)
    if fd is not None:
        os.close(fd)


@contextlib.contextmanager
def folder_lock(folder: Path, key: str) -> Iterator[None]:
    """``lock_folder`` for the ``with`` block (a lock this process already holds is kept)."""
    taken = lock_folder(folder, key)
    try:
        yield
    finally:
        if taken:
            unlock_folder(folder)
