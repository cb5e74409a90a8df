"""``python -m experiments.argument [key=value ...]``: the article's argument, mechanism by mechanism.

The article judges S2 ("merely a message") likelier than S1 while the war goes on, and gives its
reasons: the limits M15 (stockpile and reserve), M16 (barter), M17 (reputation cost), M18/M19
(technology control), M20 with F10 (substandard munitions) and M24 (restraint from a "next level"
document). Each limit is a switch ``limits.*`` in ``sim.params``. This command runs, on common
random numbers (one seed, the same replicate ids in every row, so replicate k of one row and of
another meet the same random draws), the rows:

* ``baseline`` — the article's assumptions (the defaults), continued from their own history;
* ``history_matched`` — the defaults with the calibrated parameters drawn per replicate from the
  shipped posterior (``sim/data/posterior.csv``, issue 21): the history-matched headline;
* ``hedged`` — history-matched, with each limit strength drawn per replicate over the range of
  the article's hedge word (issue 22): the prior predictive of the article's own uncertainty;
* ``war_on`` — the war held on (``world.ceasefire_hazard=0``), the article's premise (M03);
* ``war_on-no_<limit>`` — each limit switched off in turn with the war held on;
* ``war_on-no_limits`` — all limits off together, the war held on (``conf/limits/none.yaml``);
* ``war_ended`` — the war ended at once (``world.ceasefire_hazard=1``; M02, M03);
* ``no_<limit>`` and ``no_limits`` — the same switches at the defaults (with the ceasefire hazard).
* ``enforcement_low``/``_high`` and ``stockpile_low``/``_high`` — the design card's two constraint
  families (``sanctions.enforcement`` 0.2 and 0.8, M10, M17; ``stockpile.dprk`` low and high, F07,
  M15), the high row read against the low one.

For every row: S1/S2/neither shares with Wilson 95 % intervals (``analysis.stats.shares``), the
share of quarters in open breach, the munitions delivered (each with its paired change: Student's
paired t interval, Bonferroni-simultaneous, Holm p) and the kinds of "neither". Each row is
compared with its reference (war-on rows with ``war_on``, the others with ``baseline``)
replicate by replicate: McNemar's test per scenario (statsmodels, chi-square without continuity
correction) and Tango's paired score interval, through ``analysis.compare.compare_cells``. The
family is every compared row × 3 scenarios: p-values are Holm-adjusted and intervals are
Bonferroni-simultaneous 95 % intervals, so an interval that excludes 0 always sits beside a
significant Holm p.

Keys: ``replicates=`` (default 10,000 from ``conf/experiment/argument.yaml``), ``seed=``,
``horizon=``, ``output.batch_size=`` (replicates per model instance: bounds memory),
``out=DIR`` (default ``outputs/argument/<time>``) and any model parameter (applied to every row
before the row's own switches), validated through ``sim.params.resolve``; ``replicates=`` is
refused when the rows would not fit in the memory available (the estimate is in the error). Writes
``argument.md``, ``argument.csv``, ``argument.png`` and, last, ``argument.json`` (provenance), all
or nothing (temporary names first, renamed together), and prints the table. Ctrl+C or SIGTERM:
``error: interrupted``, exit 130, and no output folder the command made. See docs/ARGUMENT.md.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import posterior
from analysis.argument import (  # noqa: F401 (re-exported: the command's outputs)
    ALPHA,
    ARGUMENT_FILES,
    CSV_FILE,
    JSON_FILE,
    LIMITS,
    MD_FILE,
    PNG_FILE,
    direction_columns,
    display_table,
    figure,
    headline,
    method_note,
    neither_table,
    print_table,
    read_table,
    to_markdown,
)
from analysis.compare import compare_cells
from analysis.figures import to_png
from analysis.stats import shares
from contract.cli import OneLineParser, UsageError
from contract.cli import run as run_command
from contract.io import atomic_write, model_version, versions, write_json, write_text
from experiments import config
from sim import params as P
from sim.classifier import NEITHER_KINDS, S2_MARKERS, SCENARIOS, classify
from sim.model import RussiaDPRKModel

__all__ = [
    "ARGUMENT_FILES",
    "Row",
    "figure",
    "main",
    "parse_settings",
    "read_table",
    "rows",
    "run_argument",
    "simulate",
    "tabulate",
    "to_markdown",
    "write_outputs",
]

PRESET = "argument"  # conf/experiment/argument.yaml
CEASEFIRE = "world.ceasefire_hazard"
WAR_ON = {CEASEFIRE: 0.0}
WAR_ENDED = {CEASEFIRE: 1.0}


@dataclass(frozen=True)
class Row:
    """One row of the argument: what it switches, against which row it is read, and why."""

    name: str
    label: str
    overrides: Mapping[str, Any]
    reference: str | None
    ids: tuple[str, ...]
    why: str  # one line in the article's words, citing the ids
    posterior: bool = False  # draw the calibrated parameters per replicate (posterior=default)
    hedged: bool = False  # draw each limit strength per replicate over its hedge range (§7.9.1)


def _all_off() -> dict[str, bool]:
    return {p.key: False for p in LIMITS}


#: The design card's two constraint families (issue 9), each at a low and a high value: the
#: low row is read against the baseline, the high row against the low one.
CARD = (
    ("enforcement", "sanctions.enforcement", 0.2, 0.8),
    ("stockpile", "stockpile.dprk", "low", "high"),
)


def card_rows() -> list[Row]:
    """Sanctions enforcement 0.2 vs 0.8 and the DPRK's stockpile low vs high (at the defaults)."""
    out = []
    for name, key, low, high in CARD:
        param = P.BY_KEY[key]
        values = {"low": param.resolve(low), "high": param.resolve(high)}
        for level, ref in (("low", "baseline"), ("high", f"{name}_low")):
            out.append(
                Row(
                    f"{name}_{level}",
                    f"{key} {level}",
                    {key: values[level]},
                    ref,
                    param.ids,
                    f"{', '.join(param.ids)}: {param.meaning} — {level}, {values[level]:g} "
                    f"{param.unit} (the design card's constraint family: "
                    f"{values['low']:g} against {values['high']:g}).",
                )
            )
    return out


def rows(at_defaults: bool = True, card: bool = True) -> list[Row]:
    """The rows in reporting order; ``at_defaults`` adds each limit off at the defaults too,
    ``card`` the design card's constraint families (:func:`card_rows`)."""
    out = [
        Row(
            "baseline",
            "the article's assumptions",
            {},
            None,
            ("S1", "S2"),
            "The defaults of sim/params.py: every limit on, a ceasefire possible each quarter.",
        ),
        Row(
            "history_matched",
            "history-matched (posterior predictive)",
            {},
            "baseline",
            ("F02", "F03", "F07"),
            "The defaults with the calibrated parameters drawn per replicate from the shipped "
            "posterior (sim/data/posterior.csv), matched to the record's containers, summits and "
            "treaty date (F02, F03, F07; docs/VALIDATION.md).",
            posterior=True,
        ),
        Row(
            "hedged",
            "history-matched, the article's hedges drawn (prior predictive)",
            {},
            "history_matched",
            ("M15", "M16", "M17", "M18", "M19", "M20", "M24"),
            "The history-matched row with each limit's strength drawn per replicate over the range "
            "its hedge word allows (likely, highly likely, may: docs/ODD.md §7.9.1) instead of "
            "its middle: the article's own uncertainty.",
            posterior=True,
            hedged=True,
        ),
        Row(
            "war_on",
            "the war held on",
            WAR_ON,
            "baseline",
            ("M03",),
            "M03: the war in Ukraine raises Russia's interest in the DPRK; the article judges S2 "
            "likely while the special operation goes on; no ceasefire.",
        ),
    ]
    for prefix, base, ref in (("war_on-", WAR_ON, "war_on"), ("", {}, "baseline")):
        if not prefix and not at_defaults:
            continue
        where = "the war held on" if prefix else "at the defaults"
        for limit in LIMITS:
            out.append(
                Row(
                    f"{prefix}no_{limit.name}",
                    f"{limit.name} limit off, {where}",
                    {**base, limit.key: False},
                    ref,
                    limit.ids,
                    limit.meaning,
                )
            )
        ids = tuple(dict.fromkeys(i for p in LIMITS for i in p.ids))
        out.append(
            Row(
                f"{prefix}no_limits",
                f"all limits off, {where}",
                {**base, **_all_off()},
                ref,
                ids,
                "Every reason the article gives for S2 (" + ", ".join(ids) + ") switched off at "
                "once (conf/limits/none.yaml).",
            )
        )
        if prefix:
            out.append(
                Row(
                    "war_ended",
                    "the war ended at once",
                    WAR_ENDED,
                    "baseline",
                    ("M02", "M03"),
                    "M02, M03: a ceasefire in the first quarter lowers Russia's interest in the "
                    "DPRK; the article names no ceasefire.",
                )
            )
    return out + (card_rows() if card else [])


# --- simulation ----------------------------------------------------------------------------------


@dataclass
class RowResult:
    """Per-replicate labels of one row (codes) and running sums of its indicators."""

    scenario: list[np.ndarray] = field(default_factory=list)  # index into SCENARIOS
    kind: list[np.ndarray] = field(
        default_factory=list
    )  # index into NEITHER_KINDS, -1: not neither
    failed: list[np.ndarray] = field(default_factory=list)  # index into S2_MARKERS, -1: S2
    breach: list[np.ndarray] = field(default_factory=list)  # share of quarters in open breach
    munitions: list[np.ndarray] = field(default_factory=list)  # thousand containers delivered
    n: int = 0

    def codes(self, name: str) -> np.ndarray:
        return np.concatenate(getattr(self, name))


#: Per-replicate indicators compared with paired t intervals: table column -> RowResult field.
INDICATORS = {"breach_share": "breach", "munitions_mean": "munitions"}


def paired_means(
    values: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    """Paired difference of an indicator's mean (row - reference), replicate by replicate.

    Student's paired t interval and test (``scipy.stats.ttest_rel``); the family is every pair:
    p-values Holm-adjusted, intervals Bonferroni-simultaneous 95 % (each at 1 - 0.05/m), so an
    interval excluding 0 always sits beside a Holm p below 0.05. Indexed by row.
    """
    from scipy import stats as sps

    from analysis.stats import adjust_pvalues

    m = max(len(pairs), 1)
    out = []
    for name, ref in pairs:
        d = values[name].astype(np.float64) - values[ref].astype(np.float64)
        mean, n = float(d.mean()), d.size
        sd = float(d.std(ddof=1)) if n > 1 else 0.0
        if sd == 0.0:
            low = high = mean
            p = 1.0 if mean == 0.0 else 0.0
        else:
            half = sps.t.isf(ALPHA / (2 * m), n - 1) * sd / np.sqrt(n)
            low, high = mean - half, mean + half
            p = float(sps.ttest_rel(values[name], values[ref]).pvalue)
        out.append({"row": name, "diff": mean, "diff_low": low, "diff_high": high, "p": p})
    frame = pd.DataFrame(out).set_index("row")
    frame["p_holm"] = adjust_pvalues(frame["p"].to_numpy(), "holm")
    return frame


def _code(values: np.ndarray, names: Sequence[str]) -> np.ndarray:
    out = np.full(values.shape, -1, dtype=np.int8)
    for i, name in enumerate(names):
        out[values == name] = i
    return out


def simulate(
    table_rows: Sequence[Row],
    base: Mapping[str, Any],
    *,
    seed: int,
    replicates: int,
    horizon: int,
    batch_size: int = 20_000,
) -> dict[str, RowResult]:
    """Run every row on the same replicate ids, ``batch_size`` replicates per model instance.

    Memory is bounded by one batch of one row plus eleven bytes per replicate and row.
    """
    params = {r.name: P.resolve({**base, **r.overrides}) for r in table_rows}
    out = {r.name: RowResult() for r in table_rows}
    table = posterior.load(posterior.DEFAULT) if any(r.posterior for r in table_rows) else None
    for start in range(0, replicates, batch_size):
        ids = np.arange(start, min(start + batch_size, replicates), dtype=np.int64)
        for r in table_rows:
            point = params[r.name]
            if r.posterior and table is not None:  # calibrated keys not set by the user
                drawn = table.draw(seed, ids)
                point = {**point, **{k: v for k, v in drawn.items() if k not in base}}
            if r.hedged:  # the limit strengths the user did not set
                drawn = posterior.hedge_draws(seed, ids)
                point = {**point, **{k: v for k, v in drawn.items() if k not in base}}
            model = RussiaDPRKModel(point, replicates=ids, seed=seed, horizon=horizon)
            c = classify(model.run())
            res = out[r.name]
            res.scenario.append(_code(c["scenario"], SCENARIOS))
            res.kind.append(_code(c["neither_kind"], NEITHER_KINDS))
            res.failed.append(_code(c["s2_failed"], S2_MARKERS))
            res.breach.append(np.asarray(c["breach_share"], dtype=np.float32))
            res.munitions.append(np.asarray(c["munitions_total"], dtype=np.float32))
            res.n += ids.size
    return out


# --- the table -----------------------------------------------------------------------------------


def paired_table(
    labels: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    """Paired comparison of rows with their references, one family for the whole table.

    ``labels``: scenario codes (index into ``SCENARIOS``) per row, replicate by replicate;
    ``pairs``: (row, reference). Returns the long table of ``analysis.compare.compare_cells``
    (one line per row and scenario: ``diff`` = share(row) - share(reference), Tango's
    Bonferroni-simultaneous interval, McNemar's ``p_value``, Holm's ``p_adjusted``).
    """
    cells_a, cells_b, discordant = [], [], []
    for name, ref in pairs:
        row, base = labels[name], labels[ref]
        if row.shape != base.shape:
            raise ValueError(f"{name} and {ref} hold different numbers of replicates")
        cells_b.append({"row": name, "n": row.size, **_counts(row, "_count")})
        cells_a.append({"row": name, "n": base.size, **_counts(base, "_count")})
        d: dict[str, Any] = {"row": name}
        for i, s in enumerate(SCENARIOS):
            d[f"{s}_b_only"] = int(np.count_nonzero((row == i) & (base != i)))
            d[f"{s}_a_only"] = int(np.count_nonzero((base == i) & (row != i)))
        discordant.append(d)
    cmp = compare_cells(
        pd.DataFrame(cells_a), pd.DataFrame(cells_b), ["row"], pd.DataFrame(discordant)
    )
    return cmp.per_cell


def _counts(codes: np.ndarray, suffix: str = "") -> dict[str, int]:
    return {f"{s}{suffix}": int(np.count_nonzero(codes == i)) for i, s in enumerate(SCENARIOS)}


def tabulate(table_rows: Sequence[Row], results: Mapping[str, RowResult]) -> pd.DataFrame:
    """One line per row: shares with Wilson intervals, paired changes, indicators, kinds."""
    lines = []
    labels = {r.name: results[r.name].codes("scenario") for r in table_rows}
    for r in table_rows:
        res = results[r.name]
        cols = shares(_counts(labels[r.name]), res.n)
        line: dict[str, Any] = {
            "row": r.name,
            "label": r.label,
            "reference": r.reference or "",
            "overrides": " ".join(f"{k}={_value(v)}" for k, v in r.overrides.items()),
            "ids": ", ".join(r.ids),
            "n": res.n,
        }
        line |= {k: (int(v) if k.endswith("_count") else float(v)) for k, v in cols.items()}
        for col, name in INDICATORS.items():
            line[col] = float(np.mean(res.codes(name), dtype=np.float64))
        kind, failed = res.codes("kind"), res.codes("failed")
        for i, k in enumerate(NEITHER_KINDS):
            line[f"neither_{k}_share"] = np.count_nonzero(kind == i) / res.n
        for i, m in enumerate(S2_MARKERS):
            line[f"s2_failed_{m}_share"] = np.count_nonzero(failed == i) / res.n
        line["why"] = r.why
        lines.append(line)
    table = pd.DataFrame(lines)
    pairs = [(r.name, r.reference) for r in table_rows if r.reference]
    if pairs:
        long = paired_table(labels, pairs)
        m = len(long)
        wide = long.pivot(index="row", columns="scenario")
        for s in SCENARIOS:
            for src, dst in (
                ("diff", "diff"),
                ("diff_low", "diff_low"),
                ("diff_high", "diff_high"),
                ("p_value", "p_mcnemar"),
                ("p_adjusted", "p_holm"),
                ("significant", "significant"),
                ("b_only", "row_only"),
                ("a_only", "reference_only"),
            ):
                table[f"{s}_{dst}"] = table["row"].map(wide[(src, s)])
        for col, name in INDICATORS.items():
            values = {r.name: results[r.name].codes(name) for r in table_rows}
            diffs = paired_means(values, pairs)
            for key in ("diff", "diff_low", "diff_high", "p_holm"):
                table[f"{col}_{key}"] = table["row"].map(diffs[key])
        table.attrs["family"] = m
        table.attrs["ci_level"] = 1.0 - ALPHA / m
        attrs = dict(table.attrs)
        table = direction_columns(table)  # S1 up, S2 down and the marker column (the CSV's)
        table.attrs.update(attrs)
    return table


def _value(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return str(bool(v)).lower()
    return f"{v:g}" if isinstance(v, float) else str(v)


# --- output: the tables and figure live in analysis.argument ------------------------------


def write_outputs(table: pd.DataFrame, meta: Mapping[str, Any], outdir: Path) -> list[Path]:
    """Render everything, then write md, csv, png and (last) the provenance json, all or nothing.

    Every file is written to a temporary name first and renamed into place only when all four
    are written, ``argument.json`` last; an error, a full disk or Ctrl+C removes the temporary
    files and leaves any earlier files as they were.
    """
    from contract.io import temp_path

    md = to_markdown(table, meta)
    csv = table.to_csv(index=False)
    png = to_png(figure(table))
    paths = [outdir / f for f in ARGUMENT_FILES]
    temps: list[Path] = []
    try:
        for path, write in zip(
            paths,
            (
                lambda tmp: write_text(tmp, csv),
                lambda tmp: write_text(tmp, md),
                lambda tmp: atomic_write(tmp, lambda t: t.write_bytes(png)),
                lambda tmp: write_json(tmp, dict(meta)),
            ),
            strict=True,
        ):
            temps.append(temp_path(path))
            write(temps[-1])
        for tmp, path in zip(temps, paths, strict=True):  # argument.json last
            os.replace(tmp, path)
    except OSError as error:
        from contract.io import DiskFull, disk_full_message, is_disk_full

        if is_disk_full(error):
            need = len(md) + len(csv) + len(png) + 10_000
            raise DiskFull(disk_full_message(outdir, need)) from None
        raise
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
    return paths


# --- settings and command line ---------------------------------------------------------------------


@dataclass
class Settings:
    """What the command runs: validated base parameters and run keys."""

    base: dict[str, Any]  # the model parameters the user changed (applied to every row)
    seed: int
    replicates: int
    horizon: int
    batch_size: int
    overrides: list[str]


def compose(overrides: Iterable[str], preset: str = PRESET) -> Any:
    """Compose ``conf/config.yaml`` with ``experiment=<preset>`` and the overrides (Hydra)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    overrides = list(overrides)
    config.check_override_values(overrides)
    for text in overrides:
        key = text.split("=", 1)[0].lstrip("+~")
        if key.startswith("hydra") or key == "experiment":
            raise UsageError(f"{text!r}: this command runs its own rows; set parameters only")
    config.register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config.CONF_DIR), version_base="1.3"):
            return hydra_compose("config", overrides=[f"experiment={preset}", *overrides])
    except (HydraException, OmegaConfBaseException) as error:
        first = next((ln for ln in str(error).splitlines() if ln.strip()), type(error).__name__)
        raise UsageError(f"cannot compose the overrides: {first}") from None
    finally:
        GlobalHydra.instance().clear()


def parse_settings(overrides: Sequence[str], preset: str = PRESET) -> Settings:
    """Validated settings from ``key=value`` overrides (one-line ``ParameterError`` if wrong)."""
    for text in overrides:
        if "=" not in text:
            raise UsageError(f"{text!r} is not key=value (e.g. replicates=2000 seed=7)")
    cfg = compose(overrides, preset)
    params, seed, replicates, horizon = config.run_settings(cfg)
    defaults = P.resolve({})
    base = {k: v for k, v in params.items() if v != defaults[k]}
    batch = int(cfg.output.batch_size)
    check_memory(replicates, batch, horizon)
    return Settings(base, seed, replicates, horizon, batch, list(overrides))


#: What the command holds per replicate and row (scenario, kinds, two indicators: 11 bytes)
#: while it runs, and the tables' copies at the end: bounded by twice the indicators' float64s.
ROW_BYTES_PER_REPLICATE = 32
#: The model's peak memory per replicate of one batch, per quarter of the horizon (measured:
#: 53 kB per replicate at 40 quarters, 3,000 and 12,000 replicates in one batch), and the
#: interpreter with the libraries (measured 300 MB).
MODEL_BYTES_PER_REPLICATE_QUARTER = 1_600
FIXED_BYTES = 400_000_000


def check_memory(replicates: int, batch_size: int, horizon: int) -> int:
    """Refuse ``replicates=`` whose estimated memory exceeds the memory available now."""
    n_rows = len(rows())
    batch = min(batch_size, replicates) * MODEL_BYTES_PER_REPLICATE_QUARTER * horizon
    return config.check_memory(
        "replicates", replicates, ROW_BYTES_PER_REPLICATE * n_rows + 64, FIXED_BYTES + batch
    )


def split_out(argv: Sequence[str], default: Path) -> tuple[Path, list[str]]:
    """Take ``out=DIR`` from the arguments; return (output directory, the other overrides)."""
    out, rest = default, []
    for text in argv:
        if text.startswith("out="):
            if not text[4:]:
                raise UsageError("out= needs a directory, e.g. out=outputs/argument")
            out = Path(text[4:])
        else:
            rest.append(text)
    problem = _writable(out)
    if problem:
        raise UsageError(f"out={out}: {problem}; choose a folder you can write to")
    return out, rest


def _writable(path: Path) -> str | None:
    from contract.io import writable_dir_problem

    return writable_dir_problem(path)


def run_argument(
    settings: Settings, at_defaults: bool = True, command: str = ""
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate every row and build the table; returns (table, provenance)."""
    table_rows = rows(at_defaults)
    started = time.perf_counter()
    results = simulate(
        table_rows,
        settings.base,
        seed=settings.seed,
        replicates=settings.replicates,
        horizon=settings.horizon,
        batch_size=settings.batch_size,
    )
    table = tabulate(table_rows, results)
    elapsed = time.perf_counter() - started
    meta = {
        "command": command or "python -m experiments.argument " + shlex.join(settings.overrides),
        "seed": settings.seed,
        "replicates": settings.replicates,
        "horizon": settings.horizon,
        "batch_size": settings.batch_size,
        "base_parameters": {k: _value(v) for k, v in settings.base.items()},
        "rows": {r.name: {k: _value(v) for k, v in r.overrides.items()} for r in table_rows},
        "references": {r.name: r.reference for r in table_rows if r.reference},
        "config_hash": config.config_hash(
            {"base": settings.base, "rows": [r.name for r in table_rows]},
            settings.seed,
            settings.replicates,
            settings.horizon,
        ),
        "model_version": model_version(),
        "versions": versions(),
        "test": "McNemar (statsmodels, chi-square, no continuity correction) + Tango interval",
        "correction": "Holm p; Bonferroni-simultaneous intervals",
        "family": int(table.attrs.get("family", 0)),
        "seconds": round(elapsed, 1),
        "written": datetime.now().isoformat(timespec="seconds"),
    }
    return table, meta


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m experiments.argument [key=value ...] [out=DIR]``."""
    parser = OneLineParser(
        prog="python -m experiments.argument",
        description=__doc__.split("\n")[0] if __doc__ else None,
        epilog="keys: replicates=, seed=, horizon=, output.batch_size=, out=DIR, any model "
        "parameter (e.g. sanctions.enforcement=0.8); see docs/ARGUMENT.md",
    )
    parser.add_argument("overrides", nargs="*", help="key=value")
    parser.add_argument(
        "--war-on-only", action="store_true", help="skip the limit rows at the defaults"
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    outdir, overrides = split_out(args.overrides, Path("outputs") / PRESET / stamp)
    settings = parse_settings(overrides)
    made = [p for p in (outdir, *outdir.parents) if not p.exists()]
    outdir.mkdir(parents=True, exist_ok=True)  # fails now, not after the simulation
    try:
        extra = " --war-on-only" if args.war_on_only else ""
        command = f"python -m experiments.argument{extra} " + shlex.join(args.overrides)
        table, meta = run_argument(settings, not args.war_on_only, command.strip())
        paths = write_outputs(table, meta, outdir)
    except BaseException:  # an error or Ctrl+C: remove the (empty) folders made for the outputs
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    print(print_table(table, written=str(outdir / MD_FILE)))
    print(f"written in {outdir}: {', '.join(p.name for p in paths)}")
    return 0


if __name__ == "__main__":
    run_command(main)
