"""Replay 2000Q1–2024Q3 and measure the article's patterns P1–P6 (pattern-oriented validation).

``run_replay`` drives an ensemble of R replicates through the sourced inputs of
``sim/data/replay_inputs.csv`` (``sim.world.History``) with the model's default parameters
unless told otherwise, and keeps, per quarter and per replicate, the indicators the patterns are
about: summits, sanctions posture, munitions, the treaty, tourism (the bilateral behaviour is
model output, never input; docs/REPLAY_DATA.md). ``per_replicate`` reduces them to one row per
replicate (first open breach, first munitions quarter, treaty quarter, ...), ``measure`` to the
ensemble values each pattern is judged on, and ``verdicts`` compares them with the tolerances
below, which translate the words of issue 6 into numbers and were fixed before the patterns were
tuned against (docs/VALIDATION.md). ``quarter_bands`` gives the per-quarter ensemble bands that
the replay report draws next to the record (``sim/data/record.csv``).

Patterns (ARTICLE.md ids):
    P1 (M01, F03 Table 1)  summits rare 2001–2018, several times more frequent 2023–2024.
    P2 (F06, M02, M17)     no open breach of UN sanctions before the 2022 war.
    P3 (F07, M03, M04)     munitions flow only after the war begins, under way by 2023Q4.
    P4 (F02, M07)          a defence treaty in 2023–2024 in a substantial share, ~never pre-2014.
    P5 (F08, M11)          tourism restarts after the 2020–2023 closure.
    P6 (M22)               summit-to-implementation lag positive, growing with scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.agents import LOOPHOLES, OPEN_BREACH
from sim.model import DOMAINS, HISTORY, RussiaDPRKModel
from sim.world import History, ReplaySchedule, load_schedule

DEFAULT_REPLICATES = 2000
DEFAULT_SEED = 20240918  # the day the article's footnotes were retrieved

# Periods of the patterns (inclusive quarter labels), from issue 6 and docs/REPLAY_DATA.md §7.
QUIET = ("2001Q1", "2018Q4")  # P1: 72 quarters, 3 with a summit in Table 1
ACTIVE = ("2023Q1", "2024Q3")  # P1: 7 quarters, 4 with a summit in Table 1
WAR_START = "2022Q1"  # P2, P3: 2022-02-24
MUNITIONS_BY = "2023Q4"  # P3: F07, US statement of 2023-10-13
TREATY_WINDOW = ("2023Q1", "2024Q3")  # P4: F02, signed 2024-06-19
TREATY_NEVER_BEFORE = "2014Q1"  # P4: 'essentially never before 2014'
PRE_CLOSURE = "2019Q4"  # P5: last quarter before the COVID-19 closure (2020-01-22)
REOPENED = "2024Q3"  # P5: three quarters after the border reopened (F08, 2024Q1)
CLOSED = "2023Q4"  # P5: last closed quarter

# Quarters whose cumulative munitions shipments the record quantifies (sim/data/record.csv).
RECORD_DATES = ("2023Q3", "2023Q4", "2024Q1", "2024Q3")

# Tolerances, stated in advance (issue 6 wording → number). One place: tests and report read these.
P1_MIN_RATIO = 3.0  # 'several times': summit rate 2023–2024 ≥ 3 × rate 2001–2018
P2_MIN_NO_BREACH = 0.90  # 'large majority': ≥ 90 % of replays with no open breach before 2022
P3_MAX_BEFORE_WAR = 0.01  # 'start after the war begins': ≤ 1 % of replays ship before 2022Q1
P3_MIN_BY_2023Q4 = 0.60  # 'under way by 2023Q4 in most replays': ≥ 60 % ship in 2023Q4
P4_MIN_IN_WINDOW = 0.15  # 'substantial share': ≥ 15 % of replays sign in 2023Q1–2024Q3
P4_MAX_BEFORE_2014 = 0.02  # 'essentially never before 2014': ≤ 2 % of replays
P5_MIN_RESTART = 0.90  # 'tourism reopens': ≥ 90 % of replays back to ≥ half the 2019Q4 level
P5_RESTART_FRACTION = 0.5
P6_MIN_LAG = 1.0  # 'take long': mean lag of one-domain agreements ≥ 1 quarter
P6_MIN_COUNT = 20  # scopes with fewer completed agreements are not judged
# Counterfactual (no 2022 war): P3 and P4 'largely disappear'.
CF_MAX_MUNITIONS = 0.05  # ≤ 5 % of replays ship munitions in 2023Q4
CF_MAX_TREATY_RATIO = 1 / 3  # treaty share in 2023–2024 falls to ≤ one third of the factual

TOLERANCES: dict[str, dict[str, float]] = {
    "P1": {"min_ratio": P1_MIN_RATIO},
    "P2": {"min_no_breach": P2_MIN_NO_BREACH},
    "P3": {"max_before_war": P3_MAX_BEFORE_WAR, "min_by_2023Q4": P3_MIN_BY_2023Q4},
    "P4": {"min_in_window": P4_MIN_IN_WINDOW, "max_before_2014": P4_MAX_BEFORE_2014},
    "P5": {"min_restart": P5_MIN_RESTART, "restart_fraction": P5_RESTART_FRACTION},
    "P6": {"min_lag": P6_MIN_LAG, "min_count": P6_MIN_COUNT},
}


@dataclass(frozen=True)
class Pattern:
    """One pattern: id, article ids, the claim in words, and the tolerance in words."""

    id: str
    ids: tuple[str, ...]
    claim: str
    tolerance: str


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "P1",
        ("M01", "F03"),
        "high-level contact is rare 2001–2018 and frequent 2023–2024 (Table 1)",
        f"summit rate per quarter 2023Q1–2024Q3 ≥ {P1_MIN_RATIO:g} × rate 2001Q1–2018Q4",
    ),
    Pattern(
        "P2",
        ("F06", "M02", "M17"),
        "while relations with the West are good Russia observes UN sanctions on the DPRK",
        f"≥ {P2_MIN_NO_BREACH:.0%} of replays with no open breach before {WAR_START}",
    ),
    Pattern(
        "P3",
        ("F07", "M03", "M04"),
        "munitions flow to Russia starts after the 2022 war and is under way by 2023Q4",
        f"≤ {P3_MAX_BEFORE_WAR:.0%} of replays ship before {WAR_START}; "
        f"≥ {P3_MIN_BY_2023Q4:.0%} ship in {MUNITIONS_BY}",
    ),
    Pattern(
        "P4",
        ("F02", "M07"),
        "a defence treaty appears in 2023–2024, essentially never before 2014",
        f"≥ {P4_MIN_IN_WINDOW:.0%} of replays sign in {TREATY_WINDOW[0]}–{TREATY_WINDOW[1]}; "
        f"≤ {P4_MAX_BEFORE_2014:.0%} sign before {TREATY_NEVER_BEFORE}",
    ),
    Pattern(
        "P5",
        ("F08", "M11"),
        "tourism restarts after the 2020–2023 closure",
        f"≥ {P5_MIN_RESTART:.0%} of replays reach ≥ {P5_RESTART_FRACTION:g} × their "
        f"{PRE_CLOSURE} tourism by {REOPENED}",
    ),
    Pattern(
        "P6",
        ("M22",),
        "summit decisions take long to implement, the wider their scope the longer",
        f"mean lag of one-domain agreements ≥ {P6_MIN_LAG:g} quarter and mean lag rising with "
        f"scope (scopes with ≥ {P6_MIN_COUNT} completed agreements)",
    ),
)

# Per-quarter indicators kept for every replicate (T, R): the model's history series.
SERIES = HISTORY


@dataclass
class ReplayResult:
    """An ensemble replay: per-quarter series (T, R), lags by scope, and how it was run."""

    quarters: tuple[str, ...]
    series: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]
    lag_sum: np.ndarray
    lag_count: np.ndarray
    seed: int
    replicate_ids: np.ndarray
    counterfactual: str | None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def R(self) -> int:
        return int(self.replicate_ids.size)

    def index(self, quarter: str) -> int:
        """Row of a quarter label in the series."""
        try:
            return self.quarters.index(quarter)
        except ValueError:
            raise KeyError(
                f"quarter {quarter!r} is not in the replay ({self.quarters[0]}–{self.quarters[-1]})"
            ) from None

    def window(self, first: str, last: str) -> slice:
        return slice(self.index(first), self.index(last) + 1)


def run_replay(
    replicates: int | np.ndarray = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    counterfactual: str | None = None,
    params: Mapping[str, Any] | None = None,
    schedule: ReplaySchedule | None = None,
) -> ReplayResult:
    """Run a replay ensemble from 2000Q1 over the whole input schedule and keep the series.

    This is the history every forward run starts with (``RussiaDPRKModel`` with no forward
    quarters): the same rules, parameters and random streams.
    """
    history = History(schedule or load_schedule(), counterfactual=counterfactual)
    model = RussiaDPRKModel(
        dict(params or {}),
        history=history,
        horizon=0,
        keep_history=True,
        record=False,
        replicates=replicates,
        seed=seed,
        measure_lag=True,
    )
    assert model.history_series is not None
    inputs = {k: np.asarray(v, dtype=float) for k, v in history.columns.items()}
    return ReplayResult(
        quarters=tuple(history.labels),
        series=model.history_series,
        inputs=inputs,
        lag_sum=model.lag_sum.copy(),
        lag_count=model.lag_count.copy(),
        seed=int(seed),
        replicate_ids=model.replicate_ids.copy(),
        counterfactual=counterfactual,
        params={k: v for k, v in model.p.items()},
    )


def _first(mask: np.ndarray) -> np.ndarray:
    """Row of the first True per column, −1 where there is none."""
    any_ = mask.any(axis=0)
    return np.where(any_, mask.argmax(axis=0), -1)


def per_replicate(result: ReplayResult) -> pd.DataFrame:
    """One row per replicate: the pattern indicators of that replay."""
    s, q = result.series, result.quarters
    labels = np.array(q + ("",), dtype=object)  # index −1 → ''
    first_breach = _first(s["posture"] == OPEN_BREACH)
    first_loophole = _first(s["posture"] >= LOOPHOLES)
    first_munitions = _first(s["munitions"] > 0)
    treaty_at = _first(s["treaty"] > 0)
    quiet, active = result.window(*QUIET), result.window(*ACTIVE)
    war = result.index(WAR_START)
    tour_pre = s["tourism"][result.index(PRE_CLOSURE)].astype(float)
    tour_re = s["tourism"][result.index(REOPENED)].astype(float)
    lo, hi = result.index(TREATY_WINDOW[0]), result.index(TREATY_WINDOW[1])
    shipped = np.cumsum(s["munitions"], axis=0, dtype=np.float64)
    by = {f"munitions_by_{q}": shipped[result.index(q)] for q in RECORD_DATES}
    # Quarters from 2000Q1 (1 = 2000Q1); a treaty not signed by the end counts one quarter later.
    treaty_number = np.where(treaty_at >= 0, treaty_at + 1, len(q) + 1)
    return pd.DataFrame(
        {
            **by,
            "summits_2019_2022": s["summit"][result.window("2019Q1", "2022Q4")]
            .sum(axis=0)
            .astype(int),
            "treaty_quarter_number": treaty_number,
            "replicate": result.replicate_ids,
            "seed": result.seed,
            "counterfactual": result.counterfactual or "none",
            "summits_2001_2018": s["summit"][quiet].sum(axis=0).astype(int),
            "summits_2023_2024": s["summit"][active].sum(axis=0).astype(int),
            "summits_total": s["summit"].sum(axis=0).astype(int),
            "first_open_breach": labels[first_breach],
            "open_breach_before_war": (first_breach >= 0) & (first_breach < war),
            "first_loopholes": labels[first_loophole],
            "first_munitions": labels[first_munitions],
            "munitions_before_war": (first_munitions >= 0) & (first_munitions < war),
            "munitions_2023Q4": s["munitions"][result.index(MUNITIONS_BY)] > 0,
            "munitions_total": s["munitions"].sum(axis=0, dtype=np.float64),
            "treaty_quarter": labels[treaty_at],
            "treaty_before_2014": (treaty_at >= 0)
            & (treaty_at < result.index(TREATY_NEVER_BEFORE)),
            "treaty_2023_2024": (treaty_at >= lo) & (treaty_at <= hi),
            "tourism_2019Q4": tour_pre,
            "tourism_2023Q4": s["tourism"][result.index(CLOSED)].astype(float),
            "tourism_2024Q3": tour_re,
            "tourism_restarted": tour_re >= P5_RESTART_FRACTION * tour_pre,
        }
    )


def lags_by_scope(result: ReplayResult) -> pd.DataFrame:
    """Mean quarters from a summit to half its agreed increase implemented, by scope (M22)."""
    scopes = np.arange(1, len(DOMAINS) + 1)
    count = result.lag_count[scopes]
    mean = np.where(count > 0, result.lag_sum[scopes] / np.maximum(count, 1), np.nan)
    return pd.DataFrame({"scope": scopes, "count": count.astype(int), "mean_lag": mean})


def measure(result: ReplayResult, rows: pd.DataFrame | None = None) -> dict[str, dict[str, Any]]:
    """The ensemble value(s) each pattern is judged on (plus a few diagnostics)."""
    rows = per_replicate(result) if rows is None else rows
    s = result.series
    quiet, active = result.window(*QUIET), result.window(*ACTIVE)
    rate_quiet = float(s["summit"][quiet].mean())
    rate_active = float(s["summit"][active].mean())
    posture = s["posture"]
    lags = lags_by_scope(result)
    judged = lags[lags["count"] >= P6_MIN_COUNT]
    return {
        "P1": {
            "rate_2001_2018": rate_quiet,
            "rate_2023_2024": rate_active,
            "ratio": rate_active / rate_quiet if rate_quiet > 0 else float("inf"),
            "record_rate_2001_2018": 3 / 72,
            "record_rate_2023_2024": 4 / 7,
        },
        "P2": {
            "no_breach_before_war": float(1 - rows["open_breach_before_war"].mean()),
            "loopholes_2013Q4": float((posture[result.index("2013Q4")] >= LOOPHOLES).mean()),
            "loopholes_2021Q4": float((posture[result.index("2021Q4")] >= LOOPHOLES).mean()),
            "open_breach_2024Q3": float((posture[-1] == OPEN_BREACH).mean()),
        },
        "P3": {
            "before_war": float(rows["munitions_before_war"].mean()),
            "by_2023Q4": float(rows["munitions_2023Q4"].mean()),
            "first_quarter_median": _median_label(result, rows["first_munitions"]),
        },
        "P4": {
            "in_2023_2024": float(rows["treaty_2023_2024"].mean()),
            "before_2014": float(rows["treaty_before_2014"].mean()),
            "in_2014_2022": float(
                (
                    (rows["treaty_quarter"] != "")
                    & ~rows["treaty_before_2014"]
                    & ~rows["treaty_2023_2024"]
                ).mean()
            ),
        },
        "P5": {
            "restarted": float(rows["tourism_restarted"].mean()),
            "tourism_2019Q4": float(rows["tourism_2019Q4"].mean()),
            "tourism_2023Q4": float(rows["tourism_2023Q4"].mean()),
            "tourism_2024Q3": float(rows["tourism_2024Q3"].mean()),
            # Is the restart bilateral and not only the border gate? (REPLAY_DATA.md §6)
            "corr_tourism_political_2024Q3": _corr(
                s["tourism"][-1], s["political"][result.index(REOPENED)]
            ),
        },
        "P6": {
            "mean_lag_by_scope": {
                int(r.scope): (None if np.isnan(r.mean_lag) else float(r.mean_lag))
                for r in lags.itertuples()
            },
            "count_by_scope": {int(r.scope): int(r.count) for r in lags.itertuples()},
            "min_lag": float(judged["mean_lag"].min()) if len(judged) else float("nan"),
            "increasing": bool(len(judged) >= 2 and np.all(np.diff(judged["mean_lag"]) > 0)),
            "record_lags": {"munitions": 1, "tourism": 2, "treaty": 3, "debt relief": 11},
        },
    }


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _median_label(result: ReplayResult, labels: pd.Series) -> str:
    idx = [result.quarters.index(x) for x in labels if x]
    return result.quarters[int(np.median(idx))] if idx else ""


def verdicts(
    result: ReplayResult, measured: Mapping[str, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Pattern by pattern: claim, article ids, measured value, tolerance, passed."""
    m = measure(result) if measured is None else measured
    checks = {
        "P1": (m["P1"]["ratio"] >= P1_MIN_RATIO, f"ratio {m['P1']['ratio']:.2f}"),
        "P2": (
            m["P2"]["no_breach_before_war"] >= P2_MIN_NO_BREACH,
            f"no open breach before 2022 in {m['P2']['no_breach_before_war']:.1%}",
        ),
        "P3": (
            m["P3"]["before_war"] <= P3_MAX_BEFORE_WAR and m["P3"]["by_2023Q4"] >= P3_MIN_BY_2023Q4,
            f"before 2022: {m['P3']['before_war']:.1%}; in 2023Q4: {m['P3']['by_2023Q4']:.1%}",
        ),
        "P4": (
            m["P4"]["in_2023_2024"] >= P4_MIN_IN_WINDOW
            and m["P4"]["before_2014"] <= P4_MAX_BEFORE_2014,
            f"2023–2024: {m['P4']['in_2023_2024']:.1%}; before 2014: {m['P4']['before_2014']:.1%}",
        ),
        "P5": (
            m["P5"]["restarted"] >= P5_MIN_RESTART,
            f"restarted in {m['P5']['restarted']:.1%}",
        ),
        "P6": (
            m["P6"]["min_lag"] >= P6_MIN_LAG and m["P6"]["increasing"],
            "mean lag by scope "
            + ", ".join(
                f"{k}: {v:.1f}" for k, v in m["P6"]["mean_lag_by_scope"].items() if v is not None
            )
            + (" (rising)" if m["P6"]["increasing"] else " (not rising)"),
        ),
    }
    out = []
    for p in PATTERNS:
        passed, text = checks[p.id]
        out.append(
            {
                "pattern": p.id,
                "ids": list(p.ids),
                "claim": p.claim,
                "measured": text,
                "values": dict(m[p.id]),
                "tolerance": p.tolerance,
                "tolerance_values": TOLERANCES[p.id],
                "passed": bool(passed),
            }
        )
    return out


def counterfactual_verdict(factual: ReplayResult, no_war: ReplayResult) -> dict[str, Any]:
    """Does removing the 2022 war make P3 and P4 largely disappear (M03)?"""
    mf, mc = measure(factual), measure(no_war)
    treaty_f, treaty_c = mf["P4"]["in_2023_2024"], mc["P4"]["in_2023_2024"]
    munitions_c = mc["P3"]["by_2023Q4"]
    passed = munitions_c <= CF_MAX_MUNITIONS and treaty_c <= CF_MAX_TREATY_RATIO * treaty_f
    return {
        "pattern": "no_war",
        "ids": ["M03", "F07", "F02"],
        "claim": "without the 2022 war, munitions flows and the 2023–2024 treaty become rare",
        "measured": (
            f"munitions in 2023Q4: {mf['P3']['by_2023Q4']:.1%} → {munitions_c:.1%}; "
            f"treaty 2023–2024: {treaty_f:.1%} → {treaty_c:.1%}"
        ),
        "tolerance": (
            f"munitions in 2023Q4 ≤ {CF_MAX_MUNITIONS:.0%}; treaty share ≤ "
            f"{CF_MAX_TREATY_RATIO:.2f} × factual"
        ),
        "passed": bool(passed),
    }


BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)


def quarter_bands(result: ReplayResult) -> pd.DataFrame:
    """Per quarter and indicator: mean, share > 0 and the 5/25/50/75/95 % quantiles.

    Posture is also given as the share in each posture (``posture_observe`` etc.) and the inputs
    as indicators ``input_<column>``, so the report needs nothing but this table and the record.
    """
    frames = []
    for name, values in result.series.items():
        v = values.astype(float)
        q = np.quantile(v, BANDS, axis=1)
        frame = pd.DataFrame(
            {
                "quarter": result.quarters,
                "step": np.arange(1, len(result.quarters) + 1),
                "indicator": name,
                "mean": v.mean(axis=1),
                "share_positive": (v > 0).mean(axis=1),
            }
        )
        for level, row in zip(BANDS, q, strict=True):
            frame[f"q{int(level * 100):02d}"] = row
        frames.append(frame)
    posture = result.series["posture"]
    for code, name in ((0, "observe"), (LOOPHOLES, "loopholes"), (OPEN_BREACH, "open_breach")):
        share = (posture == code).mean(axis=1)
        frames.append(_flat(result, f"posture_{name}", share))
    for name, values in result.inputs.items():
        frames.append(_flat(result, f"input_{name}", np.asarray(values, float)))
    return pd.concat(frames, ignore_index=True)


def _flat(result: ReplayResult, name: str, values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "quarter": result.quarters,
            "step": np.arange(1, len(result.quarters) + 1),
            "indicator": name,
            "mean": values,
            "share_positive": (values > 0).astype(float),
        }
    )
    for level in BANDS:
        frame[f"q{int(level * 100):02d}"] = values
    return frame


if __name__ == "__main__":
    res = run_replay()
    for v in verdicts(res):
        print(f"{v['pattern']} {'PASS' if v['passed'] else 'FAIL'}: {v['measured']}")
        print(f"    tolerance: {v['tolerance']}")
