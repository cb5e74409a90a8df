"""Run a teaching exercise against the article's baseline and print the comparison.

``python -m experiments.exercise NAME [--replicates N] [--seed S] [--horizon T] [--lang en|mn]``

An exercise is a Hydra experiment preset ``conf/experiment/ex_NAME.yaml`` (``# @package
_global_``; it sets ``experiment_name`` and composes group presets through its ``defaults:``
list, e.g. ``override /world: ceasefire``, instead of copying their values) with a worksheet in each
language, ``experiments/exercises/NAME.en.md`` and ``NAME.mn.md``. This command runs the baseline
(the defaults of ``sim.params``, i.e. ``experiment=article_baseline``) and the exercise with the
same seed and replicates through ``experiments.runner.run_point`` — so replicate k meets the same
random draws in both (common random numbers) — and prints, for S1, S2 and neither, both shares
with Wilson 95 % intervals and their difference with Newcombe's 95 % interval, plus Holm-adjusted
p-values of the three two-proportion tests (``analysis.stats``). Differences are computed from
the unrounded shares and then rounded; p-values print as a statistician writes them ("< 0.001",
never "0"); every line fits 100 columns.
"""

from __future__ import annotations

import functools
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.labels import format_p
from analysis.stats import adjust_pvalues, newcombe_diff_ci, proportion_ci, two_proportion_pvalue
from contract.cli import OneLineParser
from contract.cli import run as run_command
from experiments.config import CONF_DIR
from experiments.i18n import LANGUAGES, t
from experiments.runner import stream_point
from sim import params as P
from sim.classifier import SCENARIOS

PRESET_DIR = CONF_DIR / "experiment"
WORKSHEET_DIR = Path(__file__).resolve().parent / "exercises"
PREFIX = "ex_"
#: Both arms run in turn, one batch in memory at a time; at ~20,000 replicates a second on one
#: core this many take about twenty minutes (``python -m experiments.run`` for more).
MAX_REPLICATES = 10_000_000


def exercise_names() -> list[str]:
    """Names of the exercises: the presets ``conf/experiment/ex_*.yaml`` without the prefix."""
    return sorted(p.stem[len(PREFIX) :] for p in PRESET_DIR.glob(f"{PREFIX}*.yaml"))


def preset_path(name: str) -> Path:
    """The Hydra preset of exercise ``name``; ``ValueError`` naming the choices if unknown."""
    names = exercise_names()
    if name not in names:
        raise ValueError(f"unknown exercise {name!r}: choose one of {', '.join(names)}")
    return PRESET_DIR / f"{PREFIX}{name}.yaml"


def worksheet_path(name: str, lang: str) -> Path:
    """The worksheet of exercise ``name`` in language ``lang``."""
    return WORKSHEET_DIR / f"{name}.{lang}.md"


_COMPOSE_LOCK = threading.Lock()


@functools.cache
def _composed_overrides(name: str) -> tuple[tuple[str, Any], ...]:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from experiments import config

    with _COMPOSE_LOCK:  # Hydra's global state: one composition at a time (the app's sessions)
        config.register()
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
                cfg = compose("config", overrides=[f"experiment={PREFIX}{name}"])
        except (HydraException, OmegaConfBaseException) as error:
            raise P.ParameterError(f"exercise {name!r} does not compose: {error}") from None
        finally:
            GlobalHydra.instance().clear()
    params, _, _, _ = config.run_settings(cfg)
    baseline = P.resolve({})
    return tuple((k, v) for k, v in params.items() if v != baseline[k])


def exercise_overrides(name: str) -> dict[str, Any]:
    """The parameter values the exercise changes, by dotted key, validated by ``sim.params``.

    The preset is composed by Hydra's compose API (``experiment=ex_NAME`` on ``conf/config.yaml``),
    so its ``defaults:`` list — the group presets it composes, e.g. ``override /world:
    ceasefire`` — is applied exactly as ``python -m experiments.run experiment=ex_NAME`` applies
    it; the result is every parameter that differs from the article's baseline. Cached per name.
    """
    preset_path(name)  # ValueError naming the choices if unknown
    return dict(_composed_overrides(name))


def compare(
    name: str,
    *,
    seed: int = P.RUN_KEYS["seed"],
    replicates: int = P.RUN_KEYS["replicates"],
    horizon: int = P.RUN_KEYS["horizon"],
) -> pd.DataFrame:
    """Scenario shares of the baseline and of the exercise, and their differences.

    One row per scenario: counts, shares and Wilson intervals of both, the difference
    (exercise − baseline) with Newcombe's interval, and the Holm-adjusted p-value.
    """
    overrides = exercise_overrides(name)
    counts = {}
    for arm, values in (("baseline", {}), ("exercise", overrides)):
        out = stream_point(  # only the counts are kept: memory is one batch
            P.resolve(values), seed=seed, replicates=replicates, horizon=horizon, quantiles=False
        )
        counts[arm] = np.array([out.counts[s] for s in SCENARIOS])
    n = replicates
    table = pd.DataFrame(index=pd.Index(SCENARIOS, name="scenario"))
    for arm in ("baseline", "exercise"):
        low, high = proportion_ci(counts[arm], n)
        table[f"{arm}_count"] = counts[arm]
        table[f"{arm}_share"] = counts[arm] / n
        table[f"{arm}_low"], table[f"{arm}_high"] = low, high
    diff, low, high = newcombe_diff_ci(counts["exercise"], n, counts["baseline"], n)
    table["difference"], table["diff_low"], table["diff_high"] = diff, low, high
    table["p_holm"] = adjust_pvalues(
        two_proportion_pvalue(counts["exercise"], n, counts["baseline"], n)
    )
    return table


def format_comparison(table: pd.DataFrame, name: str, lang: str = "en") -> str:
    """The comparison as a plain-text table in ``lang``."""

    def pct(x: float) -> str:
        return f"{100 * x:5.1f}"

    head = [
        t("futures.scenario", lang),
        t("compare.baseline", lang),
        t("compare.exercise", lang),
        t("compare.difference", lang),
        "p (Holm)",
    ]
    body = []
    for scenario, row in table.iterrows():
        body.append(
            [
                str(scenario),
                f"{pct(row.baseline_share)} % [{pct(row.baseline_low)}, {pct(row.baseline_high)}]",
                f"{pct(row.exercise_share)} % [{pct(row.exercise_low)}, {pct(row.exercise_high)}]",
                f"{100 * row.difference:+5.1f} pp [{100 * row.diff_low:+5.1f}, "
                f"{100 * row.diff_high:+5.1f}]",
                format_p(row.p_holm),
            ]
        )
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [
        *_wrap(t("compare.title", lang, title=t(f"exercise.{name}.title", lang))),
        *_wrap(t(f"exercise.{name}.question", lang)),
        "",
        "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    n = int(table["baseline_count"].sum())
    lines += ["", *_wrap(t("compare.note", lang, n=n))]
    for scenario in SCENARIOS:
        text = t(f"scenario.{scenario}", lang)
        line = f"{text}" if text.startswith(scenario) else f"{scenario} = {text}"
        lines += _wrap(line, indent="  ")
    return "\n".join(lines)


#: Every printed line fits this many columns (issue 25).
WIDTH = 100


def _wrap(text: str, indent: str = "") -> list[str]:
    import textwrap

    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        out += textwrap.wrap(
            paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent + "  "
        ) or [""]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m experiments.exercise",
        description="Run a teaching exercise against the baseline and print the comparison.",
    )
    parser.add_argument("name", help="exercise name: " + ", ".join(exercise_names()))
    parser.add_argument("--replicates", type=int, default=P.RUN_KEYS["replicates"])
    parser.add_argument("--seed", type=int, default=P.RUN_KEYS["seed"])
    parser.add_argument("--horizon", type=int, default=P.RUN_KEYS["horizon"])
    parser.add_argument("--lang", default="en", choices=LANGUAGES)
    args = parser.parse_args(argv)
    try:
        if not 1 <= args.replicates <= MAX_REPLICATES:
            raise P.ParameterError(
                f"--replicates={args.replicates} is out of range: expected 1 to "
                f"{MAX_REPLICATES:,} (more with python -m experiments.run)"
            )
        if not 0 <= args.seed <= P.MAX_SEED:
            raise P.ParameterError(f"--seed={args.seed} is out of range: expected [0, 2**63)")
        medium = P.BY_KEY["classifier.medium"].default
        if not medium < args.horizon <= 400:
            raise P.ParameterError(
                f"--horizon={args.horizon} is out of range: expected {medium + 1} to 400 quarters"
            )
        table = compare(args.name, seed=args.seed, replicates=args.replicates, horizon=args.horizon)
    except (ValueError, P.ParameterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(format_comparison(table, args.name, args.lang))
    return 0


if __name__ == "__main__":
    run_command(main)  # every expected error one line, Ctrl+C and SIGTERM too
