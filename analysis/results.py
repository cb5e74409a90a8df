"""Reading a result directory (one run, a sweep, or a replay) into DataFrames.

``load(path)`` tells the three kinds apart by the files they hold (CONTRACT.md):

* a **run** directory (one parameter point): ``summary.json`` and ``runs.parquet`` (and usually
  ``quantiles.parquet``, the per-quarter quantiles behind the fan charts);
* a **sweep** (multirun root): ``sweep.parquet`` (one row per job of a grid, or per point of a
  sampled design) and usually ``sweep.json`` (kind, swept keys, design, provenance) and the job
  directories ``0/``, ``1/``, … each a run directory;
* a **replay** directory: ``replay.json`` (reported by ``analysis.replay_report``).

Anything else raises :class:`NotAResultDir`, whose message names the path and what was expected.

Memory: nothing here reads every replicate of a sweep. A sweep is analysed from
``sweep.parquet`` (one row per cell or design point) and the jobs' small ``quantiles.parquet`` and
``summary.json`` files; ``Run.runs(columns=...)`` reads only the named columns of one run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from analysis.stats import SCENARIO_LABELS, shares
from contract.files import (
    CELL_INDICATORS,
    DONE_FILE,
    QUANTILES_FILE,
    REPLAY_FILE,
    RUNS_FILE,
    SUMMARY_FILE,
    SWEEP_JSON,
    SWEEP_PARQUET,
    cell_stat_columns,
)
from contract.io import sha256
from sim import params as P

__all__ = [
    "CELL_INDICATORS",
    "NotAResultDir",
    "Replay",
    "Run",
    "Sweep",
    "cell_stat_columns",
    "defaults_cell",
    "fan_quantiles",
    "load",
    "pool_cells",
]

# The file names and cell indicators belong to the file contract (contract.files).
SWEEP_FILE, SWEEP_META_FILE = SWEEP_PARQUET, SWEEP_JSON

EXPECTED = (
    "a run directory (summary.json + runs.parquet), a sweep directory (sweep.parquet) "
    "or a replay directory (replay.json)"
)


class NotAResultDir(ValueError):
    """The path is not a run, sweep or replay directory (the message says what was expected)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {reason}; expected {EXPECTED}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NotAResultDir(path.parent, f"{path.name} cannot be read ({error})") from None
    if not isinstance(data, dict):
        raise NotAResultDir(path.parent, f"{path.name} is not a JSON object")
    return data


def _scenario_stats(counts: dict[str, int], n: int) -> dict[str, Any]:
    cols = shares(counts, n)
    out: dict[str, Any] = {"n": int(n)}
    for name, value in cols.items():
        out[name] = int(value) if name.endswith("_count") else float(value)
    return out


@dataclass
class Run:
    """One parameter point: ``summary.json`` eagerly, the Parquet files on demand."""

    path: Path
    summary: dict[str, Any]

    kind = "run"

    @property
    def n(self) -> int:
        """Number of replicates."""
        return int(self.summary["n"])

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's parameters by dotted key (from summary.json, else from runs.parquet)."""
        params = self.summary.get("parameters")
        if isinstance(params, dict) and params:
            return dict(params)
        names = [k for k in P.BY_KEY if k in self.columns()]
        first = pq.read_table(self.path / RUNS_FILE, columns=names).slice(0, 1).to_pylist()
        return dict(first[0]) if first else {}

    @property
    def model_version(self) -> str:
        return str(self.summary.get("model_version", "unknown"))

    def columns(self) -> list[str]:
        """Column names of runs.parquet (reads only the schema)."""
        return list(pq.read_schema(self.path / RUNS_FILE).names)

    def runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        """runs.parquet, or only ``columns`` of it (prefer that for large runs)."""
        return pd.read_parquet(self.path / RUNS_FILE, columns=columns)

    def quantiles(self) -> pd.DataFrame | None:
        """Per-quarter quantiles per indicator and scenario, or None when not recorded."""
        path = self.path / QUANTILES_FILE
        if not path.is_file():
            return None
        try:
            return pd.read_parquet(path)
        except Exception as error:  # pyarrow raises several types for a corrupt file
            raise NotAResultDir(self.path, f"{QUANTILES_FILE} cannot be read ({error})") from None

    def counts(self) -> dict[str, int]:
        return {s: int(self.summary["scenarios"][s]["count"]) for s in SCENARIO_LABELS}

    def cells(self) -> pd.DataFrame:
        """The run as a one-row cell table in the format of ``sweep.parquet``."""
        row: dict[str, Any] = {"job": 0}
        for key, value in self.parameters.items():
            if not isinstance(value, list | dict):
                row[key] = value
        row |= _scenario_stats(self.counts(), self.n)
        available = set(self.columns())
        wanted = [c for c in CELL_INDICATORS if c in available]
        if wanted:
            means = self.runs(wanted).astype(float).mean()
            row |= {f"{c}_mean": float(means[c]) for c in wanted}
        return pd.DataFrame([row])


@dataclass
class Sweep:
    """A multirun root: the cell table ``sweep.parquet`` plus ``sweep.json`` when present."""

    path: Path
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``"grid"`` (one job per cell) or ``"design"`` (a sampled design in chunks)."""
        return str(self.meta.get("kind") or "grid")

    @property
    def swept(self) -> list[str]:
        """The swept (or sampled) parameters, by dotted key, in the order of ``sweep.json``."""
        swept = self.meta.get("swept")
        if swept:
            return [str(k) for k in swept if k in self.table.columns]
        stats = set(cell_stat_columns())
        return [
            c
            for c in self.table.columns
            if c not in stats and c in P.BY_KEY and self.table[c].nunique() > 1
        ]

    @property
    def n(self) -> int:
        return int(self.table["n"].sum())

    @property
    def design(self) -> dict[str, Any]:
        return dict(self.meta.get("design") or {})

    def cells(self) -> pd.DataFrame:
        """One row per cell (grid) or design point: the swept parameters and the statistics."""
        return self.table

    def counts(self) -> dict[str, int]:
        """Scenario counts pooled over every cell."""
        return {s: int(self.table[f"{s}_count"].sum()) for s in SCENARIO_LABELS}

    def job_dirs(self) -> list[Path]:
        """Job directories that hold a complete run (summary.json), in job order."""
        jobs = []
        for child in self.path.iterdir():
            if child.is_dir() and child.name.isdigit() and (child / SUMMARY_FILE).is_file():
                jobs.append(child)
        return sorted(jobs, key=lambda p: int(p.name))

    def job(self, job: int) -> Run:
        """The run directory of job ``job``."""
        result = load(self.path / str(job))
        if not isinstance(result, Run):
            raise NotAResultDir(self.path / str(job), "job directory is not a run")
        return result

    def first_job(self) -> Run | None:
        jobs = self.job_dirs()
        return self.job(int(jobs[0].name)) if jobs else None

    @property
    def model_version(self) -> str:
        prov = self.meta.get("provenance") or {}
        version = prov.get("model_version") or self.meta.get("model_version")
        if version:
            return str(version)
        first = self.first_job()
        return first.model_version if first else "unknown"

    @property
    def parameters(self) -> dict[str, Any]:
        """Fixed (non-swept) parameters: from the first job's summary.json, else the table."""
        first = self.first_job()
        params: dict[str, Any] = dict(first.parameters) if first else {}
        for key in P.BY_KEY:
            if key in self.table.columns and self.table[key].nunique() == 1:
                params.setdefault(key, self.table[key].iloc[0])
        return {k: v for k, v in params.items() if k not in self.swept}


@dataclass
class Replay:
    """A replay directory; its report lives in ``analysis.replay_report``."""

    path: Path
    meta: dict[str, Any]

    kind = "replay"


def load(path: str | Path) -> Run | Sweep | Replay:
    """Open a run, sweep or replay directory; raise :class:`NotAResultDir` otherwise."""
    p = Path(path)
    if not p.exists():
        raise NotAResultDir(p, "no such directory")
    if not p.is_dir():
        raise NotAResultDir(p, "is a file, not a directory")
    if (p / SWEEP_FILE).is_file():
        try:
            table = pd.read_parquet(p / SWEEP_FILE)
        except Exception as error:  # pyarrow raises several types for a corrupt file
            raise NotAResultDir(p, f"{SWEEP_FILE} cannot be read ({error})") from error
        missing = [c for c in ("n", *(f"{s}_count" for s in SCENARIO_LABELS)) if c not in table]
        if missing:
            raise NotAResultDir(p, f"{SWEEP_FILE} lacks the columns {missing}")
        meta = _read_json(p / SWEEP_META_FILE) if (p / SWEEP_META_FILE).is_file() else {}
        cells = _complete_cells(table)
        if cells.empty:
            raise NotAResultDir(p, f"{SWEEP_FILE} has no complete cell (see sweep.json's failures)")
        return Sweep(p, cells, meta)
    if (p / SUMMARY_FILE).is_file() and (p / RUNS_FILE).is_file():
        summary = _read_json(p / SUMMARY_FILE)
        _check_run(p, summary)
        return Run(p, summary)
    if (p / REPLAY_FILE).is_file():
        return Replay(p, _read_json(p / REPLAY_FILE))
    if (p / SUMMARY_FILE).is_file():
        raise NotAResultDir(p, f"has {SUMMARY_FILE} but no {RUNS_FILE} (an incomplete run?)")
    if any(c.is_dir() and c.name.isdigit() for c in p.iterdir()):
        raise NotAResultDir(
            p, f"looks like a multirun root without {SWEEP_FILE} (the sweep was not aggregated)"
        )
    raise NotAResultDir(p, "none of summary.json+runs.parquet, sweep.parquet, replay.json found")


def _check_run(p: Path, summary: Any) -> None:
    """A run's files are what they claim: summary types, readable Parquet, unchanged bytes."""
    ok = isinstance(summary, dict) and isinstance(summary.get("n"), int)
    scenarios = summary.get("scenarios") if ok else None
    ok = ok and isinstance(scenarios, dict)
    for s in SCENARIO_LABELS if ok else ():
        entry = scenarios.get(s)  # type: ignore[union-attr]
        ok = ok and isinstance(entry, dict) and isinstance(entry.get("count"), int)
    if not ok:
        raise NotAResultDir(
            p, f"{SUMMARY_FILE} lacks an integer 'n' or integer counts under 'scenarios'"
        )
    done = p / DONE_FILE
    if done.is_file():  # the hashes the run recorded: a changed file is not trusted
        hashes = _read_json(done).get("sha256") or {}
        for name, digest in hashes.items() if isinstance(hashes, dict) else ():
            if (p / name).is_file() and sha256(p / name) != digest:
                raise NotAResultDir(
                    p, f"{name} changed since it was written (SHA-256 differs from {DONE_FILE})"
                )
    try:
        rows = pq.ParquetFile(p / RUNS_FILE).metadata.num_rows
    except Exception as error:  # pyarrow raises several types for a corrupt file
        raise NotAResultDir(p, f"{RUNS_FILE} cannot be read ({error})") from None
    if rows != summary["n"]:
        raise NotAResultDir(
            p, f"{RUNS_FILE} has {rows} rows but {SUMMARY_FILE} says n={summary['n']}"
        )


def _complete_cells(table: pd.DataFrame) -> pd.DataFrame:
    """Add share/interval columns that a cell table lacks (Wilson 95 %), keep the rest."""
    out = table  # freshly read: adding columns in place avoids a copy of a large design table
    wanted = [f"{s}_{k}" for s in SCENARIO_LABELS for k in ("share", "ci_low", "ci_high")]
    if all(c in out for c in wanted):
        return out
    counts = {s: out[f"{s}_count"].to_numpy() for s in SCENARIO_LABELS}
    for name, column in shares(counts, out["n"].to_numpy()).items():
        if name not in out:
            out[name] = column
    return out


#: A swept parameter with more distinct values than this is binned (a sampled design).
MAX_LEVELS = 12


def _binned(values: pd.Series, bins: int) -> pd.Series:
    """Bin midpoints of equal-count bins (distinct values kept as they are when few)."""
    if values.nunique() <= MAX_LEVELS:
        return values
    cut = pd.qcut(values.astype(float), q=bins, duplicates="drop")
    mids = cut.cat.categories.mid.to_numpy(dtype=float)
    return pd.Series(mids[cut.cat.codes.to_numpy()], index=values.index, name=values.name)


def pool_cells(cells: pd.DataFrame, by: list[str], bins: int = 8) -> pd.DataFrame:
    """Scenario counts pooled over every column not in ``by``, with Wilson 95 % intervals.

    A parameter with more than :data:`MAX_LEVELS` distinct values (a sampled design) is first cut
    into ``bins`` equal-count bins, each labelled by its midpoint. Pooling sums counts: every
    level of ``by`` then averages over the other swept parameters with the weights of the design
    (equal weights on a full grid with equal replicates per cell).
    """
    keyed = pd.DataFrame({k: _binned(cells[k], bins) for k in by}, index=cells.index)
    counts = [f"{s}_count" for s in SCENARIO_LABELS]
    keyed[["n", *counts]] = cells[["n", *counts]].to_numpy()
    if by:
        grouped = keyed.groupby(by, sort=True, observed=True)[["n", *counts]].sum().reset_index()
    else:
        grouped = keyed[["n", *counts]].sum().to_frame().T
    counts = {s: grouped[f"{s}_count"].to_numpy() for s in SCENARIO_LABELS}
    for name, column in shares(counts, grouped["n"].to_numpy()).items():
        grouped[name] = column
    return grouped


def _nearest_default_job(sweep: Sweep) -> tuple[int, dict[str, Any]]:
    """Job whose swept values are closest to the parameter defaults (range-scaled L1)."""
    table = sweep.table
    distance = np.zeros(len(table))
    for key in sweep.swept:
        p = P.BY_KEY.get(key)
        if p is None:
            continue
        span = float(p.high - p.low) or 1.0
        distance += np.abs(table[key].astype(float).to_numpy() - float(p.default)) / span
    i = int(np.argmin(distance))
    return int(table["job"].iloc[i]), {k: table[k].iloc[i] for k in sweep.swept}


def _is_default(values: pd.Series, key: str) -> np.ndarray:
    param = P.BY_KEY[key]
    default = param.default
    if isinstance(default, bool) or not pd.api.types.is_numeric_dtype(values):
        return (values.astype(str).str.lower() == str(default).lower()).to_numpy()
    return np.isclose(values.astype(float).to_numpy(), float(default), rtol=0.0, atol=1e-9)


def defaults_cell(sweep: Sweep) -> tuple[int, bool]:
    """The row of ``sweep.table`` a reader asks about first: the cell at the defaults.

    Returns ``(row position, exact)``: the cell whose every swept parameter is at its default
    (``exact`` True) or, when the grid holds no such cell, the cell nearest the defaults
    (range-scaled L1 distance over the swept parameters, ``exact`` False).
    """
    table = sweep.table
    known = [k for k in sweep.swept if k in P.BY_KEY and k in table]
    match = np.ones(len(table), dtype=bool)
    for key in known:
        match &= _is_default(table[key], key)
    if known and match.any():
        return int(np.flatnonzero(match)[0]), True
    distance = np.zeros(len(table))
    for key in known:
        p = P.BY_KEY[key]
        if pd.api.types.is_numeric_dtype(table[key]) and not isinstance(p.default, bool):
            span = float(p.high - p.low) or 1.0
            distance += np.abs(table[key].astype(float).to_numpy() - float(p.default)) / span
        else:
            distance += ~_is_default(table[key], key)
    return int(np.argmin(distance)) if len(table) else 0, False


def _vincentized(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """n-weighted average of the quantiles of several jobs (Vincent averaging)."""
    keys = ["indicator", "scenario", "quarter", "label"]
    qcols = [c for c in frames[0].columns if c.startswith("q") and c[1:].isdigit()]
    both = pd.concat(frames, ignore_index=True)
    weighted = both[qcols].mul(both["n"], axis=0)
    weighted[keys] = both[keys]
    weighted["n"] = both["n"]
    sums = weighted.groupby(keys, sort=False)[[*qcols, "n"]].sum()
    sums[qcols] = sums[qcols].div(sums["n"], axis=0)
    return sums.reset_index()


def fan_quantiles(result: Run | Sweep, job: int | None = None) -> tuple[pd.DataFrame | None, str]:
    """Per-quarter quantiles for the fan charts and a sentence saying where they come from.

    * a run: its own ``quantiles.parquet``;
    * a grid sweep: the job ``job`` or, by default, the cell nearest the parameter defaults;
    * a design: the jobs' quantiles averaged quantile by quantile, weighted by the number of
      runs behind each (Vincent averaging; an approximation of the pooled quantiles).
    """
    if isinstance(result, Run):
        return result.quantiles(), f"all {result.n:,} replicates of the run"
    if job is not None:
        return result.job(job).quantiles(), f"job {job} of the sweep"
    if result.kind == "design":
        frames = []
        for path in result.job_dirs():
            q = result.job(int(path.name)).quantiles()
            if q is not None:
                frames.append(q)
        if not frames:
            return None, "no job recorded quantiles"
        note = (
            f"the design as a whole: quantiles of {len(frames)} chunk(s) averaged, weighted by "
            "the number of runs behind each (Vincent averaging, an approximation)"
        )
        return _vincentized(frames), note
    chosen, values = _nearest_default_job(result)
    where = ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in values.items()
    )
    note = f"the cell nearest the parameter defaults (job {chosen}: {where})"
    try:
        return result.job(chosen).quantiles(), note
    except NotAResultDir:
        return None, f"job {chosen} has no run files"
