"""Replay command: ``python -m experiments.replay [--replicates N --seed S --counterfactual no_war
--out DIR] [key=value ...]``.

Runs an ensemble replay 2000Q1–2024Q3 (``sim.replay``), judges the patterns P1–P6 against their
stated tolerances, and writes a replay directory atomically (built in a temporary sibling
directory, renamed into place only when complete):

- ``replay.json``: provenance (model version, seed, replicates, parameters, input and record file
  hashes) and, per pattern, the measured value, the tolerance and the verdict; plus the
  counterfactual check (no 2022 war: P3 and P4 should largely disappear, M03).
- ``replay_quarters.parquet``: per quarter, indicator and world (``factual`` or ``no_war``) the
  ensemble mean, share > 0 and 5/25/50/75/95 % quantiles.
- ``runs.parquet``: one row per replicate of the selected world with its pattern indicators and
  every model parameter as a column.

``--out`` may be a new or empty directory, or an earlier replay directory: there only these three
files are replaced, and any other file (notes, ``report.html``) is left as it is. ``--replicates``
is refused when the replay would not fit in the memory available (the estimate is in the error).

``key=value`` arguments set model parameters (dotted keys of ``sim.params``), e.g.
``russia.summit_rate=0.5``. ``python -m analysis.replay_report DIR`` draws the report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from contract.cli import OneLineParser, UsageError, run
from contract.files import REPLAY_FILE, RUNS_FILE
from contract.files import REPLAY_QUARTERS_FILE as QUARTERS_FILE
from contract.io import (
    DiskFull,
    disk_full_message,
    is_disk_full,
    model_version,
    temp_path,
    versions,
    writable_dir_problem,
    write_json,
    write_parquet,
)
from sim import params as P
from sim import replay
from sim.world import History

MAX_REPLICATES = 200_000
WIDTH, INDENT = 100, " " * 15  # the terminal lines (issue 25): a verdict's column


class ReplayError(UsageError):
    """Bad input to the replay command."""


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``['russia.summit_rate=0.5']`` → validated parameter values, or ``ReplayError``."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ReplayError(f"argument {item!r} is not key=value (e.g. russia.summit_rate=0.5)")
        try:
            values[key] = yaml.safe_load(text)
        except yaml.YAMLError:
            values[key] = text
    try:
        P.resolve(values)
    except P.ParameterError as exc:
        raise ReplayError(str(exc)) from None
    return values


def _sha256(name: str) -> str:
    data = resources.files("sim").joinpath("data", name).read_bytes()
    return hashlib.sha256(data).hexdigest()


def build(
    replicates: int, seed: int, counterfactual: str | None, values: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Run the factual and no-war replays; return (replay.json payload, quarters, runs)."""
    started = time.perf_counter()
    factual = replay.run_replay(replicates, seed, None, values)
    no_war = replay.run_replay(replicates, seed, "no_war", values)
    elapsed = time.perf_counter() - started
    chosen = no_war if counterfactual == "no_war" else factual
    rows = replay.per_replicate(chosen)
    measured = replay.measure(chosen, rows)
    verdicts = replay.verdicts(chosen, measured)
    check = replay.counterfactual_verdict(factual, no_war)
    resolved = P.resolve(values)
    for key, value in resolved.items():
        rows[key] = value
    quarters = pd.concat(
        [
            replay.quarter_bands(factual).assign(world="factual"),
            replay.quarter_bands(no_war).assign(world="no_war"),
        ],
        ignore_index=True,
    )
    payload = {
        "kind": "replay",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_version": model_version(),
        "versions": versions(),
        "seed": int(seed),
        "replicates": int(replicates),
        "counterfactual": counterfactual,
        "start_quarter": chosen.quarters[0],
        "end_quarter": chosen.quarters[-1],
        "quarters": len(chosen.quarters),
        "parameters": resolved,
        "overrides": values,
        "inputs_sha256": _sha256("replay_inputs.csv"),
        "record_sha256": _sha256("record.csv"),
        "seconds": round(elapsed, 2),
        "passed": sum(v["passed"] for v in verdicts),
        "patterns": verdicts,
        "lags_by_scope": replay.lags_by_scope(chosen).to_dict(orient="records"),
        "counterfactual_check": check,
    }
    return payload, quarters, rows


#: The files a replay writes; only these are ever replaced in ``--out`` (other files stay).
OWN_FILES = (QUARTERS_FILE, RUNS_FILE, REPLAY_FILE)  # replay.json last: it marks a complete one
REPORT_FILE = "report.html"  # written by analysis.replay_report from the replay's files


def write(
    outdir: Path, payload: dict[str, Any], quarters: pd.DataFrame, rows: pd.DataFrame
) -> list[str]:
    """Write the three files; return notes for the user.

    A new directory is built as a temporary sibling and renamed into place when complete. In an
    earlier replay directory (it holds a ``replay.json`` this command wrote) only the three files
    are replaced, each written to a temporary name first and renamed, ``replay.json`` last;
    every other file there (notes, a report) is left as it is. Any other non-empty directory is
    refused. A full disk leaves nothing behind and says how much was needed.
    """
    outdir = outdir.resolve()
    check_out(outdir)
    meta = {k: payload[k] for k in ("model_version", "seed", "replicates", "counterfactual")}
    frames = {QUARTERS_FILE: quarters, RUNS_FILE: rows}
    notes = []
    try:
        if outdir.is_dir():
            _replace_in(outdir, frames, meta, payload)
            if (outdir / REPORT_FILE).exists():
                notes.append(
                    f"{outdir / REPORT_FILE} shows the previous replay: redraw it with "
                    f"python -m analysis.replay_report {outdir}"
                )
        else:
            _write_new(outdir, frames, meta, payload)
    except OSError as error:
        if is_disk_full(error):
            need = sum(int(f.memory_usage(deep=True).sum()) for f in frames.values())
            raise DiskFull(disk_full_message(outdir.parent, need)) from None
        raise
    return notes


def _write_new(
    outdir: Path, frames: dict[str, pd.DataFrame], meta: dict[str, Any], payload: dict[str, Any]
) -> None:
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".tmp", dir=outdir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; a run directory is not
    try:
        for name, frame in frames.items():
            write_parquet(tmp / name, frame, meta)
        write_json(tmp / REPLAY_FILE, payload)  # last: its presence marks completeness
        os.rename(tmp, outdir)  # fails if another process made outdir meanwhile: nothing replaced
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace_in(
    outdir: Path, frames: dict[str, pd.DataFrame], meta: dict[str, Any], payload: dict[str, Any]
) -> None:
    temps: dict[str, Path] = {}
    try:
        for name, frame in frames.items():
            temps[name] = temp_path(outdir / name)
            write_parquet(temps[name], frame, meta)
        temps[REPLAY_FILE] = temp_path(outdir / REPLAY_FILE)
        write_json(temps[REPLAY_FILE], payload)
        for name in OWN_FILES:  # replay.json last
            os.replace(temps.pop(name), outdir / name)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _is_replay(outdir: Path) -> bool:
    try:
        payload = json.loads((outdir / REPLAY_FILE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(payload, dict) and payload.get("kind") == "replay"


def check_out(outdir: Path) -> None:
    """Refuse an output directory that cannot be written, or that holds files other than an
    earlier replay's (before the replay runs)."""
    problem = writable_dir_problem(outdir.parent)
    if problem:
        raise ReplayError(f"--out {outdir}: {problem}; choose a directory you can write to")
    if outdir.exists() and not outdir.is_dir():
        raise ReplayError(f"--out {outdir} exists and is not a directory")
    if outdir.is_dir():
        problem = writable_dir_problem(outdir)
        if problem:
            raise ReplayError(f"--out {outdir}: {problem}; choose a directory you can write to")
        entries = sorted(p.name for p in outdir.iterdir() if not p.name.endswith(".tmp"))
        if entries and not _is_replay(outdir):
            raise ReplayError(
                f"--out {outdir} holds {entries[0]} and no replay.json of this command: not a "
                "replay directory, so nothing in it is replaced; choose a new or empty "
                "directory (or an earlier replay directory)"
            )


#: Peak memory per replicate of the replay (both worlds, every series, the tables), measured
#: as docs/SWEEPS.md shows for runs ("Memory bounds"), plus what the interpreter and model hold.
REPLAY_BYTES_PER_REPLICATE = 16_000  # measured 11,500 (2,000 and 8,000 replicates), +40 %
REPLAY_FIXED_BYTES = 300_000_000  # measured 270 MB after the first replay


def check_memory(replicates: int) -> None:
    """Refuse ``--replicates`` whose estimated memory exceeds the memory available now."""
    from experiments.config import check_memory as check

    try:
        check("--replicates", replicates, REPLAY_BYTES_PER_REPLICATE, REPLAY_FIXED_BYTES)
    except P.ParameterError as error:
        raise ReplayError(str(error)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 1 <= value <= MAX_REPLICATES:
        raise argparse.ArgumentTypeError(
            f"{value} is out of range: expected 1 to {MAX_REPLICATES:,} (the replay holds every "
            "replicate's 99 quarters in memory)"
        )
    return value


def parser() -> argparse.ArgumentParser:
    ap = OneLineParser(
        prog="python -m experiments.replay",
        description="Replay 2000Q1–2024Q3 and check the article's patterns P1–P6.",
    )
    ap.add_argument("--replicates", type=_positive, default=replay.DEFAULT_REPLICATES)
    ap.add_argument("--seed", type=int, default=replay.DEFAULT_SEED)
    ap.add_argument(
        "--counterfactual",
        choices=[c for c in History.COUNTERFACTUALS if c],
        default=None,
        help="replay a changed world (no_war: no 2022 war, confrontation held at 2021Q4)",
    )
    ap.add_argument("--out", type=Path, default=None, help="replay directory to write")
    ap.add_argument("overrides", nargs="*", help="model parameters as key=value")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the replay command; bad input raises ``ReplayError`` (one line through ``contract.cli``)."""
    args = parser().parse_args(argv)
    out = args.out or Path("outputs", "replay", datetime.now().strftime("%Y-%m-%d_%H-%M-%S"))
    if not 0 <= args.seed <= P.MAX_SEED:
        raise ReplayError(f"--seed {args.seed} is out of range: expected an integer in [0, 2**63)")
    values = parse_overrides(args.overrides)
    check_out(out.resolve())
    check_memory(args.replicates)
    payload, quarters, rows = build(args.replicates, args.seed, args.counterfactual, values)
    notes = write(out, payload, quarters, rows)
    world = args.counterfactual or "factual"
    print(f"replay {world}: {args.replicates} replicates, seed {args.seed}")
    for v in [*payload["patterns"], payload["counterfactual_check"]]:
        verdict = "PASS" if v["passed"] else "FAIL"
        # within 100 columns (issue 25): the measured value, then its tolerance below it
        print(
            textwrap.fill(
                v["measured"],
                WIDTH,
                initial_indent=f"{v['pattern']:>7} {verdict}  ",
                subsequent_indent=INDENT,
            )
        )
        print(
            textwrap.fill(
                f"tolerance: {v['tolerance']}",
                WIDTH,
                initial_indent=INDENT,
                subsequent_indent=INDENT + "  ",
            )
        )
    print(f"outputs: {out}\nreport:  python -m analysis.replay_report {out}")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    run(main)
