"""``make demo``: the default sweep over the article's key axes, locally with the joblib launcher.

Before the sweep it says what is counted: S1, S2 and neither, one line each (docs/ARTICLE.md, "The
two scenarios"). Runs ``python -m experiments.run -m experiment=demo`` in a subprocess (18 cells:
sanctions enforcement x the DPRK's stockpile x the Russia–West confrontation, 1,500 replicates
each, two workers), says what each swept axis and value stands for (from ``sim.params`` and the
``conf/`` presets, e.g. ``world.confrontation=0.3`` is the détente preset), prints the per-cell
table and the pooled scenario table with 95 % intervals, explains why the pooled share differs
from the single-point headline of the README (the cell at the article's defaults against the
average over all cells), prints the headline in three rows (the defaults' cell; a history-matched
run, ``posterior=default``; the command that conditions it on a user's record), then builds the
report and prints the command that rebuilds it. Extra
arguments are passed to the sweep as Hydra overrides (e.g. ``replicates=500``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from contract.files import SUMMARY_FILE
from experiments import sweep
from sim import params as P

ROOT = Path(__file__).resolve().parents[1]

#: The outcomes a run is counted in, one line each (docs/ARTICLE.md, "The two scenarios").
DEFINITIONS = {
    "S1": 'S1 = "The alliance expands in every field" (Хувилбар 1): defence and economic ties '
    "grow and last into the medium term, with technology transfer and Russia openly setting the "
    "sanctions aside.",
    "S2": 'S2 = "The alliance stays a message on the international stage" (Хувилбар 2): a short '
    "burst of defence cooperation that fades; barter trade, sanctions formally kept, no "
    "advanced technology; the article judges it the more likely.",
    "neither": "neither = any other path (a rupture, a mixed path): counted as such, never forced "
    "into S1 or S2.",
}


def definitions() -> str:
    """What S1, S2 and neither mean, one line each."""
    return "What the shares count (docs/ARTICLE.md):\n" + "\n".join(
        f"  {line}" for line in DEFINITIONS.values()
    )


def _presets(key: str) -> dict[float, str]:
    """Values of ``key`` that a conf/ preset sets, with the preset's name and first comment."""
    group, _, name = key.partition(".")
    out: dict[float, str] = {}
    for file in sorted((ROOT / "conf" / group).glob("*.yaml")):
        text = file.read_text(encoding="utf-8")
        try:
            value = (yaml.safe_load(text) or {}).get(name)
        except yaml.YAMLError:
            continue
        param = P.BY_KEY.get(key)
        if isinstance(value, str) and param is not None:
            value = param.levels.get(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            comment = next(
                (
                    ln.lstrip("# ").strip()
                    for ln in text.splitlines()
                    if ln.startswith("# ") and "@package" not in ln
                ),
                "",
            )
            out[float(value)] = f"preset {group}={file.stem}" + (f": {comment}" if comment else "")
    return out


def explain_axes(table: pd.DataFrame, swept: list[str]) -> str:
    """What each swept parameter stands for, and what its values mean."""
    lines = [f"What the sweep varies ({len(table)} cells):"]
    for key in swept:
        param = P.BY_KEY.get(key)
        if param is None:
            lines.append(f"  {key}: {sorted(table[key].unique())}")
            continue
        lines.append(f"  {key} ({param.unit}; {', '.join(param.ids)}): {param.meaning}")
        names = {float(v): k for k, v in param.levels.items()}
        presets = _presets(key)
        for value in sorted(table[key].unique()):
            notes = []
            if float(value) in names:
                notes.append(f"level '{names[float(value)]}'")
            if float(value) == float(param.default):
                notes.append("the article's default")
            if float(value) in presets:
                notes.append(presets[float(value)])
            lines.append(f"    = {value:g}" + (f"  ({'; '.join(notes)})" if notes else ""))
    return "\n".join(lines)


def why_pooled_differs(table: pd.DataFrame, swept: list[str], pooled: dict) -> str:
    """Why the pooled share is not the README's headline: the default cell against the average."""
    at_default = pd.Series(True, index=table.index)
    for key in swept:
        if key in P.BY_KEY:
            at_default &= (table[key].astype(float) - float(P.BY_KEY[key].default)).abs() < 1e-9
    top = max(pooled, key=lambda s: pooled[s]["share"])
    lines = [
        "Why the pooled share is not the README's headline:",
        f"  the headline is ONE parameter point, the article's assumptions (experiment="
        f"article_baseline); the pooled share gives each of the {len(table)} cells equal weight,",
        "  so it averages over assumptions the article does not hold (e.g. détente, other "
        "stockpiles): an average over assumed worlds, not a forecast.",
    ]
    if at_default.any():
        row = table[at_default].iloc[0]
        lines.append(
            f"  Here: {top} is {row[f'{top}_share']:.1%} [{row[f'{top}_ci_low']:.1%}, "
            f"{row[f'{top}_ci_high']:.1%}] in the cell at the article's defaults (job "
            f"{int(row['job'])}) and {pooled[top]['share']:.1%} pooled over all cells."
        )
    return "\n".join(lines)


def _history_matched(sweep_dir: Path, overrides: Sequence[str]) -> tuple[Path, dict] | None:
    """The article's defaults with the calibrated parameters drawn from the shipped posterior
    (``posterior=default``), as many replicates as a cell; (run directory, summary) or None."""
    out = sweep_dir.parent / f"{sweep_dir.name}_history_matched"
    replicates = [o for o in overrides if o.startswith("replicates=")] or ["replicates=1500"]
    cmd = [sys.executable, "-m", "experiments.run", "posterior=default", *replicates[-1:]]
    done = subprocess.run(
        [*cmd, f"hydra.run.dir={out}"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    summary = out / SUMMARY_FILE
    if done.returncode != 0 or not summary.exists():
        print(f"history-matched run failed: {done.stderr.decode()[-500:]}", file=sys.stderr)
        return None
    return out, json.loads(summary.read_text())


def headline(table: pd.DataFrame, swept: list[str], matched: tuple[Path, dict] | None) -> str:
    """The headline in three rows (issue 21): the defaults continued from their own history, the
    history-matched ensemble, and the record a user brings (a command, not a number)."""
    at_default = pd.Series(True, index=table.index)
    for key in swept:
        if key in P.BY_KEY:
            at_default &= (table[key].astype(float) - float(P.BY_KEY[key].default)).abs() < 1e-9
    lines = ["The headline in three rows (S1 / S2 / neither, Wilson 95 % intervals):"]

    def row(label: str, shares: dict[str, tuple[float, float, float]]) -> str:
        cells = "  ".join(f"{s} {v:.1%} [{lo:.1%}, {hi:.1%}]" for s, (v, lo, hi) in shares.items())
        return f"  {label:<34} {cells}"

    if at_default.any():
        cell = table[at_default].iloc[0]
        lines.append(
            row(
                "defaults, from their own history",
                {
                    s: (cell[f"{s}_share"], cell[f"{s}_ci_low"], cell[f"{s}_ci_high"])
                    for s in DEFINITIONS
                },
            )
        )
    if matched is not None:
        path, summary = matched
        shares = {
            s: (r["share"], r["ci_low"], r["ci_high"]) for s, r in summary["scenarios"].items()
        }
        lines.append(row("history-matched (posterior=default)", shares))
        lines.append(f"  {'':<34} ({path})")
        lines.append(
            f"  {'given your record since 2024Q4':<34} python -m analysis.odds {path} RECORD.csv"
        )
    return "\n".join(lines)


def run_demo(overrides: Sequence[str] = (), sweep_dir: Path | None = None) -> int:
    """Run the demo sweep; print the tables and where the outputs are. Returns an exit code."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    sweep_dir = Path(sweep_dir or ROOT / "multirun" / "demo" / stamp).resolve()
    cmd = [
        sys.executable,
        "-m",
        "experiments.run",
        "-m",
        "experiment=demo",
        f"hydra.sweep.dir={sweep_dir}",
        *overrides,
    ]
    print(definitions() + "\n", flush=True)
    print("running: " + " ".join(cmd[1:]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if not (sweep_dir / sweep.SWEEP_PARQUET).exists():
        print(f"error: the demo sweep failed (exit {done.returncode})", file=sys.stderr)
        return done.returncode or 1
    report = json.loads((sweep_dir / sweep.SWEEP_JSON).read_text())
    table = pd.read_parquet(sweep_dir / sweep.SWEEP_PARQUET)
    print()
    print(explain_axes(table, report["swept"]))
    print()
    print(f"Scenario shares per cell ({len(table)} cells, Wilson 95 % intervals):")
    print(sweep.format_cells(table, report["swept"]))
    print()
    print("All cells pooled:")
    print(sweep.format_pooled(report))
    print()
    print(why_pooled_differs(table, report["swept"], report["pooled"]))
    print()
    print(headline(table, report["swept"], _history_matched(sweep_dir, overrides)))
    print(f"\n{report['replicate_runs']:,} replicate-runs in {elapsed:.1f} s")
    print(f"outputs: {sweep_dir} (sweep.parquet, summary.md, sweep.json, one directory per cell)")
    if importlib.util.find_spec("analysis.report") is not None:
        rep = subprocess.run(
            [sys.executable, "-m", "analysis.report", str(sweep_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        html = sorted(sweep_dir.rglob("report.html"))
        if rep.returncode == 0 and html:
            print(f"report: {html[0]}")
            print(f"next: python -m analysis.report {sweep_dir}  (rebuilds it)")
        else:
            print(f"report: not built (analysis.report exit {rep.returncode})", file=sys.stderr)
            print(rep.stderr.strip()[-2000:], file=sys.stderr)
    return 1 if report["failed"] else done.returncode


def main() -> int:
    return run_demo(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
