"""Hydra callbacks: validate before anything runs; aggregate a sweep when it ends.

Validation runs in the driver, before Hydra creates a run or job directory, so bad input ends
with exit 1 and one message naming the key and what is allowed, and leaves no files behind.
"""

from __future__ import annotations

import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from experiments import config
from sim.params import ParameterError


def _fail(error: Exception) -> None:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(1)


class SweepCallback(Callback):
    """Checks the config (and every sweep value) first; gathers job files into sweep.parquet."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            _validate(config)
        except ParameterError as error:
            _fail(error)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
            _check_overrides(task)
            _validate(config, skip_sweep=True)
        except ParameterError as error:
            _fail(error)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments import sweep

        sweep.aggregate_and_report(config)


def _validate(cfg: DictConfig, skip_sweep: bool = False) -> None:
    config.validate(cfg)


def _check_overrides(task: Any) -> None:
    config.check_override_values([str(t) for t in task])
