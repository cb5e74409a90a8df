"""Teacher's notes of the worksheets, generated from real runs of the exercises.

``python -m experiments.teacher_notes`` runs every exercise against the baseline
(``experiments.exercise.compare``: same seed in both arms, ``REPLICATES`` replicates, the
default horizon) and writes, into each worksheet ``experiments/exercises/NAME.{en,mn}.md``
between the markers ``<!-- teacher-note:begin -->`` and ``<!-- teacher-note:end -->``, the
expected direction and size of the effect on S1, S2 and neither — the shares of both arms, the
difference in percentage points with its Newcombe 95 % interval, and a sentence per scenario:

- direction: up or down when the interval excludes 0, otherwise "no clear change";
- size: small below ``SMALL`` pp, moderate below ``LARGE`` pp, large above.

The scenario names and the unit of the differences are the glossary's
(``experiments/i18n/glossary.json``: "Хувилбар 1", "нэгж хувь" in Mongolian). Nothing in the
block is typed by hand. ``--check`` recomputes the notes and exits 1 naming every
worksheet whose note differs (``tests/test_exercises.py`` runs it): after a model change, rerun
the command and commit the worksheets. Numbers depend on the model version, so the note names
the command, seed, replicates and horizon that produced it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from contract.cli import OneLineParser
from experiments import exercise as ex
from experiments.i18n import LANGUAGES, t, term
from sim import params as P
from sim.classifier import SCENARIOS

REPLICATES = 4000
SMALL, LARGE = 2.0, 10.0  # percentage points
BEGIN, END = "<!-- teacher-note:begin -->", "<!-- teacher-note:end -->"
BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
COMMAND = "python -m experiments.teacher_notes"


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def sentence(scenario: str, row: pd.Series, lang: str) -> str:
    """Direction and size of the effect on one scenario."""
    diff, low, high = (100 * row[k] for k in ("difference", "diff_low", "diff_high"))
    name = t(f"note.scenario.{scenario}", lang)
    if low <= 0 <= high:
        return t("note.none", lang, scenario=name, diff=f"{diff:+.1f}")
    size = "small" if abs(diff) < SMALL else "moderate" if abs(diff) < LARGE else "large"
    key = "note.up" if diff > 0 else "note.down"
    return t(key, lang, scenario=name, diff=f"{abs(diff):.1f}", size=t(f"note.size.{size}", lang))


def note(name: str, table: pd.DataFrame, lang: str, replicates: int, horizon: int) -> str:
    """The generated block of one worksheet."""
    seed = P.RUN_KEYS["seed"]
    lines = [
        BEGIN,
        f"## {t('note.title', lang)}",
        "",
        t("note.source", lang, command=COMMAND, seed=seed, n=replicates, horizon=horizon),
        "```",
        f"python -m experiments.exercise {name} --replicates {replicates} --horizon {horizon}",
        "```",
        "",
        f"| {t('futures.scenario', lang)} | {t('compare.baseline', lang)} | "
        f"{t('compare.exercise', lang)} | {t('note.difference', lang)} |",
        "|---|---:|---:|---:|",
    ]
    unit = term("percentage_points.short", lang)
    for s in SCENARIOS:
        row = table.loc[s]
        lines.append(
            f"| {term(f'scenario.{s}', lang)} | {pct(row.baseline_share)} | "
            f"{pct(row.exercise_share)} | {100 * row.difference:+.1f} {unit} "
            f"[{100 * row.diff_low:+.1f}, {100 * row.diff_high:+.1f}] |"
        )
    lines += ["", f"**{t('note.expected', lang)}**", ""]
    lines += [f"- {sentence(s, table.loc[s], lang)}" for s in SCENARIOS]
    if table.loc["neither", "exercise_share"] >= 0.99:
        lines += ["", t("note.all_neither", lang)]
    lines.append(END)
    return "\n".join(lines)


def notes(replicates: int = REPLICATES, horizon: int = P.RUN_KEYS["horizon"]) -> dict[Path, str]:
    """The generated block of every worksheet, by path."""
    out = {}
    for name in ex.exercise_names():
        table = ex.compare(name, replicates=replicates, horizon=horizon)
        for lang in LANGUAGES:
            out[ex.worksheet_path(name, lang)] = note(name, table, lang, replicates, horizon)
    return out


def apply(path: Path, block: str) -> str:
    """The worksheet's text with its note replaced (appended if it has none yet)."""
    text = path.read_text(encoding="utf-8")
    if BLOCK.search(text):
        return BLOCK.sub(lambda _: block, text)
    return text.rstrip("\n") + "\n\n" + block + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a note is out of date")
    parser.add_argument("--replicates", type=int, default=REPLICATES)
    args = parser.parse_args(argv)
    if not 100 <= args.replicates <= 100_000:
        print(f"error: --replicates={args.replicates}: expected 100 to 100000", file=sys.stderr)
        return 1
    stale = []
    for path, block in notes(args.replicates).items():
        new = apply(path, block)
        if new != path.read_text(encoding="utf-8"):
            stale.append(path.name)
            if not args.check:
                tmp = path.with_suffix(".md.tmp")
                tmp.write_text(new, encoding="utf-8")
                tmp.replace(path)
    if args.check and stale:
        print(
            f"error: teacher notes out of date in {', '.join(stale)}: run `{COMMAND}`",
            file=sys.stderr,
        )
        return 1
    print(f"{len(stale)} worksheet(s) updated" if not args.check else "teacher notes up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
