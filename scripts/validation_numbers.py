"""Write the measured tables of ``docs/VALIDATION.md`` from the replay, so no number is typed by hand.

    python scripts/validation_numbers.py            # rerun the replays and rewrite the tables
    python scripts/validation_numbers.py --check    # exit 1 if the tables differ from a fresh run

Each table sits between ``<!-- generated:NAME start (command) -->`` and ``<!-- generated:NAME end -->``
markers. The replays use the replay's own defaults (``sim.replay``: R = 2,000, seed 20240918) and
the forward shares R = 4,000 at seed 20241001, so the page is rewritten in about a minute.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from analysis import calibrate, posterior
from sim import replay
from sim.classifier import SCENARIOS, classify
from sim.model import START_STATE, RussiaDPRKModel
from sim.params import BY_KEY, RUN_KEYS

DOC = Path(__file__).resolve().parents[1] / "docs" / "VALIDATION.md"
COMMAND = "python scripts/validation_numbers.py"
SUMMIT_RATES = (0.35, 0.5, 0.8, 1.0)
FORWARD_REPLICATES = 4000


def _yes(passed: bool) -> str:
    return "**pass**" if passed else "**FAIL**"


def patterns_table() -> str:
    """P1–P6 and the no-war counterfactual at the defaults: tolerance, measured, verdict."""
    factual = replay.run_replay()
    no_war = replay.run_replay(counterfactual="no_war")
    rows = [*replay.verdicts(factual), replay.counterfactual_verdict(factual, no_war)]
    lines = [
        f"R = {replay.DEFAULT_REPLICATES:,} replays, seed {replay.DEFAULT_SEED}, the model's "
        "default parameters.",
        "",
        "| pattern | article ids | claim | tolerance | measured | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = (r["pattern"], ", ".join(r["ids"]), r["claim"], r["tolerance"], r["measured"])
        lines.append("| " + " | ".join(cells) + f" | {_yes(r['passed'])} |")
    return "\n".join(lines)


def summit_rate_table() -> str:
    """P1's rates and P4 against ``russia.summit_rate``, with the forward shares (war on)."""
    lines = [
        "| `russia.summit_rate` | summits per quarter 2001–2018 | 2023–2024 | P4: treaty in "
        "2023–2024 | forward S1 | forward S2 | forward neither |",
        "|---|---|---|---|---|---|---|",
    ]
    for rate in SUMMIT_RATES:
        params = {"russia.summit_rate": rate}
        m = replay.measure(replay.run_replay(params=params))
        model = RussiaDPRKModel(params, replicates=FORWARD_REPLICATES, seed=RUN_KEYS["seed"]).run()
        labels = classify(model)["scenario"]
        share = {s: float(np.mean(labels == s)) for s in SCENARIOS}
        lines.append(
            f"| {rate:g} | {m['P1']['rate_2001_2018']:.3f} | {m['P1']['rate_2023_2024']:.3f} | "
            f"{m['P4']['in_2023_2024']:.1%} | {share['S1']:.1%} | {share['S2']:.1%} | "
            f"{share['neither']:.1%} |"
        )
    lines.append("")
    lines.append(
        f"Forward shares: R = {FORWARD_REPLICATES:,}, seed {RUN_KEYS['seed']}, the article's "
        "defaults otherwise (a ceasefire possible)."
    )
    return "\n".join(lines)


def _spread(values: np.ndarray, share: bool = False) -> str:
    if share:
        return f"{np.mean(values):.1%} of replicates"
    q05, q50, q95 = np.quantile(np.asarray(values, float), [0.05, 0.5, 0.95])
    return f"{q50:.3g} [{q05:.3g}, {q95:.3g}]"


#: The record's value of a 2024Q3 state, where it has one (sim/data/record.csv, Table 1).
START_RECORD = {
    "munitions_shipped_total": "13–16 (ROK, 2024-08: 'more than 13,000 containers')",
    "defence_treaty": "1 (signed 2024-06-19, F02)",
    "summits": "9 quarters with a summit-level meeting (Table 1 from 2000Q3)",
    "posture": "1: covert, denied (F07, M10, M17)",
}


SHARES = ("defence_treaty",)  # yes/no states: the share of replicates


def start_state_table() -> str:
    """ODD §5 as an output: the 2024Q3 state forward runs continue from, with the record."""
    ids = np.arange(FORWARD_REPLICATES)
    seed = RUN_KEYS["seed"]
    defaults = RussiaDPRKModel({}, replicates=ids, seed=seed, horizon=0).start_state
    table = posterior.load(posterior.DEFAULT)
    matched = RussiaDPRKModel(table.draw(seed, ids), replicates=ids, seed=seed, horizon=0)
    lines = [
        "| 2024Q3 state (`start_` column of runs.parquet) | defaults: median [5 %, 95 %] | "
        "history-matched | record |",
        "|---|---|---|---|",
    ]
    for name in START_STATE:
        lines.append(
            f"| `start_{name}` | {_spread(defaults[name], name in SHARES)} | "
            f"{_spread(matched.start_state[name], name in SHARES)} | "
            f"{START_RECORD.get(name, '–')} |"
        )
    lines += [
        "",
        f"R = {FORWARD_REPLICATES:,} replicates, seed {seed}; history-matched: the calibrated "
        "parameters drawn per replicate from `sim/data/posterior.csv` (`posterior=default`).",
    ]
    return "\n".join(lines)


def calibration_table() -> str:
    """The shipped posterior: each calibrated parameter before and after, and the predictive
    check per record measure (``analysis.calibrate``'s posterior_predictive.csv columns)."""
    table = posterior.load(posterior.DEFAULT)
    lines = [
        "| parameter | default (before) | posterior median [5 %, 95 %] (after) | prior range |",
        "|---|---|---|---|",
    ]
    for j, key in enumerate(table.parameters):
        order = np.argsort(table.theta[:, j])
        cdf = np.cumsum(table.weights[order])
        q = [table.theta[order, j][np.searchsorted(cdf, c)] for c in (0.05, 0.5, 0.95)]
        p = BY_KEY[key]
        lines.append(
            f"| `{key}` | {p.default:g} | {q[1]:.3g} [{q[0]:.3g}, {q[2]:.3g}] | "
            f"{p.low:g}–{p.high:g} |"
        )
    ensembles, replicates = 20, 500
    sample = table.draw(calibrate.SEED + 1, ensembles * replicates)
    _, post = calibrate.predictive_checks(
        sample, ensembles=ensembles, replicates=replicates, seed=calibrate.SEED + 7
    )
    _, base = calibrate.predictive_checks(
        None, ensembles=ensembles, replicates=replicates, seed=calibrate.SEED + 7
    )
    lines += [
        "",
        "| record measure | observed [record range] | history-matched: median [5 %, 95 %] | "
        "inside | defaults: median [5 %, 95 %] | inside |",
        "|---|---|---|---|---|---|",
    ]
    for a, b in zip(post.to_dict("records"), base.to_dict("records"), strict=True):
        lines.append(
            f"| `{a['pattern']}` | {a['observed']:g} [{a['record_low']:g}, "
            f"{a['record_high']:g}] | {a['pred_median']:.3g} [{a['pred_q05']:.3g}, "
            f"{a['pred_q95']:.3g}] | {'yes' if a['inside'] else '**no**'} | "
            f"{b['pred_median']:.3g} [{b['pred_q05']:.3g}, {b['pred_q95']:.3g}] | "
            f"{'yes' if b['inside'] else '**no**'} |"
        )
    lines += [
        "",
        f"{ensembles} × {replicates:,} replays each, seed {calibrate.SEED + 7}; the posterior "
        "is the shipped `sim/data/posterior.csv`.",
    ]
    return "\n".join(lines)


TABLES = {
    "replay-patterns": patterns_table,
    "summit-rate": summit_rate_table,
    "start-state": start_state_table,
    "calibration": calibration_table,
}


def render(text: str) -> str:
    """``text`` with every generated block replaced by a fresh table."""
    for name, make in TABLES.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} start \([^)]*\) -->\n).*?(<!-- generated:{name} end -->)",
            re.S,
        )
        if not pattern.search(text):
            raise SystemExit(f"error: {DOC} has no generated block '{name}'")
        table = make()
        text = pattern.sub(lambda m, t=table: m.group(1) + t + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page is out of date")
    args = parser.parse_args(argv)
    before = DOC.read_text(encoding="utf-8")
    after = render(before)
    if args.check:
        if after != before:
            print(f"{DOC} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(after, encoding="utf-8")
    tmp.replace(DOC)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
