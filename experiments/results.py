"""A run's files: ``summary.json`` from the scenario counts, the terminal table, re-exports.

The file names and the writing itself (atomic, with provenance) belong to the results layer
``contract`` (``contract.files``, ``contract.io``); they are re-exported here for the callers that
write a run directory by hand (tests, the example notebook).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.stats import scenario_table
from contract.files import QUANTILES_FILE, RUNS_FILE, SUMMARY_FILE
from contract.io import (
    atomic_write,
    model_version,
    provenance,
    versions,
    write_json,
    write_parquet,
)
from sim.classifier import SCENARIOS

__all__ = [
    "QUANTILES_FILE",
    "RUNS_FILE",
    "SUMMARY_FILE",
    "atomic_write",
    "format_table",
    "model_version",
    "provenance",
    "summarise",
    "summary_of_counts",
    "versions",
    "write_json",
    "write_parquet",
    "write_run",
]


def summary_of_counts(counts: dict[str, int]) -> dict[str, Any]:
    """``{"n", "scenarios": {S: {count, share, ci_low, ci_high}}}`` with Wilson 95 % intervals."""
    table = scenario_table(counts)
    return {
        "n": int(table["count"].sum()),
        "scenarios": {
            s: {k: (int(v) if k == "count" else float(v)) for k, v in table.loc[s].items()}
            for s in SCENARIOS
        },
    }


def summarise(labels: np.ndarray) -> dict[str, Any]:
    """The summary of an array of scenario labels (see :func:`summary_of_counts`)."""
    return summary_of_counts({s: int(np.count_nonzero(labels == s)) for s in SCENARIOS})


def write_run(
    outdir: Path,
    rows: pd.DataFrame,
    fan: pd.DataFrame | None,
    meta: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write runs.parquet, quantiles.parquet (if any), summary.json and, last, the completion
    marker ``done.json`` with their SHA-256 (``experiments.jobs.mark_done``); return the summary.

    For rows held in memory (tests, notebooks); ``experiments.run`` streams its rows instead.
    Readers (``analysis.odds``, ``analysis.forecast``) take a run as complete only with its marker.
    """
    from experiments.jobs import mark_done

    summary = {**summarise(rows["scenario"].to_numpy()), **meta, **(extra or {})}
    write_parquet(outdir / RUNS_FILE, rows, meta)
    if fan is not None:
        write_parquet(outdir / QUANTILES_FILE, fan, meta)
    write_json(outdir / SUMMARY_FILE, summary)
    mark_done(outdir, str(meta.get("config_hash", "")), summary, None)
    return summary


def format_table(summary: dict[str, Any]) -> str:
    """The scenario table as plain text for the terminal."""
    lines = [f"{'scenario':<9} {'count':>8} {'share':>7}   95 % interval (Wilson)"]
    for s in SCENARIOS:
        r = summary["scenarios"][s]
        lines.append(
            f"{s:<9} {r['count']:>8d} {r['share']:>7.1%}   [{r['ci_low']:.1%}, {r['ci_high']:.1%}]"
        )
    lines.append(f"n = {summary['n']} replicates")
    return "\n".join(lines)
