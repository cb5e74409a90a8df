"""The file contract: every file name, column schema and indicator list of a result directory.

Writers (``experiments``) and readers (``analysis``) import these names; no other module spells a
file name. Layout:

* a **run** (one parameter point, or one job of a sweep): ``runs.parquet`` (one row per
  replicate: ``replicate``, ``seed``, every parameter, ``scenario`` and the classifier's
  indicators), ``quantiles.parquet`` (per quarter, indicator and scenario: quantiles for the fan
  charts), ``summary.json`` (counts, shares, provenance), in a sweep also ``points.parquet`` (one
  row per parameter point) and, last, ``done.json`` (SHA-256 of every file; resume marker) or
  ``error.json``;
* a **sweep** root: ``sweep.parquet`` (one row per grid cell or design point), ``sweep.json``,
  ``summary.md`` and ``sweep_identity.json`` (what the folder belongs to);
* a **replay** directory: ``replay.json``, ``replay_quarters.parquet``, ``runs.parquet``.

A single run's folder also holds ``run_identity.json`` (what the folder belongs to: a different
run is refused, the same command resumes) and a run or sweep folder ``.lock`` (the lock a writing
process holds, so that two processes never write one folder at once).
"""

from __future__ import annotations

RUNS_FILE = "runs.parquet"
QUANTILES_FILE = "quantiles.parquet"
SUMMARY_FILE = "summary.json"
POINTS_FILE = "points.parquet"
DONE_FILE = "done.json"
ERROR_FILE = "error.json"

SWEEP_PARQUET = "sweep.parquet"
SWEEP_JSON = "sweep.json"
SUMMARY_MD = "summary.md"
IDENTITY_FILE = "sweep_identity.json"
RUN_IDENTITY_FILE = "run_identity.json"
#: The lock file a process holds (``fcntl.flock``) while it writes a run or sweep folder.
LOCK_FILE = ".lock"

REPLAY_FILE = "replay.json"
REPLAY_QUARTERS_FILE = "replay_quarters.parquet"

#: Files a finished job writes (``done.json`` records the SHA-256 of each that exists).
JOB_FILES = (RUNS_FILE, QUANTILES_FILE, SUMMARY_FILE, POINTS_FILE)
#: Files a job must have to count as complete.
REQUIRED_JOB_FILES = (RUNS_FILE, SUMMARY_FILE, POINTS_FILE)
#: Files at a sweep root written by the aggregation.
SWEEP_FILES = (SWEEP_PARQUET, SWEEP_JSON, SUMMARY_MD)

#: Temporary files of an atomic write are ``.NAME.*.tmp`` next to the target (removed on rerun).
TMP_GLOB = ".*.tmp"

#: Per-replicate indicators whose means per point go into points/sweep.parquet (``NAME_mean``).
CELL_INDICATORS = (
    "munitions_total",
    "defence_long",
    "economic_medium",
    "tech_tier_max",
    "breach_share",
)
#: Columns every runs.parquet must have (schema check on resume).
REQUIRED_RUN_COLUMNS = ("replicate", "seed", "scenario", *CELL_INDICATORS)
#: Model indicators whose per-quarter quantiles are recorded for the fan charts.
FAN_INDICATORS = ("defence", "economic", "technology", "munitions", "oil", "tourism", "posture")
#: Quantile levels of quantiles.parquet (columns ``q05``, ``q25``, …).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def quantile_column(level: float) -> str:
    """``0.05`` → ``"q05"``."""
    return f"q{int(round(level * 100)):02d}"


def share_columns(scenario: str) -> tuple[str, str, str, str]:
    """``(S_count, S_share, S_ci_low, S_ci_high)``: a scenario's columns in cell tables."""
    return (f"{scenario}_count", f"{scenario}_share", f"{scenario}_ci_low", f"{scenario}_ci_high")


def cell_columns(swept: list[str]) -> list[str]:
    """Columns of sweep.parquet in order: swept parameters, job, n, shares, means, provenance."""
    from sim.classifier import SCENARIOS  # imported here: the file names need no model

    cols = [*swept, "job", "n"]
    for s in SCENARIOS:
        cols += list(share_columns(s))
    cols += [f"{name}_mean" for name in CELL_INDICATORS]
    return cols + ["config_hash", "model_version", "seed"]


def cell_stat_columns() -> list[str]:
    """Columns of a cell table that are statistics, not parameters."""
    from sim.classifier import SCENARIOS

    cols = ["job", "point", "n"]
    for s in SCENARIOS:
        cols += list(share_columns(s))
    return cols + [f"{name}_mean" for name in CELL_INDICATORS]
