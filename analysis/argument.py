"""The argument's tables and figure, read from what ``python -m experiments.argument`` wrote.

``experiments.argument`` simulates the rows and computes the paired changes; this module turns the
resulting table (``argument.csv``) into what people read — the terminal table, the Markdown page,
the figure, the headline sentences and the breakdown of "neither" — so that ``analysis.report``
can show a folder of argument outputs without importing the command (imports point one way:
``sim`` ← ``contract`` ← ``analysis`` ← ``experiments``). Ids: M15–M20, M24 (the limits), S1, S2.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.compare import markdown_table
from analysis.figures import SCENARIO_COLOURS, SCENARIO_NAMES
from sim import params as P
from sim.classifier import NEITHER_KINDS, S2_MARKERS, SCENARIOS

#: Files ``experiments.argument`` writes (``argument.json`` last: its presence marks a complete
#: output).
CSV_FILE, MD_FILE, PNG_FILE, JSON_FILE = (
    "argument.csv",
    "argument.md",
    "argument.png",
    "argument.json",
)
ARGUMENT_FILES = (CSV_FILE, MD_FILE, PNG_FILE, JSON_FILE)
LIMITS: tuple[P.Param, ...] = tuple(p for p in P.PARAMETERS if p.group == "limits")
ALPHA = 0.05


def _pct(v: float) -> str:
    return f"{100 * v:.1f}"


def _share_cell(line: pd.Series, s: str) -> str:
    return f"{_pct(line[f'{s}_share'])} [{_pct(line[f'{s}_ci_low'])}, {_pct(line[f'{s}_ci_high'])}]"


def _diff_cell(line: pd.Series, s: str) -> str:
    if not line["reference"]:
        return "(reference)"
    star = " *" if line[f"{s}_significant"] else ""
    return (
        f"{100 * line[f'{s}_diff']:+.1f} [{100 * line[f'{s}_diff_low']:+.1f}, "
        f"{100 * line[f'{s}_diff_high']:+.1f}]{star}"
    )


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The main table as it prints: shares and changes in percent, one line per row."""
    out = pd.DataFrame({"row": table["row"], "vs": table["reference"].replace("", "—")})
    for s in SCENARIOS:
        out[f"{s} % [95 % CI]"] = [_share_cell(line, s) for _, line in table.iterrows()]
    for s in SCENARIOS:
        out[f"Δ{s} pp"] = [_diff_cell(line, s) for _, line in table.iterrows()]
    out["toward S1"] = [
        "—" if not line["reference"] else ("yes" if line["toward_s1"] else "no")
        for _, line in table.iterrows()
    ]
    out["open breach %"] = table["breach_share"].map(_pct)
    out["munitions"] = table["munitions_mean"].map(lambda v: f"{v:.1f}")
    if "munitions_mean_diff" in table:
        out["Δ open breach pp"] = [
            _mean_cell(line, "breach_share", 100) for _, line in table.iterrows()
        ]
        out["Δ munitions"] = [_mean_cell(line, "munitions_mean", 1) for _, line in table.iterrows()]
    return out


def _mean_cell(line: pd.Series, col: str, scale: float) -> str:
    if not line["reference"]:
        return "—"
    star = " *" if line[f"{col}_p_holm"] < ALPHA else ""
    low, mid, high = (scale * line[f"{col}_{k}"] for k in ("diff_low", "diff", "diff_high"))
    return f"{_signed(mid)} [{_signed(low)}, {_signed(high)}]{star}"


def _signed(v: float) -> str:
    """One decimal, or two significant digits for a change too small to show at one decimal."""
    return f"{v:+.2g}" if 0 < abs(v) < 0.05 else f"{v:+.1f}"


def neither_table(table: pd.DataFrame) -> pd.DataFrame:
    """Kinds of "neither" (and S2's first failing marker) per row, in % of all runs."""
    out = pd.DataFrame({"row": table["row"], "neither %": table["neither_share"].map(_pct)})
    for k in NEITHER_KINDS:
        out[k] = table[f"neither_{k}_share"].map(_pct)
    for m in S2_MARKERS:
        out[f"S2 fails: {m}"] = table[f"s2_failed_{m}_share"].map(_pct)
    return out


def headline(table: pd.DataFrame) -> str:
    """The argument in three sentences: the war held on, each limit off, all limits off."""
    by = table.set_index("row")
    if "war_on" not in by.index:
        return ""

    def shares_of(row: str) -> str:
        return ", ".join(f"{s} {_pct(by.loc[row, f'{s}_share'])} %" for s in SCENARIOS)

    limits = [f"war_on-no_{p.name}" for p in LIMITS if f"war_on-no_{p.name}" in by.index]
    toward = [r for r in limits if by.loc[r, "toward_s1"] is True]  # None on reference rows
    text = (
        f"With the war held on: {shares_of('war_on')} "
        f"(S2 {'>' if by.loc['war_on', 'S2_share'] > by.loc['war_on', 'S1_share'] else '≤'} S1). "
        f"Each limit switched off, the war held on: {len(toward)} of {len(limits)} rows move "
        "the shares toward S1 (S1 up or S2 down) beyond paired sampling error"
    )
    missing = [r.removeprefix("war_on-no_") for r in limits if r not in toward]
    text += f" (not: {', '.join(missing)}). " if missing else ". "
    if "war_on-no_limits" in by.index:
        all_off = by.loc["war_on-no_limits"]
        majority = all_off["S1_share"] > 0.5
        text += (
            f"All limits off, the war held on: {shares_of('war_on-no_limits')} "
            f"(S1 {'is' if majority else 'is not'} the majority)."
        )
    return text


def method_note(table: pd.DataFrame) -> str:
    """How the changes were tested, with the correction and the family size."""
    m = table.attrs.get("family", 0)
    level = table.attrs.get("ci_level", 1 - ALPHA)
    return (
        "Every row ran the same seed and replicate ids (common random numbers), so each row is "
        "compared with its reference replicate by replicate: McNemar's chi-square test per "
        "scenario (statsmodels, no continuity correction) and Tango's paired score interval, "
        "which that test inverts. Multiplicity: Holm-adjusted p-values over the whole table "
        f"(m = {m} tests: every compared row × 3 scenarios) and Bonferroni-simultaneous "
        f"intervals (each at {100 * level:.2f} %), so an interval that excludes 0 always sits "
        "beside a significant Holm p (marked *). 'toward S1': S1 up or S2 down, significant. "
        "Shares: Wilson 95 % intervals. Open breach: mean share of quarters in which Russia "
        "openly sets the sanctions aside; munitions: mean thousand containers delivered over the "
        "run; their changes are paired t intervals (Bonferroni-simultaneous over the compared "
        "rows, Holm p, * below 0.05)."
    )


def to_markdown(table: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """argument.md: provenance, the table, the kinds of neither and one line per row."""
    parts = [
        "# The argument, mechanism by mechanism",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"- replicates per row: {meta['replicates']:,}; seed {meta['seed']}; horizon "
        f"{meta['horizon']} quarters",
        f"- model version: {meta['model_version']}; config hash: {meta['config_hash']}",
        "",
        headline(table),
        "",
        "## Shares and changes against the reference row",
        "",
        markdown_table(display_table(table)),
        method_note(table),
        "",
        '## What "neither" is made of (percent of all runs)',
        "",
        markdown_table(neither_table(table)),
        "Kinds of neither (docs/ODD.md §7.9): no_burst (no short-term defence burst), "
        "lasting_defence (defence holds as in S1 but S1 fails elsewhere), mixed (some S1 marker "
        "holds beside S2's), in_between (neither description fits). 'S2 fails' names the first "
        "S2 marker that fails, in the order burst, defence, economy, technology, sanctions, "
        "documents.",
        "",
        "## What each row switches, in the article's words",
        "",
    ]
    for _, line in table.iterrows():
        how = [f"against {line['reference']}"] if line["reference"] else ["reference"]
        how += [f"`{line['overrides']}`"] if line["overrides"] else []
        parts.append(f"- **{line['row']}** ({'; '.join(how)}): {line['why']}")
    return "\n".join(parts) + "\n"


def figure(table: pd.DataFrame) -> Figure:
    """Shares per row (S1, S2, neither) with Wilson 95 % intervals; reference rows marked."""
    n = len(table)
    fig = Figure(figsize=(9.0, 0.38 * n + 1.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    refs = set(table["reference"]) - {""}
    for i, (_, line) in enumerate(table.iterrows()):
        if line["row"] in refs:
            ax.axhspan(y[i] - 0.45, y[i] + 0.45, color="#f2e6b3", zorder=0)
    for k, s in enumerate(SCENARIOS):
        share = table[f"{s}_share"].to_numpy(float)
        err = np.vstack(
            [share - table[f"{s}_ci_low"].to_numpy(float), table[f"{s}_ci_high"] - share]
        )
        ax.errorbar(
            100 * share,
            y + (0.22 * (1 - k)),
            xerr=100 * err,
            fmt="o",
            ms=4,
            capsize=2,
            color=SCENARIO_COLOURS[s],
            label=SCENARIO_NAMES[s],
        )
    labels = [
        f"{r}{f'  vs {ref}' if ref else ''}{'  (reference)' if r in refs else ''}"
        for r, ref in zip(table["row"], table["reference"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(-2, 102)
    ax.set_xlabel("share of runs, % (bars: Wilson 95 % intervals)")
    ax.set_title(
        "The argument: the article's limits switched off one at a time (shaded: references)"
    )
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncol=3, frameon=False, fontsize=8)
    return fig


def read_table(path: Path) -> pd.DataFrame:
    """``argument.csv`` read back as :func:`tabulate` returned it (for the report and docs)."""
    table = pd.read_csv(path)
    for col in ("reference", "overrides", "ids", "why", "label"):
        if col in table:
            table[col] = table[col].fillna("").astype(str)
    compared = table["reference"] != ""
    for col in [c for c in table.columns if c.endswith("significant")] + ["toward_s1"]:
        if col in table:
            table[col] = [
                (str(v) == "True") if ref else None
                for v, ref in zip(table[col], compared, strict=True)
            ]
    m = 3 * int(compared.sum())
    table.attrs["family"] = m
    table.attrs["ci_level"] = 1.0 - ALPHA / max(m, 1)
    return table


def print_table(table: pd.DataFrame) -> str:
    """The table for the terminal."""
    shown = display_table(table).drop(columns=["Δneither pp"])
    return shown.to_string(index=False) + "\n" + method_note(table)
