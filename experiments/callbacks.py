"""Hydra callbacks: check everything before anything runs; aggregate a sweep when it ends.

Checks run in the driver, before Hydra creates a run or job directory, so bad input ends with
exit 2 and one line naming the key and what is allowed, and leaves no files behind: the config
and every sweep value (``experiments.config``), the output folder (writable, enough free disk for
the estimated output), and for a sweep the folder's identity (``experiments.sweep.claim``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from contract.cli import EXPECTED, fail
from experiments import config, watchdog


class SweepCallback(Callback):
    """Checks the config (and every sweep value) first; gathers job files into sweep.parquet."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            _validate(config)
            config_out = Path(str(config.hydra.run.dir))
            _check_output(config, config_out, cells=1)
        except EXPECTED as error:
            fail(error)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments import progress, sweep

        root = Path(str(config.hydra.sweep.dir))
        overrides = sweep.sweep_overrides(config)
        try:
            _check_overrides(overrides)  # command line and preset sweeps
            _validate(config)
            total = sweep.expected_cells(overrides)
            _check_output(config, root, cells=total or 1, overrides=overrides)
            notes = sweep.claim(root, sweep.identity(config), discard=bool(config.discard))
        except EXPECTED as error:
            fail(error)
        for note in notes:
            print(f"sweep: {note}", file=sys.stderr)
        watchdog.mark_driver()
        self._started = time.time()
        # kept in the progress module, not on self: launchers pickle the callbacks for workers
        progress.start_progress(root, total, self._started)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments import progress, sweep

        progress.stop_progress(config.hydra.sweep.dir)
        try:
            report = sweep.aggregate_and_report(config, started=getattr(self, "_started", None))
        except Exception as error:  # Hydra would only warn: a lost aggregation must fail loudly
            fail(RuntimeError(f"aggregating the sweep failed: {error!r}"), code=1)
        if report["failed"]:  # every other cell is complete and aggregated; still signal it
            sys.exit(1)


def _validate(cfg: DictConfig) -> None:
    from experiments import design

    config.validate(cfg)
    plan = design.from_config(cfg, int(cfg.seed))  # a sampled design's keys, method and sizes
    if plan is not None:
        plan.chunk_range(int(cfg.design.chunk))


def _check_overrides(task: Any) -> None:
    config.check_override_values([str(t) for t in task])


def _check_output(
    cfg: DictConfig, outdir: Path, cells: int, overrides: list[str] | None = None
) -> None:
    config.check_output(cfg, outdir, cells, overrides or [], sweep=overrides is not None)
