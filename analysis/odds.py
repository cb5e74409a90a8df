"""Updated odds: the scenario shares of a run given what has been observed since 2024Q4.

``python -m analysis.odds RUN_DIR RECORD.csv`` conditions a run on a record of observations
(``analysis.observations``): it keeps the replicates whose quarters are consistent with every row
of the record (rejection, with each indicator's documented tolerance) and reports, for S1, S2
and neither (the article's two futures, S1 and S2), the share among those replicates with a
Wilson 95 % interval, the effective sample size and the movement from the prior (all replicates).

How the trajectories are obtained: a run directory stores one row per replicate, not its
quarters. Because replicate k of seed s is the same trajectory in any batch (``sim.rng``), the
quarters are regenerated from ``summary.json`` (seed, replicates, horizon, parameters), batch by
batch, keeping only the indicators the record names; the regenerated scenario labels are
compared with ``runs.parquet`` so a run made by another model version is refused, not silently
misread. 100,000 replicates take a few seconds on one core.

Effective sample size: every consistent replicate has weight 1 and every other weight 0, so the
Kish ESS (Σw)²/Σw² equals the number of consistent replicates. When it is below ``--min-ess``
and ``--budget`` allows, more replicates of the same seed (ids n, n+1, …) are run until the ESS
reaches ``--min-ess`` or the budget is spent; the prior then covers all replicates run. If the
ESS is still too small the command names the observation that rules out most replicates and
exits with status 3 instead of printing an empty table.

Widening (``--widen KEY,...``, rejection ABC): the named parameters are drawn per replicate
uniformly over their declared ranges (one stream keyed by the seed, row = replicate id) instead of
taking the run's values. The prior is then that widened ensemble, and the consistent replicates
give both the conditional shares and a posterior over the widened parameters.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from analysis import observations as O
from analysis.illustrative import LINE as ILLUSTRATIVE_LINE
from analysis.illustrative import is_illustrative
from analysis.stats import proportion_ci
from contract.cli import OneLineParser, UsageError
from contract.cli import run as run_command
from contract.files import DONE_FILE, RUNS_FILE, SUMMARY_FILE
from contract.io import sha256
from contract.safe import check_output_dir, read_json_object, write_files
from sim import __version__ as MODEL_PACKAGE_VERSION
from sim import params as P
from sim.classifier import SCENARIOS

DEFAULT_MIN_ESS = 100
#: The most replicates a command regenerates (the run's own and any --budget beyond it). Time:
#: regeneration runs at about ``REGENERATED_PER_SECOND`` replicates a second on one core, so the
#: limit is about a quarter of an hour; memory: the run's stored labels (``LABEL_BYTES`` a
#: replicate) and the widened draws stay below a gigabyte.
MAX_REPLICATES = 20_000_000
REGENERATED_PER_SECOND = 25_000
LABEL_BYTES = 16  # a replicate id (int64) and a reference to its scenario label
#: --tolerance-scale multiplies every tolerance; beyond this every level matches anything.
MAX_TOLERANCE_SCALE = 1000.0


class NotEnoughReplicates(RuntimeError):
    """Too few replicates are consistent with the record (the message says which row)."""


@dataclass(frozen=True)
class RunSpec:
    """What is needed to regenerate a run's replicates exactly."""

    params: dict[str, Any]
    seed: int
    replicates: int
    horizon: int
    path: Path | None = None
    posterior: Any = None  # analysis.posterior.PosteriorTable of a run made with posterior=
    hedges: tuple[str, ...] = ()  # the limits a run made with hedges=true drew per replicate

    def params_for(self, ids: np.ndarray) -> dict[str, Any]:
        """The parameters of replicates ``ids``: the run's, with the posterior's and the hedges'
        draws if any."""
        out = dict(self.params)
        if self.posterior is not None:
            out |= self.posterior.draw(self.seed, ids)
        if self.hedges:
            from analysis import posterior

            out |= posterior.hedge_draws(self.seed, ids, keys=self.hedges)
        return out


def _estimate(replicates: int) -> str:
    seconds = replicates / REGENERATED_PER_SECOND
    when = f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.0f} min"
    return f"≈ {when} on one core, ≈ {replicates * LABEL_BYTES / 1e6:,.0f} MB for the labels"


def check_replicates(n: int, what: str) -> None:
    """Refuse regenerating more than ``MAX_REPLICATES`` replicates, with the estimate."""
    if n > MAX_REPLICATES:
        raise O.ObservationError(
            f"{what}: {n:,} replicates to regenerate ({_estimate(n)}) exceed the limit of "
            f"{MAX_REPLICATES:,}; use a smaller run or budget"
        )


def _json(path: Path) -> dict[str, Any]:
    try:
        return read_json_object(path)
    except UsageError as error:
        raise O.ObservationError(f"{error}; rerun python -m experiments.run") from None


def check_complete(run_dir: Path) -> dict[str, Any]:
    """``done.json`` of a finished run whose files still have the hashes it recorded."""
    done_path = run_dir / DONE_FILE
    if not done_path.is_file():
        raise O.ObservationError(
            f"{run_dir}: no {DONE_FILE}, so the run did not finish (or its folder was copied "
            f"without it); rerun python -m experiments.run"
        )
    done = _json(done_path)
    hashes = done.get("sha256")
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        raise O.ObservationError(f"{done_path}: no SHA-256 per file under 'sha256'")
    for name in (RUNS_FILE, SUMMARY_FILE):
        if name not in hashes:
            raise O.ObservationError(f"{done_path}: records no SHA-256 of {name}")
    for name, digest in hashes.items():
        if name != Path(name).name or name in ("", ".", ".."):  # never hash a path it names
            raise O.ObservationError(f"{done_path}: names {name[:60]!r}, not a file of a run")
        path = run_dir / name
        if path.is_symlink() or not path.is_file():
            raise O.ObservationError(
                f"{run_dir}: {name} is missing or not a regular file (recorded in {DONE_FILE})"
            )
        if sha256(path) != digest:
            raise O.ObservationError(
                f"{run_dir}: {name} changed since the run finished (SHA-256 differs from "
                f"{DONE_FILE}); rerun python -m experiments.run"
            )
    return done


def _int(summary: dict[str, Any], key: str, low: int, high: int, path: Path) -> int:
    value = summary.get(key)
    if type(value) is not int or not low <= value <= high:
        raise O.ObservationError(
            f"{path}: '{key}' is {str(value)[:40]!r}, expected a whole number from {low:,} to "
            f"{high:,}; rerun python -m experiments.run"
        )
    return value


def check_summary(run_dir: Path, summary: dict[str, Any], done: dict[str, Any]) -> None:
    """The fields a run's ``summary.json`` must have, its model version and its row count."""
    path = run_dir / SUMMARY_FILE
    for key, kind in (("parameters", dict), ("scenarios", dict), ("model_version", str)):
        if not isinstance(summary.get(key), kind):
            raise O.ObservationError(
                f"{path}: no '{key}' ({kind.__name__}); not the summary of python -m "
                "experiments.run"
            )
    try:
        rows = pq.ParquetFile(run_dir / RUNS_FILE).metadata.num_rows
    except Exception as error:  # pyarrow raises several types for a corrupt file
        raise O.ObservationError(
            f"{run_dir}: {RUNS_FILE} cannot be read ({str(error)[:120]})"
        ) from None
    for key in ("n", "replicates"):  # bounded by the rows really there, before any simulation
        value = summary.get(key)
        if type(value) is not int or value != rows:
            raise O.ObservationError(
                f"{path}: '{key}' is {str(value)[:40]}, but {RUNS_FILE} has {rows:,} rows; "
                "rerun python -m experiments.run"
            )
    if done.get("n") != rows:
        raise O.ObservationError(f"{run_dir}: {DONE_FILE} and {RUNS_FILE} disagree on n")
    _int(summary, "seed", 0, P.MAX_SEED, path)
    _int(summary, "horizon", 1, O.MAX_HORIZON, path)
    made = summary["model_version"]
    if done.get("model_version") != made:
        raise O.ObservationError(
            f"{run_dir}: {DONE_FILE} and {SUMMARY_FILE} name different model versions"
        )
    if made.split("+")[0] != MODEL_PACKAGE_VERSION:
        raise O.ObservationError(
            f"{run_dir}: made by model {made}, this is model {MODEL_PACKAGE_VERSION}; rerun "
            "python -m experiments.run"
        )
    if rows < 1:
        raise O.ObservationError(f"{run_dir}: {RUNS_FILE} has no rows")
    check_replicates(rows, str(run_dir))


def load_run(run_dir: str | Path) -> RunSpec:
    """Read a finished run directory; refuse sweeps, design chunks, changed or incomplete runs.

    The run must have its completion marker ``done.json`` and every file must still have the
    SHA-256 recorded there; ``summary.json`` must be a JSON object with the fields of
    ``experiments.run`` (integer ``n`` = ``replicates`` = rows of ``runs.parquet``, ``seed``,
    ``horizon``, ``parameters``, ``model_version`` of this model package). Every refusal is one
    ``ObservationError`` line, before anything is simulated.
    """
    run_dir = Path(run_dir)
    summary_path = run_dir / SUMMARY_FILE
    if not run_dir.is_dir():
        raise O.ObservationError(
            f"{run_dir}: no such folder; expected a run directory of python -m experiments.run"
        )
    if not summary_path.is_file():
        raise O.ObservationError(
            f"{run_dir}: no {SUMMARY_FILE}; expected a run directory of python -m experiments.run"
        )
    summary = _json(summary_path)
    if "design" in summary:
        raise O.ObservationError(
            f"{run_dir}: a design chunk varies parameters per replicate; condition a single "
            "parameter point (python -m experiments.run without design.method)"
        )
    done = check_complete(run_dir)
    check_summary(run_dir, summary, done)
    try:
        P.resolve(summary["parameters"])
    except (ValueError, TypeError) as error:  # ParameterError, or values of the wrong kind
        raise O.ObservationError(
            f"{run_dir}: the run's parameters do not fit the current model "
            f"({str(error)[:200]}); rerun python -m experiments.run"
        ) from None

    table = None
    if summary.get("posterior"):  # a history-matched run: its draws are regenerated too
        from analysis import posterior

        made = summary["posterior"]
        if not isinstance(made, dict) or not isinstance(made.get("path"), str):
            raise O.ObservationError(f"{summary_path}: 'posterior' has no 'path'")
        try:
            table = posterior.load(made["path"])
        except P.ParameterError as error:
            raise O.ObservationError(f"{run_dir}: {error}") from None
        if table.sha256 != made.get("sha256"):
            raise O.ObservationError(
                f"{run_dir}: the posterior {made['path']} changed since the run was made; "
                "rerun python -m experiments.run"
            )
    hedges = summary.get("hedges") or []
    if not isinstance(hedges, list) or not all(
        isinstance(k, str) and k in P.BY_KEY and P.BY_KEY[k].group == "limits" for k in hedges
    ):
        raise O.ObservationError(f"{summary_path}: 'hedges' must list limits.* keys")
    return RunSpec(
        params=dict(summary["parameters"]),
        seed=int(summary["seed"]),
        replicates=int(summary["replicates"]),
        horizon=int(summary["horizon"]),
        path=run_dir,
        posterior=table,
        hedges=tuple(hedges),
    )


@dataclass
class Odds:
    """Prior and conditional scenario shares, with the consistent replicates."""

    n: int
    consistent: int
    prior_counts: dict[str, int]
    counts: dict[str, int]
    row_pass: list[float] = field(default_factory=list)  # share of replicates passing each row
    extra_replicates: int = 0
    widened: list[dict[str, Any]] = field(default_factory=list)  # prior vs posterior, per key

    @property
    def ess(self) -> float:
        """Kish effective sample size of the 0/1 weights: the number of consistent replicates."""
        return float(self.consistent)

    def table(self) -> list[dict[str, Any]]:
        """One row per scenario: prior and conditional share with Wilson 95 % intervals."""
        rows = []
        for s in SCENARIOS:
            p_low, p_high = proportion_ci(self.prior_counts[s], self.n)
            c_low, c_high = proportion_ci(self.counts[s], max(self.consistent, 0))
            prior = self.prior_counts[s] / self.n
            post = self.counts[s] / self.consistent if self.consistent else float("nan")
            rows.append(
                {
                    "scenario": s,
                    "prior_share": prior,
                    "prior_ci_low": float(p_low),
                    "prior_ci_high": float(p_high),
                    "share": post,
                    "ci_low": float(c_low),
                    "ci_high": float(c_high),
                    "change": post - prior,
                    "count": self.counts[s],
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "consistent": self.consistent,
            "ess": self.ess,
            "extra_replicates": self.extra_replicates,
            "scenarios": self.table(),
            "row_pass": self.row_pass,
            "widened": self.widened,
        }


def run_summary(spec: RunSpec) -> dict[str, Any]:
    """The run's ``summary.json`` (empty when the spec has no directory)."""
    if spec.path is None:
        return {}
    return _json(spec.path / SUMMARY_FILE)


def stored_labels(spec: RunSpec) -> tuple[np.ndarray, np.ndarray] | None:
    """(replicate ids, scenario labels) from the run's ``runs.parquet``, if there is one."""
    if spec.path is None or not (spec.path / RUNS_FILE).is_file():
        return None
    try:
        table = pq.read_table(spec.path / RUNS_FILE, columns=["replicate", "scenario"])
    except Exception as error:  # pyarrow: ArrowInvalid, OSError, KeyError-like schema errors
        raise O.ObservationError(
            f"{spec.path}: {RUNS_FILE} has no readable replicate and scenario columns "
            f"({str(error)[:120]})"
        ) from None
    return (
        table.column("replicate").to_numpy(),
        np.asarray(table.column("scenario").to_pylist(), dtype=object),
    )


def check_labels(
    spec: RunSpec,
    ids: np.ndarray,
    labels: np.ndarray,
    stored: tuple[np.ndarray, np.ndarray],
) -> None:
    """Refuse regenerated replicates whose labels differ from the run's (another model)."""
    stored_ids, stored_labels_ = stored
    if not np.array_equal(stored_ids, np.arange(stored_ids.size)):
        raise O.ObservationError(f"{spec.path}: {RUNS_FILE} replicate ids are not 0..n-1")
    inside = ids < stored_ids.size
    if not np.array_equal(stored_labels_[ids[inside]], labels[inside]):
        raise O.ObservationError(
            f"{spec.path}: regenerated replicates do not match {RUNS_FILE} (the model "
            "changed since the run was made); rerun python -m experiments.run"
        )


def consistent_mask(
    values: dict[str, np.ndarray], record: list[O.Observation], scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(replicates consistent with every row, per-row pass counts) for one batch."""
    R = next(iter(values.values())).shape[1] if values else 0
    keep = np.ones(R, dtype=bool)
    passes = np.zeros(len(record), dtype=np.int64)
    for i, obs in enumerate(record):
        ok = O.holds(values[obs.indicator][obs.step], obs, scale)
        passes[i] = int(ok.sum())
        keep &= ok
    return keep, passes


WIDEN_STREAM = 14  # the issue number: a stream of draws no other part of the model uses


def widened_draws(spec: RunSpec, keys: list[str], n: int) -> np.ndarray:
    """Values of ``keys`` for replicate ids 0..n−1, uniform over each declared range.

    Drawn from one generator keyed by (seed, WIDEN_STREAM), row by replicate id, so replicate k
    gets the same values whatever ``n`` (numpy fills the array row by row).
    """
    low = np.array([P.BY_KEY[k].low for k in keys])
    high = np.array([P.BY_KEY[k].high for k in keys])
    draws = low + (high - low) * np.random.default_rng([spec.seed, WIDEN_STREAM]).random(
        (n, len(keys))
    )
    for j, key in enumerate(keys):
        if P.BY_KEY[key].kind is int:
            draws[:, j] = np.round(draws[:, j])
    return draws


def check_widen(keys: list[str]) -> list[str]:
    for key in keys:
        if key not in P.BY_KEY:
            raise O.ObservationError(f"--widen: unknown parameter {key!r}: {P.suggest(key)}")
        if P.BY_KEY[key].kind is bool or P.BY_KEY[key].group == "classifier":
            raise O.ObservationError(
                f"--widen: {key} is a switch or a classifier setting; only numeric model "
                "parameters can be widened over their ranges"
            )
    return keys


def condition(
    spec: RunSpec,
    record: list[O.Observation],
    *,
    scale: float = 1.0,
    batch_size: int = 50_000,
    min_ess: int = DEFAULT_MIN_ESS,
    budget: int | None = None,
    verify: bool = True,
    widen: list[str] | None = None,
) -> Odds:
    """Condition the run on ``record``; see the module docstring for the method.

    ``widen`` names parameters that are drawn per replicate uniformly over their declared ranges
    instead of taking the run's values (rejection ABC): the prior is then the widened ensemble,
    and the consistent replicates also give a posterior over those parameters.
    """
    last = O.last_quarter(spec.horizon)
    for obs in record:
        if obs.step >= spec.horizon:
            raise O.ObservationError(
                f"{obs.quarter} {obs.indicator}: after the run's last quarter {last}"
            )
    widen = check_widen(list(widen or []))
    stored = stored_labels(spec)
    if not record and stored is not None and not widen:  # the empty record is the prior, exactly
        counts = {s: int(np.count_nonzero(stored[1] == s)) for s in SCENARIOS}
        return Odds(spec.replicates, spec.replicates, counts, dict(counts), [])
    names = sorted({o.indicator for o in record}) or ["ceasefire"]
    prior = dict.fromkeys(SCENARIOS, 0)
    post = dict.fromkeys(SCENARIOS, 0)
    passes = np.zeros(len(record), dtype=np.int64)
    done, consistent = 0, 0
    budget = spec.replicates if budget is None else max(int(budget), spec.replicates)
    check_replicates(budget, f"{spec.path}: the run and the budget")
    draws = widened_draws(spec, widen, budget) if widen else np.zeros((budget, 0))
    kept: list[np.ndarray] = []
    while done < budget and (done < spec.replicates or consistent < min_ess):
        ids = np.arange(done, min(done + batch_size, budget), dtype=np.int64)
        params = spec.params_for(ids)
        params.update({k: draws[ids, j] for j, k in enumerate(widen)})
        values, labels = O.simulate(
            params, seed=spec.seed, replicates=ids, horizon=spec.horizon, names=names
        )
        if verify and stored is not None and done < spec.replicates and not widen:
            check_labels(spec, ids, labels, stored)
        keep, batch_pass = consistent_mask(values, record, scale)
        passes += batch_pass
        for s in SCENARIOS:
            is_s = labels == s
            prior[s] += int(is_s.sum())
            post[s] += int((is_s & keep).sum())
        consistent += int(keep.sum())
        kept.append(ids[keep])
        done += ids.size
    return Odds(
        n=done,
        consistent=consistent,
        prior_counts=prior,
        counts=post,
        row_pass=[float(p) / done for p in passes],
        extra_replicates=max(done - spec.replicates, 0),
        widened=_widened_summary(widen, draws[:done], np.concatenate(kept)),
    )


def _widened_summary(keys: list[str], draws: np.ndarray, kept: np.ndarray) -> list[dict[str, Any]]:
    out = []
    for j, key in enumerate(keys):
        post = draws[kept, j]
        q = np.quantile(post, (0.05, 0.5, 0.95)) if post.size else [np.nan] * 3
        out.append(
            {
                "parameter": key,
                "prior_mean": float(draws[:, j].mean()),
                "posterior_mean": float(post.mean()) if post.size else float("nan"),
                "q05": float(q[0]),
                "median": float(q[1]),
                "q95": float(q[2]),
            }
        )
    return out


def too_few_message(odds: Odds, record: list[O.Observation], min_ess: int) -> str:
    """One line: how many replicates remain and which observation rules out most."""
    worst = int(np.argmin(odds.row_pass)) if odds.row_pass else 0
    o = record[worst]
    return (
        f"only {odds.consistent} of {odds.n} replicates are consistent with the record "
        f"(effective sample size below {min_ess}); the rarest row is {o.quarter} {o.indicator} "
        f"{o.relation} {o.value:g} (held in {odds.row_pass[worst]:.2%} of replicates): check it, "
        "widen --tolerance-scale or raise --budget"
    )


def format_odds(odds: Odds) -> str:
    lines = [
        f"{'scenario':<9} {'prior':>7} {'given the record':>17}   95 % interval (Wilson)  change",
    ]
    for r in odds.table():
        lines.append(
            f"{r['scenario']:<9} {r['prior_share']:>7.1%} {r['share']:>17.1%}   "
            f"[{r['ci_low']:.1%}, {r['ci_high']:.1%}]{'':>10}{100 * r['change']:+.1f} pp"
        )
    for w in odds.widened:
        lines.append(
            f"{w['parameter']} widened over its range: prior mean {w['prior_mean']:.3g}, given "
            f"the record {w['posterior_mean']:.3g} (median {w['median']:.3g}, 90 % "
            f"[{w['q05']:.3g}, {w['q95']:.3g}])"
        )
    lines.append(
        f"{odds.consistent} of {odds.n} replicates consistent; effective sample size "
        f"{odds.ess:.0f}"
        + (f" ({odds.extra_replicates} extra run)" if odds.extra_replicates else "")
    )
    return "\n".join(lines)


def check_options(args: Any) -> None:
    """Numeric options finite and in range, and the output file writable, before any work."""
    scale = args.tolerance_scale
    if not math.isfinite(scale) or not 0 <= scale <= MAX_TOLERANCE_SCALE:
        raise O.ObservationError(
            f"--tolerance-scale={scale} is out of range: expected a number from 0 to "
            f"{MAX_TOLERANCE_SCALE:g}"
        )
    if not 1 <= args.min_ess <= MAX_REPLICATES:
        raise O.ObservationError(
            f"--min-ess={args.min_ess} is out of range: expected 1 to {MAX_REPLICATES:,}"
        )
    if args.budget is not None:
        if args.budget < 1:
            raise O.ObservationError(
                f"--budget={args.budget} is out of range: expected 1 to {MAX_REPLICATES:,}"
            )
        check_replicates(args.budget, f"--budget={args.budget}")
    if args.out is not None:
        if args.out.is_dir():
            raise O.ObservationError(
                f"--out={args.out} is a folder; give a file name, e.g. {args.out / 'odds.json'}"
            )
        try:
            check_output_dir(args.out.parent, "--out")
        except UsageError as error:
            raise O.ObservationError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(
        prog="python -m analysis.odds",
        description="Scenario shares of a run given a record of observations since 2024Q4.",
    )
    ap.add_argument("run_dir", help="a run directory of python -m experiments.run")
    ap.add_argument("record", help="CSV quarter,indicator,relation,value,source")
    ap.add_argument("--tolerance-scale", type=float, default=1.0, help="multiplies every tolerance")
    ap.add_argument("--min-ess", type=int, default=DEFAULT_MIN_ESS)
    ap.add_argument("--budget", type=int, default=None, help="most replicates to run in all")
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    ap.add_argument(
        "--widen",
        default="",
        help="comma-separated parameters drawn uniformly over their ranges per replicate (ABC)",
    )
    args = ap.parse_args(argv)
    try:
        check_options(args)
        spec = load_run(args.run_dir)
        record = O.read_record(args.record, spec.horizon)
        started = time.perf_counter()
        odds = condition(
            spec,
            record,
            scale=args.tolerance_scale,
            min_ess=args.min_ess,
            budget=args.budget,
            widen=[k.strip() for k in args.widen.split(",") if k.strip()],
        )
        seconds = time.perf_counter() - started
    except O.ObservationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if odds.consistent < args.min_ess:
        print(f"error: {too_few_message(odds, record, args.min_ess)}", file=sys.stderr)
        return 3
    illustrative = is_illustrative(args.record)
    if illustrative:  # issue 25: an output from an illustrative record says so first
        print(ILLUSTRATIVE_LINE)
    print(format_odds(odds))
    print(f"conditioned in {seconds:.1f} s (CPU {time.process_time():.1f} s for the whole command)")
    if args.out:
        payload = {
            **({"illustrative": ILLUSTRATIVE_LINE} if illustrative else {}),  # first, as printed
            **odds.as_dict(),
            "record": str(args.record),
            "tolerance_scale": args.tolerance_scale,
            "seed": spec.seed,
            "horizon": spec.horizon,
            "run_dir": str(spec.path),
            "seconds": round(seconds, 2),
        }
        text = json.dumps(payload, indent=2, default=str) + "\n"
        write_files(args.out.parent, {args.out.name: text})
    return 0


if __name__ == "__main__":
    run_command(main)  # every expected error one line, Ctrl+C and SIGTERM too
