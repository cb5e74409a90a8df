"""Hydra callbacks: validate before anything runs; aggregate a sweep when it ends.

Validation runs in the driver, before Hydra creates a run or job directory, so bad input ends
with exit 1 and one message naming the key and what is allowed, and leaves no files behind.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

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
        from experiments import sweep

        try:
            _check_overrides(sweep.sweep_overrides(config))  # command line and preset sweeps
            _validate(config, skip_sweep=True)
        except ParameterError as error:
            _fail(error)
        self._started = time.time()
        total = sweep.expected_cells(sweep.sweep_overrides(config))
        # kept in the sweep module, not on self: launchers pickle the callbacks for their workers
        sweep.start_progress(config.hydra.sweep.dir, total, self._started)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments import sweep

        sweep.stop_progress(config.hydra.sweep.dir)
        try:
            report = sweep.aggregate_and_report(config, started=getattr(self, "_started", None))
        except Exception as error:  # Hydra would only warn: a lost aggregation must fail loudly
            _fail(RuntimeError(f"aggregating the sweep failed: {error!r}"))
        if report["failed"]:  # every other cell is complete and aggregated; still signal it
            sys.exit(1)


def _validate(cfg: DictConfig, skip_sweep: bool = False) -> None:
    from experiments import design

    config.validate(cfg)
    design.from_config(cfg, int(cfg.seed))  # a sampled design's keys, method and sizes


def _check_overrides(task: Any) -> None:
    config.check_override_values([str(t) for t in task])
