"""Hydra entry point: ``python -m experiments.run [overrides]`` (one point) or ``-m`` (a sweep).

compose config → validate against ``sim.params`` → run the replicates as ensemble models in
batches, streaming each batch into ``runs.parquet`` → write ``quantiles.parquet``,
``summary.json``, ``points.parquet`` and, in a sweep, ``done.json`` into the Hydra output
directory (each atomically) → print the scenario table. Multirun aggregation happens in the
callback ``experiments.callbacks.SweepCallback`` when the sweep ends.

In a multirun a job first checks its directory: a complete result with the same fingerprint,
model version, sweep identity and file hashes is reused (resume after a crash), anything else is
redone with the reason, and an error is recorded in ``error.json`` instead of stopping the sweep
(``experiments.jobs``). When ``design.method`` is not ``none`` the job evaluates one chunk of a
sampled design (``experiments.design``). Every expected error before the run starts is one line
(``experiments.config.preflight``, ``contract.cli``).

A single run's folder belongs to one run (``experiments.folders``: a different run into it is
refused, the same command reuses a complete result or redoes an incomplete one); a process holds
a folder's lock while it writes it. Ctrl+C or SIGTERM ends any run or sweep with ``error:
interrupted`` and exit 130; a failed or interrupted run removes its result files (and a folder the
command made), and a full disk is one line saying how much the output needed.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from experiments import config

config.register()
# The model, pandas and pyarrow are imported when a run starts, not before: a bad command line
# is answered by ``config.preflight`` within a second.

Inputs = tuple[dict[str, Any], Any, Any]  # (parameters, replicate ids or count, design points)


def describe(cfg: DictConfig) -> tuple[str, int, dict[str, Any], Callable[[], Inputs]]:
    """(fingerprint, seed, summary fields, inputs) of the composed config; inputs made lazily.

    The fingerprint is the config hash of a point, or the design's hash and the chunk.
    """
    from experiments import design
    from sim.world import FORWARD_START

    params, seed, replicates, horizon = config.run_settings(cfg)
    plan = design.from_config(cfg, seed)
    extra: dict[str, Any] = {
        "experiment": str(cfg.get("experiment_name", "default")),
        "horizon": horizon,
        "start_quarter": FORWARD_START,
    }
    from sim import params as P

    spec = str(cfg.get("posterior") or "")
    if spec and plan is not None:
        raise P.ParameterError("posterior= and a sampled design cannot be combined")
    if cfg.get("hedges") and plan is not None:
        raise P.ParameterError("hedges=true and a sampled design cannot be combined")
    if spec or cfg.get("hedges"):
        from analysis import posterior

        table = posterior.for_run(spec, params) if spec else None
        # the limits the user left at their defaults are drawn over their hedges (issue 22)
        hedged = posterior.hedged_keys(params) if cfg.get("hedges") else []
        extra |= {"replicates": replicates, "parameters": params}
        if table is not None:
            extra["posterior"] = table.describe()
        if hedged:
            extra["hedges"] = hedged
        identity = {"posterior": table.sha256 if table else "", "hedges": hedged}
        fingerprint = config.config_hash({**params, **identity}, seed, replicates, horizon)

        def drawn() -> Inputs:
            out = dict(params)
            if table is not None:
                out |= table.draw(seed, replicates)
            out |= posterior.hedge_draws(seed, replicates, keys=hedged)
            return out, replicates, None

        return fingerprint, seed, extra, drawn
    if plan is None:
        extra |= {"replicates": replicates, "parameters": params}
        fingerprint = config.config_hash(params, seed, replicates, horizon)
        return fingerprint, seed, extra, lambda: (params, replicates, None)
    chunk = int(cfg.design.chunk)
    start, stop = plan.chunk_range(chunk)
    extra["replicates"] = (stop - start) * plan.replicates_per_point
    extra["parameters"] = {k: v for k, v in params.items() if k not in plan.parameters}
    design_hash = plan.fingerprint(params, horizon)
    extra["design"] = {**plan.describe(), "hash": design_hash, "chunk": chunk}
    extra["design"] |= {"start": start, "stop": stop}
    fingerprint = f"{design_hash}-{chunk}of{plan.chunks}"
    return fingerprint, plan.seed, extra, lambda: design.chunk_inputs(plan, chunk, params)


def run(
    cfg: DictConfig,
    outdir: Path,
    resume: bool = False,
    identity: str | None = None,
    parallel: bool = True,
    job: int | None = None,
) -> dict[str, Any]:
    """Run the composed config and write its files into ``outdir``; return the summary.

    With ``resume``, a complete matching result already in ``outdir`` is returned as it is.
    With ``parallel``, a large point is split over ``output.workers`` processes (0 = every
    available core); the summary says how many ran it (``workers``). The folder is locked while
    the run writes it (``contract.io.folder_lock``). A run that fails or is interrupted removes
    its result files, so no file of a half-written run remains under a result's name; a full
    disk is one line saying how much the output needed.
    """
    from experiments import cores

    fingerprint, seed, extra, inputs = describe(cfg)
    workers = _workers(cfg, extra) if parallel else 1
    cores.warm_up(workers)  # the workers import the model while this process prepares the run

    from contract import files as F
    from contract.io import folder_lock, model_version

    key = "hydra.run.dir" if job is None else "hydra.sweep.subdir"
    with folder_lock(outdir, key):
        from experiments import jobs

        if job is not None:
            other = jobs.other_job(outdir, identity, job)
            if other is not None:
                raise jobs.FolderTaken(
                    f"hydra.sweep.subdir puts job {job} into {outdir}, the folder of job {other}: "
                    "expected a folder per job, e.g. ${hydra.job.num}"
                )
        reason = None
        if resume:
            complete, reason = jobs.check_complete(outdir, fingerprint, model_version(), identity)
            if complete:
                summary = json.loads((outdir / F.SUMMARY_FILE).read_text())
                return {**summary, "reused": True}
        previous = jobs.clear_job(outdir, reason)
        try:
            return _write(
                cfg, outdir, fingerprint, seed, extra, inputs, workers, previous, identity, job
            )
        except BaseException as error:
            jobs.clear_job(outdir, None)  # no result file without done.json, nor done.json alone
            from contract.io import DiskFull, disk_full_message, is_disk_full

            if is_disk_full(error):
                need = int(extra["replicates"]) * config.DISK_BYTES_PER_REPLICATE
                raise DiskFull(disk_full_message(outdir, need)) from None
            raise


def _write(
    cfg: DictConfig,
    outdir: Path,
    fingerprint: str,
    seed: int,
    extra: dict[str, Any],
    inputs: Callable[[], Inputs],
    workers: int,
    previous: str | None,
    identity: str | None,
    job: int | None,
) -> dict[str, Any]:
    """Run the replicates and write the files, each atomically, ``done.json`` last."""
    from contract import files as F
    from contract.io import ParquetStream, provenance, write_json, write_parquet
    from experiments import jobs, results, runner

    params, replicates, points = inputs()
    meta = provenance(fingerprint, seed)
    started = time.perf_counter()
    with ParquetStream(outdir / F.RUNS_FILE, meta) as runs:
        out = runner.stream_point(
            params,
            seed=seed,
            replicates=replicates,
            horizon=int(extra["horizon"]),
            batch_size=int(cfg.output.batch_size),
            quantiles=bool(cfg.output.quantiles),
            points=points,
            sink=runs.write,
            workers=workers,
        )
        runs.close()
    elapsed = time.perf_counter() - started
    summary = {**results.summary_of_counts(out.counts), **meta, **extra}
    summary["runs_per_second"] = round(out.n / max(elapsed, 1e-9), 1)
    summary["workers"] = workers
    if out.fan is not None:
        write_parquet(outdir / F.QUANTILES_FILE, out.fan, meta)
    write_json(outdir / F.SUMMARY_FILE, summary)
    write_parquet(outdir / F.POINTS_FILE, out.points, meta)
    jobs.mark_done(outdir, fingerprint, summary, previous, identity, job)
    return summary


def _workers(cfg: DictConfig, extra: dict[str, Any]) -> int:
    from experiments import cores

    return cores.workers_for(int(cfg.output.get("workers", 0)), int(extra["replicates"]))


def start_workers(cfg: DictConfig | None) -> None:
    """Start the worker processes of a large single run (``cfg`` as ``config.preflight`` composed
    it) before Hydra sets the run up: they import the model meanwhile; ``run`` finds them."""
    if cfg is not None:
        from experiments import cores

        cores.warm_up(_workers(cfg, describe(cfg)[2]))


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    outdir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode != RunMode.MULTIRUN:
        from contract.cli import EXPECTED, fail
        from experiments import folders

        try:
            summary = run(cfg, outdir, resume=True)  # imports the model after starting workers
        except EXPECTED as error:
            folders.clean_interrupted()  # a folder this command made goes with the failed run
            fail(error, code=1 if isinstance(error, OSError) else 2)
        from experiments import results

        print(results.format_table(summary))
        if summary.get("reused"):
            print(f"reused: {outdir} already holds this run, complete (nothing was run again)")
        else:
            print(
                f"workers: {summary['workers']} process(es) for {summary['n']:,} replicates "
                f"({summary['runs_per_second']:,.0f} runs/s)"
            )
        print(f"outputs: {outdir}")
        return
    from experiments import jobs, sweep, watchdog

    if watchdog.in_worker():  # Ctrl+C reaches every process: the driver answers it, in one line
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    watchdog.guard()  # a worker process stops when the sweep's driver is gone
    job = int(hydra_cfg.job.num)
    overrides = list(hydra_cfg.overrides.task)
    root = Path(hydra_cfg.sweep.dir).absolute().resolve()
    if root not in outdir.resolve().parents:
        print(
            f"error: job {job} [{' '.join(overrides)}] not run: hydra.sweep.subdir puts it in "
            f"{outdir}, outside hydra.sweep.dir={root}",
            file=sys.stderr,
        )
        return
    ident = sweep.read_identity(root)
    try:
        summary = run(  # the launcher spreads the jobs over the cores: one process each
            cfg,
            outdir,
            resume=True,
            identity=ident["id"] if ident else None,
            parallel=False,
            job=job,
        )
    except Exception as error:  # one failing cell must not stop the sweep (issue 3)
        from contract.io import FolderBusy

        if not isinstance(error, FolderBusy | jobs.FolderTaken):  # not this job's folder
            jobs.record_failure(outdir, job, overrides, error)
        print(f"error: job {job} [{' '.join(overrides)}] failed: {error}", file=sys.stderr)
        return
    shares = "  ".join(f"{s} {r['share']:.1%}" for s, r in summary["scenarios"].items())
    status = "reused" if summary.get("reused") else "done"
    print(f"job {job} {status} [{' '.join(overrides)}]: {shares} (n={summary['n']})")


def _guard_hydra_snapshot() -> None:
    """Hydra writes ``.hydra/`` before the run starts, outside the run's own error handling: an
    error there (a full disk) becomes one line too, and the folder this command made goes."""
    from hydra.core import utils

    save = utils._save_config

    def guarded(cfg: Any, filename: str, output_dir: Path) -> None:
        try:
            save(cfg, filename, output_dir)
        except OSError as error:
            from contract.cli import fail
            from contract.io import disk_full_message, is_disk_full
            from experiments import folders

            folders.clean_interrupted()
            fail(disk_full_message(Path(output_dir)) if is_disk_full(error) else error, code=1)

    utils._save_config = guarded


def _interrupted() -> None:
    """After Ctrl+C or SIGTERM: stop this run's worker processes, remove a folder it made."""
    from experiments import cores, folders

    cores.shutdown()
    folders.clean_interrupted()


if __name__ == "__main__":
    from contract.cli import EXIT_INTERRUPTED, interrupt_on_sigterm

    interrupt_on_sigterm()
    _guard_hydra_snapshot()
    try:
        start_workers(config.preflight(sys.argv[1:]))
        sys.exit(main())
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not cut the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _interrupted()
        print("error: interrupted", file=sys.stderr, flush=True)
        sys.exit(EXIT_INTERRUPTED)
