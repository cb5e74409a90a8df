"""``python -m experiments.robustness [part=all|definitions|morris] [key=value ...]``: is the headline robust?

Two checks of the headline (S2 likelier than S1; issue 9 item 5):

(a) **Definitions** — the shares at the defaults and with the war held on
(``world.ceasefire_hazard=0``, M03) across a family of classifier definitions: a Latin hypercube
(``scipy.stats.qmc.LatinHypercube``) over every ``classifier.*`` parameter in its plausible range (``Param.plausible_bounds``) in
``sim.params`` (the documented plausible ranges, docs/ODD.md §7.9). Integer thresholds take each
integer of their range with equal probability. The horizons keep short < medium < horizon:
``classifier.medium`` is drawn in [its low, min(its high, horizon - 1)] and ``classifier.short`` in
[its low, min(its high, medium - 1)] (the same stratified coordinate, rescaled). The model's
trajectories do not read ``classifier.*`` (only ``sim.classifier`` does), so each ensemble is
simulated once and re-classified per definition: ``sim.classifier.indicators`` for the horizons,
then ``sim.classifier.label`` with the drawn thresholds. Reported: the share of definitions in
which S2 > S1, and the minimum, median and maximum of each share.

(b) **Morris screening** (SALib, through ``analysis.sensitivity``) over every model parameter —
each numeric parameter of ``sim.params`` outside ``classifier`` and ``limits`` — over its declared
range, ``trajectories`` × (k + 2) points of ``point_replicates`` replicates each. Outputs per
point: the S2 share, the S1 share and S2 − S1. All points share replicate ids (common random
numbers), except through one dummy parameter, ``(replicate block)``, whose level picks another
block of replicate ids and changes nothing else: its mu* is the effect of sampling noise alone
(a conservative floor, since the other parameters' effects are measured on common random
numbers). A parameter **carries** an output when its mu* minus its 95 % bootstrap half-width
exceeds the dummy's mu*.

Keys: ``part=`` (all, definitions, morris), ``definitions=`` (Latin-hypercube draws, default 200),
``trajectories=`` (Morris, default 20), ``point_replicates=`` (default 200), ``span=`` (1: the
declared ranges; less: that fraction of each range around the default), ``replicates=`` (the
ensembles of part a, default 10,000), ``seed=``, ``horizon=``, ``output.batch_size=``,
``out=DIR`` (default ``outputs/robustness/<time>``) and any model parameter (applied everywhere;
a parameter set on the command line is held fixed in the screening, e.g.
``world.ceasefire_hazard=0`` screens the other parameters with the war held on).
Writes ``robustness.md``, ``robustness_definitions.csv``, ``robustness_morris.csv``, the two
figures and, last, ``robustness.json`` (provenance), each atomically.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from analysis.compare import markdown_table
from analysis.figures import to_png
from analysis.robustness import (  # noqa: F401 (re-exported: the command's outputs)
    DEF_CSV,
    DEF_PNG,
    DUMMY,
    JSON_FILE,
    MD_FILE,
    MORRIS_CSV,
    MORRIS_PNG,
    OUTPUTS,
    ROBUSTNESS_FILES,
    carriers,
    definitions_figure,
    morris_figure,
    summarise_definitions,
)
from analysis.sensitivity import make_problem, morris_indices, sample_design
from analysis.stats import shares
from contract.cli import OneLineParser, UsageError
from contract.cli import run as run_command
from contract.io import atomic_write, model_version, versions, write_json, write_text
from experiments import config
from experiments.argument import WAR_ON, Settings, parse_settings, split_out
from sim import params as P
from sim.classifier import SCENARIOS, indicators, label
from sim.model import RussiaDPRKModel

__all__ = [
    "CLASSIFIER",
    "DUMMY",
    "ROBUSTNESS_FILES",
    "classifier_draws",
    "definitions",
    "main",
    "model_parameters",
    "morris",
    "reclassify",
    "summarise_definitions",
    "threshold_effects",
]

CLASSIFIER: tuple[P.Param, ...] = tuple(p for p in P.PARAMETERS if p.group == "classifier")
HORIZONS = ("classifier.short", "classifier.medium")
ENSEMBLES = {"defaults": {}, "war_on": WAR_ON}
PARTS = ("all", "definitions", "morris")


def model_parameters() -> list[P.Param]:
    """Every numeric model parameter (not a classifier threshold, not a limit switch)."""
    return [
        p for p in P.PARAMETERS if p.group not in ("classifier", "limits") and p.kind is not bool
    ]


# --- (a) classifier definitions --------------------------------------------------------------------


def _level(u: np.ndarray, low: float, high: float, kind: type) -> np.ndarray:
    if kind is int:  # every integer of [low, high] equally likely
        return np.minimum(np.floor(low + u * (high - low + 1)), high).astype(int)
    return low + u * (high - low)


def classifier_draws(n: int, seed: int, horizon: int) -> pd.DataFrame:
    """``n`` Latin-hypercube definitions over every ``classifier.*`` parameter (one per row)."""
    if n < 1:
        raise UsageError(f"definitions={n} must be at least 1")
    u = qmc.LatinHypercube(d=len(CLASSIFIER), seed=np.random.default_rng(seed)).random(n)
    out: dict[str, np.ndarray] = {}
    col = {p.key: i for i, p in enumerate(CLASSIFIER)}
    med = P.BY_KEY["classifier.medium"]
    short = P.BY_KEY["classifier.short"]
    # Each parameter over its plausible range (sim/params.py: the readings of the article's words).
    med_low, med_high = med.plausible_bounds()
    short_low, short_high0 = short.plausible_bounds()
    med_high = min(med_high, horizon - 1)
    if med_high < med_low:
        raise UsageError(f"horizon={horizon} leaves no room for a medium term")
    out["classifier.medium"] = _level(u[:, col[med.key]], med_low, med_high, int)
    short_high = np.minimum(short_high0, out["classifier.medium"] - 1)
    out["classifier.short"] = np.minimum(
        np.floor(short_low + u[:, col[short.key]] * (short_high - short_low + 1)), short_high
    ).astype(int)
    for p in CLASSIFIER:
        if p.key not in HORIZONS:
            out[p.key] = _level(u[:, col[p.key]], *p.plausible_bounds(), p.kind)
    frame = pd.DataFrame({p.key: out[p.key] for p in CLASSIFIER})
    for _, draw in frame.iterrows():  # every definition is a valid parameter set
        P.resolve({k: (int(v) if P.BY_KEY[k].kind is int else float(v)) for k, v in draw.items()})
    return frame


def reclassify(
    model: RussiaDPRKModel, draws: pd.DataFrame
) -> np.ndarray:  # (definitions, replicates) codes
    """Scenario codes (index into ``SCENARIOS``) of every replicate under every definition.

    The indicators depend on the horizons only: they are recomputed once per (short, medium)
    pair, with the model's parameters swapped for the draw's horizons and restored afterwards.
    """
    draws = draws.reset_index(drop=True)
    codes = np.empty((len(draws), model.R), dtype=np.int8)
    original = model.p
    try:
        for (short, medium), group in draws.groupby(list(HORIZONS), sort=False):
            model.p = {**original, HORIZONS[0]: int(short), HORIZONS[1]: int(medium)}
            ind = indicators(model)
            for i, draw in group.iterrows():
                p = {**model.p, **{k: _scalar(k, v) for k, v in draw.items()}}
                labels = label(ind, p)["scenario"]
                for c, s in enumerate(SCENARIOS):
                    codes[i, labels == s] = c
    finally:
        model.p = original
    return codes


def _scalar(key: str, value: Any) -> float | int:
    return int(value) if P.BY_KEY[key].kind is int else float(value)


def definitions(settings: Settings, draws: pd.DataFrame) -> pd.DataFrame:
    """Counts and shares of each scenario per definition and ensemble (defaults, war held on)."""
    frames = []
    for name, extra in ENSEMBLES.items():
        params = P.resolve({**settings.base, **extra})
        counts = np.zeros((len(draws), len(SCENARIOS)), dtype=np.int64)
        for start in range(0, settings.replicates, settings.batch_size):
            ids = np.arange(start, min(start + settings.batch_size, settings.replicates))
            model = RussiaDPRKModel(
                params, replicates=ids, seed=settings.seed, horizon=settings.horizon
            ).run()
            codes = reclassify(model, draws)
            for c in range(len(SCENARIOS)):
                counts[:, c] += (codes == c).sum(axis=1)
        cols = shares({s: counts[:, c] for c, s in enumerate(SCENARIOS)}, settings.replicates)
        frame = draws.copy()
        frame.insert(0, "definition", np.arange(len(draws)))
        frame.insert(0, "ensemble", name)
        frame["n"] = settings.replicates
        for k, v in cols.items():
            frame[k] = v
        frame["s2_above_s1"] = frame["S2_share"] > frame["S1_share"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def threshold_effects(table: pd.DataFrame) -> pd.DataFrame:
    """Spearman rank correlation of each classifier parameter with the S2 and S1 shares.

    Which parts of the definition move the shares most, per ensemble (NaN where a share does
    not vary across the definitions).
    """
    from scipy.stats import spearmanr

    rows = []
    for p in CLASSIFIER:
        row: dict[str, Any] = {"parameter": p.key}
        for name, part in table.groupby("ensemble", sort=False):
            for s in ("S2", "S1"):
                shares_ = part[f"{s}_share"]
                varies = shares_.nunique() > 1 and part[p.key].nunique() > 1
                rho = spearmanr(part[p.key], shares_).statistic if varies else np.nan
                row[f"rho_{s}_{name}"] = float(rho)
        rows.append(row)
    out = pd.DataFrame(rows)
    first = [c for c in out.columns if c.startswith("rho_S2_")][-1]
    return out.reindex(out[first].abs().sort_values(ascending=False).index)


def threshold_markdown(effects: pd.DataFrame) -> str:
    """The rank correlations as a Markdown table (two decimals, blank for NaN)."""
    shown = effects.copy()
    for c in shown.columns[1:]:
        shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:+.2f}")
    return markdown_table(shown)


# --- (b) Morris screening ----------------------------------------------------------------------


def screening_ranges(
    settings: Settings, span: float = 1.0
) -> tuple[list[P.Param], list[tuple[float, float]]]:
    """The screened parameters and their ranges.

    Every model parameter not set on the command line (those stay fixed); ``span`` = 1 is the
    declared range, a smaller span a window of that fraction of it around the default (clipped).
    """
    if not 0.0 < span <= 1.0:
        raise UsageError(f"span={span} is not allowed: expected a number in (0, 1]")
    params = [p for p in model_parameters() if p.key not in settings.base]
    bounds = []
    for p in params:
        if span >= 1.0:
            bounds.append((float(p.low), float(p.high)))
        else:
            half = 0.5 * span * (p.high - p.low)
            low = max(p.low, p.default - half)
            high = min(p.high, p.default + half)
            bounds.append((float(low), float(high)))
    return params, bounds


def morris(
    settings: Settings, trajectories: int, point_replicates: int, span: float = 1.0
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Morris indices of the S2 share, the S1 share and S2 − S1 for every model parameter."""
    if trajectories < 2:
        raise UsageError(f"trajectories={trajectories} must be at least 2")
    if point_replicates < 1:
        raise UsageError(f"point_replicates={point_replicates} must be at least 1")
    params, ranges = screening_ranges(settings, span)
    names = [p.key for p in params] + [DUMMY]
    bounds = [*ranges, (0.0, 1.0)]
    problem = make_problem(names, bounds)
    design = sample_design(problem, "morris", trajectories, settings.seed % 2**32)
    base = P.resolve(settings.base)
    y = {k: np.zeros(len(design)) for k in OUTPUTS}
    per_model = max(1, settings.batch_size // point_replicates)
    block = np.rint(design[DUMMY].to_numpy() * 3).astype(np.int64)  # 4 Morris levels
    for start in range(0, len(design), per_model):
        idx = np.arange(start, min(start + per_model, len(design)))
        values: dict[str, Any] = dict(base)
        for p in params:
            col = np.repeat(design[p.key].to_numpy()[idx], point_replicates)
            values[p.key] = np.rint(col) if p.kind is int else col
        ids = (block[idx][:, None] * point_replicates + np.arange(point_replicates)).ravel()
        model = RussiaDPRKModel(
            values, replicates=ids, seed=settings.seed, horizon=settings.horizon
        )
        labels = label(indicators(model.run()), model.p)["scenario"].reshape(idx.size, -1)
        s1 = (labels == "S1").mean(axis=1)
        s2 = (labels == "S2").mean(axis=1)
        y["S1"][idx], y["S2"][idx], y["S2-S1"][idx] = s1, s2, s2 - s1
    frames = []
    for out, values_y in y.items():
        ind = morris_indices(problem, design, values_y, seed=settings.seed % 2**32)
        ind = ind.reset_index()
        ind.insert(0, "output", OUTPUTS[out])
        floor = ind.loc[ind["parameter"] == DUMMY].iloc[0]
        ind["carries"] = (ind["mu_star"] - ind["mu_star_conf"]) > floor["mu_star"]
        ind.loc[ind["parameter"] == DUMMY, "carries"] = False
        ind["rank"] = ind["mu_star"].rank(ascending=False, method="first").astype(int)
        frames.append(ind.sort_values("rank"))
    info = {
        "trajectories": trajectories,
        "point_replicates": point_replicates,
        "points": len(design),
        "parameters": len(params),
        "runs": len(design) * point_replicates,
        "levels": 4,
        "span": span,
        "fixed": sorted(settings.base),
    }
    return pd.concat(frames, ignore_index=True), info


# --- output and command line ---------------------------------------------------------------------


def _pct(v: float) -> str:
    return f"{100 * v:.1f}"


def summary_markdown(summary: pd.DataFrame) -> str:
    """The definitions summary as a Markdown table (percent)."""
    shown = pd.DataFrame(
        {
            "ensemble": summary["ensemble"],
            "definitions": summary["definitions"],
            "S2 > S1 in % of definitions": summary["share_s2_above_s1"].map(_pct),
        }
    )
    for s in SCENARIOS:
        shown[f"{s} % min / median / max"] = [
            f"{_pct(a)} / {_pct(b)} / {_pct(c)}"
            for a, b, c in zip(
                summary[f"{s}_min"], summary[f"{s}_median"], summary[f"{s}_max"], strict=True
            )
        ]
    return markdown_table(shown)


def morris_markdown(table: pd.DataFrame, top: int = 12) -> str:
    """The leading parameters per output (mu*, half-width, sigma, carries)."""
    parts = []
    for out in [o for o in OUTPUTS.values() if o in set(table["output"])]:
        part = table[table["output"] == out].sort_values("mu_star", ascending=False).head(top)
        shown = pd.DataFrame(
            {
                "rank": part["rank"],
                "parameter": part["parameter"],
                "mu*": part["mu_star"].map(lambda v: f"{v:.3f}"),
                "± 95 %": part["mu_star_conf"].map(lambda v: f"{v:.3f}"),
                "sigma": part["sigma"].map(lambda v: f"{v:.3f}"),
                "carries": part["carries"].map(lambda v: "yes" if v else ""),
            }
        )
        parts += [f"**{out}** (first {top} of {int((table['output'] == out).sum())})", ""]
        parts += [markdown_table(shown)]
    return "\n".join(parts)


def to_markdown(
    meta: Mapping[str, Any],
    summary: pd.DataFrame | None,
    defaults: pd.DataFrame | None,
    morris_table: pd.DataFrame | None,
    definitions_table: pd.DataFrame | None = None,
) -> str:
    """robustness.md: provenance, the definitions summary, the Morris ranking."""
    parts = [
        "# Robustness of the headline",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"- seed {meta['seed']}; horizon {meta['horizon']} quarters; model version "
        f"{meta['model_version']}",
        "",
    ]
    if summary is not None and defaults is not None and definitions_table is not None:
        d = meta["definitions"]
        parts += [
            "## (a) Across classifier definitions",
            "",
            f"{d['draws']} Latin-hypercube definitions over every `classifier.*` parameter in "
            f"its plausible range, each applied to the same {d['replicates']:,} simulated runs "
            "per ensemble (the model does not read the classifier; the runs are classified "
            "again per definition).",
            "",
            summary_markdown(summary),
            "Which parts of the definition move the shares (Spearman rank correlation across "
            "the definitions; blank: the share does not vary):",
            "",
            threshold_markdown(threshold_effects(definitions_table)),
            "At the default definition: "
            + "; ".join(
                f"{r.ensemble}: "
                + ", ".join(f"{s} {_pct(getattr(r, f'{s}_share'))} %" for s in SCENARIOS)
                for r in defaults.itertuples()
            )
            + ".",
            "",
        ]
    if morris_table is not None:
        m = meta["morris"]
        names = carriers(morris_table)
        parts += [
            "## (b) Morris screening over every model parameter",
            "",
            f"{m['parameters']} parameters over "
            + (
                "their declared ranges"
                if m["span"] >= 1
                else f"{m['span']:g} of their declared ranges around the defaults"
            )
            + (f" (held fixed: {', '.join(m['fixed'])})" if m["fixed"] else "")
            + f", {m['trajectories']} "
            f"trajectories, {m['points']:,} points × {m['point_replicates']} replicates = "
            f"{m['runs']:,} runs (SALib, {m['levels']} levels; common random numbers except the "
            f"dummy `{DUMMY}`, whose mu* is the sampling-noise floor).",
            "",
            "Parameters that carry S2 − S1 (mu* beyond the noise floor, largest first): "
            + (", ".join(f"`{n}`" for n in names) or "none")
            + ".",
            "",
            morris_markdown(morris_table),
        ]
    return "\n".join(parts) + "\n"


def _default_definition(settings: Settings) -> pd.DataFrame:
    p = P.resolve(settings.base)
    return pd.DataFrame([{c.key: p[c.key] for c in CLASSIFIER}])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m experiments.robustness [part=...] [key=value ...] [out=DIR]``."""
    parser = OneLineParser(
        prog="python -m experiments.robustness",
        description=__doc__.split("\n")[0] if __doc__ else None,
        epilog="keys: part=all|definitions|morris, definitions=, trajectories=, "
        "point_replicates=, replicates=, seed=, horizon=, out=DIR, any model parameter",
    )
    parser.add_argument("overrides", nargs="*", help="key=value")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    outdir, rest = split_out(args.overrides, Path("outputs") / "robustness" / stamp)
    own = {
        "part": "all",
        "definitions": "200",
        "trajectories": "20",
        "point_replicates": "200",
        "span": "1",
    }
    overrides = []
    for text in rest:
        key, _, value = text.partition("=")
        if key in own:
            own[key] = value
        else:
            overrides.append(text)
    if own["part"] not in PARTS:
        raise UsageError(f"part={own['part']!r} is not allowed: expected one of {', '.join(PARTS)}")
    sizes = {}
    for key in ("definitions", "trajectories", "point_replicates"):
        try:
            sizes[key] = int(own[key])
        except ValueError:
            raise UsageError(f"{key}={own[key]!r} is not allowed: expected an integer") from None
    try:
        span = float(own["span"])
    except ValueError:
        raise UsageError(
            f"span={own['span']!r} is not allowed: expected a number in (0, 1]"
        ) from None
    if not 0.0 < span <= 1.0:
        raise UsageError(f"span={own['span']} is not allowed: expected a number in (0, 1]")
    for key, value in sizes.items():
        if value < (2 if key == "trajectories" else 1):
            raise UsageError(f"{key}={value} is too small")
    settings = parse_settings(overrides)
    outdir.mkdir(parents=True, exist_ok=True)  # fails now, not after the simulation
    command = "python -m experiments.robustness " + shlex.join(args.overrides)
    meta: dict[str, Any] = {
        "command": command.strip(),
        "seed": settings.seed,
        "horizon": settings.horizon,
        "base_parameters": {k: str(v) for k, v in settings.base.items()},
        "model_version": model_version(),
        "versions": versions(),
        "config_hash": config.config_hash(
            settings.base, settings.seed, settings.replicates, settings.horizon
        ),
    }
    summary = defaults = def_table = morris_table = None
    started = time.perf_counter()
    if own["part"] in ("all", "definitions"):
        draws = classifier_draws(sizes["definitions"], settings.seed, settings.horizon)
        def_table = definitions(settings, draws)
        summary = summarise_definitions(def_table)
        defaults = definitions(settings, _default_definition(settings))
        meta["definitions"] = {
            "draws": sizes["definitions"],
            "replicates": settings.replicates,
            "sampler": "scipy.stats.qmc.LatinHypercube",
            "summary": summary.to_dict(orient="records"),
            "default_definition": defaults.to_dict(orient="records"),
        }
    if own["part"] in ("all", "morris"):
        morris_table, info = morris(
            settings, sizes["trajectories"], sizes["point_replicates"], span
        )
        meta["morris"] = {**info, "carriers": carriers(morris_table)}
    meta["seconds"] = round(time.perf_counter() - started, 1)
    # render everything, then write (json last)
    md = to_markdown(meta, summary, defaults, morris_table, def_table)
    files: dict[str, Any] = {MD_FILE: md}
    if def_table is not None:
        files[DEF_CSV] = def_table.to_csv(index=False)
        files[DEF_PNG] = to_png(definitions_figure(def_table, defaults))
    if morris_table is not None:
        files[MORRIS_CSV] = morris_table.to_csv(index=False)
        files[MORRIS_PNG] = to_png(morris_figure(morris_table))
    for name, content in files.items():
        if isinstance(content, bytes):
            atomic_write(outdir / name, lambda tmp, b=content: tmp.write_bytes(b))
        else:
            write_text(outdir / name, content)
    write_json(outdir / JSON_FILE, meta)
    print(md)
    print(f"written: {outdir} ({', '.join([*files, JSON_FILE])})")
    return 0


if __name__ == "__main__":
    run_command(main)
