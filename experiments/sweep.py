"""Sweep bookkeeping: per-job completion markers, resume checks, progress and aggregation.

Every job (grid cell or design chunk) writes, after CONTRACT.md's ``runs.parquet``,
``quantiles.parquet`` and ``summary.json``, a small ``points.parquet`` (one row per parameter
point: its resolved parameters, scenario counts and indicator means) and, last, ``done.json``
(the job's fingerprint and the size and row count of every file). A job is *complete* only if
``done.json`` matches the files on disk and the config; anything else (killed mid-write, a
failure recorded in ``error.json``, truncated or foreign files) is redone on the next run of the
same command, and never aggregated.

When the sweep ends, :func:`aggregate` streams the jobs' ``points.parquet`` one at a time into
``sweep.parquet`` (pyarrow ``ParquetWriter``: bounded memory however many points), and writes
``summary.md`` and ``sweep.json`` at the multirun root. ``python -m experiments.sweep DIR``
re-aggregates a sweep directory (e.g. after Slurm jobs finished without the driver).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments import results
from sim import params as P
from sim.classifier import SCENARIOS

DONE_FILE, ERROR_FILE, POINTS_FILE = "done.json", "error.json", "points.parquet"
SWEEP_PARQUET, SWEEP_JSON, SUMMARY_MD = "sweep.parquet", "sweep.json", "summary.md"
#: Continuous indicators whose means per point go into sweep.parquet (``NAME_mean``).
INDICATORS = ("munitions_total", "defence_long", "economic_medium", "tech_tier_max", "breach_share")
#: Columns every runs.parquet must have (schema check on resume).
REQUIRED_RUN_COLUMNS = ("replicate", "seed", "scenario", *INDICATORS)
MAX_TABLE_ROWS = 200  # rows of the per-cell table in summary.md


# --- per job -----------------------------------------------------------------------------------


def point_rows(rows: pd.DataFrame, point: int | None = None) -> pd.DataFrame:
    """One row per parameter point of a job's replicate rows (``point`` column, else one point).

    Columns: ``point``, every parameter (resolved number), ``n``, ``{S}_count`` for each
    scenario and ``{indicator}_mean``. The replicates of a point are contiguous and in replicate
    order, so each sum runs in the same order whatever chunk holds the point.
    """
    if "point" in rows:
        ids = rows["point"].to_numpy()
    else:
        ids = np.full(len(rows), 0 if point is None else point, dtype=np.int64)
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    n = np.bincount(inverse, minlength=uniq.size)
    out: dict[str, Any] = {"point": uniq.astype(np.int64)}
    for key in P.BY_KEY:
        out[key] = rows[key].to_numpy()[first].astype(np.float64)
    out["n"] = n.astype(np.int64)
    labels = rows["scenario"].to_numpy()
    for s in SCENARIOS:
        out[f"{s}_count"] = np.bincount(inverse, weights=labels == s, minlength=uniq.size).astype(
            np.int64
        )
    for name in INDICATORS:
        values = rows[name].to_numpy(dtype=np.float64)
        ok = ~np.isnan(values)
        total = np.bincount(inverse, weights=np.where(ok, values, 0.0), minlength=uniq.size)
        count = np.bincount(inverse, weights=ok, minlength=uniq.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_mean"] = total / count
    return pd.DataFrame(out)


def _file_facts(path: Path) -> dict[str, int]:
    facts = {"bytes": path.stat().st_size}
    if path.suffix == ".parquet":
        facts["rows"] = pq.ParquetFile(path).metadata.num_rows
    return facts


def mark_done(
    jobdir: Path, fingerprint: str, summary: dict[str, Any], previous: str | None
) -> None:
    """Write ``done.json`` last: the job's fingerprint and the facts of every file it wrote."""
    files = [results.RUNS_FILE, results.QUANTILES_FILE, results.SUMMARY_FILE, POINTS_FILE]
    facts = {f: _file_facts(jobdir / f) for f in files if (jobdir / f).exists()}
    payload = {
        "fingerprint": fingerprint,
        "model_version": summary.get("model_version"),
        "n": summary["n"],
        "files": facts,
        "previous": previous,
        "finished_at": time.time(),
    }
    results.write_json(jobdir / DONE_FILE, payload)


def check_complete(
    jobdir: Path, fingerprint: str | None = None, model_version: str | None = None
) -> tuple[bool, str]:
    """(True, "") when the job's files are complete and match; else (False, why not)."""
    done_path = jobdir / DONE_FILE
    if not done_path.exists():
        if (jobdir / ERROR_FILE).exists():
            return False, "failed before"
        if any((jobdir / f).exists() for f in (results.SUMMARY_FILE, results.RUNS_FILE)):
            return False, "partial files (no done.json)"
        return False, "missing"
    try:
        done = json.loads(done_path.read_text())
        if fingerprint is not None and done["fingerprint"] != fingerprint:
            return False, "config changed"
        if model_version is not None and done.get("model_version") != model_version:
            return False, f"model version changed ({done.get('model_version')})"
        for name in (results.RUNS_FILE, results.SUMMARY_FILE, POINTS_FILE):
            if name not in done["files"]:
                return False, f"{name} not recorded"
        for name, facts in done["files"].items():
            path = jobdir / name
            if not path.exists():
                return False, f"{name} missing"
            if path.stat().st_size != facts["bytes"]:
                return False, f"{name} size changed"
            if "rows" in facts and pq.ParquetFile(path).metadata.num_rows != facts["rows"]:
                return False, f"{name} row count changed"
        summary = json.loads((jobdir / results.SUMMARY_FILE).read_text())
        names = set(pq.read_schema(jobdir / results.RUNS_FILE).names)
        missing = [c for c in REQUIRED_RUN_COLUMNS if c not in names]
        if missing:
            return False, f"runs.parquet lacks {missing}"
        if done["files"][results.RUNS_FILE]["rows"] != summary["n"] or done["n"] != summary["n"]:
            return False, "row count differs from summary.json"
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as error:
        return False, f"unreadable ({type(error).__name__}: {error})"
    return True, ""


def clear_job(jobdir: Path) -> str | None:
    """Remove a job's stale or partial result files; return why it is redone (None if new)."""
    ok, reason = check_complete(jobdir)
    if reason == "missing":
        reason = None
    elif ok:
        reason = "config changed"
    stale = (DONE_FILE, ERROR_FILE, results.SUMMARY_FILE, POINTS_FILE)
    for name in (*stale, results.RUNS_FILE, results.QUANTILES_FILE):
        (jobdir / name).unlink(missing_ok=True)
    for tmp in jobdir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    return reason


def record_failure(jobdir: Path, job: int, overrides: Sequence[str], error: BaseException) -> None:
    """Write ``error.json`` for a failed job (the sweep goes on; the job is redone on resume)."""
    (jobdir / DONE_FILE).unlink(missing_ok=True)
    payload = {
        "job": job,
        "overrides": list(overrides),
        "error": f"{type(error).__name__}: {error}",
        "traceback": "".join(traceback.format_exception(error)),
        "finished_at": time.time(),
    }
    results.write_json(jobdir / ERROR_FILE, payload)


# --- expected cells and progress ---------------------------------------------------------------


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


def _job_dirs(root: Path) -> list[tuple[int, Path]]:
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
        for job, path in _job_dirs(self.root):
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
    from analysis.stats import proportion_ci

    n = frame["n"].to_numpy()
    for s in SCENARIOS:
        count = frame[f"{s}_count"].to_numpy()
        low, high = proportion_ci(count, n)
        frame[f"{s}_share"] = count / n
        frame[f"{s}_ci_low"] = low
        frame[f"{s}_ci_high"] = high
    return frame


def _row_columns(swept: list[str]) -> list[str]:
    cols = [*swept, "job", "n"]
    for s in SCENARIOS:
        cols += [f"{s}_count", f"{s}_share", f"{s}_ci_low", f"{s}_ci_high"]
    cols += [f"{name}_mean" for name in INDICATORS]
    return cols + ["config_hash", "model_version", "seed"]


def aggregate(
    root: Path | str,
    *,
    swept: Iterable[str] = (),
    expected: int | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Gather every complete job under ``root`` into sweep.parquet, summary.md and sweep.json.

    Jobs are read one at a time and written with a ``ParquetWriter``, so memory stays bounded
    by one job's points. Incomplete jobs are listed under ``failed`` and never aggregated.
    ``started`` (epoch seconds) tells which jobs ran in this invocation (the others were reused)
    and times the sweep, aggregation included. Returns the ``sweep.json`` payload.
    """
    root = Path(root)
    jobs, failed = [], []
    dirs = _job_dirs(root)
    present = {num for num, _ in dirs}
    for num, path in dirs:
        ok, reason = check_complete(path)
        if ok:
            done = json.loads((path / DONE_FILE).read_text())
            summary = json.loads((path / results.SUMMARY_FILE).read_text())
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

    writer: pq.ParquetWriter | None = None
    pooled = dict.fromkeys(SCENARIOS, 0)
    rows_written = 0
    table_rows: list[pd.DataFrame] = []
    meta = {
        "kind": "design" if design else "grid",
        "model_version": results.model_version(),
        "versions": results.versions(),
    }
    out_path = root / SWEEP_PARQUET
    fd, tmp_name = tempfile.mkstemp(prefix=f".{SWEEP_PARQUET}.", suffix=".tmp", dir=root)
    os.close(fd)
    tmp_path = Path(tmp_name)  # unique: two aggregations of one folder do not collide
    try:
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
            frame = _with_shares(frame)[_row_columns(swept_keys)]
            rows_written += len(frame)
            for s in SCENARIOS:
                pooled[s] += int(frame[f"{s}_count"].sum())
            if sum(len(t) for t in table_rows) < MAX_TABLE_ROWS:
                table_rows.append(frame)
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                schema = arrow.schema.with_metadata(
                    {b"rudprk": json.dumps(meta, sort_keys=True).encode()}
                )
                writer = pq.ParquetWriter(tmp_path, schema)
            writer.write_table(arrow.cast(writer.schema))
        if writer is None:  # no complete job: an empty table with the right columns
            empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in _row_columns(swept_keys)})
            pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), tmp_path)
        else:
            writer.close()
            writer = None
        os.chmod(tmp_path, 0o644)  # mkstemp makes 0600; the table is an ordinary result file
        tmp_path.replace(out_path)
    finally:
        if writer is not None:
            writer.close()
        tmp_path.unlink(missing_ok=True)

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
    results.write_json(root / SWEEP_JSON, report)
    table = pd.concat(table_rows, ignore_index=True) if table_rows else None
    text = format_summary(report, table)
    results.atomic_write(root / SUMMARY_MD, lambda tmp: tmp.write_text(text, encoding="utf-8"))
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
    from analysis.stats import proportion_ci

    n = sum(counts.values())
    out = {}
    for s, c in counts.items():
        low, high = proportion_ci(c, n) if n else (np.nan, np.nan)
        out[s] = {"count": c, "share": c / n if n else float("nan"), "ci_low": float(low)}
        out[s]["ci_high"] = float(high)
    return out


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
        print(
            "usage: python -m experiments.sweep MULTIRUN_DIR (a Hydra multirun directory: "
            "it holds multirun.yaml)",
            file=sys.stderr,
        )
        return 2
    report = aggregate(args[0])
    print(Path(args[0]) / SUMMARY_MD)
    print(format_pooled(report))
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
