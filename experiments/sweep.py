"""A sweep folder: its identity, the expected cells, and the aggregation of its jobs.

A sweep folder belongs to one sweep. Before any job runs, the driver writes
``sweep_identity.json`` at the root: the sweep's overrides, experiment, seed, design, a hash of
the composed config and the model version (:func:`identity`). A later command with a different
identity into the same folder stops before anything runs, with one line saying what differs and
how to proceed (a new ``hydra.sweep.dir``, or ``discard=true`` to delete the previous sweep's
files); the same command resumes (``experiments.jobs`` decides per job what is reused).

When the sweep ends, :func:`aggregate` streams the complete jobs *of this identity* (their
``points.parquet``, one at a time) into ``sweep.parquet`` with a ``ParquetWriter`` (bounded memory
however many points), and writes ``summary.md`` and ``sweep.json`` at the root.
``python -m experiments.sweep DIR`` re-aggregates a sweep directory (e.g. after Slurm jobs
finished without the driver).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.stats import shares
from contract import files as F
from contract.cli import UsageError
from contract.files import (
    DONE_FILE,
    ERROR_FILE,
    IDENTITY_FILE,
    POINTS_FILE,
    SUMMARY_MD,
    SWEEP_JSON,
    SWEEP_PARQUET,
)
from contract.io import ParquetStream, model_version, remove_stale_tmp, versions, write_json
from contract.io import write_text as _write_text
from experiments import results
from experiments.jobs import check_complete
from experiments.progress import job_dirs
from sim import params as P
from sim.classifier import SCENARIOS

__all__ = [
    "DONE_FILE",
    "ERROR_FILE",
    "IDENTITY_FILE",
    "INDICATORS",
    "POINTS_FILE",
    "SUMMARY_MD",
    "SWEEP_JSON",
    "SWEEP_PARQUET",
    "aggregate",
    "aggregate_and_report",
    "claim",
    "expected_cells",
    "identity",
    "read_identity",
    "sweep_overrides",
]

INDICATORS = F.CELL_INDICATORS
MAX_TABLE_ROWS = 200  # rows of the per-cell table in summary.md
#: Overrides that do not change results (where and how jobs run) or are this module's own flag.
NEUTRAL_PREFIXES = ("hydra.", "hydra/", "discard")


# --- identity ----------------------------------------------------------------------------------


def sweep_overrides(config: Any) -> list[str]:
    """The sweep's overrides: ``hydra.sweeper.params`` (presets), then the command line, which
    replaces a preset's value for the same key (as Hydra's basic sweeper does)."""
    from omegaconf import OmegaConf

    params = config.hydra.sweeper.get("params") or {}
    if OmegaConf.is_config(params):
        params = OmegaConf.to_container(params, resolve=True)
    task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    merged = {str(k): f"{k}={v}" for k, v in params.items()}
    for item in (str(t) for t in task):
        merged[item.split("=", 1)[0]] = item  # same key: the command line wins
    return list(merged.values())


def identity(config: Any) -> dict[str, Any]:
    """What a sweep folder belongs to: overrides, experiment, seed, design, config, model.

    Launcher settings (``hydra.*``, ``hydra/launcher=…``) are left out: every launcher gives the
    same results, so a sweep may be resumed with another one.
    """
    from omegaconf import OmegaConf

    overrides = sorted(
        o for o in sweep_overrides(config) if not o.lstrip("+~").startswith(NEUTRAL_PREFIXES)
    )
    body = {k: config[k] for k in config if k not in ("hydra", "discard")}
    try:
        composed = OmegaConf.to_container(OmegaConf.create(body), resolve=True)
    except Exception:  # an interpolation only a job can resolve: hash it as written
        composed = OmegaConf.to_container(OmegaConf.create(body), resolve=False)
    text = json.dumps(composed, sort_keys=True, default=str)
    ident = {
        "overrides": overrides,
        "experiment": str(config.get("experiment_name", "default")),
        "seed": int(config.seed),
        "design": OmegaConf.to_container(config.design, resolve=False),
        "config_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "model_version": model_version(),
    }
    ident["id"] = _identity_id(ident)
    return ident


def _identity_id(ident: dict[str, Any]) -> str:
    payload = json.dumps({k: v for k, v in ident.items() if k != "id"}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def read_identity(root: Path) -> dict[str, Any] | None:
    """The identity recorded at a sweep root, or None (no file, or an unreadable one)."""
    try:
        ident = json.loads((Path(root) / IDENTITY_FILE).read_text())
        return ident if isinstance(ident, dict) and "id" in ident else None
    except (OSError, ValueError):
        return None


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for key in ("overrides", "experiment", "seed", "design", "config_sha256", "model_version"):
        if old.get(key) != new.get(key):
            was, now = old.get(key), new.get(key)
            if key == "overrides":
                was, now = " ".join(was or []) or "(none)", " ".join(now or []) or "(none)"
            parts.append(f"{key} {was} (now {now})")
    return "; ".join(parts) or "its identity"


def _is_job_dir(path: Path) -> bool:
    known = {".hydra", *F.JOB_FILES, DONE_FILE, ERROR_FILE, F.LOCK_FILE}
    return all(c.name in known or c.name.endswith(".tmp") for c in path.iterdir())


def claim(root: Path | str, ident: dict[str, Any], discard: bool = False) -> list[str]:
    """Make ``root`` this sweep's folder before any job runs; return notes for the user.

    An empty or absent folder, or one holding the same identity, is claimed (stale temporary
    files removed). A folder of another sweep raises :class:`UsageError` naming what differs,
    unless ``discard``: then the previous sweep's job directories and files are deleted first.
    """
    root = Path(root)
    notes: list[str] = []
    old = read_identity(root)
    jobs = job_dirs(root)
    if old is not None and old["id"] == ident["id"]:
        removed = remove_stale_tmp(root)
        if removed:
            notes.append(f"removed {len(removed)} stale temporary file(s) in {root}")
        return notes
    if old is not None or jobs or any((root / f).exists() for f in F.SWEEP_FILES):
        what = (
            f"another sweep: {_differences(old, ident)}"
            if old is not None
            else "job directories of a sweep with no recorded identity"
        )
        if not discard:
            raise UsageError(
                f"hydra.sweep.dir={root} holds {what}; choose a new hydra.sweep.dir, or add "
                "discard=true to delete the previous sweep's results in it"
            )
        foreign = [str(p) for _, p in jobs if not _is_job_dir(p)]
        if foreign:
            raise UsageError(
                f"discard=true: {foreign[0]} holds files that are not a job's; "
                "not deleting it (choose a new hydra.sweep.dir)"
            )
        for _, path in jobs:
            shutil.rmtree(path)
        for name in (*F.SWEEP_FILES, IDENTITY_FILE, "multirun.yaml"):
            (root / name).unlink(missing_ok=True)
        notes.append(f"discarded the previous sweep in {root} ({len(jobs)} job directories)")
    remove_stale_tmp(root)
    write_json(root / IDENTITY_FILE, ident)
    return notes


def expected_cells(overrides: Iterable[str]) -> int | None:
    """Number of jobs the basic sweeper makes of these overrides (None if it cannot tell)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    total = 1
    try:
        for override in OverridesParser.create().parse_overrides(list(overrides)):
            if override.is_sweep_override():
                total *= len(list(override.sweep_iterator()))
    except Exception:  # a glob sweep or anything the iterator cannot enumerate
        return None
    return total


# --- aggregation -------------------------------------------------------------------------------


def _grid_swept(jobs: list[dict[str, Any]], named: Iterable[str]) -> list[str]:
    """Parameters named in the sweep plus any whose resolved value differs between jobs."""
    keys = list(dict.fromkeys(k for k in named if k in P.BY_KEY))
    for key in P.BY_KEY:
        values = {json.dumps(j["summary"]["parameters"].get(key)) for j in jobs}
        if len(values) > 1 and key not in keys:
            keys.append(key)
    return keys


def _with_shares(frame: pd.DataFrame) -> pd.DataFrame:
    counts = {s: frame[f"{s}_count"].to_numpy() for s in SCENARIOS}
    for name, column in shares(counts, frame["n"].to_numpy()).items():
        frame[name] = column
    return frame


def aggregate(
    root: Path | str,
    *,
    swept: Iterable[str] = (),
    expected: int | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Gather every complete job of the root's sweep into sweep.parquet, summary.md, sweep.json.

    Jobs are read one at a time and written with a ``ParquetWriter``, so memory stays bounded
    by one job's points. Incomplete jobs, and jobs made by another sweep identity, are listed
    under ``failed`` and never aggregated. ``started`` (epoch seconds) tells which jobs ran in
    this invocation (the others were reused) and times the sweep, aggregation included.
    Returns the ``sweep.json`` payload.
    """
    root = Path(root)
    ident = read_identity(root)
    jobs, failed = [], []
    dirs = job_dirs(root)
    present = {num for num, _ in dirs}
    for num, path in dirs:
        ok, reason = check_complete(path, identity=ident["id"] if ident else None)
        if ok:
            done = json.loads((path / DONE_FILE).read_text())
            summary = json.loads((path / F.SUMMARY_FILE).read_text())
            jobs.append({"job": num, "path": path, "done": done, "summary": summary})
        else:
            failed.append(_failure(num, path, reason))
    for num in range(expected or 0):
        if num not in present:
            failed.append({"job": num, "overrides": [], "error": "never started"})
    failed.sort(key=lambda f: f["job"])
    designs = [j["summary"].get("design") for j in jobs if j["summary"].get("design")]
    design = (
        {k: v for k, v in designs[0].items() if k not in ("chunk", "start", "stop")}
        if designs
        else None
    )
    swept_keys = list(design["parameters"]) if design else _grid_swept(jobs, swept)
    columns = F.cell_columns(swept_keys)

    pooled = dict.fromkeys(SCENARIOS, 0)
    rows_written = 0
    table_rows: list[pd.DataFrame] = []
    meta = {
        "kind": "design" if design else "grid",
        "model_version": model_version(),
        "versions": versions(),
        "sweep_identity": ident["id"] if ident else None,
    }
    with ParquetStream(root / SWEEP_PARQUET, meta) as out:
        for job in jobs:
            frame = pd.read_parquet(job["path"] / POINTS_FILE)
            summary = job["summary"]
            if design:
                frame["job"] = frame["point"]
                frame["config_hash"] = summary["design"]["hash"]
            else:
                frame["job"] = job["job"]
                frame["config_hash"] = summary["config_hash"]
            frame["model_version"] = summary["model_version"]
            frame["seed"] = int(summary["seed"])
            frame = _with_shares(frame)[columns]
            rows_written += len(frame)
            for s in SCENARIOS:
                pooled[s] += int(frame[f"{s}_count"].sum())
            if sum(len(t) for t in table_rows) < MAX_TABLE_ROWS:
                table_rows.append(frame)
            out.write(frame)
        # no complete job: an empty table with the right columns
        out.close(empty=pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}))

    ran = [j for j in jobs if started is not None and j["done"]["finished_at"] >= started]
    n_total = sum(pooled.values())
    runs_now = sum(int(j["done"]["n"]) for j in ran) if started is not None else n_total
    elapsed = (time.time() - started) if started is not None else None
    seeds = sorted({int(j["summary"]["seed"]) for j in jobs})
    report: dict[str, Any] = {
        "kind": meta["kind"],
        "swept": swept_keys,
        "design": design,
        "cells": rows_written,  # grid cells, or design points
        "jobs": len(jobs) + len(failed),
        "replicate_runs": n_total,
        "pooled": _pooled(pooled),
        "ran": [j["job"] for j in ran] if started is not None else None,
        "reused": [j["job"] for j in jobs if j not in ran] if started is not None else None,
        "redone": [
            {"job": j["job"], "reason": j["done"]["previous"]}
            for j in ran
            if j["done"].get("previous")
        ],
        "failed": failed,
        "elapsed_seconds": elapsed,
        "runs_per_second": (runs_now / elapsed) if elapsed else None,
        "config_hashes": sorted({str(j["summary"]["config_hash"]) for j in jobs}),
        "seed": seeds[0] if len(seeds) == 1 else seeds,
        **{k: v for k, v in meta.items() if k != "kind"},
    }
    write_json(root / SWEEP_JSON, report)
    table = pd.concat(table_rows, ignore_index=True) if table_rows else None
    _write_text(root / SUMMARY_MD, format_summary(report, table))
    return report


def _failure(num: int, path: Path, reason: str) -> dict[str, Any]:
    overrides: list[str] = []
    hydra_overrides = path / ".hydra" / "overrides.yaml"
    if hydra_overrides.exists():
        import yaml

        overrides = [str(o) for o in (yaml.safe_load(hydra_overrides.read_text()) or [])]
    error = f"incomplete: {reason}"
    if (path / ERROR_FILE).exists():
        try:
            error = json.loads((path / ERROR_FILE).read_text())["error"]
        except (OSError, ValueError, KeyError):
            pass
    return {"job": num, "overrides": overrides, "error": error}


def _pooled(counts: dict[str, int]) -> dict[str, dict[str, float]]:
    cols = shares(counts, sum(counts.values()))
    return {
        s: {
            "count": int(cols[f"{s}_count"]),
            "share": float(cols[f"{s}_share"]),
            "ci_low": float(cols[f"{s}_ci_low"]),
            "ci_high": float(cols[f"{s}_ci_high"]),
        }
        for s in counts
    }


def format_summary(report: dict[str, Any], table: pd.DataFrame | None) -> str:
    """summary.md: the per-cell (or per-point) table, the pooled scenario table, failures."""
    lines = [f"# Sweep summary ({report['kind']})", ""]
    swept = report["swept"]
    if table is not None and len(table):
        lines += [format_cells(table, swept), ""]
        if report["replicate_runs"] and len(table) < report["cells"] and report["kind"] == "grid":
            lines.append(f"(first {len(table)} cells of {report['cells']}; all in sweep.parquet)")
        if report["kind"] == "design":
            lines.append("(first design points; every point is a row of sweep.parquet)")
        lines.append("")
    lines += ["## All cells pooled", "", format_pooled(report), ""]
    if report["redone"]:
        lines.append(
            "Redone: " + ", ".join(f"job {r['job']} ({r['reason']})" for r in report["redone"])
        )
    for f in report["failed"]:
        lines.append(f"FAILED job {f['job']} [{' '.join(f['overrides'])}]: {f['error']}")
    return "\n".join(lines).rstrip() + "\n"


def format_cells(table: pd.DataFrame, swept: list[str]) -> str:
    """A Markdown table: swept parameters, n, and each scenario's share with its interval."""
    head = [*swept, "n", *(f"{s} share [95 % CI]" for s in SCENARIOS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in table.head(MAX_TABLE_ROWS).iterrows():
        cells = [f"{row[k]:g}" for k in swept] + [f"{int(row['n'])}"]
        cells += [
            f"{row[f'{s}_share']:.1%} [{row[f'{s}_ci_low']:.1%}, {row[f'{s}_ci_high']:.1%}]"
            for s in SCENARIOS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_pooled(report: dict[str, Any]) -> str:
    """The pooled scenario table with Wilson 95 % intervals."""
    summary = {"n": report["replicate_runs"], "scenarios": report["pooled"]}
    return results.format_table(summary) if summary["n"] else "no complete cell"


def aggregate_and_report(config: Any, started: float | None = None) -> dict[str, Any]:
    """Hydra's ``on_multirun_end``: aggregate the sweep, print where it is and what failed."""
    root = Path(str(config.hydra.sweep.dir))
    overrides = sweep_overrides(config)
    from hydra.core.override_parser.overrides_parser import OverridesParser

    named = [o.key_or_group for o in OverridesParser.create().parse_overrides(overrides)]
    report = aggregate(root, swept=named, expected=expected_cells(overrides), started=started)
    print(f"sweep: {report['cells']} row(s) from {report['jobs']} job(s) in {root / SWEEP_PARQUET}")
    print(f"next: python -m analysis.report {root}")
    if report["redone"]:
        print("redone: " + ", ".join(f"job {r['job']} ({r['reason']})" for r in report["redone"]))
    for f in report["failed"]:
        print(
            f"error: job {f['job']} [{' '.join(f['overrides'])}] failed: {f['error']}",
            file=sys.stderr,
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m experiments.sweep DIR``: (re-)aggregate a multirun directory."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not (Path(args[0]) / "multirun.yaml").is_file():
        raise UsageError(
            f"expected one Hydra multirun directory (it holds multirun.yaml), got {args}: "
            "python -m experiments.sweep MULTIRUN_DIR"
        )
    report = aggregate(args[0])
    print(Path(args[0]) / SUMMARY_MD)
    print(format_pooled(report))
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    from contract.cli import run

    run(main)
