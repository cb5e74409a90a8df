"""Dated forecasts of every observable indicator, and their scores against a record.

``python -m analysis.forecast RUN_DIR [--record RECORD.csv]`` writes into ``RUN_DIR/forecast/``:

* ``forecast.csv`` — for every quarter from 2024Q4 to the horizon and every indicator declared
  in ``analysis.observations``: the probability of each event, and the mean and 5/25/50/75/95 %
  quantiles of each level, over the first ``--replicates`` replicates of the run (regenerated
  exactly from its seed, see ``analysis.odds``), stamped with the date it was made, the seed, the
  model version and the run's config hash, so it can be checked later;
* ``forecast.html`` — the same as figures (Matplotlib): probability lines for events, fan charts
  for levels;
* with ``--record``: ``scores.csv`` (per quarter and overall), ``score_rows.csv`` (one row per
  observation), ``reliability.csv`` and their figures on the page.

Scoring (``score``). Each observation is turned into what can be scored:

* an *event* row (an event indicator, or a level with ``>=, >, <=, <``) becomes a yes/no
  proposition with an outcome — ``ceasefire == 0`` is "ceasefire" with outcome 0,
  ``infrastructure_links <= 1`` is "links > 1" with outcome 0 — and gets a Brier score
  (p − outcome)², where p is the share of replicates in which the proposition holds;
* a *level* row (``==`` on a level) gets the CRPS of the ensemble against the observed value
  (in the indicator's unit; lower is better) and whether the value lies in the central 50 % and
  90 % intervals (coverage).

Every score is read against two baselines, and every skill score names its baseline
(skill = 1 − model score / baseline score; above 0 the model does better):

* **persistence of 2024Q3**: every indicator stays at the model's own 2024Q3 state
  (``observations.starting_state``, per replicate): munitions keep flowing as they did in 2024Q3,
  a yes/no proposition gets the share of replicates where it held in 2024Q3, a level the 2024Q3
  mean as a point forecast (whose CRPS is the absolute error);
* **climatology**: the ensemble's own distribution pooled over every quarter of the horizon,
  i.e. what the model says of an average quarter without knowing which quarter is asked: a
  proposition gets the share of (replicate, quarter) pairs in which it holds, a level the CRPS
  of that pooled distribution. The record has no long observed history of these indicators to
  take a base rate from, and a base rate taken from the record being scored would see the
  outcomes it is scored on; the pooled ensemble is the one climatology that uses no outcome.
  Skill against it is the value of the forecast's timing (docs/FORECAST.md).

The reliability diagram bins the event forecasts by probability and plots the observed frequency
in each bin. A record marked illustrative (the shipped ``examples/observations_example.csv``:
a ``# ILLUSTRATIVE`` comment or sources beginning ``ILLUSTRATIVE``) makes every output say so in
its first line (:func:`is_illustrative`).
Tolerances (used when conditioning) play no part in scoring.

Ids: every indicator's ids are in ``analysis.observations``; S1 and S2 are not forecast here but
in ``analysis.odds``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis import illustrative, odds
from analysis import observations as O
from contract.cli import OneLineParser, UsageError
from contract.cli import run as run_command
from contract.io import model_version
from contract.safe import output_dir_problem, spreadsheet_frame, write_files
from sim.world import FORWARD_START, quarter_label

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
FORECAST_REPLICATES = 50_000  # forecasts use the first 50,000 replicates (bounded memory)
#: The ensemble holds every indicator for every quarter and replicate (float32): at most this
#: much, which bounds ``--replicates`` × horizon (the default 50,000 fits at every horizon up to
#: 400 quarters; 50,000 × 40 quarters take ~0.2 GB).
MAX_ENSEMBLE_BYTES = 4 * 2**30
BINS = np.linspace(0.0, 1.0, 11)  # reliability diagram: ten bins of forecast probability
OUT_DIR = "forecast"
#: The two baselines every score is read against (see the module docstring), in words.
BASELINES = {
    "persistence": "persistence of the model's 2024Q3 state (munitions flowing)",
    "climatology": "climatology (the ensemble pooled over every quarter)",
}


#: An illustrative record (examples/observations_example.csv) and the line every output computed
#: from one starts with (``analysis.illustrative``).
ILLUSTRATIVE_LINE = illustrative.LINE
is_illustrative = illustrative.is_illustrative


# --- the ensemble ----------------------------------------------------------------------------


@dataclass
class Ensemble:
    """Per-quarter values ``(horizon, R)`` of the indicators for R replicates of one point."""

    values: dict[str, np.ndarray]
    horizon: int
    baseline: dict[str, np.ndarray]  # each indicator in 2024Q3, per replicate

    @property
    def R(self) -> int:
        return next(iter(self.values.values())).shape[1]


def ensemble(
    params: Mapping[str, Any],
    *,
    seed: int,
    replicates: int | np.ndarray,
    horizon: int,
    names: Sequence[str] | None = None,
    batch_size: int = 25_000,
    spec: odds.RunSpec | None = None,
) -> Ensemble:
    """Regenerate the indicators of ``replicates`` (checked against ``spec``'s runs if given)."""
    ids = np.arange(replicates) if np.isscalar(replicates) else np.asarray(replicates)
    names = list(O.BY_NAME) if names is None else list(names)
    stored = odds.stored_labels(spec) if spec is not None else None
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for start in range(0, ids.size, batch_size):
        batch = ids[start : start + batch_size]
        point = spec.params_for(batch) if spec is not None else params
        values, labels = O.simulate(
            point, seed=seed, replicates=batch, horizon=horizon, names=names
        )
        if stored is not None and spec is not None:
            odds.check_labels(spec, batch, labels, stored)
        for n in names:
            parts[n].append(values[n])
    return Ensemble(
        {n: np.concatenate(parts[n], axis=1) for n in names},
        horizon,
        O.starting_state(params, seed=seed),
    )


def forecast_table(ens: Ensemble) -> pd.DataFrame:
    """One row per (quarter, indicator): probability for events, mean and quantiles for levels."""
    records = []
    for name, values in ens.values.items():
        ind = O.BY_NAME[name]
        if ind.kind == O.EVENT:
            probability = values.mean(axis=1, dtype=np.float64)
            q = np.full((len(QUANTILES), ens.horizon), np.nan)
            mean = np.full(ens.horizon, np.nan)
        else:
            probability = np.full(ens.horizon, np.nan)
            q = np.quantile(values, QUANTILES, axis=1)
            mean = values.mean(axis=1, dtype=np.float64)
        for t in range(ens.horizon):
            records.append(
                {
                    "quarter": quarter_label(FORWARD_START, t + 1),
                    "step": t + 1,
                    "indicator": name,
                    "kind": ind.kind,
                    "unit": ind.unit,
                    "probability": float(probability[t]),
                    "mean": float(mean[t]),
                    **{
                        f"q{int(round(qq * 100)):02d}": float(q[i, t])
                        for i, qq in enumerate(QUANTILES)
                    },
                    "baseline_2024Q3": float(np.mean(ens.baseline[name])),
                    "n": ens.R,
                }
            )
    return pd.DataFrame.from_records(records)


# --- scoring ---------------------------------------------------------------------------------


def proposition(obs: O.Observation) -> tuple[str, float, int] | None:
    """The yes/no proposition ``(relation, value, outcome)`` an event row asserts, or None.

    Levels: ``>=``/``>`` keep their relation with outcome 1; ``<=`` becomes ``>`` and ``<``
    becomes ``>=`` with outcome 0, so that both outcomes appear in the reliability diagram.
    Events: the proposition is "it happened" (value 1) with outcome 1 or 0; a row that every
    value or no value satisfies says nothing and gives None.
    """
    ind = O.BY_NAME[obs.indicator]
    if ind.kind == O.EVENT:
        ok = [bool(O.holds(np.array([x]), obs, 0.0)[0]) for x in (0.0, 1.0)]
        if ok == [False, True]:
            return ("==", 1.0, 1)
        if ok == [True, False]:
            return ("==", 1.0, 0)
        return None
    if obs.relation in (">=", ">"):
        return (obs.relation, obs.value, 1)
    if obs.relation == "<=":
        return (">", obs.value, 0)
    if obs.relation == "<":
        return (">=", obs.value, 0)
    return None  # "==" on a level is a point observation


def _holds(x: np.ndarray | float, relation: str, value: float) -> np.ndarray:
    probe = O.Observation(FORWARD_START, "tourism", relation, value)  # any indicator: scale 0
    return O.holds(np.asarray(x), probe, 0.0)


def _crps(sorted_x: np.ndarray, prefix: np.ndarray, spread: float, y: np.ndarray) -> np.ndarray:
    """CRPS of the empirical ensemble ``sorted_x`` at each y: E|X − y| − ½ E|X − X'|."""
    n = sorted_x.size
    k = np.searchsorted(sorted_x, y, side="left")
    below = y * k - prefix[k]
    above = (prefix[n] - prefix[k]) - y * (n - k)
    return (below + above) / n - 0.5 * spread


def _spread(sorted_x: np.ndarray) -> float:
    """E|X − X'| of the empirical distribution (Gini mean difference, with i = 1..n)."""
    n = sorted_x.size
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum((2 * i - n - 1) * sorted_x) / n**2)


def score_rows(ens: Ensemble, record: Iterable[O.Observation]) -> pd.DataFrame:
    """One scored row per observation (see the module docstring)."""
    record = list(record)
    frame = pd.DataFrame(
        {
            "quarter": [o.quarter for o in record],
            "step": [o.step + 1 for o in record],
            "indicator": [o.indicator for o in record],
            "relation": [o.relation for o in record],
            "value": [o.value for o in record],
            "source": [o.source for o in record],
        }
    )
    n = len(record)
    cols = {k: np.full(n, np.nan) for k in ("p", "outcome", "brier", "crps")}
    for base in BASELINES:
        cols |= {f"{k}_{base}": np.full(n, np.nan) for k in ("p", "brier", "crps")}
    in50, in90 = np.full(n, np.nan), np.full(n, np.nan)
    kind = np.empty(n, dtype=object)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, o in enumerate(record):
        if o.step >= ens.horizon:
            raise O.ObservationError(f"{o.quarter} {o.indicator}: after the forecast's horizon")
        groups.setdefault((o.indicator, o.step), []).append(i)
    climate: dict[str, np.ndarray] = {}  # each indicator pooled over every quarter, sorted

    def pooled(name: str) -> np.ndarray:
        if name not in climate:
            climate[name] = np.sort(ens.values[name].astype(np.float64).ravel())
        return climate[name]

    for (name, t), rows in groups.items():
        x = ens.values[name][t].astype(np.float64)
        base = ens.baseline[name]
        cache: dict[tuple[str, float], tuple[float, float]] = {}
        points: list[int] = []
        for i in rows:
            o = record[i]
            prop = proposition(o)
            if prop is not None:
                relation, value, outcome = prop
                kind[i] = "event"
                if (relation, value) not in cache:
                    cache[relation, value] = (
                        float(_holds(x, relation, value).mean()),
                        float(_holds(pooled(name), relation, value).mean()),
                    )
                p, p_climate = cache[relation, value]
                p0 = float(_holds(base, relation, value).mean())
                cols["p"][i], cols["outcome"][i] = p, outcome
                cols["p_persistence"][i], cols["p_climatology"][i] = p0, p_climate
                cols["brier"][i] = (p - outcome) ** 2
                cols["brier_persistence"][i] = (p0 - outcome) ** 2
                cols["brier_climatology"][i] = (p_climate - outcome) ** 2
            elif o.relation == "==" and O.BY_NAME[name].kind == O.LEVEL:
                kind[i] = "level"
                points.append(i)
            else:
                kind[i] = "uninformative"
        if points:
            y = np.array([record[i].value for i in points])
            sorted_x = np.sort(x)
            prefix = np.concatenate([[0.0], np.cumsum(sorted_x)])
            q05, q25, q75, q95 = np.quantile(sorted_x, (0.05, 0.25, 0.75, 0.95))
            cols["crps"][points] = _crps(sorted_x, prefix, _spread(sorted_x), y)
            cols["crps_persistence"][points] = np.abs(base.mean() - y)
            every = pooled(name)
            every_prefix = np.concatenate([[0.0], np.cumsum(every)])
            cols["crps_climatology"][points] = _crps(every, every_prefix, _spread(every), y)
            in50[points] = (q25 - 1e-9 <= y) & (y <= q75 + 1e-9)
            in90[points] = (q05 - 1e-9 <= y) & (y <= q95 + 1e-9)
    for k, v in cols.items():
        frame[k] = v
    frame["in50"], frame["in90"], frame["scored_as"] = in50, in90, kind
    return frame


def summarise_scores(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per quarter and overall (last row, quarter 'overall'), with skill."""

    def one(part: pd.DataFrame, label: str) -> dict[str, Any]:
        ev = part[part["scored_as"] == "event"]
        lv = part[part["scored_as"] == "level"]
        out: dict[str, Any] = {"quarter": label, "events": len(ev), "brier": ev["brier"].mean()}
        for base in BASELINES:
            ref = ev[f"brier_{base}"].mean()
            out[f"brier_{base}"] = ref
            out[f"brier_skill_{base}"] = 1 - out["brier"] / ref if len(ev) and ref > 0 else np.nan
        out |= {"levels": len(lv), "crps": lv["crps"].mean()}
        for base in BASELINES:
            ref = lv[f"crps_{base}"].mean()
            out[f"crps_{base}"] = ref
            out[f"crps_skill_{base}"] = 1 - out["crps"] / ref if len(lv) and ref > 0 else np.nan
        out |= {"coverage50": lv["in50"].mean(), "coverage90": lv["in90"].mean()}
        return out

    records = [one(part, q) for q, part in rows.groupby("quarter", sort=True)]
    records.append(one(rows, "overall"))
    return pd.DataFrame.from_records(records)


def reliability(rows: pd.DataFrame, bins: np.ndarray = BINS) -> pd.DataFrame:
    """Event forecasts binned by probability: mean forecast, observed frequency, count."""
    ev = rows[rows["scored_as"] == "event"]
    which = np.clip(np.digitize(ev["p"].to_numpy(), bins[1:-1]), 0, len(bins) - 2)
    out = []
    for b in range(len(bins) - 1):
        sel = which == b
        count = int(sel.sum())
        out.append(
            {
                "bin_low": bins[b],
                "bin_high": bins[b + 1],
                "count": count,
                "forecast": float(ev["p"].to_numpy()[sel].mean()) if count else np.nan,
                "observed": float(ev["outcome"].to_numpy()[sel].mean()) if count else np.nan,
            }
        )
    return pd.DataFrame.from_records(out)


def synthetic_record(
    params: Mapping[str, Any],
    *,
    seed: int,
    replicates: int | np.ndarray,
    horizon: int,
    names: Sequence[str] | None = None,
) -> list[O.Observation]:
    """A record read off replicates of the model itself: every indicator, every quarter, ``==``.

    Used to test that the forecasts are calibrated (drawn at the forecast's own point) and that
    a record from another parameter point scores worse.
    """
    values, _ = O.simulate(params, seed=seed, replicates=replicates, horizon=horizon, names=names)
    out = []
    for name, v in values.items():
        for t in range(horizon):
            q = quarter_label(FORWARD_START, t + 1)
            for x in v[t]:
                out.append(O.Observation(q, name, "==", float(x), "synthetic"))
    return out


# --- figures and page ------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> str:
    from analysis.figures import readable

    buf = io.BytesIO()
    readable(fig).savefig(buf, format="png", dpi=96)  # 96 dpi: 1 pt of font is 1.33 px
    return base64.b64encode(buf.getvalue()).decode()


def _grid(count: int) -> tuple[int, int]:
    cols = 4
    return max(1, -(-count // cols)), cols


def events_figure(table: pd.DataFrame) -> Figure:
    ev = table[table["kind"] == O.EVENT]
    names = list(dict.fromkeys(ev["indicator"]))
    nrows, ncols = _grid(len(names))
    fig = _figure(11, 2.4 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        part = ev[ev["indicator"] == name]
        ax.plot(part["step"], part["probability"], color="#2166ac")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes[len(names) :]:
        fig.delaxes(ax)
    fig.supxlabel(f"quarter after 2024Q3 (1 = {FORWARD_START})", fontsize=9)
    fig.supylabel("probability", fontsize=9)
    return fig


def levels_figure(table: pd.DataFrame) -> Figure:
    lv = table[table["kind"] == O.LEVEL]
    names = list(dict.fromkeys(lv["indicator"]))
    nrows, ncols = _grid(len(names))
    fig = _figure(11, 2.4 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        part = lv[lv["indicator"] == name]
        x = part["step"]
        ax.fill_between(x, part["q05"], part["q95"], color="#2166ac", alpha=0.2, lw=0)
        ax.fill_between(x, part["q25"], part["q75"], color="#2166ac", alpha=0.35, lw=0)
        ax.plot(x, part["q50"], color="#2166ac")
        ax.axhline(part["baseline_2024Q3"].iloc[0], color="#444444", ls=":", lw=1)
        ax.set_title(f"{name.replace('_', ' ')}\n({O.BY_NAME[name].unit})", fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes[len(names) :]:
        fig.delaxes(ax)
    fig.supxlabel("quarter after 2024Q3; dotted: 2024Q3 (the persistence baseline)", fontsize=9)
    return fig


def reliability_figure(rel: pd.DataFrame) -> Figure:
    fig = _figure(4.8, 4.8)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#999999", ls="--", lw=1, label="perfect calibration")
    ok = rel["count"] > 0
    ax.plot(rel.loc[ok, "forecast"], rel.loc[ok, "observed"], "o-", color="#b2182b", label="model")
    for _, r in rel[ok].iterrows():
        ax.annotate(str(int(r["count"])), (r["forecast"], r["observed"]), fontsize=8,
                    xytext=(3, -10), textcoords="offset points")  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("forecast probability (numbers: events in the bin)")
    ax.set_ylabel("observed frequency")
    fig.legend(loc="outside lower center", ncol=2, frameon=False, fontsize=9)
    return fig


def scores_figure(summary: pd.DataFrame) -> Figure:
    per = summary[summary["quarter"] != "overall"]
    fig = _figure(10, 4.0)
    a, b = fig.subplots(1, 2)
    styles = {"persistence": ("s--", "#444444"), "climatology": ("^:", "#1b7837")}
    for ax, score, title in (
        (a, "brier", "Brier score of events (lower is better)"),
        (b, "crps", "CRPS of levels (lower is better)"),
    ):
        ax.plot(per["quarter"], per[score], "o-", color="#b2182b", label="model")
        for base, (style, colour) in styles.items():
            ax.plot(
                per["quarter"], per[f"{score}_{base}"], style, color=colour, label=BASELINES[base]
            )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("quarter", fontsize=9)
        ax.tick_params(axis="x", labelrotation=90, labelsize=8)
    a.set_ylabel("score", fontsize=9)
    handles, names = a.get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=3, frameon=False, fontsize=9)
    return fig


def page_scores(summary: pd.DataFrame) -> pd.DataFrame:
    """The scores for the page: each score with its skill against each baseline, in words."""
    out = pd.DataFrame({"quarter": summary["quarter"], "events": summary["events"]})
    out["Brier"] = summary["brier"].map(_num)
    for base in BASELINES:
        out[f"Brier skill vs {base}"] = summary[f"brier_skill_{base}"].map(_num)
    out["levels"] = summary["levels"]
    out["CRPS"] = summary["crps"].map(_num)
    for base in BASELINES:
        out[f"CRPS skill vs {base}"] = summary[f"crps_skill_{base}"].map(_num)
    out["in the 90 % interval"] = summary["coverage90"].map(
        lambda v: "–" if not np.isfinite(v) else f"{v:.0%}"
    )
    return out


def _num(v: float) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.3g}"


def render_page(
    meta: Mapping[str, Any], figures: Mapping[str, str], tables: Mapping[str, pd.DataFrame]
) -> str:
    """A self-contained HTML page (figures inlined as PNG); an illustrative record says so first."""
    from analysis.html import page
    from analysis.labels import header

    parts = []
    if meta.get("illustrative"):
        parts.append(f"<p class='fail'>{html.escape(ILLUSTRATIVE_LINE)}</p>")
    parts += [
        "<h1>Dated forecast of the observable indicators</h1>",
        "<p>"
        + html.escape(
            f"Made {meta['made']} from run {meta['run_dir']} (seed {meta['seed']}, "
            f"{meta['replicates']} replicates, horizon {meta['horizon']} quarters from "
            f"{FORWARD_START}); model {meta['model_version']}, config {meta['config_hash']}."
        )
        + "</p>",
        "<p>Events: the share of replicates in which it holds at the end of the quarter. Levels: "
        "median, 50 % and 90 % bands; the dotted line is the model's 2024Q3 (the persistence "
        "baseline). Skill = 1 − model score / baseline score, against persistence of 2024Q3 "
        "(munitions flowing) and against climatology (the ensemble pooled over every quarter); "
        "above 0 the model does better. Indicator meanings: docs/FORECAST.md.</p>",
    ]
    for title, key in (("Scenario shares given the record", "odds"), ("Events", "events"),
                       ("Levels", "levels"), ("Scores against the record", "scores"),
                       ("Reliability diagram", "reliability")):  # fmt: skip
        if key in figures:
            parts.append(
                f"<h2>{title}</h2><img class='fig' alt='{key}' "
                f"src='data:image/png;base64,{figures[key]}'>"
            )
        if key in tables:
            frame = tables[key].rename(columns=header)
            text = frame.to_html(
                index=False, border=0, classes="t", float_format=lambda v: f"{v:.3g}", na_rep=""
            )
            parts.append(f"<div class='scroll'>{text}</div>")
    if "scores" in tables:
        parts.append("<p class='note'>Every column of the scores: scores.csv.</p>")
    return page("Dated forecast", "\n".join(parts))


def max_replicates(horizon: int) -> int:
    """The most replicates whose ensemble fits ``MAX_ENSEMBLE_BYTES`` at ``horizon``."""
    return MAX_ENSEMBLE_BYTES // (4 * len(O.BY_NAME) * max(horizon, 1))


def output_dir(run_dir: Path, out: str | Path | None) -> Path:
    """The forecast's folder, refused in one line if writing there could leave it.

    The default ``RUN_DIR/forecast`` is refused when the run folder or the forecast folder is a
    symbolic link (a link in a result folder must not send the files elsewhere); ``--out`` is
    refused when it is a link, a file or not writable.
    """
    if out is not None:
        problem = output_dir_problem(out)
        if problem:
            raise O.ObservationError(f"--out={out}: {problem}; choose a folder you can write to")
        return Path(out)
    if run_dir.is_symlink():
        raise O.ObservationError(
            f"{run_dir} is a symbolic link; the forecast is not written through it: give "
            "--out DIR, or the run folder's real path"
        )
    outdir = run_dir / OUT_DIR
    problem = output_dir_problem(outdir)
    if problem:
        raise O.ObservationError(f"{problem}; give --out DIR")
    return outdir


def write_forecast(
    run_dir: str | Path,
    *,
    record_path: str | Path | None = None,
    out: str | Path | None = None,
    replicates: int = FORECAST_REPLICATES,
) -> Path:
    """Write the forecast (and scores, given a record) for a run; return the output directory.

    Everything is checked before the simulation (the run, the record, the options, the output
    folder) and the files appear together at the end (``contract.safe.write_files``): an error,
    Ctrl+C or SIGTERM leaves no half-written forecast.
    """
    spec = odds.load_run(run_dir)
    record = O.read_record(record_path, spec.horizon) if record_path else None
    if not 1 <= int(replicates) <= odds.MAX_REPLICATES:
        raise O.ObservationError(
            f"--replicates={replicates} is out of range: expected 1 to {odds.MAX_REPLICATES:,}"
        )
    n = min(int(replicates), spec.replicates)
    limit = max_replicates(spec.horizon)
    if n > limit:
        raise O.ObservationError(
            f"--replicates={replicates}: {n:,} replicates of {spec.horizon} quarters exceed the "
            f"ensemble's memory bound of {MAX_ENSEMBLE_BYTES / 2**30:g} GiB; use at most "
            f"{limit:,}"
        )
    assert spec.path is not None
    outdir = output_dir(spec.path, out)
    ens = ensemble(spec.params, seed=spec.seed, replicates=n, horizon=spec.horizon, spec=spec)
    table = forecast_table(ens)
    summary = odds.run_summary(spec)
    meta = {
        "made": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run_dir": str(spec.path),
        "seed": spec.seed,
        "replicates": n,
        "horizon": spec.horizon,
        "model_version": model_version(),
        "run_model_version": summary.get("model_version"),
        "config_hash": summary.get("config_hash"),
        "record": str(record_path) if record_path else None,
        "illustrative": is_illustrative(record_path),
        "baselines": BASELINES,
    }
    figures = {"events": _png(events_figure(table)), "levels": _png(levels_figure(table))}
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, pd.DataFrame] = {"forecast.csv": table}
    if record is not None:
        rows = score_rows(ens, record)
        scores = summarise_scores(rows)
        rel = reliability(rows)
        files.update({"score_rows.csv": rows, "scores.csv": scores, "reliability.csv": rel})
        tables["scores"] = page_scores(scores)
        figures["scores"] = _png(scores_figure(scores))
        figures["reliability"] = _png(reliability_figure(rel))
        updated = odds.condition(spec, record)
        odds_payload: dict[str, Any] = updated.as_dict()
        if updated.consistent < odds.DEFAULT_MIN_ESS:
            odds_payload["message"] = odds.too_few_message(updated, record, odds.DEFAULT_MIN_ESS)
        else:
            tables["odds"] = pd.DataFrame(updated.table())
        meta["odds"] = odds_payload
    # text a spreadsheet would run as a formula (a record's source) is written as text
    texts = {name: spreadsheet_frame(frame).to_csv(index=False) for name, frame in files.items()}
    texts["forecast.html"] = render_page(meta, figures, tables)
    texts["forecast.json"] = json.dumps(meta, indent=2, default=str) + "\n"  # last: complete
    write_files(outdir, texts)
    return outdir


def _skill(value: float) -> str:
    return "–" if not np.isfinite(value) else f"{value:+.2f}"


def score_lines(overall: Mapping[str, Any]) -> list[str]:
    """The overall scores in words: each skill score names its baseline (one line per score)."""
    lines = []
    for kind, score, name, fmt in (
        ("events", "brier", "Brier score", ".3f"),
        ("levels", "crps", "CRPS", ".3g"),
    ):
        if not overall.get(kind, 0) > 0:
            continue
        lines.append(
            f"{name} over {int(overall[kind])} observed {kind}: {overall[score]:{fmt}}"
            + (f"; 90 % interval coverage {overall['coverage90']:.0%}" if kind == "levels" else "")
        )
        for base, words in BASELINES.items():
            ref = overall.get(f"{score}_{base}", overall.get(f"{score}_naive", np.nan))
            old = overall.get(f"{score}_skill", np.nan) if base == "persistence" else np.nan
            skill = overall.get(f"{score}_skill_{base}", old)
            if base == "climatology" and f"{score}_{base}" not in overall:
                continue  # a forecast written before climatology was scored
            lines.append(f"  skill {_skill(skill)} against {words}: {name} {ref:{fmt}}")
    return lines


def report_lines(run_dir: str | Path) -> list[tuple[str, list[str]]]:
    """Sections for ``analysis.report`` when ``run_dir/forecast/`` holds a forecast (else none)."""
    folder = Path(run_dir) / OUT_DIR
    try:
        meta = json.loads((folder / "forecast.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    lines = [ILLUSTRATIVE_LINE] if meta.get("illustrative") else []
    lines.append(
        f"Dated forecast made {meta['made']} from {meta['replicates']} replicates (seed "
        f"{meta['seed']}, model {meta['model_version']}): every quarter from {FORWARD_START} and "
        f"every observable indicator in {OUT_DIR}/forecast.csv, figures in {OUT_DIR}/forecast.html "
        "(docs/FORECAST.md)."
    )
    if meta.get("record"):
        lines.append(f"Record of observations: {meta['record']}.")
    updated = meta.get("odds")
    if updated and "message" in updated:
        lines.append(f"Updated odds: {updated['message']}.")
    elif updated:
        shares = "; ".join(
            f"{r['scenario']} {r['share']:.1%} [{r['ci_low']:.1%}, {r['ci_high']:.1%}] "
            f"(prior {r['prior_share']:.1%})"
            for r in updated["scenarios"]
        )
        lines.append(
            f"Given the record ({updated['consistent']} of {updated['n']} replicates consistent, "
            f"effective sample size {updated['ess']:.0f}): {shares}."
        )
    try:
        overall = pd.read_csv(folder / "scores.csv").iloc[-1]
    except (OSError, pd.errors.EmptyDataError, IndexError):
        return [("Dated forecast and updated odds", lines)]
    lines += score_lines(overall)
    return [("Dated forecast and updated odds", lines)]


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(
        prog="python -m analysis.forecast",
        description="Dated forecasts of the observable indicators of a run, scored against a record.",
    )
    ap.add_argument("run_dir", help="a run directory of python -m experiments.run")
    ap.add_argument("--record", default=None, help="CSV quarter,indicator,relation,value,source")
    ap.add_argument("--out", default=None, help="output directory (default RUN_DIR/forecast)")
    ap.add_argument("--replicates", type=int, default=FORECAST_REPLICATES)
    args = ap.parse_args(argv)
    try:
        outdir = write_forecast(
            args.run_dir, record_path=args.record, out=args.out, replicates=args.replicates
        )
    except (O.ObservationError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if is_illustrative(args.record):
        print(ILLUSTRATIVE_LINE)
    print(f"forecast: {outdir / 'forecast.csv'}")
    print(f"page: {outdir / 'forecast.html'}")
    if args.record:
        overall = pd.read_csv(outdir / "scores.csv").iloc[-1]
        lines = score_lines(overall)
        print("\n".join(lines) or "no row of the record could be scored")
    return 0


if __name__ == "__main__":
    run_command(main)  # every expected error one line, Ctrl+C and SIGTERM too
