"""One job's files in a sweep: point rows, the ``done.json`` marker, resume checks, failures.

A job (grid cell or design chunk) writes ``runs.parquet``, ``quantiles.parquet``,
``summary.json`` and ``points.parquet`` (``contract.files``), then, last, ``done.json``: the job's
fingerprint (config hash), the model version, the sweep identity it belongs to and the SHA-256 of
every file it wrote. On a rerun the job is reused only if every one of those still matches — the
hashes are recomputed from the bytes on disk, so a one-bit change is caught — and redone
otherwise, with the reason (``model version changed``, ``config changed``, ``runs.parquet
changed since it was written``, …) reported in ``sweep.json``.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contract import files as F
from contract.cli import UsageError
from contract.io import remove_stale_tmp, sha256, write_json
from sim import params as P
from sim.classifier import SCENARIOS


class PointSums:
    """Scenario counts and indicator sums per parameter point, accumulated batch by batch.

    A point's replicates are contiguous and in replicate order. Sums run in that order from 0
    (``np.bincount`` inside a batch; a point that continues from the previous batch carries its
    running total through ``np.cumsum``), so the means are bit-identical whatever the batch size.
    Memory: one row per point.
    """

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []  # finished points
        self.open: dict[str, np.ndarray] | None = None  # the last point (may continue)

    def add(self, rows: pd.DataFrame, point: int | None = None) -> None:
        if "point" in rows:
            ids = rows["point"].to_numpy()
        else:
            ids = np.full(len(rows), 0 if point is None else point, dtype=np.int64)
        if ids.size == 0:
            return
        uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        part: dict[str, np.ndarray] = {"point": uniq.astype(np.int64)}
        for key in P.BY_KEY:
            part[key] = rows[key].to_numpy()[first].astype(np.float64)
        part["n"] = np.bincount(inverse, minlength=uniq.size).astype(np.int64)
        labels = rows["scenario"].to_numpy()
        for s in SCENARIOS:
            part[f"{s}_count"] = np.bincount(
                inverse, weights=labels == s, minlength=uniq.size
            ).astype(np.int64)
        clean = {}
        for name in F.CELL_INDICATORS:
            values = rows[name].to_numpy(dtype=np.float64)
            ok = ~np.isnan(values)
            clean[name] = np.where(ok, values, 0.0)
            part[f"{name}_sum"] = np.bincount(inverse, weights=clean[name], minlength=uniq.size)
            part[f"{name}_finite"] = np.bincount(inverse, weights=ok, minlength=uniq.size)
        if self.open is not None and self.open["point"][0] == uniq[0]:
            o, head = self.open, inverse == 0
            for key in ("n", *(f"{s}_count" for s in SCENARIOS)):
                o[key] = o[key] + part[key][:1]
            for name in F.CELL_INDICATORS:  # continue the running sum in replicate order
                o[f"{name}_sum"] = np.cumsum(np.concatenate([o[f"{name}_sum"], clean[name][head]]))[
                    -1:
                ]
                o[f"{name}_finite"] = o[f"{name}_finite"] + part[f"{name}_finite"][:1]
            part = {k: v[1:] for k, v in part.items()}
            if part["point"].size == 0:
                return
        if self.open is not None:
            self.parts.append(self.open)
        self.parts.append({k: v[:-1] for k, v in part.items()})
        self.open = {k: v[-1:] for k, v in part.items()}

    def frame(self) -> pd.DataFrame:
        """One row per point: ``point``, every parameter, ``n``, ``{S}_count``, ``{x}_mean``."""
        parts = [*self.parts, *([self.open] if self.open is not None else [])]
        cols = ["point", *P.BY_KEY, "n", *(f"{s}_count" for s in SCENARIOS)]
        out: dict[str, Any] = {
            c: np.concatenate([p[c] for p in parts]) if parts else np.array([]) for c in cols
        }
        for name in F.CELL_INDICATORS:
            total = np.concatenate([p[f"{name}_sum"] for p in parts]) if parts else np.array([])
            count = np.concatenate([p[f"{name}_finite"] for p in parts]) if parts else total
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"{name}_mean"] = total / count
        return pd.DataFrame(out)


def point_rows(rows: pd.DataFrame, point: int | None = None) -> pd.DataFrame:
    """One row per parameter point of replicate rows held in memory (see :class:`PointSums`)."""
    sums = PointSums()
    sums.add(rows, point)
    return sums.frame()


class FolderTaken(UsageError):
    """Another job of the same sweep wrote this folder (``hydra.sweep.subdir`` is not unique)."""


def other_job(jobdir: Path, identity: str | None, job: int) -> int | None:
    """The number of another job of sweep ``identity`` whose files are in ``jobdir``, or None."""
    for name in (F.DONE_FILE, F.ERROR_FILE):
        try:
            data = json.loads((jobdir / name).read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        if name == F.DONE_FILE and data.get("sweep_identity") != identity:
            continue
        other = data.get("job")
        if isinstance(other, int) and other != job:
            return other
    return None


def mark_done(
    jobdir: Path,
    fingerprint: str,
    summary: dict[str, Any],
    previous: str | None,
    identity: str | None = None,
    job: int | None = None,
) -> None:
    """Write ``done.json`` last: fingerprint, model version, sweep identity, job, file hashes."""
    hashes = {f: sha256(jobdir / f) for f in F.JOB_FILES if (jobdir / f).exists()}
    payload = {
        "job": job,
        "fingerprint": fingerprint,
        "model_version": summary.get("model_version"),
        "sweep_identity": identity,
        "n": summary["n"],
        "sha256": hashes,
        "previous": previous,
        "finished_at": time.time(),
    }
    write_json(jobdir / F.DONE_FILE, payload)


def check_complete(
    jobdir: Path,
    fingerprint: str | None = None,
    model_version: str | None = None,
    identity: str | None = None,
) -> tuple[bool, str]:
    """(True, "") when the job's files are complete and unchanged; else (False, why not).

    ``fingerprint``, ``model_version`` and ``identity`` (of the sweep) are checked when given.
    """
    done_path = jobdir / F.DONE_FILE
    if not done_path.exists():
        if (jobdir / F.ERROR_FILE).exists():
            return False, "failed before"
        if any((jobdir / f).exists() for f in F.JOB_FILES):
            return False, "partial files (no done.json)"
        return False, "missing"
    try:
        done = json.loads(done_path.read_text())
        if identity is not None and done.get("sweep_identity") != identity:
            return False, "made by another sweep"
        if model_version is not None and done.get("model_version") != model_version:
            return False, f"model version changed ({done.get('model_version')} → {model_version})"
        if fingerprint is not None and done["fingerprint"] != fingerprint:
            return False, "config changed"
        hashes = done["sha256"]
        for name in F.REQUIRED_JOB_FILES:
            if name not in hashes:
                return False, f"{name} not recorded in done.json"
        for name, digest in hashes.items():
            path = jobdir / name
            if not path.exists():
                return False, f"{name} missing"
            if sha256(path) != digest:
                return False, f"{name} changed since it was written (SHA-256 differs)"
        summary = json.loads((jobdir / F.SUMMARY_FILE).read_text())
        names = set(pq.read_schema(jobdir / F.RUNS_FILE).names)
        missing = [c for c in F.REQUIRED_RUN_COLUMNS if c not in names]
        if missing:
            return False, f"runs.parquet lacks {missing}"
        if done["n"] != summary["n"]:
            return False, "n differs between done.json and summary.json"
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as error:
        return False, f"unreadable ({type(error).__name__}: {error})"
    return True, ""


def clear_job(jobdir: Path, reason: str | None) -> str | None:
    """Remove a job's result files and stale temporary files before it is (re)done.

    ``reason`` is why the job is redone (from :func:`check_complete`); returns it, or None for a
    job that never ran.
    """
    for name in (F.DONE_FILE, F.ERROR_FILE, *F.JOB_FILES):
        (jobdir / name).unlink(missing_ok=True)
    remove_stale_tmp(jobdir)
    return None if reason == "missing" else reason


def record_failure(jobdir: Path, job: int, overrides: Sequence[str], error: BaseException) -> None:
    """Write ``error.json`` for a failed job (the sweep goes on; the job is redone on resume)."""
    (jobdir / F.DONE_FILE).unlink(missing_ok=True)
    payload = {
        "job": job,
        "overrides": list(overrides),
        "error": f"{type(error).__name__}: {error}",
        "traceback": "".join(traceback.format_exception(error)),
        "finished_at": time.time(),
    }
    write_json(jobdir / F.ERROR_FILE, payload)
