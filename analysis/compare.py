"""``python -m analysis.compare DIR_A DIR_B``: what differs between two experiments, with statistics.

Cells are matched by their parameter values: the match keys are the parameters swept on either
side (a parameter swept on one side only is matched against the other side's fixed value), so two
grids over the same axes are compared cell by cell whatever else differs between them (that
"else" is what is being compared, and is listed as such). Two runs are one cell each.

For every matched cell and scenario (S1, S2, neither), and overall (counts pooled over the matched
cells):

* the difference ``share_B - share_A`` with Newcombe's hybrid score 95 % interval (method 10,
  from Wilson intervals);
* the two-sided pooled two-proportion z-test, with Holm's step-down correction over the family of
  all per-cell tests (3 per cell; controls the family-wise error rate at 5 % under any
  dependence), and separately over the 3 overall tests;
* Cohen's h as the effect size (|h| 0.2 small, 0.5 medium, 0.8 large).

Cells found on one side only are listed; warnings are raised when the sides differ in model
version, classifier settings or replicate counts. Outputs ``compare.html`` and ``compare.md`` in
``--out`` (default: ``DIR_B/compare``), and a short table on the terminal.
"""

from __future__ import annotations

import argparse
import html
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import results as R
from analysis.stats import (
    SCENARIO_LABELS,
    adjust_pvalues,
    cohens_h,
    newcombe_diff_ci,
    two_proportion_pvalue,
)

__all__ = ["Comparison", "compare_cells", "compare_results", "main", "match_keys"]

ALPHA = 0.05
CORRECTION = "holm"
METHOD_NOTE = (
    "Differences are share(B) - share(A) with Newcombe's hybrid score 95 % interval (method 10, "
    "from Wilson intervals). p-values: two-sided pooled two-proportion z-test, adjusted with "
    "Holm's step-down method over all per-cell tests (3 scenarios × matched cells), and "
    "separately over the 3 overall tests; 'significant' means adjusted p < 0.05. Effect size: "
    "Cohen's h = 2 asin(sqrt(p_B)) - 2 asin(sqrt(p_A)) (|h| 0.2 small, 0.5 medium, 0.8 large)."
)


@dataclass
class Comparison:
    """The result of comparing experiment A with experiment B."""

    keys: list[str]
    per_cell: pd.DataFrame  # one row per (matched cell, scenario)
    overall: pd.DataFrame  # one row per scenario, counts pooled over the matched cells
    only_a: pd.DataFrame  # cells (match-key values) found in A only
    only_b: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    differing: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # fixed params A vs B
    label_a: str = "A"
    label_b: str = "B"

    @property
    def significant_cells(self) -> pd.DataFrame:
        """Per-cell rows whose Holm-adjusted p-value is below 0.05."""
        return self.per_cell[self.per_cell["significant"]]


def match_keys(a: R.Run | R.Sweep, b: R.Run | R.Sweep) -> list[str]:
    """Parameters that identify a cell: those swept on either side, in a stable order."""
    keys: list[str] = []
    for side in (a, b):
        if isinstance(side, R.Sweep):
            keys += [k for k in side.swept if k not in keys]
    return keys


def _key_value(value: Any) -> Any:
    """A hashable, float-noise-free form of a parameter value for matching."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.number):
        return round(float(value), 10)
    return value


def _side_cells(result: R.Run | R.Sweep, keys: list[str]) -> pd.DataFrame:
    cells = result.cells()
    fixed = result.parameters
    out = pd.DataFrame(index=cells.index)
    for key in keys:
        if key in cells:
            out[key] = cells[key].map(_key_value)
        elif key in fixed:
            out[key] = _key_value(fixed[key])
        else:
            raise ValueError(f"{result.path}: cannot tell the value of {key!r} for its cells")
    out["n"] = cells["n"].astype(np.int64)
    for s in SCENARIO_LABELS:
        out[f"{s}_count"] = cells[f"{s}_count"].astype(np.int64)
    if keys:  # a design may repeat a point across chunks: pool them
        out = out.groupby(keys, sort=True, dropna=False).sum().reset_index()
    return out


def compare_cells(cells_a: pd.DataFrame, cells_b: pd.DataFrame, keys: list[str]) -> Comparison:
    """Compare two cell tables (columns: ``keys``, ``n``, ``<scenario>_count``)."""
    counts = ["n", *(f"{s}_count" for s in SCENARIO_LABELS)]
    if keys:
        merged = cells_a.merge(
            cells_b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True, sort=True
        )
        matched = merged[merged["_merge"] == "both"].reset_index(drop=True)
        only_a = merged.loc[merged["_merge"] == "left_only", keys].reset_index(drop=True)
        only_b = merged.loc[merged["_merge"] == "right_only", keys].reset_index(drop=True)
    else:
        a = cells_a[counts].sum().add_suffix("_a")
        b = cells_b[counts].sum().add_suffix("_b")
        matched = pd.DataFrame([pd.concat([a, b])])
        only_a = only_b = pd.DataFrame()
    per_cell = _tests(matched, keys)
    if not per_cell.empty:
        per_cell["p_adjusted"] = adjust_pvalues(per_cell["p_value"].to_numpy(), CORRECTION)
        per_cell["significant"] = per_cell["p_adjusted"] < ALPHA
    pooled = pd.DataFrame([matched[[f"{c}_{s}" for s in "ab" for c in counts]].sum()])
    overall = _tests(pooled, [])
    overall["p_adjusted"] = adjust_pvalues(overall["p_value"].to_numpy(), CORRECTION)
    overall["significant"] = overall["p_adjusted"] < ALPHA
    return Comparison(keys, per_cell, overall, only_a, only_b)


def _tests(matched: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Long table: one row per (row of ``matched``, scenario) with difference, CI, p, h.

    Rows keep the order of ``matched`` (sorted by the keys), scenarios in reporting order.
    """
    k = len(SCENARIO_LABELS)
    na = np.repeat(matched["n_a"].to_numpy(dtype=float), k)
    nb = np.repeat(matched["n_b"].to_numpy(dtype=float), k)
    # (rows, scenarios) raveled row-major: row i's scenarios are consecutive
    ca = matched[[f"{s}_count_a" for s in SCENARIO_LABELS]].to_numpy(dtype=float).ravel()
    cb = matched[[f"{s}_count_b" for s in SCENARIO_LABELS]].to_numpy(dtype=float).ravel()
    # B minus A: "what changes when going from A to B"
    diff, low, high = newcombe_diff_ci(cb, nb, ca, na)
    columns: dict[str, Any] = {key: np.repeat(matched[key].to_numpy(), k) for key in keys}
    columns |= {
        "scenario": np.tile(np.array(SCENARIO_LABELS, dtype=object), len(matched)),
        "n_a": na.astype(np.int64),
        "n_b": nb.astype(np.int64),
        "share_a": ca / na,
        "share_b": cb / nb,
        "diff": diff,
        "diff_low": low,
        "diff_high": high,
        "p_value": two_proportion_pvalue(cb, nb, ca, na),
        "cohens_h": cohens_h(cb / nb, ca / na),
    }
    return pd.DataFrame(columns)


def _classifier(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k.startswith("classifier.")}


def _side_warnings(a: R.Run | R.Sweep, b: R.Run | R.Sweep, cmp: Comparison) -> None:
    if a.model_version != b.model_version:
        cmp.warnings.append(
            f"model versions differ: A {a.model_version}, B {b.model_version}; "
            "differences may come from the code, not the parameters"
        )
    fa, fb = a.parameters, b.parameters
    ca, cb = _classifier(fa), _classifier(fb)
    diff_cls = sorted(k for k in set(ca) | set(cb) if k not in cmp.keys and ca.get(k) != cb.get(k))
    if diff_cls:
        listed = ", ".join(f"{k} (A {ca.get(k)}, B {cb.get(k)})" for k in diff_cls)
        cmp.warnings.append(
            f"classifier settings differ: {listed}; the scenarios are not defined alike"
        )
    if not cmp.per_cell.empty:
        first = cmp.per_cell.drop_duplicates(subset=[*cmp.keys]) if cmp.keys else cmp.per_cell
        unequal = first[first["n_a"] != first["n_b"]]
        if len(unequal):
            cmp.warnings.append(
                f"replicate counts differ in {len(unequal)} of {len(first)} matched cell(s) "
                f"(e.g. A n = {unequal['n_a'].iloc[0]}, B n = {unequal['n_b'].iloc[0]}); "
                "the tests allow for it, but the two sides are not equally precise"
            )
    if len(cmp.only_a) or len(cmp.only_b):
        cmp.warnings.append(
            f"{len(cmp.only_a)} cell(s) only in A and {len(cmp.only_b)} only in B are not compared"
        )
    if cmp.per_cell.empty:
        cmp.warnings.append("no cell matched: the two sides share no parameter combination")
    for key in sorted(set(fa) | set(fb)):
        if key in cmp.keys or key.startswith("classifier."):
            continue
        va, vb = fa.get(key), fb.get(key)
        if isinstance(va, list | dict) or isinstance(vb, list | dict):
            continue
        if _key_value(va) != _key_value(vb):
            cmp.differing[key] = (va, vb)


def compare_results(a: R.Run | R.Sweep, b: R.Run | R.Sweep) -> Comparison:
    """Compare two loaded results (runs or sweeps); see the module docstring."""
    keys = match_keys(a, b)
    cmp = compare_cells(_side_cells(a, keys), _side_cells(b, keys), keys)
    cmp.label_a, cmp.label_b = str(a.path), str(b.path)
    _side_warnings(a, b, cmp)
    return cmp


# --- output -----------------------------------------------------------------------------------


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in ("share_a", "share_b"):
        if c in out:
            out[c] = out[c].map(lambda v: f"{v:.1%}")
    if "diff" in out:
        out["difference (95 % CI)"] = [
            f"{d:+.1%} [{lo:+.1%}, {hi:+.1%}]"
            for d, lo, hi in zip(out["diff"], out["diff_low"], out["diff_high"], strict=True)
        ]
        out = out.drop(columns=["diff", "diff_low", "diff_high"])
        cols = list(out.columns)
        cols.remove("difference (95 % CI)")
        cols.insert(cols.index("share_b") + 1, "difference (95 % CI)")
        out = out[cols]
    for c in ("p_value", "p_adjusted"):
        if c in out:
            out[c] = out[c].map(lambda v: f"{v:.3g}")
    if "cohens_h" in out:
        out["cohens_h"] = out["cohens_h"].map(lambda v: f"{v:+.3f}")
    if "significant" in out:
        out["significant"] = out["significant"].map(lambda v: "yes" if v else "no")
    return out


def _md(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (values as they print)."""
    if frame.empty:
        return "_(none)_\n"
    cols = [str(c) for c in frame.columns]
    cell = [[_md(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cell]
    return "\n".join(lines) + "\n"


def _summary_lines(cmp: Comparison) -> list[str]:
    n_cells = len(cmp.per_cell) // len(SCENARIO_LABELS)
    n_sig = int(cmp.per_cell["significant"].sum()) if not cmp.per_cell.empty else 0
    return [
        f"A: {cmp.label_a}",
        f"B: {cmp.label_b}",
        f"matched cells: {n_cells} on {', '.join(cmp.keys) or '(single point)'}; "
        f"only in A: {len(cmp.only_a)}; only in B: {len(cmp.only_b)}",
        f"significant per-cell differences (Holm-adjusted p < 0.05): {n_sig} of {len(cmp.per_cell)}",
    ]


def _differing_table(cmp: Comparison) -> pd.DataFrame:
    return pd.DataFrame(
        [{"parameter": k, "A": va, "B": vb} for k, (va, vb) in cmp.differing.items()],
        columns=["parameter", "A", "B"],
    )


def to_markdown(cmp: Comparison) -> str:
    """compare.md: summary, warnings, overall table, per-cell table, one-sided cells."""
    parts = ["# Comparison of two experiments", ""]
    parts += [f"- {line}" for line in _summary_lines(cmp)]
    parts += ["", METHOD_NOTE, ""]
    if cmp.warnings:
        parts += ["## Warnings", ""] + [f"- **warning:** {w}" for w in cmp.warnings] + [""]
    parts += ["## Fixed parameters that differ (what the comparison is about)", ""]
    parts += [markdown_table(_differing_table(cmp))]
    parts += ["## Overall (counts pooled over the matched cells)", ""]
    parts += [markdown_table(_display(cmp.overall))]
    parts += ["## Per cell", "", markdown_table(_display(cmp.per_cell))]
    parts += ["## Cells only in A", "", markdown_table(cmp.only_a)]
    parts += ["## Cells only in B", "", markdown_table(cmp.only_b)]
    return "\n".join(parts)


def to_html(cmp: Comparison) -> str:
    """compare.html: the same content as compare.md, self-contained (inline CSS only)."""

    def table(frame: pd.DataFrame) -> str:
        if frame.empty:
            return "<p><em>(none)</em></p>"
        return frame.to_html(index=False, border=0, classes="t", escape=True)

    body = ["<h1>Comparison of two experiments</h1><ul>"]
    body += [f"<li>{html.escape(line)}</li>" for line in _summary_lines(cmp)]
    body += ["</ul>", f"<p class='note'>{html.escape(METHOD_NOTE)}</p>"]
    if cmp.warnings:
        body += ["<h2>Warnings</h2><ul class='warn'>"]
        body += [f"<li>warning: {html.escape(w)}</li>" for w in cmp.warnings] + ["</ul>"]
    body += ["<h2>Fixed parameters that differ</h2>", table(_differing_table(cmp))]
    body += ["<h2>Overall (counts pooled over the matched cells)</h2>"]
    body += [table(_display(cmp.overall)), "<h2>Per cell</h2>", table(_display(cmp.per_cell))]
    body += ["<h2>Cells only in A</h2>", table(cmp.only_a)]
    body += ["<h2>Cells only in B</h2>", table(cmp.only_b)]
    return HTML_PAGE.format(title="Comparison", body="\n".join(body))


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em;
       color: #222; }}
table.t {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.2em; }}
table.t th, table.t td {{ border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }}
.note {{ color: #555; font-size: 0.9em; }} .warn li {{ color: #a15c00; }}
img.fig {{ max-width: 100%; height: auto; display: block; margin: 0.5em 0 1.5em; }}
pre {{ background: #f6f6f6; padding: 0.6em; overflow-x: auto; }}
</style></head><body>
{body}
</body></html>
"""


def terminal_table(cmp: Comparison) -> str:
    """Short terminal summary: the overall rows and the count of significant cells."""
    shown = _display(cmp.overall)[
        ["scenario", "share_a", "share_b", "difference (95 % CI)", "p_adjusted", "cohens_h"]
    ]
    lines = _summary_lines(cmp) + ["", shown.to_string(index=False)]
    lines.append("(difference = B - A, Newcombe 95 % CI; p: two-proportion z-test, Holm-adjusted)")
    lines += [f"warning: {w}" for w in cmp.warnings]
    return "\n".join(lines)


def write_outputs(cmp: Comparison, outdir: Path) -> tuple[Path, Path]:
    """Write compare.md and compare.html atomically into ``outdir``."""
    from experiments.results import atomic_write

    md, page = to_markdown(cmp), to_html(cmp)
    md_path, html_path = outdir / "compare.md", outdir / "compare.html"
    atomic_write(md_path, lambda tmp: tmp.write_text(md, encoding="utf-8"))
    atomic_write(html_path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return md_path, html_path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m analysis.compare DIR_A DIR_B [--out OUTDIR]``."""
    parser = argparse.ArgumentParser(prog="python -m analysis.compare", description=__doc__)
    parser.add_argument("dir_a", type=Path, help="experiment A (run or sweep directory)")
    parser.add_argument("dir_b", type=Path, help="experiment B (run or sweep directory)")
    parser.add_argument("--out", type=Path, help="output directory (default: DIR_B/compare)")
    args = parser.parse_args(argv)
    try:
        a, b = R.load(args.dir_a), R.load(args.dir_b)
        for side in (a, b):
            if isinstance(side, R.Replay):
                raise R.NotAResultDir(side.path, "is a replay directory, which has no scenarios")
        cmp = compare_results(a, b)  # type: ignore[arg-type]
    except (R.NotAResultDir, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    outdir = args.out or (args.dir_b / "compare")
    md_path, html_path = write_outputs(cmp, outdir)
    print(terminal_table(cmp))
    print(f"written: {md_path} and {html_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
