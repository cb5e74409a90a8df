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
    return Any if param.levels else param.kind


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
    if int(container["output"]["batch_size"]) < 1:
        raise P.ParameterError(
            f"output.batch_size={container['output']['batch_size']} must be at least 1"
        )
    if params["classifier.medium"] >= horizon:
        raise P.ParameterError(
            f"classifier.medium={params['classifier.medium']} must be shorter than "
            f"horizon={horizon} (the long term needs at least one quarter)"
        )
    return params, seed, replicates, horizon


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
    known_top = set(P.RUN_KEYS) | {"experiment_name"}
    for override in parser.parse_overrides(list(overrides)):
        key = override.key_or_group
        if override.is_hydra_override() or key.startswith("hydra") or override.package:
            continue
        if key in known_top or ("." in key and key.split(".")[0] in ("output", "design")):
            values = list(override.sweep_iterator()) if override.is_sweep_override() else []
            if key in P.RUN_KEYS:
                low, high = RUN_KEY_RANGES[key]
                for v in values or [override.value()]:
                    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                        raise P.ParameterError(
                            f"{key}={v!r} is not allowed: expected an integer in [{low}, {high}]"
                        )
            continue
        if key == "experiment" or (CONF_DIR / key).is_dir():  # a group choice: sanctions=strict
            values = list(override.sweep_iterator()) if override.is_sweep_override() else []
            for v in values or [override.value()]:
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


def preflight(argv: Iterable[str]) -> None:
    """Check command-line overrides before Hydra runs; exit 1 with one message if one is bad."""
    overrides = [a for a in argv if not a.startswith("-") and "=" in a]
    try:
        check_override_values(overrides)
    except P.ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


def config_hash(params: dict[str, Any], seed: int, replicates: int, horizon: int) -> str:
    """Stable hash of what determines the results (parameters, seed, replicates, horizon)."""
    payload = json.dumps(
        {"params": params, "seed": seed, "replicates": replicates, "horizon": horizon},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
