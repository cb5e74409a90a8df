"""``python scripts/docs_numbers.py``: regenerate the argument's and robustness numbers in the docs.

Runs ``python -m experiments.argument`` and ``python -m experiments.robustness`` (in this
process, same code) into ``--out`` (default ``outputs/docs_numbers``), then rewrites the blocks
between marker comments — the style of ``analysis/odd.py``::

    <!-- generated:NAME start (python scripts/docs_numbers.py) -->
    ...
    <!-- generated:NAME end -->

in ``docs/ARGUMENT.md`` (``argument``, ``robustness``, ``hedges``), ``docs/ODD.md`` §9
(``argument-odd``) and ``README.md`` (``headline``, ``levers``); ``python -m analysis.hedges`` runs
into ``hedges/`` and its map of the two levers is copied to ``docs/figures/levers.png``; the Morris screening runs twice, over the declared ranges and in a
window around the defaults (``outputs/docs_numbers/local``). Nothing outside the markers changes; every block names the commands
that produced its numbers. ``--from DIR`` renders from outputs already written (no simulation);
``--check`` exits 1 when a file would change (use it with ``--from`` to check without simulating).
Each file is replaced atomically, and only after every block has been rendered.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis import hedges as H
from analysis.compare import markdown_table
from contract.io import atomic_write, replace_between, write_text
from experiments import argument as A
from experiments import robustness as RB
from sim.classifier import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python scripts/docs_numbers.py"
#: The commands the docs' numbers come from (run with these settings by default).
ARGUMENT_ARGS = ["replicates=10000"]
ROBUSTNESS_ARGS = ["definitions=200", "trajectories=20", "point_replicates=200", "replicates=10000"]
#: The Morris screening again in a window around the defaults (a quarter of each declared range).
LOCAL_ARGS = ["part=morris", "span=0.25", "trajectories=20", "point_replicates=200"]
LOCAL = "local"  # sub-folder of the outputs
HEDGES = "hedges"  # sub-folder: python -m analysis.hedges
FIGURE = Path("docs") / "figures" / "levers.png"  # the map of the two levers, shown by the docs
BOXES = Path("docs") / "figures" / "discovery.png"  # PRIM's boxes for S1 and S2, shown by README


def markers(name: str) -> tuple[str, str]:
    """The start and end comments of a generated block (as in ``analysis/odd.py``)."""
    return f"<!-- generated:{name} start ({COMMAND}) -->", f"<!-- generated:{name} end -->"


def replace_block(text: str, name: str, body: str, where: str = "the file") -> str:
    """``text`` with the block ``name`` replaced by ``body``; ``ValueError`` if it has no markers."""
    return replace_between(text, *markers(name), body, where)


def _meta(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def shown(command: str) -> str:
    """A command as the docs show it: without its output folder (it does not change a number)."""
    return " ".join(t for t in command.split() if not t.startswith("out="))


def _pct(v: float) -> str:
    return f"{100 * v:.1f}"


def argument_block(folder: Path) -> str:
    """docs/ARGUMENT.md: the headline, the table, the kinds of neither, one line per row."""
    table = A.read_table(folder / A.CSV_FILE)
    meta = _meta(folder, A.JSON_FILE)
    lines = [
        "```",
        shown(meta["command"]),
        "```",
        "",
        f"R = {meta['replicates']:,} per row, seed {meta['seed']}, model version "
        f"{meta['model_version']}.",
        "",
        A.headline(table),
        "",
        markdown_table(A.display_table(table)),
        A.method_note(table),
        "",
        'What "neither" is made of (% of all runs; kinds as in docs/ODD.md §7.9) and the first '
        "S2 marker that fails:",
        "",
        markdown_table(A.neither_table(table)),
    ]
    return "\n".join(lines)


def robustness_block(folder: Path) -> str:
    """docs/ARGUMENT.md: across classifier definitions, and the Morris screening."""
    meta = _meta(folder, RB.JSON_FILE)
    definitions = pd.read_csv(folder / RB.DEF_CSV)
    morris = pd.read_csv(folder / RB.MORRIS_CSV)
    summary = RB.summarise_definitions(definitions)
    d, m = meta["definitions"], meta["morris"]
    defaults = pd.DataFrame(d["default_definition"])
    at_default = "; ".join(
        f"{r['ensemble']}: " + ", ".join(f"{s} {_pct(r[f'{s}_share'])} %" for s in SCENARIOS)
        for _, r in defaults.iterrows()
    )
    names = RB.carriers(morris)
    local_meta = _meta(folder / LOCAL, RB.JSON_FILE)
    local = pd.read_csv(folder / LOCAL / RB.MORRIS_CSV)
    local_names = RB.carriers(local)
    lm = local_meta["morris"]
    lines = [
        "```",
        shown(meta["command"]),
        shown(local_meta["command"]),
        "```",
        "",
        f"(a) {d['draws']} Latin-hypercube classifier definitions (every `classifier.*` "
        f"parameter over its plausible range: sim/params.py), each applied to the same {d['replicates']:,} runs "
        f"per ensemble; seed {meta['seed']}, model version {meta['model_version']}. At the "
        f"default definition: {at_default}.",
        "",
        RB.summary_markdown(summary),
        "Which parts of the definition move the shares (Spearman rank correlation across the "
        "definitions; blank: the share does not vary):",
        "",
        RB.threshold_markdown(RB.threshold_effects(definitions)),
        f"(b) Morris screening: {m['parameters']} model parameters over their declared ranges, "
        f"{m['trajectories']} trajectories, {m['points']:,} points × {m['point_replicates']} "
        f"replicates. Parameters that carry S2 − S1 (mu* minus its 95 % half-width above the "
        f"sampling-noise floor of the dummy `{RB.DUMMY}`): "
        + (", ".join(f"`{n}`" for n in names) or "none")
        + ".",
        "",
        RB.morris_markdown(morris, top=10),
        f"(b') The same screening in a window of {lm['span']:g} of each declared range around "
        f"the defaults ({lm['points']:,} points × {lm['point_replicates']} replicates). "
        "Parameters that carry S2 − S1 there: "
        + (", ".join(f"`{n}`" for n in local_names) or "none")
        + ".",
        "",
        RB.morris_markdown(local[local["output"] == RB.OUTPUTS["S2-S1"]], top=12),
    ]
    return "\n".join(lines)


def odd_block(folder: Path) -> str:
    """docs/ODD.md §9: the headline sentences and the war-on rows of the argument."""
    table = A.read_table(folder / A.CSV_FILE)
    meta = _meta(folder, A.JSON_FILE)
    names = ["baseline", "history_matched", "hedged", "war_on", "war_ended"]
    keep = table["row"].isin(names) | table["row"].str.startswith("war_on-")
    part = A.display_table(table[keep].reset_index(drop=True))
    part = part.drop(columns=["Δneither pp"])
    return "\n".join(
        [
            f"`{shown(meta['command'])}` (R = {meta['replicates']:,} per row, seed {meta['seed']}; the "
            "whole table, with the limits switched off at the defaults too, is in "
            "docs/ARGUMENT.md):",
            "",
            A.headline(table),
            "",
            markdown_table(part),
        ]
    )


def readme_block(folder: Path) -> str:
    """README.md: the headline table (defaults, war held on, all limits off, war ended)."""
    table = A.read_table(folder / A.CSV_FILE).set_index("row")
    meta = _meta(folder, A.JSON_FILE)
    rows = {
        "baseline": "the article's assumptions (the defaults), continued from their own history",
        "history_matched": "history-matched: calibrated parameters drawn from the posterior",
        "hedged": "history-matched, each limit's strength drawn over its hedge word's range",
        "war_on": "the war held on (no ceasefire: the article's premise)",
        "war_on-no_limits": "the war held on, all of the article's limits off",
        "war_ended": "the war ended at once",
    }
    out = pd.DataFrame(
        {
            "setting": list(rows.values()),
            **{
                f"{s} % [95 % CI]": [
                    f"{_pct(table.loc[r, f'{s}_share'])} [{_pct(table.loc[r, f'{s}_ci_low'])}, "
                    f"{_pct(table.loc[r, f'{s}_ci_high'])}]"
                    for r in rows
                ]
                for s in SCENARIOS
            },
        }
    )
    full = A.read_table(folder / A.CSV_FILE)
    return "\n".join(
        [
            f"`{shown(meta['command'])}` — R = {meta['replicates']:,} per row, seed {meta['seed']}, "
            "Wilson 95 % intervals (the full table, each limit switched off in turn with paired "
            "tests: docs/ARGUMENT.md):",
            "",
            markdown_table(out),
            A.headline(full),
            "",
            "The third row of the headline is yours: with a record of what happened since 2024Q4, "
            "`python -m analysis.odds RUN_DIR RECORD.csv` conditions a run on it — a run made "
            "with `posterior=default` gives the history-matched ensemble as the prior.",
        ]
    )


def hedges_block(folder: Path) -> str:
    """docs/ARGUMENT.md: the hedged prior predictive, PRIM boxes, knife-edges, deciding markers."""
    meta = _meta(folder / HEDGES, "provenance.json")
    return "\n".join(
        [
            "```",
            f"python -m analysis.hedges --replicates {meta['replicates']} --cell-replicates "
            f"{meta['cell_replicates']} --seed {meta['seed']}",
            "```",
            "",
            f"Model version {meta['model_version']}; posterior sha256 "
            f"{meta['posterior']['sha256'][:12]}.",
            "",
            (folder / HEDGES / "hedges.md").read_text(encoding="utf-8"),
        ]
    )


def levers_block(folder: Path) -> str:
    """README.md: the map of the design card's two levers (the figure and its command)."""
    meta = _meta(folder / HEDGES, "provenance.json")
    return "\n".join(
        [
            f"![S1, S2 and neither over sanctions enforcement × the DPRK's stockpile]({FIGURE})",
            "",
            f"`python -m analysis.hedges --cell-replicates {meta['cell_replicates']} --seed "
            f"{meta['seed']}` — {meta['cell_replicates']:,} replicates per cell, everything but "
            "the two levers history-matched and each limit strength drawn over its hedge range "
            "(the table: `levers.csv`; the PRIM boxes and knife-edges: docs/ARGUMENT.md).",
            "",
            "Where each future is most common — PRIM's box for S1 and for S2 over the same hedged "
            "ensemble (the bounds and the words that keep S1 rare: docs/ARGUMENT.md):",
            "",
            f"![PRIM boxes for S1 and S2 over the hedged prior predictive]({BOXES})",
        ]
    )


#: (file, block name, renderer): what goes where.
BLOCKS: tuple[tuple[str, str, Callable[[Path], str]], ...] = (
    ("docs/ARGUMENT.md", "argument", argument_block),
    ("docs/ARGUMENT.md", "robustness", robustness_block),
    ("docs/ARGUMENT.md", "hedges", hedges_block),
    ("docs/ODD.md", "argument-odd", odd_block),
    ("README.md", "headline", readme_block),
    ("README.md", "levers", levers_block),
)


def render_all(folder: Path, root: Path = ROOT) -> dict[Path, tuple[str, str]]:
    """Every file's (old text, new text), rendered from the outputs in ``folder``."""
    out: dict[Path, tuple[str, str]] = {}
    for rel, name, render in BLOCKS:
        path = root / rel
        old, text = out.get(path, (None, None))
        if old is None:
            old = text = path.read_text(encoding="utf-8")
        text = replace_block(text, name, render(folder), rel)
        out[path] = (old, text)
    return out


def simulate(folder: Path, seed: int | None = None) -> None:
    """Run the two commands into ``folder`` with the docs' settings."""
    extra = [f"seed={seed}"] if seed is not None else []
    A.main([*ARGUMENT_ARGS, *extra, f"out={folder}"])
    RB.main([*ROBUSTNESS_ARGS, *extra, f"out={folder}"])
    RB.main([*LOCAL_ARGS, *extra, f"out={folder / LOCAL}"])
    H.main(["--out", str(folder / HEDGES), *(["--seed", str(seed)] if seed is not None else [])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "docs_numbers")
    parser.add_argument("--from", dest="source", type=Path, help="render from these outputs")
    parser.add_argument("--check", action="store_true", help="exit 1 if a file would change")
    parser.add_argument("--seed", type=int, help="seed of both commands (default: the project's)")
    args = parser.parse_args(argv)
    folder = args.source or args.out
    if args.source is None:
        simulate(folder, args.seed)
    try:
        files = render_all(folder)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for figure in (FIGURE, BOXES):  # the hedges' figures, copied beside the docs
        data = (folder / HEDGES / figure.name).read_bytes()
        target = ROOT / figure
        if not target.exists() or target.read_bytes() != data:
            files[target] = (target.read_bytes() if target.exists() else b"", data)
    stale = [path for path, (old, new) in files.items() if old != new]
    if args.check:
        for path in stale:
            print(f"error: {path} is out of date: run {COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        new = files[path][1]
        if isinstance(new, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp, data=new: tmp.write_bytes(data))
        else:
            write_text(path, new)
        print(f"updated {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
