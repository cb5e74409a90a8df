"""Calibration of chosen parameters to the 2000–2024 replay record by ABC-SMC, in batches.

Most parameters are modelling choices (``chosen=True`` in ``sim.params``); the history every
run starts with (2000Q1–2024Q3, ``sim.replay``) can be set against the record's numbers, and they
narrow some of them (issue 21). ``calibrate`` treats the chosen parameters named in
``PARAMETERS`` as unknown, with a uniform prior over each one's declared range, and conditions
them on the numbers of ``sim/data/record.csv`` (rows with a ``measure``): cumulative munitions
containers shipped by 2023Q3, 2023Q4, 2024Q1 and 2024Q3 (F07; ranges, since the sources
disagree), quarters with a summit in 2001–2018, 2019–2022 and 2023–2024 (Table 1, F03, M01), the
treaty's quarter (F02), tourism restarted (F08), no open breach and no munitions before the war
(F06, F07). The distance of a replicate is how far it lies outside each range, in declared
scales (``SCALES``). Never a scenario share: S1 and S2 are not read here.

Method: approximate Bayesian computation by sequential Monte Carlo with adaptive thresholds
(Beaumont et al. 2009; Del Moral et al. 2012). Generation 0 draws ``particles × oversample`` points
from the prior and keeps the ``particles`` closest; each later generation sets the threshold to
the ``quantile`` of the last generation's distances, proposes by resampling the last population
and perturbing it with a Gaussian kernel of twice its weighted covariance (``scipy.stats``),
drops proposals outside the ranges, and accepts those within the threshold, with importance
weights prior / Σ w K. **A whole population is one ensemble model** — one ``run_replay`` whose
parameters are arrays with one value per replicate — so a generation of thousands of proposals
costs one vectorised replay, not thousands of model instances.

Why not a library. ELFI evaluates simulators in vectorised batches, which is what is wanted, but
on Python 3.12 with this project's pins it does not install cleanly: ELFI 0.8.6 (the newest that
accepts matplotlib 3.11) uses ``np.Inf``, removed in NumPy 2, and fails at import of its
samplers; ELFI 0.8.8 requires matplotlib < 3.9. pyabc 0.13 installs, but its samplers call the
model once per particle: at ~0.05 s per one-replicate model against ~0.15 ms per replicate in a
batch of 2,000 (measured in docs/FORECAST.md), a population would cost hundreds of times more.
The method here is short, written out below and tested (``tests/test_calibrate.py``: a known
parameter is recovered from a synthetic record).

Results: ``python -m analysis.calibrate --out DIR`` writes ``posterior.csv`` (particles and
weights), ``posterior_predictive.csv`` (per record measure: observed, predicted median and 90 %
interval, inside or not, the defaults beside), ``calibration.json`` (settings, seed, versions,
posterior summary, pattern passes of P1–P6, forward scenario shares under the posterior beside
the defaults) and ``posterior.png``. ``--install-default`` also writes the shipped
``sim/data/posterior.csv`` that ``experiments.run posterior=default`` reads.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from analysis.stats import proportion_ci
from contract.cli import OneLineParser
from contract.cli import run as run_command
from contract.io import atomic_write, jsonable, model_version, versions
from contract.safe import output_dir_problem, write_files
from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import RussiaDPRKModel
from sim.replay import per_replicate, run_replay, verdicts

#: Chosen parameters the record informs, calibrated by default (all ``chosen=True``; issue 21).
#: The sanctions thresholds (P2, P3) were tried and left out: no open breach before 2022 and
#: munitions only after it hold over their whole ranges, so the record does not inform them.
PARAMETERS: tuple[str, ...] = (
    "russia.summit_rate",  # summit counts (M01): summits track shared interest
    "russia.signalling",  # summit counts (M23): visits as messages while the US backs Ukraine
    "russia.peacetime_interest",  # summit counts, treaty (M02, M03): interest without the war
    "russia.signal_memory",  # treaty (F02, F03): the treaty follows summit diplomacy
    "russia.war_demand",  # containers by date (F07, M04): how much Russia buys
    "russia.implementation_rate",  # containers by date (M22): agreed supply becomes delivery
    "stockpile.reserve",  # containers by date (M15): what lies above the reserve
    "stockpile.capacity_ceiling",  # containers by date (M15, M04): production with inputs
    "stockpile.capacity_growth",  # containers by date (M04, M22): how fast factories grow
)

RECORD_FILE = "record.csv"


def load_targets() -> dict[str, tuple[float, float, float]]:
    """The record's numbers: ``measure → (value, low, high)`` from ``sim/data/record.csv``."""
    text = resources.files("sim").joinpath("data", RECORD_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {
        r["measure"]: (float(r["value"]), float(r["low"]), float(r["high"]))
        for r in rows
        if r.get("measure")
    }


#: How far a miss counts (distance 1 = one scale outside the record's range), by record measure.
#: Munitions: 2,000 containers, the spread between the sources for 2024Q1; summit counts: the
#: count itself or 1 (a miss of three summits in 18 years weighs as one of one in four years);
#: the treaty: a year, at most two; yes/no facts: 1.
SCALES: dict[str, float] = {
    "munitions_by_2023Q3": 2.0,
    "munitions_by_2023Q4": 2.0,
    "munitions_by_2024Q1": 2.0,
    "munitions_by_2024Q3": 2.0,
    "summits_2001_2018": 3.0,
    "summits_2019_2022": 1.0,
    "summits_2023_2024": 2.0,
    "treaty_quarter": 4.0,
    "tourism_restarted": 1.0,
    "open_breach_before_war": 1.0,
    "munitions_before_war": 1.0,
}
CAPS: dict[str, float] = {"treaty_quarter": 2.0}
#: Record measure → column of ``sim.replay.per_replicate``.
COLUMNS: dict[str, str] = {"treaty_quarter": "treaty_quarter_number"}


def record_table() -> dict[str, tuple[float, float, float, float]]:
    """``measure → (value, low, high, scale)`` for every record number with a scale."""
    targets = load_targets()
    missing = set(SCALES) - set(targets)
    if missing:
        raise CalibrationError(f"sim/data/record.csv lacks the measures {sorted(missing)}")
    return {k: (*targets[k], SCALES[k]) for k in SCALES}


RECORD: dict[str, tuple[float, float, float, float]] = {}  # filled on first use (record_table)


def _record() -> dict[str, tuple[float, float, float, float]]:
    if not RECORD:
        RECORD.update(record_table())
    return RECORD


SEED = 20240918
GENERATIONS = 10  # the distances stop falling much after about ten (docs/VALIDATION.md)


class CalibrationError(ValueError):
    """A bad setting (unknown or non-numeric parameter, too few particles); one line."""


@dataclass
class Population:
    """One generation: particles (n, k), normalised weights, distances and the threshold."""

    theta: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    threshold: float
    simulated: int

    @property
    def ess(self) -> float:
        return float(1.0 / np.sum(self.weights**2))


@dataclass
class Posterior:
    parameters: tuple[str, ...]
    populations: list[Population] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def last(self) -> Population:
        return self.populations[-1]

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """n parameter vectors resampled by weight, as arrays by dotted key."""
        idx = rng.choice(self.last.theta.shape[0], size=n, p=self.last.weights)
        return {k: self.last.theta[idx, j] for j, k in enumerate(self.parameters)}

    def summary(self) -> pd.DataFrame:
        theta, w = self.last.theta, self.last.weights
        rows = []
        for j, key in enumerate(self.parameters):
            order = np.argsort(theta[:, j])
            cdf = np.cumsum(w[order])
            q = [float(theta[order, j][np.searchsorted(cdf, c)]) for c in (0.05, 0.5, 0.95)]
            mean = float(np.sum(w * theta[:, j]))
            param = P.BY_KEY[key]
            rows.append(
                {
                    "parameter": key,
                    "default": param.default,
                    "low": param.low,
                    "high": param.high,
                    "mean": mean,
                    "sd": float(np.sqrt(np.sum(w * (theta[:, j] - mean) ** 2))),
                    "q05": q[0],
                    "median": q[1],
                    "q95": q[2],
                }
            )
        return pd.DataFrame(rows)


def check_parameters(keys: Sequence[str]) -> tuple[str, ...]:
    for key in keys:
        if key not in P.BY_KEY:
            raise CalibrationError(f"unknown parameter {key!r}: {P.suggest(key)}")
        if P.BY_KEY[key].kind is bool or P.BY_KEY[key].group == "classifier":
            raise CalibrationError(
                f"{key} cannot be calibrated: only numeric model parameters can (not switches "
                "or classifier settings)"
            )
    if len(set(keys)) != len(keys) or not keys:
        raise CalibrationError("name each parameter once, at least one")
    return tuple(keys)


def distances(
    rows: pd.DataFrame, record: Mapping[str, tuple[float, float, float, float]] | None = None
) -> np.ndarray:
    """Distance of each replay replicate from the record's numbers (default: the shipped record).

    For each measure: how far the replicate lies outside the record's range, in scales, capped
    where ``CAPS`` says; summed over measures. Inside every range the distance is 0.
    """
    record = _record() if record is None else record
    d = np.zeros(len(rows))
    for measure, (_, low, high, scale) in record.items():
        x = rows[COLUMNS.get(measure, measure)].to_numpy(dtype=float)
        miss = np.maximum(np.maximum(low - x, x - high), 0) / scale
        d += np.minimum(miss, CAPS.get(measure, np.inf))
    return d


def simulate(
    theta: np.ndarray,
    keys: Sequence[str],
    seed: int,
    base: Mapping[str, Any] | None = None,
    record: Mapping[str, tuple[float, float, float, float]] | None = None,
) -> np.ndarray:
    """Distances of one replay replicate per particle, all particles in one ensemble model."""
    params = dict(base or {})
    for j, key in enumerate(keys):
        value = theta[:, j]
        params[key] = np.round(value).astype(int) if P.BY_KEY[key].kind is int else value
    result = run_replay(replicates=theta.shape[0], seed=seed, params=params)
    return distances(per_replicate(result), record)


def _ranges(keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    low = np.array([P.BY_KEY[k].low for k in keys], dtype=float)
    high = np.array([P.BY_KEY[k].high for k in keys], dtype=float)
    return low, high


def abc_smc(
    keys: Sequence[str] = PARAMETERS,
    *,
    particles: int = 1000,
    generations: int = 4,
    oversample: int = 10,
    quantile: float = 0.5,
    seed: int = SEED,
    max_simulations: int = 1_000_000,
    base: Mapping[str, Any] | None = None,
    record: Mapping[str, tuple[float, float, float, float]] | None = None,
) -> Posterior:
    """ABC-SMC with adaptive thresholds; see the module docstring."""
    keys = check_parameters(list(keys))
    if particles < 10:
        raise CalibrationError(f"particles={particles}: at least 10 are needed")
    if not 0 < quantile < 1:
        raise CalibrationError(f"quantile={quantile} must lie in (0, 1)")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    low, high = _ranges(keys)
    k = len(keys)
    post = Posterior(tuple(keys))
    # generation 0: the prior, keep the closest `particles`
    m = particles * oversample
    theta = low + (high - low) * rng.random((m, k))
    d = simulate(theta, keys, seed, base, record)
    keep = np.argsort(d, kind="stable")[:particles]
    post.populations.append(
        Population(
            theta[keep], np.full(particles, 1.0 / particles), d[keep], float(d[keep].max()), m
        )
    )
    spent = m
    for g in range(1, generations):
        prev = post.last
        eps = float(np.quantile(prev.distances, quantile))
        cov = 2.0 * np.atleast_2d(np.cov(prev.theta.T, aweights=prev.weights))
        cov += np.eye(k) * 1e-12 * (high - low) ** 2
        kernel = stats.multivariate_normal(mean=np.zeros(k), cov=cov, allow_singular=True)
        accepted_t, accepted_d, sims, part, got = [], [], 0, 0, 0
        rate = 0.5  # expected acceptance; re-estimated after every batch
        while got < particles and spent < max_simulations:
            batch = int(min(max(1.2 * (particles - got) / max(rate, 0.02), 50), 20 * particles))
            idx = rng.choice(prev.theta.shape[0], size=batch, p=prev.weights)
            proposal = prev.theta[idx] + rng.multivariate_normal(np.zeros(k), cov, size=batch)
            inside = np.all((proposal >= low) & (proposal <= high), axis=1)
            proposal = proposal[inside]
            if proposal.shape[0] == 0:
                continue
            d = simulate(proposal, keys, seed + 1000 * g + part, base, record)
            part += 1
            sims += proposal.shape[0]
            spent += proposal.shape[0]
            ok = d <= eps
            accepted_t.append(proposal[ok])
            accepted_d.append(d[ok])
            got += int(ok.sum())
            rate = max(ok.sum(), 1) / batch
        theta = np.concatenate(accepted_t)[:particles]
        dist = np.concatenate(accepted_d)[:particles]
        if theta.shape[0] < 2:
            break  # the budget is spent; keep the last full population
        # importance weights: uniform prior / mixture of kernels around the last population
        mix = np.array([np.sum(prev.weights * kernel.pdf(t - prev.theta)) for t in theta])
        w = 1.0 / np.maximum(mix, 1e-300)
        post.populations.append(Population(theta, w / w.sum(), dist, eps, sims))
        if spent >= max_simulations:
            break
    post.seconds = time.perf_counter() - started
    return post


# --- checks after calibration ----------------------------------------------------------------


def predictive_checks(
    sample: Mapping[str, np.ndarray] | None,
    *,
    ensembles: int,
    replicates: int,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pattern passes over ``ensembles`` replay ensembles, and the predictive check per measure.

    ``sample`` gives one parameter vector per replicate (drawn from the posterior, arrays of
    length ``ensembles × replicates``); None runs the defaults. The second table has one row per
    record measure (``CONTRACT.md``: ``pattern,observed,pred_median,pred_q05,pred_q95,inside``):
    the record's value and range, the predicted median and 90 % interval over every replicate,
    whether the observation lies inside that interval, and the share of replicates inside the
    record's own range.
    """
    passes: dict[str, int] = {}
    frames = []
    record = _record()
    columns = [COLUMNS.get(k, k) for k in record]
    for e in range(ensembles):
        params = None
        if sample is not None:
            params = {k: v[e * replicates : (e + 1) * replicates] for k, v in sample.items()}
        result = run_replay(replicates=replicates, seed=seed + e, params=params)
        frames.append(per_replicate(result)[columns])
        for v in verdicts(result):
            passes[v["pattern"]] = passes.get(v["pattern"], 0) + int(v["passed"])
    low, high = proportion_ci(list(passes.values()), ensembles)
    checks = pd.DataFrame(
        {
            "pattern": list(passes),
            "passed": list(passes.values()),
            "ensembles": ensembles,
            "share": [c / ensembles for c in passes.values()],
            "ci_low": low,
            "ci_high": high,
        }
    )
    rows = pd.concat(frames, ignore_index=True).astype(float)
    out = []
    for measure, (value, lo, hi, _) in record.items():
        x = rows[COLUMNS.get(measure, measure)].to_numpy()
        q05, median, q95 = np.quantile(x, [0.05, 0.5, 0.95])
        out.append(
            {
                "pattern": measure,
                "observed": value,
                "pred_median": float(median),
                "pred_q05": float(q05),
                "pred_q95": float(q95),
                "inside": bool(q05 <= value <= q95),
                "record_low": lo,
                "record_high": hi,
                "share_in_record_range": float(np.mean((x >= lo) & (x <= hi))),
            }
        )
    return checks, pd.DataFrame(out)


def forward_shares(
    sample: Mapping[str, np.ndarray] | None, *, replicates: int, seed: int, horizon: int
) -> pd.DataFrame:
    """S1/S2/neither shares of a forward run, one posterior draw per replicate (None: defaults)."""
    model = RussiaDPRKModel(dict(sample or {}), replicates=replicates, seed=seed, horizon=horizon)
    labels = classify(model.run())["scenario"]
    counts = [int(np.count_nonzero(labels == s)) for s in SCENARIOS]
    low, high = proportion_ci(counts, replicates)
    return pd.DataFrame(
        {
            "scenario": SCENARIOS,
            "count": counts,
            "share": np.array(counts) / replicates,
            "ci_low": low,
            "ci_high": high,
        }
    )


def measure_batch(single: int = 20, batch: int = 2000) -> dict[str, float]:
    """Seconds per replay replicate run alone (as a per-particle sampler would) and in a batch."""
    started = time.perf_counter()
    for s in range(single):
        run_replay(replicates=1, seed=s)
    one = (time.perf_counter() - started) / single
    started = time.perf_counter()
    run_replay(replicates=batch)
    per = (time.perf_counter() - started) / batch
    return {"one_replicate_s": one, "per_replicate_in_batch_s": per, "ratio": one / per}


def posterior_figure(post: Posterior) -> Figure:
    keys = post.parameters
    fig = Figure(
        figsize=(3.0 * min(len(keys), 3), 2.4 * ((len(keys) + 2) // 3)), layout="constrained"
    )
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(
        fig.subplots((len(keys) + 2) // 3, min(len(keys), 3), squeeze=False)
    ).ravel()
    for j, (ax, key) in enumerate(zip(axes, keys, strict=False)):
        param = P.BY_KEY[key]
        ax.hist(post.last.theta[:, j], bins=25, range=(param.low, param.high),
                weights=post.last.weights, color="#2166ac", alpha=0.8, density=True)  # fmt: skip
        ax.axhline(1.0 / (param.high - param.low), color="#999999", ls="--", lw=1)
        ax.axvline(param.default, color="#b2182b", lw=1.5)
        ax.set_title(key, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    fig.suptitle("posterior (bars), prior (dashed), default (red)", fontsize=9)
    return fig


def run(
    out: Path,
    *,
    keys: Sequence[str] = PARAMETERS,
    particles: int = 1000,
    generations: int = GENERATIONS,
    seed: int = SEED,
    ppc_ensembles: int = 20,
    ppc_replicates: int = 500,
    forward_replicates: int = 20_000,
    horizon: int = P.RUN_KEYS["horizon"],
) -> dict[str, Any]:
    """Calibrate, check and write the results into ``out``; return the JSON payload."""
    post = abc_smc(keys, particles=particles, generations=generations, seed=seed)
    rng = np.random.default_rng(seed + 1)
    started = time.perf_counter()
    ppc_post, fit_post = predictive_checks(
        post.sample(ppc_ensembles * ppc_replicates, rng),
        ensembles=ppc_ensembles,
        replicates=ppc_replicates,
        seed=seed + 7,
    )
    ppc_default, fit_default = predictive_checks(
        None, ensembles=ppc_ensembles, replicates=ppc_replicates, seed=seed + 7
    )
    fwd_post = forward_shares(
        post.sample(forward_replicates, rng),
        replicates=forward_replicates,
        seed=seed,
        horizon=horizon,
    )
    fwd_default = forward_shares(None, replicates=forward_replicates, seed=seed, horizon=horizon)
    check_seconds = time.perf_counter() - started
    summary = post.summary()
    payload = {
        "method": "ABC-SMC, adaptive thresholds, one batched replay per proposal batch",
        "record": {k: {"value": v[0], "low": v[1], "high": v[2]} for k, v in _record().items()},
        "distance_scales": {k: v[3] for k, v in _record().items()},
        "parameters": list(post.parameters),
        "particles": particles,
        "seed": seed,
        "generations": [
            {
                "threshold": p.threshold,
                "simulated": p.simulated,
                "ess": p.ess,
                "mean_distance": float(np.sum(p.weights * p.distances)),
            }
            for p in post.populations
        ],
        "seconds_calibration": round(post.seconds, 2),
        "seconds_checks": round(check_seconds, 2),
        "posterior": summary.to_dict(orient="records"),
        "predictive_checks": {
            "ensembles": ppc_ensembles,
            "replicates_per_ensemble": ppc_replicates,
            "posterior": ppc_post.to_dict(orient="records"),
            "defaults": ppc_default.to_dict(orient="records"),
            "record_fit_posterior": fit_post.to_dict(orient="records"),
            "record_fit_defaults": fit_default.to_dict(orient="records"),
        },
        "forward_shares": {
            "replicates": forward_replicates,
            "horizon": horizon,
            "posterior": fwd_post.to_dict(orient="records"),
            "defaults": fwd_default.to_dict(orient="records"),
        },
        "model_version": model_version(),
        "versions": versions(),
    }
    ppc_table = fit_post.merge(
        fit_default[["pattern", "pred_median", "pred_q05", "pred_q95", "inside"]].rename(
            columns=lambda c: c if c == "pattern" else f"defaults_{c}"
        ),
        on="pattern",
    )
    frame = pd.DataFrame(post.last.theta, columns=list(post.parameters))
    frame["weight"] = post.last.weights
    frame["distance"] = post.last.distances
    buf = io.BytesIO()
    posterior_figure(post).savefig(buf, format="png", dpi=90)
    write_files(  # all four or none; calibration.json last
        out,
        {
            "posterior_predictive.csv": ppc_table.to_csv(index=False),
            "posterior.csv": frame.to_csv(index=False),
            "posterior.png": buf.getvalue(),
            "calibration.json": json.dumps(payload, indent=2, default=jsonable) + "\n",
        },
    )
    return payload


def format_payload(payload: Mapping[str, Any]) -> str:
    lines = ["parameter                      default   posterior median [90 % interval]"]
    for r in payload["posterior"]:
        lines.append(
            f"{r['parameter']:<30} {r['default']:>7.3g}   {r['median']:.3g} "
            f"[{r['q05']:.3g}, {r['q95']:.3g}]"
        )
    ppc = payload["predictive_checks"]
    lines.append(
        f"pattern passes over {ppc['ensembles']} replay ensembles of "
        f"{ppc['replicates_per_ensemble']}: posterior vs defaults"
    )
    for a, b in zip(ppc["posterior"], ppc["defaults"], strict=True):
        lines.append(f"  {a['pattern']}  {a['share']:6.0%}  {b['share']:6.0%}")
    lines.append(
        "posterior predictive (90 % interval over every replicate) vs the record; defaults after"
    )
    for a, b in zip(ppc["record_fit_posterior"], ppc["record_fit_defaults"], strict=True):
        lines.append(
            f"  {a['pattern']:<24} record {a['observed']:g}: {a['pred_median']:.3g} "
            f"[{a['pred_q05']:.3g}, {a['pred_q95']:.3g}] {'inside' if a['inside'] else 'OUTSIDE'}"
            f"  | {b['pred_median']:.3g} [{b['pred_q05']:.3g}, {b['pred_q95']:.3g}]"
            f" {'inside' if b['inside'] else 'OUTSIDE'}"
        )
    fwd = payload["forward_shares"]
    lines.append(f"forward shares ({fwd['replicates']} replicates): posterior vs defaults")
    for a, b in zip(fwd["posterior"], fwd["defaults"], strict=True):
        lines.append(
            f"  {a['scenario']:<8} {a['share']:6.1%} [{a['ci_low']:.1%}, {a['ci_high']:.1%}]"
            f"   {b['share']:6.1%} [{b['ci_low']:.1%}, {b['ci_high']:.1%}]"
        )
    lines.append(
        f"calibration {payload['seconds_calibration']} s, checks {payload['seconds_checks']} s"
    )
    return "\n".join(lines)


#: Bounds of the numeric options: a generation's replay holds ``particles × 10`` replicates,
#: the checks ``ppc-ensembles × ppc-replicates`` draws and the forward run one model of
#: ``forward-replicates`` (their memory and time grow with these).
OPTION_RANGES: dict[str, tuple[int, int]] = {
    "particles": (10, 100_000),
    "generations": (1, 100),
    "seed": (0, 2**62),  # seeds of later generations and checks are offsets from it
    "ppc_ensembles": (1, 1_000),
    "ppc_replicates": (1, 100_000),
    "forward_replicates": (1, 1_000_000),
}


def check_options(args: Any) -> None:
    """Every numeric option in range and ``--out`` writable, before any simulation."""
    if args.out is None:
        raise CalibrationError("--out DIR is required (where the posterior is written)")
    for name, (low, high) in OPTION_RANGES.items():
        value, option = getattr(args, name), "--" + name.replace("_", "-")
        if not low <= value <= high:
            bound = f"at least {low}" if value < low else f"at most {high:,}"
            raise CalibrationError(
                f"{option} must be {bound} (got {value}; allowed {low:,} to {high:,})"
            )
    problem = output_dir_problem(args.out)
    if problem:
        raise CalibrationError(f"--out={args.out}: {problem}; choose a folder you can write to")


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(
        prog="python -m analysis.calibrate",
        description="ABC-SMC calibration of chosen parameters to the 2000–2024 replay record.",
    )
    ap.add_argument("--out", type=Path, default=None, help="output directory (required)")
    ap.add_argument(
        "--measure-batch",
        action="store_true",
        help="only measure one-replicate replays against a batch of 2,000 and exit",
    )
    ap.add_argument("--parameters", default=",".join(PARAMETERS), help="comma-separated keys")
    ap.add_argument("--particles", type=int, default=1000)
    ap.add_argument("--generations", type=int, default=GENERATIONS)
    ap.add_argument(
        "--install-default",
        action="store_true",
        help="also copy posterior.csv to sim/data/posterior.csv (the shipped posterior=default)",
    )
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--ppc-ensembles", type=int, default=20)
    ap.add_argument("--ppc-replicates", type=int, default=500)
    ap.add_argument("--forward-replicates", type=int, default=20_000)
    args = ap.parse_args(argv)
    if args.measure_batch:
        m = measure_batch()
        print(
            f"one-replicate replay {m['one_replicate_s'] * 1e3:.1f} ms; per replicate in a batch "
            f"of 2000 {m['per_replicate_in_batch_s'] * 1e3:.3f} ms; ratio {m['ratio']:.0f}"
        )
        return 0
    try:
        check_options(args)
        keys = check_parameters([k.strip() for k in args.parameters.split(",") if k.strip()])
        payload = run(
            args.out,
            keys=keys,
            particles=args.particles,
            generations=args.generations,
            seed=args.seed,
            ppc_ensembles=args.ppc_ensembles,
            ppc_replicates=args.ppc_replicates,
            forward_replicates=args.forward_replicates,
        )
    except (CalibrationError, P.ParameterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_payload(payload))
    if args.install_default:
        from analysis.posterior import DEFAULT_FILE

        text = (args.out / "posterior.csv").read_text(encoding="utf-8")
        atomic_write(DEFAULT_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        print(f"installed as posterior=default: {DEFAULT_FILE}")
    print(f"outputs: {args.out}")
    return 0


if __name__ == "__main__":
    run_command(main)  # every expected error one line, Ctrl+C and SIGTERM too
