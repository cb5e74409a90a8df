"""Replay report: the article's record and the replay ensemble drawn together, pattern by pattern.

``main(DIR)`` (or ``write_report(DIR)``, which returns the path) reads a replay directory written by ``python -m experiments.replay`` (``replay.json``,
``replay_quarters.parquet``) and the dated record (``sim/data/record.csv``), and writes
``DIR/report.html``: one self-contained page (figures inlined as PNG) with the inputs, one panel
per pattern P1–P6 with its verdict (measured value next to its tolerance), the no-war
counterfactual check, and the provenance. Run it as ``python -m analysis.replay_report DIR``;
``python -m analysis.report DIR`` dispatches here when ``replay.json`` exists.
"""

from __future__ import annotations

import csv
import html
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.html import page, png_data  # noqa: E402
from contract.files import REPLAY_FILE, REPLAY_QUARTERS_FILE  # noqa: E402
from contract.io import atomic_write  # noqa: E402
from sim import replay  # noqa: E402

REPORT_FILE = "report.html"
RECORD_COLOUR, MODEL_COLOUR, CF_COLOUR = "#b2182b", "#2166ac", "#888888"


class ReportError(ValueError):
    """The directory is not a replay directory."""


def load_record() -> pd.DataFrame:
    """The article's dated record (``sim/data/record.csv``): date, quarter, event, ids, indicator."""
    text = resources.files("sim").joinpath("data", "record.csv").read_text(encoding="utf-8")
    return pd.DataFrame(list(csv.DictReader(text.splitlines())))


def load(directory: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """``replay.json`` and ``replay_quarters.parquet`` of a replay directory."""
    d = Path(directory)
    if not d.is_dir():
        raise ReportError(f"{d} is not a directory; expected a replay directory")
    meta = d / REPLAY_FILE
    quarters = d / REPLAY_QUARTERS_FILE
    if not meta.exists() or not quarters.exists():
        raise ReportError(
            f"{d} is not a replay directory: it needs replay.json and replay_quarters.parquet "
            "(written by `python -m experiments.replay --out DIR`)"
        )
    return json.loads(meta.read_text(encoding="utf-8")), pd.read_parquet(quarters)


def _series(bands: pd.DataFrame, indicator: str, world: str = "factual") -> pd.DataFrame:
    part = bands[(bands["indicator"] == indicator) & (bands["world"] == world)]
    return part.sort_values("step").reset_index(drop=True)


def _x(quarters: pd.Series) -> np.ndarray:
    """Quarter labels → decimal years (the middle of the quarter)."""
    return np.array([int(q[:4]) + (int(q[-1]) - 0.5) / 4 for q in quarters])


def _qx(label: str) -> float:
    return float(_x(pd.Series([label]))[0])


def _record_marks(ax: plt.Axes, record: pd.DataFrame, indicator: str, label: str) -> None:
    rows = record[record["indicator"] == indicator]
    for i, q in enumerate(sorted(set(rows["quarter"]))):
        ax.axvline(_qx(q), color=RECORD_COLOUR, lw=1.2, ls=":", label=label if i == 0 else None)


def _shade(ax: plt.Axes, first: str, last: str, colour: str, label: str | None = None) -> None:
    ax.axvspan(_qx(first) - 0.125, _qx(last) + 0.125, color=colour, alpha=0.12, label=label)


def _png(fig: plt.Figure) -> str:
    data = png_data(fig)
    plt.close(fig)
    return data


def _band(ax: plt.Axes, s: pd.DataFrame, label: str) -> None:
    x = _x(s["quarter"])
    ax.fill_between(x, s["q05"], s["q95"], color=MODEL_COLOUR, alpha=0.15, label="5–95 %")
    ax.fill_between(x, s["q25"], s["q75"], color=MODEL_COLOUR, alpha=0.3, label="25–75 %")
    ax.plot(x, s["q50"], color=MODEL_COLOUR, lw=1.5, label=label)


def figure_inputs(bands: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(9, 2.8))
    for name, colour in (("confrontation", "#762a83"), ("trilateral", "#1b7837")):
        s = _series(bands, f"input_{name}")
        ax.step(_x(s["quarter"]), s["mean"], where="mid", color=colour, label=name)
    s = _series(bands, "input_un_resolutions")
    ax.step(_x(s["quarter"]), s["mean"] / 9, where="mid", color="#555", ls="--", label="UN res./9")
    border = _series(bands, "input_border_open")
    for x, v in zip(_x(border["quarter"]), border["mean"], strict=True):
        if v < 0.5:
            ax.axvspan(x - 0.125, x + 0.125, color="#e08214", alpha=0.15, lw=0)
    war = _series(bands, "input_war")
    started = war[war["mean"] > 0]
    if len(started):
        ax.axvline(_qx(started["quarter"].iloc[0]) - 0.125, color="k", lw=1, label="war")
    ax.set_ylim(0, 1.02)
    ax.set_title("Inputs (orange: DPRK border closed)", fontsize=10)
    ax.legend(fontsize=7, ncol=5, loc="upper left")
    return _png(fig)


def figure_p1(bands: pd.DataFrame, record: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(9, 2.8))
    s = _series(bands, "summit")
    x = _x(s["quarter"])
    ax.bar(x, s["mean"], width=0.22, color=MODEL_COLOUR, alpha=0.6, label="model: P(summit)")
    ax.plot(x, s["mean"].rolling(4, min_periods=1).mean(), color=MODEL_COLOUR, label="4-q mean")
    _shade(ax, *replay.QUIET, "#999999", "2001–2018")
    _shade(ax, *replay.ACTIVE, "#f4a582", "2023–2024")
    _record_marks(ax, record, "summit", "record: Table 1 visit")
    ax.set_ylabel("share of replays")
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    return _png(fig)


def figure_p2(bands: pd.DataFrame, record: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(9, 2.8))
    parts = [_series(bands, f"posture_{k}") for k in ("observe", "loopholes", "open_breach")]
    x = _x(parts[0]["quarter"])
    ax.stackplot(
        x,
        *[p["mean"] for p in parts],
        colors=["#d1e5f0", "#fdb863", "#b2182b"],
        labels=["observe", "loopholes", "open breach"],
    )
    _record_marks(ax, record, "un_resolution", "record: UN resolution (F06)")
    ax.axvline(_qx(replay.WAR_START) - 0.125, color="k", lw=1, label="war")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of replays")
    ax.legend(fontsize=7, ncol=5, loc="lower left")
    return _png(fig)


def figure_p3(bands: pd.DataFrame, record: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(9, 2.8))
    _band(ax, _series(bands, "munitions"), "model median")
    cf = _series(bands, "munitions", "no_war")
    if len(cf):
        ax.plot(_x(cf["quarter"]), cf["mean"], color=CF_COLOUR, ls="--", label="no-war mean")
    _record_marks(ax, record, "munitions_flow", "record: F07")
    ax.axvline(_qx(replay.WAR_START) - 0.125, color="k", lw=1, label="war")
    ax.set_xlim(2015, _qx(replay.REOPENED) + 0.5)
    ax.set_ylabel("thousand containers / quarter")
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    return _png(fig)


def figure_p4(bands: pd.DataFrame, record: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(9, 2.8))
    for world, colour, ls in (("factual", MODEL_COLOUR, "-"), ("no_war", CF_COLOUR, "--")):
        s = _series(bands, "treaty", world)
        if len(s):
            ax.plot(_x(s["quarter"]), s["mean"], color=colour, ls=ls, label=f"{world}: signed")
    _shade(ax, "2000Q1", "2013Q4", "#999999", "before 2014")
    _shade(ax, *replay.TREATY_WINDOW, "#f4a582", "2023–2024")
    _record_marks(ax, record, "defence_treaty", "record: F02")
    ax.set_ylabel("share of replays")
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    return _png(fig)


def figure_p5(bands: pd.DataFrame, record: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(9, 2.8))
    _band(ax, _series(bands, "tourism"), "model median")
    border = _series(bands, "input_border_open")
    for x, v in zip(_x(border["quarter"]), border["mean"], strict=True):
        if v < 0.5:
            ax.axvspan(x - 0.125, x + 0.125, color="#e08214", alpha=0.15, lw=0)
    _record_marks(ax, record, "tourism", "record: F08")
    ax.set_ylabel("Russian tourism (index)")
    ax.legend(fontsize=7, ncol=4, loc="upper left")
    return _png(fig)


def figure_p6(meta: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(9, 2.8))
    lags = pd.DataFrame(meta["lags_by_scope"])
    ax.bar(lags["scope"], lags["mean_lag"], color=MODEL_COLOUR, alpha=0.7, label="model mean lag")
    for r in lags.itertuples():
        if r.count:
            ax.text(r.scope, (r.mean_lag or 0) + 0.2, f"n={r.count}", ha="center", fontsize=7)
    record = {"munitions": 1, "tourism": 2, "treaty": 3, "debt relief": 11}
    for name, lag in record.items():
        ax.axhline(lag, color=RECORD_COLOUR, ls=":", lw=1)
        ax.text(4.55, lag, f"record: {name} {lag} q", fontsize=7, va="center", color=RECORD_COLOUR)
    ax.set_xlabel("scope: domains agreed at the summit")
    ax.set_ylabel("quarters to half implemented")
    ax.set_xlim(0.4, 5.6)
    ax.legend(fontsize=7, loc="upper left")
    return _png(fig)


def render(meta: dict[str, Any], bands: pd.DataFrame, record: pd.DataFrame) -> str:
    """The report page as one HTML string."""
    figures = {
        "P1": figure_p1(bands, record),
        "P2": figure_p2(bands, record),
        "P3": figure_p3(bands, record),
        "P4": figure_p4(bands, record),
        "P5": figure_p5(bands, record),
        "P6": figure_p6(meta),
    }
    esc = html.escape
    world = meta.get("counterfactual") or "factual"
    parts = [
        f"<h1>Replay {esc(meta['start_quarter'])}–{esc(meta['end_quarter'])} ({esc(world)})</h1>",
        f"<p>{meta['replicates']} replays, seed {meta['seed']}, model {esc(meta['model_version'])}."
        f" Patterns passed: {meta['passed']} of {len(meta['patterns'])}. Overrides: "
        f"{esc(json.dumps(meta.get('overrides') or {}))}. Blue: the ensemble; red dotted: the "
        "article's dated record (sim/data/record.csv). See docs/VALIDATION.md.</p>",
        "<table class='t'><tr><th>pattern</th><th>ids</th><th>verdict</th><th>measured</th>"
        "<th>tolerance</th></tr>",
    ]
    checks = [*meta["patterns"], meta["counterfactual_check"]]
    for v in checks:
        cls, word = ("pass", "PASS") if v["passed"] else ("fail", "FAIL")
        parts.append(
            f"<tr><td>{esc(v['pattern'])}</td><td>{esc(', '.join(v['ids']))}</td>"
            f"<td class='{cls}'>{word}</td><td>{esc(v['measured'])}</td>"
            f"<td>{esc(v['tolerance'])}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        f"<section><h2>Inputs</h2><img alt='inputs' src='data:image/png;base64,"
        f"{figure_inputs(bands)}'></section>"
    )
    for v in meta["patterns"]:
        cls, word = ("pass", "PASS") if v["passed"] else ("fail", "FAIL")
        parts.append(
            f"<section><h2>{esc(v['pattern'])} ({esc(', '.join(v['ids']))}): {esc(v['claim'])}"
            f"</h2><p><span class='{cls}'>{word}</span> — measured: {esc(v['measured'])}; "
            f"tolerance: {esc(v['tolerance'])}.</p>"
            f"<img alt='{esc(v['pattern'])}' src='data:image/png;base64,{figures[v['pattern']]}'>"
            "</section>"
        )
    cf = meta["counterfactual_check"]
    cls, word = ("pass", "PASS") if cf["passed"] else ("fail", "FAIL")
    parts.append(
        f"<section><h2>Counterfactual: no 2022 war (M03)</h2><p><span class='{cls}'>{word}</span>"
        f" — {esc(cf['measured'])}; tolerance: {esc(cf['tolerance'])}. The no-war runs are the "
        "grey dashed lines in P3 and P4.</p></section>"
    )
    prov = {k: meta[k] for k in ("created", "versions", "inputs_sha256", "record_sha256")}
    parts.append(f"<h2>Provenance</h2><pre>{esc(json.dumps(prov, indent=1))}</pre>")
    return page("Replay 2000–2024: patterns P1–P6", "".join(parts))


def write_report(directory: str | Path) -> Path:
    """Write ``DIR/report.html`` for a replay directory and return its path."""
    meta, bands = load(directory)
    page = render(meta, bands, load_record())
    out = Path(directory) / REPORT_FILE
    atomic_write(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return out


def main(directory: str | Path) -> int:
    """Write the report, print where it is; 0 on success, 2 (with a message) on a bad directory.

    ``python -m analysis.report DIR`` calls this for a directory holding ``replay.json``.
    """
    try:
        out = write_report(directory)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {out}")
    return 0


def cli(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m analysis.replay_report DIR (a replay directory)", file=sys.stderr)
        return 2
    return main(args[0])


if __name__ == "__main__":
    sys.exit(cli())
