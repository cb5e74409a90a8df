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
from analysis.labels import header
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


#: The verdict columns of the CSV and what the tables call them: S1 rose / S2 fell beyond paired
#: sampling error (Holm-adjusted McNemar p < 0.05), each on its own.
VERDICT_COLUMNS = {"S1": "S1_up", "S2": "S2_down"}
VERDICTS = {"S1": "S1 up", "S2": "S2 down"}
MARKER_COLUMN = "limit_measured_by_marker"

#: Limits whose mechanism is what a classifier marker itself measures (issue 22): switching such a
#: limit off moves the very quantity the marker reads, so the row's change in S2 partly restates
#: the marker's threshold instead of testing the article's reason. Limit (``limits.<name>``) ->
#: (scenario, marker in ``sim.classifier.markers``, what the marker reads). A row that weakens one
#: of these limits is marked in every table.
MEASURED_BY: dict[str, tuple[str, str, str]] = {
    # M16 barter: S2-economy reads ``cash_share_later < classifier.s2_cash_share``; the barter
    # limit is what keeps trade out of cash (off: banking channels open, cash trade).
    "barter": ("S2", "economy", "the cash share of trade"),
    # M17 reputation: S2-sanctions reads ``breach_share <= classifier.s2_breach_share``; the
    # reputation cost is what keeps Russia from an open breach (off: no cost).
    "reputation": ("S2", "sanctions", "the share of quarters in open breach"),
    # M20/F10 quality: S2-defence reads the long-term munitions rate against
    # ``classifier.s2_defence_ratio`` × the 2024Q3 rate; the quality limit is what makes Russia buy
    # fewer munitions once it knows they are substandard (and withdraws the soldiers).
    "quality": ("S2", "defence", "the long-term munitions rate"),
}


def measured_by(overrides: str | Mapping[str, Any]) -> str:
    """Which markers measure the limits a row weakens ("" if none), e.g. "S2-economy (the cash
    share of trade)". ``overrides``: the row's overrides, as a mapping or as ``key=value`` text.

    A limit counts as weakened when the row sets it below its default (``False`` < ``True``, or a
    strength below the default): the test does not depend on the limits being booleans.
    """
    if isinstance(overrides, str):
        pairs = dict(part.split("=", 1) for part in overrides.split() if "=" in part)
    else:
        pairs = dict(overrides)
    out = []
    for name, (scenario, marker, reads) in MEASURED_BY.items():
        key = f"limits.{name}"
        if key in pairs and _strength(pairs[key]) < _strength(P.BY_KEY[key].default):
            out.append(f"{scenario}-{marker} ({reads})")
    return "; ".join(out)


def _strength(value: Any) -> float:
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return 1.0 if text == "true" else 0.0
    return float(value)


def direction_columns(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``S1_up``, ``S2_down`` (None on reference rows) and the marker column.

    S1 up: ΔS1 > 0 and significant; S2 down: ΔS2 < 0 and significant, each judged on its own,
    never merged into one "toward S1". Computed from the unrounded differences.
    """
    out = table.copy()
    compared = out["reference"].astype(str) != ""
    for s, col in VERDICT_COLUMNS.items():
        if f"{s}_diff" not in out:
            out[col] = None
            continue
        sign = 1.0 if s == "S1" else -1.0
        moved = out[f"{s}_significant"].eq(True) & (sign * out[f"{s}_diff"].astype(float) > 0)
        out[col] = [bool(m) if c else None for m, c in zip(moved, compared, strict=True)]
    out[MARKER_COLUMN] = [measured_by(str(o)) for o in out["overrides"].fillna("")]
    return out.drop(columns=["toward_s1"], errors="ignore")


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
    """The main table as it prints: shares and changes in percent, one line per row.

    ΔS1 and ΔS2 are shown apart, each beside its own verdict ("S1 up", "S2 down"): a row in which
    S2 falls and S1 does not rise moves runs from S2 to neither, not toward S1.
    """
    table = direction_columns(table)
    out = pd.DataFrame({"row": table["row"], "vs": table["reference"].replace("", "—")})
    for s in SCENARIOS:
        out[f"{s} % [95 % CI]"] = [_share_cell(line, s) for _, line in table.iterrows()]
    for s in SCENARIOS:
        out[f"Δ{s} pp"] = [_diff_cell(line, s) for _, line in table.iterrows()]
        if s in VERDICTS:
            out[VERDICTS[s]] = [_yes_no(v) for v in table[VERDICT_COLUMNS[s]]]
    short = table[MARKER_COLUMN].str.replace(r" \([^)]*\)", "", regex=True)
    out["limit measured by"] = short.replace("", "—")  # what each marker reads: the method note
    out["open breach %"] = table["breach_share"].map(_pct)
    out["munitions"] = table["munitions_mean"].map(lambda v: f"{v:.1f}")
    if "munitions_mean_diff" in table:
        out["Δ open breach pp"] = [
            _mean_cell(line, "breach_share", 100) for _, line in table.iterrows()
        ]
        out["Δ munitions"] = [_mean_cell(line, "munitions_mean", 1) for _, line in table.iterrows()]
    return out


def _yes_no(value: object) -> str:
    return "—" if value is None or value is np.nan else ("yes" if bool(value) else "no")


def page_tables(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """:func:`display_table` split into three tables narrow enough for a page (the report)."""
    full = display_table(table)
    shares = ["row", "vs", *(f"{s} % [95 % CI]" for s in SCENARIOS)]
    changes = ["row", "ΔS1 pp", "S1 up", "ΔS2 pp", "S2 down", "Δneither pp", "limit measured by"]
    flows = ["row", "open breach %", "Δ open breach pp", "munitions", "Δ munitions"]
    return {
        "argument": full[shares],
        "argument_changes": full[[c for c in changes if c in full]],
        "argument_flows": full[[c for c in flows if c in full]],
    }


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
        out[f"{header(k)}"] = table[f"neither_{k}_share"].map(_pct)
    for m in S2_MARKERS:
        out[f"S2 fails: {m}"] = table[f"s2_failed_{m}_share"].map(_pct)
    return out


def headline(table: pd.DataFrame) -> str:
    """The argument in three sentences: the war held on, each limit off, all limits off."""
    by = direction_columns(table).set_index("row")
    if "war_on" not in by.index:
        return ""

    def shares_of(row: str) -> str:
        return ", ".join(f"{s} {_pct(by.loc[row, f'{s}_share'])} %" for s in SCENARIOS)

    limits = [f"war_on-no_{p.name}" for p in LIMITS if f"war_on-no_{p.name}" in by.index]
    up = [r for r in limits if by.loc[r, "S1_up"] is True]  # None on reference rows
    down = [r for r in limits if by.loc[r, "S2_down"] is True]
    marked = [r.removeprefix("war_on-no_") for r in limits if by.loc[r, MARKER_COLUMN]]
    text = (
        f"With the war held on: {shares_of('war_on')} "
        f"(S2 {'>' if by.loc['war_on', 'S2_share'] > by.loc['war_on', 'S1_share'] else '≤'} S1). "
        f"Each limit switched off, the war held on, beyond paired sampling error: S1 rises in "
        f"{len(up)} of {len(limits)} rows"
        + (f" ({', '.join(r.removeprefix('war_on-no_') for r in up)})" if up else "")
        + f", S2 falls in {len(down)} of {len(limits)}"
        + (f" ({', '.join(r.removeprefix('war_on-no_') for r in down)})" if down else "")
        + "; where S2 falls and S1 does not rise, runs move from S2 to neither, not to S1"
    )
    text += (
        f". In {', '.join(marked)} the limit switched off is what an S2 marker measures. "
        if marked
        else ". "
    )
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
        "beside a significant Holm p (marked *). 'S1 up': ΔS1 > 0 and significant; 'S2 down': "
        "ΔS2 < 0 and significant, each on its own (S2 down without S1 up is S2 → neither). "
        "'Limit measured by': the S2 marker that itself reads the mechanism the row switches off "
        "(such a row partly restates the marker's threshold): "
        + "; ".join(f"{n} → {s}-{m}, which reads {r}" for n, (s, m, r) in MEASURED_BY.items())
        + ". Differences are computed from the "
        "unrounded shares, then rounded. "
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
    for col in [c for c in table.columns if c.endswith("significant")]:
        table[col] = [
            (str(v) == "True") if ref else None for v, ref in zip(table[col], compared, strict=True)
        ]
    table = direction_columns(table)  # an older CSV (toward_s1) gets the two verdicts
    m = 3 * int(compared.sum())
    table.attrs["family"] = m
    table.attrs["ci_level"] = 1.0 - ALPHA / max(m, 1)
    return table


#: The terminal's width: the printed table and its notes fit in it (issue 25).
TERMINAL_WIDTH = 100


def _short_diff(line: pd.Series, s: str) -> str:
    if not line["reference"]:
        return "ref"
    star = "*" if line[f"{s}_significant"] else " "
    return f"{100 * line[f'{s}_diff']:+.1f}{star}"


def print_table(table: pd.DataFrame, written: str = "argument.md") -> str:
    """The table for the terminal, no line wider than :data:`TERMINAL_WIDTH`.

    One line per row: the three shares, ΔS1 and ΔS2 (percentage points, * significant) each with
    its own verdict, and a mark where the switched-off limit is what an S2 marker measures. The
    intervals, the indicators and the kinds of neither are in ``written`` (named at the end).
    """
    import textwrap

    table = direction_columns(table)
    head = ["row", "vs", "S1 %", "S2 %", "neither %", "ΔS1 pp", "S1 up", "ΔS2 pp", "S2 down", "m"]
    body = []
    for _, line in table.iterrows():
        body.append(
            [
                str(line["row"]),
                str(line["reference"]) or "—",
                *(_pct(line[f"{s}_share"]) for s in SCENARIOS),
                _short_diff(line, "S1"),
                _yes_no(line["S1_up"]),
                _short_diff(line, "S2"),
                _yes_no(line["S2_down"]),
                "m" if line[MARKER_COLUMN] else "",
            ]
        )
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    left = {0, 1}

    def fmt(cells: list[str]) -> str:
        parts = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    lines = [fmt(head), *(fmt(r) for r in body)]
    marked = {m for text in table[MARKER_COLUMN] for m in text.split("; ") if m}
    notes = [
        "ΔS1, ΔS2: change against the row named under vs, in percentage points, computed from "
        "unrounded shares (* Holm-adjusted McNemar p < 0.05). S1 up and S2 down are judged "
        "apart: S2 down without S1 up moves runs from S2 to neither, not toward S1.",
    ]
    if marked:
        named = [
            f"{name} → {s}-{marker} ({reads})"
            for name, (s, marker, reads) in MEASURED_BY.items()
            if f"{s}-{marker} ({reads})" in marked
        ]
        notes.append(
            "m: the row switches off a limit that an S2 marker itself measures: "
            + "; ".join(named)
            + "."
        )
    notes.append(
        f"Wilson and paired intervals, open breach, munitions and the kinds of neither: {written} "
        "(every column: argument.csv)."
    )
    for note in notes:
        lines += textwrap.wrap(note, TERMINAL_WIDTH, break_on_hyphens=False)
    return "\n".join(lines)
