"""The article's own uncertainty (issue 22): the hedged prior predictive and what it shows.

The article hedges its reasons for S2 ("likely", "highly likely", "may"); docs/ODD.md §7.9.1 reads
each hedge as a range of limit strengths. This module runs the **hedged ensemble** — each replicate
draws its calibrated parameters from the history-matched posterior and each limit strength over
its hedge range (``analysis.posterior``) — and reports four things from it:

* **scenario discovery**: a PRIM box (EMA Workbench, through ``analysis.discovery``) for S1 and
  for S2 over the drawn parameters, with each scenario's share inside the box, so a reader sees
  whether there is a region of the plausible space where it is the most common outcome;
* **the design card's two levers**: S1/S2/neither over sanctions enforcement × the DPRK's peacetime
  stockpile, everything else history-matched and hedged (a table and a figure);
* **knife-edges**: how far S1 and S2 move when each classifier threshold moves by a tenth of its
  plausible range (a whole unit for integer thresholds), on the same replicates;
* **deciding markers**: for each scenario, the share of runs whose only failing marker is each
  one (flip that marker and the run would be in the scenario).

    python -m analysis.hedges --out outputs/hedges [--replicates 20000] [--cell-replicates 2000]

Every file is written all or nothing; numbers in the docs come from ``scripts/docs_numbers.py``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis import posterior
from analysis.discovery import prim_box
from analysis.stats import proportion_ci
from contract.cli import OneLineParser, UsageError
from contract.cli import run as run_command
from contract.io import jsonable, model_version, versions
from contract.safe import check_output_dir, write_files
from sim import params as P
from sim.classifier import S1_MARKERS, S2_MARKERS, SCENARIOS, classify, markers
from sim.model import RussiaDPRKModel

SEED = 20241022  # the hedged ensemble's default seed (the article's autumn 2024)
REPLICATES = 20_000
CELL_REPLICATES = 2_000
HORIZON = P.RUN_KEYS["horizon"]
#: The design card's two levers (issue 9): the grid of the map.
LEVERS = {
    "sanctions.enforcement": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
    "stockpile.dprk": (5.0, 10.0, 20.0, 40.0, 70.0, 100.0),
}
#: A threshold whose tenth-of-range move shifts S1 or S2 by more than this is a knife-edge.
KNIFE_EDGE_PP = 5.0
#: PRIM's density threshold: above a half, the scenario is the most common outcome in the box.
MAJORITY = 0.5
# The classifier thresholds (horizons included; a tier is moved by one).
THRESHOLDS = tuple(p.key for p in P.PARAMETERS if p.group == "classifier")


def drawn_parameters(
    seed: int, ids: np.ndarray, fixed: Mapping[str, Any] | None = None, *, beyond: bool = False
) -> dict:
    """The hedged draws of replicates ``ids``: posterior particles and limit strengths (over
    0–1 with ``beyond``), except keys set in ``fixed`` (which win)."""
    fixed = dict(fixed or {})
    table = posterior.load(posterior.DEFAULT)
    drawn = {**table.draw(seed, ids), **posterior.hedge_draws(seed, ids, beyond=beyond)}
    return {**{k: v for k, v in drawn.items() if k not in fixed}, **fixed}


def hedged_model(
    seed: int,
    replicates: int,
    horizon: int = HORIZON,
    fixed: Mapping[str, Any] | None = None,
    *,
    beyond: bool = False,
) -> RussiaDPRKModel:
    """The hedged ensemble, run to its horizon (one model instance)."""
    ids = np.arange(replicates, dtype=np.int64)
    params = drawn_parameters(seed, ids, fixed, beyond=beyond)
    return RussiaDPRKModel(params, replicates=ids, seed=seed, horizon=horizon).run()


def shares_row(labels: np.ndarray) -> dict[str, float]:
    """Shares and 95 % Wilson intervals of S1, S2 and neither."""
    n = labels.size
    out: dict[str, float] = {"n": n}
    for s in SCENARIOS:
        count = int(np.count_nonzero(labels == s))
        low, high = proportion_ci([count], [n])
        out |= {s: count / n, f"{s}_low": float(low[0]), f"{s}_high": float(high[0])}
    return out


# --- scenario discovery ---------------------------------------------------------------------------


def discovery(model: RussiaDPRKModel, labels: np.ndarray) -> pd.DataFrame:
    """PRIM's box for S1 and for S2 over the drawn parameters, with the shares inside it.

    One row per (scenario, restricted parameter); a scenario no run reached gets one row saying
    so. ``most_common``: the scenario's share inside the box exceeds each other scenario's.
    """
    keys = [k for k, v in model.p.items() if isinstance(v, np.ndarray)]
    x = pd.DataFrame({k: np.asarray(model.p[k], dtype=float) for k in keys})
    rows = []
    for scenario in ("S1", "S2"):
        y = labels == scenario
        if not y.any():
            rows.append({"scenario": scenario, "runs": 0, "parameter": "", "low": np.nan,
                         "high": np.nan, "coverage": 0.0, "density": 0.0, "mass": 0.0,
                         "most_common": False})  # fmt: skip
            continue
        box = prim_box(x, y, threshold=MAJORITY)
        inside = np.ones(len(x), dtype=bool)
        for _, b in box.box.iterrows():
            inside &= (x[b["parameter"]] >= b["low"]) & (x[b["parameter"]] <= b["high"])
        within = {s: float(np.mean(labels[inside] == s)) for s in SCENARIOS}
        top = within[scenario] > max(v for s, v in within.items() if s != scenario)
        base = {"scenario": scenario, "runs": int(y.sum()), "coverage": box.coverage,
                "density": box.density, "mass": box.mass, "most_common": bool(top),
                **{f"share_{s}_in_box": within[s] for s in SCENARIOS}}  # fmt: skip
        restricted = box.box if len(box.box) else pd.DataFrame([{"parameter": "", "low": np.nan,
                                                                 "high": np.nan}])  # fmt: skip
        for _, b in restricted.iterrows():
            rows.append({**base, "parameter": b["parameter"], "low": b["low"], "high": b["high"]})
    return pd.DataFrame(rows)


# --- the two levers -------------------------------------------------------------------------------


def levers(seed: int, replicates: int, horizon: int = HORIZON) -> pd.DataFrame:
    """S1/S2/neither in each cell of enforcement × stockpile, everything else hedged."""
    (ka, va), (kb, vb) = LEVERS.items()
    rows = []
    for a in va:
        for b in vb:
            model = hedged_model(seed, replicates, horizon, fixed={ka: a, kb: b})
            rows.append({ka: a, kb: b, **shares_row(classify(model)["scenario"])})
    return pd.DataFrame(rows)


def levers_figure(table: pd.DataFrame) -> Figure:
    """Three heat maps (S1, S2, neither) over the two levers, each cell labelled in percent."""
    (ka, va), (kb, vb) = LEVERS.items()
    fig = Figure(figsize=(12.0, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3, sharey=True)
    for ax, scenario in zip(axes, SCENARIOS, strict=True):
        grid = table.pivot(index=kb, columns=ka, values=scenario).loc[list(vb), list(va)]
        image = ax.imshow(100 * grid.to_numpy(), origin="lower", cmap="viridis", vmin=0,
                          vmax=100, aspect="auto")  # fmt: skip
        for i in range(len(vb)):
            for j in range(len(va)):
                value = 100 * grid.to_numpy()[i, j]
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=11,
                        color="white" if value < 55 else "black")  # fmt: skip
        ax.set_xticks(range(len(va)), [f"{v:g}" for v in va], fontsize=11)
        ax.set_yticks(range(len(vb)), [f"{v:g}" for v in vb], fontsize=11)
        ax.set_xlabel("sanctions enforcement (index 0–1)", fontsize=11)
        ax.set_title(f"{scenario} (% of runs)", fontsize=12)
    axes[0].set_ylabel("DPRK peacetime stockpile (thousand containers)", fontsize=11)
    bar = fig.colorbar(image, ax=list(axes), shrink=0.9)
    bar.set_label("% of runs", fontsize=11)
    bar.ax.tick_params(labelsize=10)
    fig.suptitle(
        "The design card's two levers, everything else history-matched with the article's "
        "hedges drawn",
        fontsize=12,
    )
    return fig


def discovery_figure(table: pd.DataFrame, model: RussiaDPRKModel) -> Figure:
    """PRIM's box for S1 and for S2 drawn: each restricted parameter as a bar over the range its
    draws span (0 = lowest drawn, 1 = highest), with the box's bounds written beside it."""
    fig = Figure(figsize=(12.0, 5.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, scenario in zip(axes, ("S1", "S2"), strict=True):
        part = table[(table["scenario"] == scenario) & (table["parameter"] != "")]
        first = table[table["scenario"] == scenario].iloc[0]
        names = list(part["parameter"])
        for i, (_, r) in enumerate(part.iterrows()):
            drawn = np.asarray(model.p[r["parameter"]], float)
            lo, hi = float(drawn.min()), float(drawn.max())
            span = hi - lo if hi > lo else 1.0
            a, b = (r["low"] - lo) / span, (r["high"] - lo) / span
            ax.barh(i, 1.0, left=0.0, color="#dddddd", height=0.6)
            ax.barh(i, b - a, left=a, color="#1f77b4" if scenario == "S2" else "#d62728",
                    height=0.6)  # fmt: skip
            ax.text(1.02, i, f"{r['low']:.3g}–{r['high']:.3g}", va="center", fontsize=10)
        ax.set_yticks(range(len(names)), names, fontsize=10)
        ax.set_xlim(0, 1.45)
        ax.set_xticks([0, 0.5, 1], ["lowest drawn", "", "highest drawn"], fontsize=10)
        ax.invert_yaxis()
        verdict = "most common" if first["most_common"] else "not most common"
        ax.set_title(
            f"{scenario}: {int(first['runs']):,} runs\nbox density {100 * first['density']:.0f} %, "
            f"coverage {100 * first['coverage']:.0f} % ({verdict})",
            fontsize=11,
        )
    fig.suptitle("PRIM boxes over the hedged prior predictive (grey: range drawn; colour: box)",
                 fontsize=12)  # fmt: skip
    return fig


# --- knife-edges and deciding markers -------------------------------------------------------------


def _moved(key: str, value: float, sign: int) -> float | None:
    """``value`` moved by a tenth of the plausible range (one unit for integers), or None when
    that leaves the allowed range."""
    param = P.BY_KEY[key]
    low, high = param.plausible_bounds()
    if low == high:  # the text fixes it (e.g. S2's tier: satellites are within S2)
        return None
    step = (high - low) / 10
    if param.kind is int:
        step = max(1, round(step))
    moved = value + sign * step
    if not param.low <= moved <= param.high:
        return None
    return int(moved) if param.kind is int else float(moved)


def knife_edges(model: RussiaDPRKModel) -> pd.DataFrame:
    """S1 and S2 when each threshold moves down and up by a tenth of its plausible range."""
    base_p = dict(model.p)
    labels = classify(model)["scenario"]
    base = {s: float(np.mean(labels == s)) for s in ("S1", "S2")}
    rows = []
    try:
        for key in THRESHOLDS:
            for sign in (-1, 1):
                value = _moved(key, base_p[key], sign)
                if value is None:
                    continue
                trial = {**base_p, key: value}
                try:
                    P.check_consistency(trial)
                except P.ParameterError:
                    continue
                model.p = trial
                moved = classify(model)["scenario"]
                d = {s: 100 * (float(np.mean(moved == s)) - base[s]) for s in ("S1", "S2")}
                rows.append({"threshold": key, "from": base_p[key], "to": value,
                             "S1_pp": d["S1"], "S2_pp": d["S2"],
                             "knife_edge": max(abs(d["S1"]), abs(d["S2"])) > KNIFE_EDGE_PP})  # fmt: skip
    finally:
        model.p = base_p
    return pd.DataFrame(rows)


def deciding_markers(model: RussiaDPRKModel) -> pd.DataFrame:
    """For S1 and S2, the share of all runs whose only failing marker is each one."""
    ind = classify(model)
    mk = markers(ind, model.p)
    rows = []
    for scenario, names in (("S1", S1_MARKERS), ("S2", S2_MARKERS)):
        failing = np.stack([~mk[scenario][k] for k in names])
        alone = failing.sum(axis=0) == 1
        for i, name in enumerate(names):
            rows.append({"scenario": scenario, "marker": name,
                         "holds": float(np.mean(~failing[i])),
                         "only_failing": float(np.mean(alone & failing[i]))})  # fmt: skip
    return pd.DataFrame(rows)


# --- the command ----------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _shares_line(what: str, s: Mapping[str, float], seed: int) -> str:
    return (
        f"{what} ({s['n']:,} replicates, seed {seed}): "
        f"S1 {_pct(s['S1'])} % [{_pct(s['S1_low'])}, {_pct(s['S1_high'])}], "
        f"S2 {_pct(s['S2'])} % [{_pct(s['S2_low'])}, {_pct(s['S2_high'])}], "
        f"neither {_pct(s['neither'])} %."
    )


def _discovery_table(disc: pd.DataFrame) -> list[str]:
    lines = [
        "| scenario | runs | PRIM box (restricted parameters) | coverage | density | "
        "most common in the box |",
        "|---|---|---|---|---|---|",
    ]
    for scenario in ("S1", "S2"):
        part = disc[disc["scenario"] == scenario]
        first = part.iloc[0]
        bounds = "; ".join(
            f"{r['parameter']} {r['low']:.3g}–{r['high']:.3g}"
            for _, r in part.iterrows()
            if r["parameter"]
        )
        lines.append(
            f"| {scenario} | {int(first['runs']):,} | {bounds or '(no restriction)'} | "
            f"{first['coverage']:.2f} | {first['density']:.2f} | "
            f"{'yes' if first['most_common'] else 'no'} |"
        )
    return lines


def summary_markdown(result: Mapping[str, Any]) -> str:
    """The results as Markdown (what docs/ARGUMENT.md quotes)."""
    lines: list[str] = []
    for what, shares, disc in (
        ("Hedged prior predictive", result["shares"], result["discovery"]),
        ("Beyond the hedges (limit strengths 0–1)", result["beyond"], result["discovery_beyond"]),
    ):
        lines += [_shares_line(what, shares, result["seed"]), "", *_discovery_table(disc), ""]
    lines += [
        "| threshold | from | to | S1 (pp) | S2 (pp) | knife-edge |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in result["knife_edges"].iterrows():
        lines.append(
            f"| {r['threshold']} | {r['from']:g} | {r['to']:g} | {r['S1_pp']:+.1f} | "
            f"{r['S2_pp']:+.1f} | {'yes' if r['knife_edge'] else 'no'} |"
        )
    lines += [
        "",
        "| scenario | marker | holds (% of runs) | the only failing marker (% of runs) |",
        "|---|---|---|---|",
    ]
    for _, r in result["deciding"].iterrows():
        lines.append(
            f"| {r['scenario']} | {r['marker']} | {_pct(r['holds'])} | {_pct(r['only_failing'])} |"
        )
    top = result["deciding"].sort_values("only_failing", ascending=False).iloc[0]
    edges = result["knife_edges"]
    worst = edges.loc[edges[["S1_pp", "S2_pp"]].abs().max(axis=1).idxmax()]
    lines += [
        "",
        f"The marker that alone decides most runs: {top['scenario']}-{top['marker']} "
        f"({_pct(top['only_failing'])} % of runs fail {top['scenario']} on it alone). The largest "
        f"move of a threshold by a tenth of its plausible range: {worst['threshold']} "
        f"{worst['from']:g} → {worst['to']:g} (S1 {worst['S1_pp']:+.1f}, S2 {worst['S2_pp']:+.1f} "
        f"points); knife-edges (more than {KNIFE_EDGE_PP:g} points): "
        f"{int(edges['knife_edge'].sum())}.",
    ]
    return "\n".join(lines) + "\n"


def run(out: Path, *, seed: int, replicates: int, cell_replicates: int) -> dict[str, Any]:
    """Run everything, write the files all or nothing, return the results."""
    check_output_dir(out, "--out")
    model = hedged_model(seed, replicates)
    labels = classify(model)["scenario"]
    wide = hedged_model(seed, replicates, beyond=True)
    wide_labels = classify(wide)["scenario"]
    result: dict[str, Any] = {
        "seed": seed,
        "shares": shares_row(labels),
        "discovery": discovery(model, labels),
        "beyond": shares_row(wide_labels),
        "discovery_beyond": discovery(wide, wide_labels),
        "knife_edges": knife_edges(model),
        "deciding": deciding_markers(model),
        "levers": levers(seed, cell_replicates),
    }
    png = io.BytesIO()
    levers_figure(result["levers"]).savefig(png, format="png", dpi=110)
    boxes = io.BytesIO()
    discovery_figure(result["discovery"], model).savefig(boxes, format="png", dpi=110)
    provenance = {
        "command": "python -m analysis.hedges",
        "seed": seed,
        "replicates": replicates,
        "cell_replicates": cell_replicates,
        "posterior": posterior.load(posterior.DEFAULT).describe(),
        "model_version": model_version(),
        "versions": versions(),
        "shares": result["shares"],
    }
    write_files(
        out,
        {
            "discovery.csv": result["discovery"].to_csv(index=False),
            "discovery_beyond_hedges.csv": result["discovery_beyond"].to_csv(index=False),
            "knife_edges.csv": result["knife_edges"].to_csv(index=False),
            "deciding_markers.csv": result["deciding"].to_csv(index=False),
            "levers.csv": result["levers"].to_csv(index=False),
            "levers.png": png.getvalue(),
            "discovery.png": boxes.getvalue(),
            "hedges.md": summary_markdown(result),
            "provenance.json": json.dumps(provenance, indent=2, default=jsonable) + "\n",
        },
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = OneLineParser(
        prog="python -m analysis.hedges",
        description="The hedged prior predictive: PRIM boxes for S1 and S2, the map of the two "
        "levers, knife-edges of the thresholds and the markers that decide runs.",
    )
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--replicates", type=int, default=REPLICATES)
    ap.add_argument("--cell-replicates", type=int, default=CELL_REPLICATES)
    args = ap.parse_args(argv)
    for name, low, high in (("replicates", 500, 1_000_000), ("cell_replicates", 100, 200_000)):
        value = getattr(args, name)
        if not low <= value <= high:
            raise UsageError(
                f"--{name.replace('_', '-')} must be between {low:,} and {high:,} (got {value})"
            )
    if not 0 <= args.seed <= P.MAX_SEED:
        raise UsageError(f"--seed must be between 0 and {P.MAX_SEED} (got {args.seed})")
    result = run(
        args.out, seed=args.seed, replicates=args.replicates, cell_replicates=args.cell_replicates
    )
    print(summary_markdown(result), end="")
    print(f"outputs: {args.out}")
    return 0


if __name__ == "__main__":
    run_command(main)  # every expected error one line, Ctrl+C and SIGTERM too
