"""Hydra callbacks: check everything before anything runs; aggregate a sweep when it ends.

Checks run in the driver, before Hydra creates a run or job directory, so bad input ends with
exit 2 and one line naming the key and what is allowed, and leaves no files behind: the config
and every sweep value (``experiments.config``), the output folder (writable, enough free disk for
the estimated output), the folder's identity (``experiments.folders.claim_run`` for a run,
``experiments.sweep.claim`` for a sweep) and its lock (``.lock``: one writing process per
folder), and for a sweep the launcher's settings and ``hydra.sweep.subdir``.
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
        from experiments import folders

        try:
            _validate(config)
            config_out = Path(str(config.hydra.run.dir))
            _check_output(config, config_out, cells=1)
            ident = folders.run_identity(config)
            notes = folders.claim_run(config_out, ident, discard=bool(config.discard))
        except EXPECTED as error:
            fail(error)
        for note in notes:
            print(f"run: {note}", file=sys.stderr)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments import progress, sweep
        from experiments.config import check_launcher, check_subdir

        root = Path(str(config.hydra.sweep.dir))
        overrides = sweep.sweep_overrides(config)
        try:
            _check_overrides(overrides)  # command line and preset sweeps
            _validate(config)
            total = sweep.expected_cells(overrides)
            check_launcher(config)
            check_subdir(config, total)
            _check_output(config, root, cells=total or 1, overrides=overrides)
            notes = _claim_locked(root, sweep.identity(config), bool(config.discard))
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


def _claim_locked(root: Path, ident: dict[str, Any], discard: bool) -> list[str]:
    """Take the sweep folder's lock (held until the driver ends), then claim the folder; a
    refused claim takes back the lock file and folder this call made, leaving the folder as it
    was."""
    from contract.files import LOCK_FILE
    from contract.io import lock_folder, unlock_folder
    from experiments import sweep

    existed, had_lock = root.exists(), (root / LOCK_FILE).exists()
    lock_folder(root, "hydra.sweep.dir")
    try:
        return sweep.claim(root, ident, discard=discard)
    except BaseException:
        unlock_folder(root)
        if not had_lock:
            (root / LOCK_FILE).unlink(missing_ok=True)
        if not existed and not any(root.iterdir()):
            root.rmdir()
        raise


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
