"""Hydra's structured config, generated from the single parameter declaration (``sim.params``).

``register()`` puts a dataclass schema named ``base_config`` into Hydra's ConfigStore: one nested
dataclass per parameter group with each field typed and defaulted from ``sim.params``, so a
misspelt key or a value of the wrong type fails when Hydra composes the config. Ranges (and named
levels such as ``stockpile.dprk=low``) are checked by ``validate`` before anything runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim import params as P


def _field_type(param: P.Param) -> Any:
    # Parameters with named levels accept a number or a level name: checked by validate().
    return Any if param.levels or param.switch else param.kind


def _group_dataclass(group: str) -> type:
    fields = [
        (p.name, _field_type(p), dataclasses.field(default=p.default))
        for p in P.PARAMETERS
        if p.group == group
    ]
    return dataclasses.make_dataclass(f"{group.capitalize()}Config", fields)


@dataclasses.dataclass
class OutputConfig:
    """What a run writes besides runs.parquet and summary.json."""

    quantiles: bool = True  # per-quarter quantiles per indicator and scenario (fan charts)
    batch_size: int = 100_000  # replicates per model instance (bounds memory)
    workers: int = 0  # processes for one point: 0 = every available core (one in a sweep's jobs)


@dataclasses.dataclass
class DesignConfig:
    """A sampled design evaluated in chunks (used by design experiments; see docs/SWEEPS.md)."""

    method: str = "none"  # none, lhs, sobol, morris
    points: int = 0  # base sample size N of the design
    parameters: list[str] = dataclasses.field(default_factory=list)  # dotted keys to vary
    chunks: int = 1  # how many Hydra jobs share the design
    chunk: int = 0  # which chunk this job evaluates
    replicates_per_point: int = 1


def schema() -> type:
    """The top-level structured config: run keys plus one node per parameter group."""
    fields: list[tuple[str, Any, Any]] = [
        ("seed", int, dataclasses.field(default=P.RUN_KEYS["seed"])),
        ("replicates", int, dataclasses.field(default=P.RUN_KEYS["replicates"])),
        ("horizon", int, dataclasses.field(default=P.RUN_KEYS["horizon"])),
    ]
    for group in P.GROUPS:
        cls = _group_dataclass(group)
        fields.append((group, cls, dataclasses.field(default_factory=cls)))
    fields.append(("output", OutputConfig, dataclasses.field(default_factory=OutputConfig)))
    fields.append(("design", DesignConfig, dataclasses.field(default_factory=DesignConfig)))
    fields.append(("experiment_name", str, dataclasses.field(default="default")))
    # posterior=default or PATH: calibrated parameters drawn per replicate (experiments.posterior)
    fields.append(("posterior", str, dataclasses.field(default="")))
    # hedges=true: each limit strength drawn per replicate over its hedge range (issue 22)
    fields.append(("hedges", bool, dataclasses.field(default=False)))
    # discard=true: a sweep may take over a folder that holds another sweep (experiments.sweep)
    fields.append(("discard", bool, dataclasses.field(default=False)))
    return dataclasses.make_dataclass("RunConfig", fields)


def register() -> None:
    ConfigStore.instance().store(name="base_config", node=schema())


MAX_HORIZON = 400
# Allowed values of the run keys (checked for every sweep value before any job starts).
RUN_KEY_RANGES = {"seed": (0, P.MAX_SEED), "replicates": (1, 10**9), "horizon": (1, MAX_HORIZON)}


def run_settings(cfg: DictConfig) -> tuple[dict[str, Any], int, int, int]:
    """Validated (params by dotted key, seed, replicates, horizon) from a composed config."""
    container: dict[str, Any] = {}
    for key in cfg:  # the hydra node is Hydra's own and may not resolve outside a job
        if key != "hydra":
            value = cfg[key]
            container[str(key)] = (
                OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
            )
    flat = P.flatten(container)
    params = P.resolve(flat)
    seed, replicates, horizon = (container[k] for k in ("seed", "replicates", "horizon"))
    if not 0 <= seed <= P.MAX_SEED:
        raise P.ParameterError(f"seed={seed} is out of range: expected an integer in [0, 2**63)")
    if replicates < 1:
        raise P.ParameterError(f"replicates={replicates} must be at least 1")
    if not 1 <= horizon <= MAX_HORIZON:
        raise P.ParameterError(
            f"horizon={horizon} is out of range: expected 1 to {MAX_HORIZON} quarters"
        )
    for key in ("batch_size", "workers"):
        check_output_value(f"output.{key}", container["output"].get(key, 0))
    if params["classifier.medium"] >= horizon:
        raise P.ParameterError(
            f"classifier.medium={params['classifier.medium']} must be shorter than "
            f"horizon={horizon} (the long term needs at least one quarter)"
        )
    return params, seed, replicates, horizon


def check_output_value(key: str, value: Any) -> None:
    """``output.batch_size`` (at least 1) and ``output.workers`` (0 = every available core, or
    1 to the available cores): ``ParameterError`` naming the key and what is allowed."""
    from experiments import cores

    if key == "output.batch_size":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise P.ParameterError(f"output.batch_size={value!r} must be an integer, at least 1")
    elif key == "output.workers":
        cpus = cores.available()
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= cpus:
            raise P.ParameterError(
                f"output.workers={value!r} is not allowed: expected 0 (every available core) "
                f"or 1 to {cpus} (the cores available here)"
            )


def validate(cfg: DictConfig) -> None:
    """Raise ``ParameterError`` naming the key and what is allowed, if anything is wrong."""
    run_settings(cfg)


def check_override_values(overrides: Iterable[str]) -> None:
    """Check every value of command-line (sweep) overrides against the declaration.

    Hydra composes sweep values only when each job starts, after it has made directories; this
    check runs in the driver first so that a bad value stops the sweep before any job exists.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    known_top = set(P.RUN_KEYS) | {"experiment_name", "discard", "posterior", "hedges"}
    for override in parser.parse_overrides(list(overrides)):
        key = override.key_or_group
        if not key:
            raise P.ParameterError(
                f"{override.input_line!r} has no key before '=': expected key=value"
            )
        if override.is_hydra_override() or key.startswith("hydra") or override.package:
            continue
        if override.is_delete() and (key in known_top or key in P.BY_KEY or "." in key):
            raise P.ParameterError(
                f"~{key}: a run key or parameter cannot be deleted; set a value instead ({key}=...)"
            )
        if key in known_top or ("." in key and key.split(".")[0] in ("output", "design")):
            values = list(override.sweep_iterator()) if override.is_sweep_override() else []
            if key in P.RUN_KEYS:
                low, high = RUN_KEY_RANGES[key]
                for v in values or [override.value()]:
                    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                        raise P.ParameterError(
                            f"{key}={v!r} is not allowed: expected an integer in [{low}, {high}]"
                        )
            if key in ("output.workers", "output.batch_size") and not override.is_delete():
                for v in values or [override.value()]:
                    check_output_value(key, v)
            continue
        if key == "experiment" or (CONF_DIR / key).is_dir():  # a group choice: sanctions=strict
            values = sweep_values(override)
            if not values:
                raise P.ParameterError(
                    f"{override.input_line!r} selects no preset: allowed are "
                    + ", ".join(group_options(key))
                )
            for v in values:
                _check_group_option(key, v)
            continue
        if key not in P.BY_KEY:
            raise P.ParameterError(f"unknown parameter {key!r}: {P.suggest(key)}")
        values = list(override.sweep_iterator()) if override.is_sweep_override() else []
        for v in values or [override.value()]:
            P.BY_KEY[key].resolve(v)


CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def group_options(group: str) -> list[str]:
    """The presets available in a config group (``conf/GROUP/*.yaml``)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _check_group_option(group: str, value: Any) -> None:
    if value is None or str(value) == "null":
        return
    options = group_options(group)
    if str(value) not in options:
        raise P.ParameterError(
            f"{group}={value!r} is not a preset: allowed are " + (", ".join(options) or "none")
        )


def _parse_error(text: str, error: Exception) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    detail = next((ln for ln in lines if not ln.startswith(("Error parsing", "See "))), "")
    if "LexerNoViableAlt" in detail:
        detail = "a space or a character the grammar does not allow (quote the value: key='...')"
    return (
        f"cannot parse the override {text!r}: {detail or 'invalid syntax'}; expected key=value, "
        "a sweep key=a,b,c, or a quoted value (https://hydra.cc/docs/advanced/override_grammar/basic)"
    )


def _hydra_error(error: Exception) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith(("full_key:", "object_type", "See "))]
    text = "; ".join(keep[:2]) or type(error).__name__
    return text.split("Config search path")[0].strip()


def sweep_values(override: Any) -> list[Any]:
    """The values of a sweep override; a ``glob(...)`` over a config group lists its presets."""
    from hydra.core.override_parser.types import Glob

    value = override.value()
    if isinstance(value, Glob):
        return list(value.filter(group_options(override.key_or_group)))
    if override.is_sweep_override():
        return list(override.sweep_string_iterator())
    return [override.value()]


def _single(override: Any, value: str) -> str:
    return f"{override.get_key_element()}={value}"


def preflight(argv: Iterable[str]) -> DictConfig | None:
    """Check the command line before Hydra runs; exit 2 with one line if anything is wrong.

    Parses every override (Hydra's grammar), checks each value against ``sim.params`` and the
    config groups, then composes the config through Hydra's compose API — once, and once more for
    every value of a swept config group — and validates it, so that a parse or composition error
    never reaches Hydra (which would print a traceback and may leave ``.hydra/`` behind).
    Returns the composed config of a single run (None for a sweep or Hydra's own flags).
    """
    from hydra import compose, initialize_config_dir
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from contract.cli import EXPECTED, fail

    hydra_parser = get_args_parser()
    hydra_parser.error = lambda message: fail(f"{message} (python -m experiments.run --help)")
    args = hydra_parser.parse_args(list(argv))
    if args.help or args.hydra_help or args.info or args.cfg or args.shell_completion:
        return None  # Hydra's own help and inspection flags
    parser = OverridesParser.create()
    parsed = []
    for text in args.overrides:
        try:
            parsed += parser.parse_overrides([text])
        except Exception as error:  # Hydra's OverrideParseException and grammar errors
            fail(_parse_error(text, error))
    try:
        if not args.multirun:
            for o in parsed:
                if o.is_sweep_override():
                    raise P.ParameterError(
                        f"{o.input_line!r} is a sweep: add -m to run one job per value"
                    )
        check_override_values(args.overrides)
        variants = [[]]  # the overrides with every sweep at its first value, then the others
        firsts: list[str] = []
        for o in parsed:
            if not o.is_sweep_override():
                firsts.append(o.input_line or "")
                continue
            values = sweep_values(o)
            if not values:
                raise P.ParameterError(f"{o.input_line!r} sweeps over no value")
            firsts.append(_single(o, values[0]))
            if "." not in o.key_or_group and not o.key_or_group.startswith("hydra"):
                variants += [[_single(o, v)] for v in values[1:]]  # a config group
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            for extra in variants:
                cfg = compose("config", overrides=[*firsts, *extra], return_hydra_config=True)
                _check_composed(cfg)
    except EXPECTED as error:
        fail(error)
    except Exception as error:  # Hydra's and OmegaConf's composition errors
        fail(_hydra_error(error))
    return None if args.multirun else cfg


def _check_composed(cfg: DictConfig) -> None:
    if cfg.get("posterior"):
        from analysis import posterior

        posterior.for_run(str(cfg.posterior), run_settings(cfg)[0])
    from experiments import design

    validate(cfg)
    plan = design.from_config(cfg, int(cfg.seed))
    if plan is not None:
        plan.chunk_range(int(cfg.design.chunk))


def config_hash(params: dict[str, Any], seed: int, replicates: int, horizon: int) -> str:
    """Stable hash of what determines the results (parameters, seed, replicates, horizon)."""
    payload = json.dumps(
        {"params": params, "seed": seed, "replicates": replicates, "horizon": horizon},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


#: Bytes on disk per replicate of runs.parquet and per-replicate peak memory of a batch, and the
#: single-core speed, measured as docs/SWEEPS.md shows ("Memory bounds"); used for estimates.
DISK_BYTES_PER_REPLICATE = 180
RUNS_PER_SECOND = 20_000
ESTIMATE_FROM = 1_000_000  # print the estimate for outputs of at least this many replicates


def planned_replicates(cfg: DictConfig, cells: int, overrides: Iterable[str] = ()) -> int:
    """Replicates a run or sweep will write (the largest swept ``replicates`` value per cell)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    d = cfg.design
    if str(d.method) != "none":
        from experiments import design

        plan = design.from_config(cfg, int(cfg.seed))
        return plan.size() * plan.replicates_per_point if plan else 0
    per_cell = int(cfg.replicates)
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        if override.key_or_group == "replicates" and override.is_sweep_override():
            per_cell = max(int(v) for v in override.sweep_iterator())
        elif override.key_or_group == "replicates":
            per_cell = int(override.value())
    return per_cell * max(cells, 1)


def check_output(
    cfg: DictConfig, outdir: Path, cells: int, overrides: Iterable[str] = (), sweep: bool = False
) -> None:
    """Refuse an output folder that cannot be written or a run that would not fit on the disk.

    For large runs (``ESTIMATE_FROM`` replicates and more) print the estimate of disk and time.
    """
    from contract.io import free_bytes, writable_dir_problem

    key = "hydra.sweep.dir" if sweep else "hydra.run.dir"
    problem = writable_dir_problem(outdir)
    if problem:
        raise P.ParameterError(f"{key}={outdir}: {problem}; choose a folder you can write to")
    total = planned_replicates(cfg, cells, overrides)
    need = total * DISK_BYTES_PER_REPLICATE
    free = free_bytes(outdir)
    estimate = (
        f"{total:,} replicates ≈ {_size(need)} in {key}, "
        f"≈ {_duration(total / RUNS_PER_SECOND)} on one core at ~{RUNS_PER_SECOND:,} runs/s"
    )
    if need > free:
        raise P.ParameterError(
            f"replicates: {estimate} but only {_size(free)} are free there; "
            "lower replicates or choose a folder on a larger disk"
        )
    if total >= ESTIMATE_FROM:
        print(f"estimate: {estimate} (disk free: {_size(free)})", file=sys.stderr)


def _size(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e9 else f"{n / 1e6:,.1f} MB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:,.1f} h"


# --- the run's folder, the launcher and the sweep's job folders (issue 23) ----------------------


def check_memory(what: str, replicates: int, per_replicate: int, fixed: int = 0) -> int:
    """Refuse ``replicates`` whose estimated memory (``fixed`` + ``per_replicate`` bytes each)
    exceeds the memory available now; return the estimate."""
    from contract.io import available_memory

    need = fixed + replicates * per_replicate
    free = available_memory()
    if need > free:
        raise P.ParameterError(
            f"{what}={replicates:,} would need ≈ {_size(need)} of memory "
            f"(≈ {per_replicate:,} bytes per replicate) but only {_size(free)} are available; "
            f"lower {what} (at most ≈ {max(0, free - fixed) // per_replicate:,} here)"
        )
    return need


#: Launcher settings that must be positive integers (None: the launcher's default).
_POSITIVE_LAUNCHER_KEYS = (
    "timeout_min",
    "cpus_per_task",
    "gpus_per_node",
    "tasks_per_node",
    "nodes",
    "array_parallelism",
    "max_num_timeout",
)


def check_launcher(cfg: DictConfig) -> None:
    """Refuse launcher and sweeper settings that would fail (or hang) once jobs start."""
    from omegaconf import OmegaConf

    from experiments import cores

    hydra_cfg = cfg.hydra
    launcher = OmegaConf.to_container(hydra_cfg.launcher, resolve=False) or {}
    target = str(launcher.get("_target_", ""))
    cpus = cores.available()

    def integer(key: str, value: Any, low: int, high: int | None, extra: str = "") -> None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
        if not ok or (high is not None and value > high):
            allowed = f"{low} to {high}" if high is not None else f"an integer, at least {low}"
            raise P.ParameterError(
                f"hydra.launcher.{key}={value!r} is not allowed: expected {allowed}{extra}"
            )

    if "joblib" in target:
        n_jobs = launcher.get("n_jobs", -1)
        if n_jobs != -1:  # more jobs than cores only share the cores (docs/SWEEPS.md)
            integer("n_jobs", n_jobs, 1, None, f", or -1 (every core; {cpus} here)")
    if "submitit" in target:
        for key in _POSITIVE_LAUNCHER_KEYS:
            if launcher.get(key) is not None and not (key == "gpus_per_node"):
                integer(key, launcher[key], 1, None)
        if launcher.get("gpus_per_node") is not None:
            integer("gpus_per_node", launcher["gpus_per_node"], 0, None)
        mem = launcher.get("mem_gb")
        if mem is not None and (
            isinstance(mem, bool) or not isinstance(mem, int | float) or mem <= 0
        ):
            raise P.ParameterError(
                f"hydra.launcher.mem_gb={mem!r} is not allowed: expected a positive number"
            )
    if "ray" in target:
        ray = launcher.get("ray") or {}
        init, remote = ray.get("init") or {}, ray.get("remote") or {}
        if init.get("num_cpus") is not None:
            integer("ray.init.num_cpus", init["num_cpus"], 1, None)
        if remote.get("num_cpus") is not None:
            n = remote["num_cpus"]
            if isinstance(n, bool) or not isinstance(n, int | float) or n <= 0:
                raise P.ParameterError(
                    f"hydra.launcher.ray.remote.num_cpus={n!r} is not allowed: "
                    "expected a positive number"
                )
        if remote.get("max_calls") is not None:
            integer("ray.remote.max_calls", remote["max_calls"], 0, None)
    sweeper = OmegaConf.to_container(hydra_cfg.sweeper, resolve=False) or {}
    batch = sweeper.get("max_batch_size")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise P.ParameterError(
            f"hydra.sweeper.max_batch_size={batch!r} is not allowed: expected an integer, "
            "at least 1, or null (no limit)"
        )


def check_subdir(cfg: DictConfig, jobs: int | None) -> None:
    """``hydra.sweep.subdir`` must name a folder inside ``hydra.sweep.dir`` that differs from job
    to job (the default ``${hydra.job.num}`` does): a constant one would make every job write
    the same folder, ``..`` or an absolute path would write outside the sweep."""
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(cfg.hydra.sweep, resolve=False).get("subdir")
    text = "" if raw is None else str(raw).strip()
    allowed = "a folder inside hydra.sweep.dir that differs per job, e.g. ${hydra.job.num}"
    if text in ("", "."):
        raise P.ParameterError(
            f"hydra.sweep.subdir={text!r} would put the jobs in the sweep folder itself: "
            f"expected {allowed}"
        )
    parts = Path(text.replace("${", "").replace("}", "")).parts
    if text.startswith(("/", "~")) or ".." in parts:
        raise P.ParameterError(
            f"hydra.sweep.subdir={text!r} leaves hydra.sweep.dir: expected {allowed}"
        )
    if "${" not in text and (jobs is None or jobs > 1):
        raise P.ParameterError(
            f"hydra.sweep.subdir={text!r} is the same for every job, so the jobs would write one "
            f"folder: expected {allowed}"
        )
