"""``python -m analysis.report DIR [--out OUTDIR]``: tables and figures for a run or a sweep.

Writes into ``OUTDIR`` (default ``DIR/report``):

* ``report.html`` — self-contained: every figure embedded as a base64 PNG, CSS inline, no
  external URL (no CDN, no web fonts), so it opens offline;
* ``figures/*.png`` and ``figures/*.svg`` — each figure in both formats;
* ``tables/*.csv`` and ``tables/*.md`` — each table in both formats.

Contents: the scenario table (S1, S2, neither: count, share, Wilson 95 % interval); for a grid
sweep, the per-cell table, heat maps of P(S1) and P(S2) over two swept parameters faceted by a
third, and the marginal effect of each swept parameter; fan charts of the key indicators split by
scenario; for a sampled design (``sweep.json`` kind ``"design"``), Sobol' first-order and total
indices with 95 % intervals for P(S1), P(S2) and indicator means, the parameters ranked by what
drives S1 and S2, a PRIM box where S1 dominates (coverage, density, peeling trajectory) and a CART
tree as a cross-check.

Everything is computed and rendered before the first file is written, so a failure leaves no
half-written report; each file is written atomically. A replay directory is handed to
``analysis.replay_report.main`` when that module exists. A directory that is neither a run nor a
sweep ends with exit status 2 and one message.
"""

from __future__ import annotations

import argparse
import base64
import html
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from analysis import api, figures
from analysis import results as R
from analysis.compare import HTML_PAGE, markdown_table
from analysis.stats import SCENARIO_LABELS

__all__ = ["Report", "build", "main"]

#: Indicators shown as fan charts (recorded by experiments.runner.FAN_INDICATORS).
FAN_INDICATORS = ("defence", "economic", "technology", "munitions")
#: Cells listed in the HTML page (all of them go to the CSV/Markdown files).
HTML_MAX_ROWS = 60


@dataclass
class Report:
    """Everything a report holds, in memory, in the order of the page."""

    title: str
    sections: list[tuple[str, list[Any]]] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def section(self, heading: str) -> list[Any]:
        items: list[Any] = []
        self.sections.append((heading, items))
        return items


@dataclass
class _Fig:
    name: str
    caption: str


@dataclass
class _Table:
    name: str
    caption: str
    html_rows: int = HTML_MAX_ROWS


def _pct_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for c in out.columns:
        if c.endswith(("share", "ci_low", "ci_high")) and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: f"{v:.1%}")
    return out


def _provenance(result: R.Run | R.Sweep) -> list[str]:
    lines = [f"directory: {result.path}", f"model version: {result.model_version}"]
    if isinstance(result, R.Run):
        s = result.summary
        lines.append(f"one parameter point, n = {result.n:,} replicates, seed {s.get('seed')}")
        if s.get("config_hash"):
            lines.append(f"config hash: {s['config_hash']}")
    else:
        lines.append(
            f"{result.kind} sweep: {len(result.table):,} "
            f"{'design points' if result.kind == 'design' else 'cells'}, "
            f"{result.n:,} replicate runs; swept: {', '.join(result.swept) or '(none)'}"
        )
        for key in ("redone", "failed"):
            if result.meta.get(key):
                lines.append(f"{key} cells: {result.meta[key]}")
    return lines


def _scenario_section(rep: Report, result: R.Run | R.Sweep) -> None:
    items = rep.section("Scenario table")
    table = api.scenario_table(result).reset_index()
    rep.tables["scenarios"] = table
    pooled = " pooled over every cell of the sweep" if isinstance(result, R.Sweep) else ""
    items.append(
        _Table(
            "scenarios",
            f"How often runs end in S1, S2 or neither{pooled}: count, share and 95 % interval "
            "(Wilson score interval).",
        )
    )


def _grid_sections(rep: Report, sweep: R.Sweep) -> None:
    swept = sweep.swept
    cells = sweep.cells()
    keep = [*swept, "job", "n"] + [
        f"{s}_{c}" for s in SCENARIO_LABELS for c in ("count", "share", "ci_low", "ci_high")
    ]
    keep += [c for c in cells.columns if c.endswith("_mean")]
    if sweep.kind == "design":
        rep.section("Design points").append(
            f"The {len(cells):,} design points (parameters, counts, shares, Wilson 95 % "
            f"intervals) are in {R.SWEEP_FILE}; they are not repeated here."
        )
    else:
        rep.tables["cells"] = cells[[c for c in keep if c in cells.columns]]
        items = rep.section("Cells of the sweep")
        items.append(_Table("cells", "One row per cell: shares with Wilson 95 % intervals."))
    numeric = [k for k in swept if pd.api.types.is_numeric_dtype(cells[k])]
    if len(numeric) >= 2:
        x, y = numeric[0], numeric[1]
        # a sampled design is binned; faceting binned cells by a third binned axis is unreadable
        facet = numeric[2] if len(numeric) >= 3 and sweep.kind != "design" else None
        rest = [k for k in swept if k not in (x, y, facet)]
        pooled = f" Pooled over {', '.join(rest)}." if rest else ""
        items = rep.section("Heat maps")
        for s in ("S1", "S2"):
            name = f"heatmap_{s}"
            rep.figures[name] = figures.heatmaps(cells, x, y, facet, s)
            facet_text = f", one panel per value of {facet}" if facet else ""
            items.append(_Fig(name, f"P({s}) over {x} × {y}{facet_text}.{pooled}"))
    elif swept:
        rep.section("Heat maps").append(
            "Heat maps need two swept numeric parameters; see the marginal effects instead."
        )
    if swept:
        items = rep.section("Marginal effects")
        frames = []
        for key in swept:
            part = R.pool_cells(cells, [key]).rename(columns={key: "value"})
            frames.append(part.assign(parameter=key))
        table = pd.concat(frames, ignore_index=True)
        rep.tables["marginal_effects"] = table[["parameter", *table.columns[:-1]]]
        rep.figures["marginal_effects"] = figures.marginal_effects(cells, swept)
        items.append(
            _Fig(
                "marginal_effects",
                "P(S1) and P(S2) at each value of each swept parameter, counts pooled over the "
                "other swept parameters; bars are Wilson 95 % intervals"
                + (
                    " (a sampled design's values are binned into equal-count bins)."
                    if sweep.kind == "design"
                    else "."
                ),
            )
        )
        items.append(_Table("marginal_effects", "The marginal effects as a table."))


def _fan_section(rep: Report, result: R.Run | R.Sweep) -> None:
    items = rep.section("How S1 and S2 runs differ over time (fan charts)")
    quantiles, note = R.fan_quantiles(result)
    if quantiles is None:
        items.append(f"No per-quarter quantiles were recorded ({note}).")
        return
    items.append(
        f"Per-quarter quantiles of each indicator, for all runs and for the runs of each "
        f"scenario: median line, 50 % band (quartiles) and 90 % band (5th–95th percentiles). "
        f"Shown for {note}."
    )
    for indicator in FAN_INDICATORS:
        if indicator not in set(quantiles["indicator"]):
            continue
        name = f"fan_{indicator}"
        rep.figures[name] = figures.fan_chart(quantiles, indicator)
        items.append(_Fig(name, f"Fan chart of {indicator}, split by scenario."))


def _design_sections(rep: Report, sweep: R.Sweep) -> None:
    _, names, method = api.design_points(sweep)
    items = rep.section("Global sensitivity (Sobol' indices)")
    if method != "sobol":
        items.append(
            f"This design was sampled with {method!r}; Sobol' indices need a Sobol'/Saltelli "
            "design (method 'sobol')."
        )
        if method == "morris":
            rep.tables["morris"] = api.sobol(sweep)
            items.append(_Table("morris", "Morris screening: mu_star (± 95 %) and sigma."))
    else:
        try:
            tidy = api.sobol(sweep)
        except ValueError as error:
            items.append(f"Sobol' indices could not be computed: {error}")
            tidy = None
        if tidy is not None:
            rep.tables["sobol"] = tidy
            items.append(
                "First-order (S1) and total (ST) Sobol' indices estimated with SALib (Saltelli "
                "scheme, no second-order terms), with 95 % bootstrap confidence half-widths "
                "(_conf). Outputs: P(S1) and P(S2) per design point and cell means of key "
                "indicators. Caution: each point's P(S) is itself estimated from few replicates; "
                "that Monte-Carlo noise looks to the method like an interaction and adds a common "
                "floor to every total index, so read the ranking against that floor."
            )
            items.append(_Table("sobol", "Sobol' indices by output and parameter."))
            for output in ("P(S1)", "P(S2)"):
                part = tidy[tidy["output"] == output].set_index("parameter")
                if part.empty:
                    continue
                name = f"sobol_{output[2:4]}"
                rep.figures[name] = figures.sobol_chart(part, output)
                items.append(_Fig(name, f"Sobol' indices of {output} (bars: 95 % intervals)."))
            rare = api.rare_outputs(sweep)
            for output, informative in rare.items():
                items.append(
                    f"Caution: {output} is informative at only {informative} design point(s) "
                    f"(the scenario is too rare, or too common, over these ranges); its indices "
                    "are not reliable (SALib reports zeros when a block of outputs is constant)."
                )
            ranking = api.drivers(tidy)
            rep.tables["drivers"] = ranking
            items = rep.section("Which parameters drive S1 and which drive S2")
            items.append(_drivers_sentence(ranking, rare))
            items.append(
                _Table(
                    "drivers",
                    "Parameters ranked by total Sobol' index (rank 1 = largest) for P(S1) and "
                    "P(S2); 'drives' names the scenario whose total index is larger by more than "
                    "both 95 % half-widths together ('both': both clearly above 0).",
                )
            )
    items = rep.section("Scenario discovery: where S1 dominates (PRIM, CART)")
    try:
        box = api.prim(sweep, "S1")
    except ValueError as error:
        items.append(f"No PRIM box: {error}.")
        return
    rep.tables["prim_box"] = box.box
    rep.tables["prim_trajectory"] = box.trajectory.reset_index()
    items.append(
        f"PRIM (ema_workbench) over {box.points:,} design points; a case of interest is a point "
        f"where {box.rule} ({box.cases:,} cases). Chosen box (step {box.index} of the peeling "
        f"trajectory, density threshold {box.threshold:.2f}): coverage {box.coverage:.1%} "
        f"(share of all S1 cases inside the box), density {box.density:.1%} (share of points in "
        f"the box that are S1 cases), mass {box.mass:.1%}, {box.res_dim} restricted "
        f"dimension(s). Uses at most {api.PRIM_MAX_POINTS:,} design points."
    )
    items.append(_Table("prim_box", "Limits of the chosen box (restricted parameters only)."))
    rep.figures["prim_trajectory"] = figures.prim_chart(box)
    items.append(_Fig("prim_trajectory", "Peeling trajectory: coverage against density."))
    items.append(_Table("prim_trajectory", "The peeling trajectory.", html_rows=0))
    tree = api.cart(sweep, "S1")
    items.append("CART cross-check (scikit-learn, depth 3, same cases; class True = a case):")
    items.append(_Pre(tree))
    rep.tables["cart"] = pd.DataFrame({"tree": tree.splitlines()})


@dataclass
class _Pre:
    text: str


def _drivers_sentence(ranking: pd.DataFrame, rare: dict[str, int]) -> str:
    def top(col: str, scenario: str) -> str:
        if f"P({scenario})" in rare:
            return f"{scenario} has too few informative design points to rank its drivers"
        order = ranking.sort_values(col, ascending=False).head(3)
        named = [f"{r.parameter} (ST = {getattr(r, col):.2f})" for r in order.itertuples()]
        return f"{scenario} is driven most by " + ", ".join(named)

    return top("ST_S1", "S1") + "; " + top("ST_S2", "S2") + "."


def build(source: str | Path | R.Run | R.Sweep) -> Report:
    """Compute every table and figure of the report for a run or sweep (nothing is written)."""
    result = api.open_result(source)
    rep = Report(title=f"Scenario report: {result.path.name or result.path}")
    rep.section("Provenance").extend(_provenance(result))
    _scenario_section(rep, result)
    if isinstance(result, R.Sweep):
        _grid_sections(rep, result)
    _fan_section(rep, result)
    if isinstance(result, R.Sweep) and result.kind == "design":
        _design_sections(rep, result)
    return rep


def _html_table(frame: pd.DataFrame, rows: int) -> str:
    shown = _pct_table(frame.head(rows) if rows else frame.iloc[:0])
    text = shown.to_html(index=False, border=0, classes="t", float_format=lambda v: f"{v:.4g}")
    if rows and len(frame) > rows:
        text += f"<p class='note'>first {rows} of {len(frame)} rows; all in the CSV file.</p>"
    return text


def render_html(rep: Report, pngs: dict[str, bytes]) -> str:
    """The self-contained page (figures as data: URLs)."""
    body = [f"<h1>{html.escape(rep.title)}</h1>"]
    for heading, items in rep.sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for item in items:
            if isinstance(item, _Fig):
                data = base64.b64encode(pngs[item.name]).decode("ascii")
                body.append(
                    f"<figure><img class='fig' id='fig-{item.name}' alt='{html.escape(item.caption)}' "
                    f"src='data:image/png;base64,{data}'><figcaption>{html.escape(item.caption)} "
                    f"(figures/{item.name}.png, .svg)</figcaption></figure>"
                )
            elif isinstance(item, _Table):
                body.append(f"<p>{html.escape(item.caption)} (tables/{item.name}.csv, .md)</p>")
                if item.html_rows:
                    body.append(_html_table(rep.tables[item.name], item.html_rows))
            elif isinstance(item, _Pre):
                body.append(f"<pre>{html.escape(item.text)}</pre>")
            else:
                body.append(f"<p>{html.escape(str(item))}</p>")
    return HTML_PAGE.format(title=html.escape(rep.title), body="\n".join(body))


def write(rep: Report, outdir: Path) -> Path:
    """Render every figure, then write figures, tables and (last) report.html atomically."""
    from experiments.results import atomic_write

    pngs = {name: figures.to_png(fig) for name, fig in rep.figures.items()}
    svgs = {name: figures.to_svg(fig) for name, fig in rep.figures.items()}
    page = render_html(rep, pngs)
    csvs = {name: t.to_csv(index=False) for name, t in rep.tables.items()}
    mds = {name: markdown_table(_pct_table(t)) for name, t in rep.tables.items()}
    for name in rep.figures:
        atomic_write(outdir / "figures" / f"{name}.png", lambda p, b=pngs[name]: p.write_bytes(b))
        atomic_write(outdir / "figures" / f"{name}.svg", lambda p, b=svgs[name]: p.write_bytes(b))
    for name in rep.tables:
        atomic_write(outdir / "tables" / f"{name}.csv", lambda p, t=csvs[name]: p.write_text(t))
        atomic_write(outdir / "tables" / f"{name}.md", lambda p, t=mds[name]: p.write_text(t))
    path = outdir / "report.html"
    atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path


def _replay(path: Path) -> int:
    if importlib.util.find_spec("analysis.replay_report") is None:
        print(
            f"error: {path} is a replay directory, but analysis.replay_report is not available",
            file=sys.stderr,
        )
        return 2
    from analysis import replay_report  # type: ignore[attr-defined]

    return int(replay_report.main(path) or 0)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m analysis.report DIR [--out OUTDIR]``."""
    parser = argparse.ArgumentParser(prog="python -m analysis.report", description=__doc__)
    parser.add_argument("dir", type=Path, help="a run or sweep directory")
    parser.add_argument("--out", type=Path, help="output directory (default: DIR/report)")
    args = parser.parse_args(argv)
    try:
        result = R.load(args.dir)
        if isinstance(result, R.Replay):
            return _replay(args.dir)
        rep = build(result)
    except R.NotAResultDir as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    outdir = args.out or (args.dir / "report")
    path = write(rep, outdir)
    print(api.scenario_table(result).to_string(float_format=lambda v: f"{v:.3f}"))
    print("(95 % intervals: Wilson score)")
    print(f"report: {path}")
    print(f"figures: {outdir / 'figures'}  tables: {outdir / 'tables'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
