"""Hydra entry point: ``python -m experiments.run [overrides]`` (one point) or ``-m`` (a sweep).

compose config → validate against ``sim.params`` → run the replicates as ensemble models →
write ``runs.parquet``, ``quantiles.parquet`` and ``summary.json`` into the Hydra output
directory (atomically) → print the scenario table. Multirun aggregation happens in the callback
``experiments.callbacks.SweepCallback`` when the sweep ends.

In a multirun a job first checks its directory: a complete result with the same fingerprint is
reused (resume after a crash), anything partial is redone, and an error is recorded in
``error.json`` instead of stopping the sweep (``experiments.sweep``). When ``design.method`` is not
``none`` the job evaluates one chunk of a sampled design (``experiments.design``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from experiments import config, design, results, runner, sweep
from sim.world import FORWARD_START

config.register()


def run(cfg: DictConfig, outdir: Path, resume: bool = False) -> dict:
    """Run the composed config and write its files into ``outdir``; return the summary.

    With ``resume``, a complete matching result already in ``outdir`` is returned as it is.
    """
    params, seed, replicates, horizon = config.run_settings(cfg)
    plan = design.from_config(cfg, seed)
    chunk = int(cfg.design.chunk)
    if plan is None:
        fingerprint = config.config_hash(params, seed, replicates, horizon)
    else:
        plan.chunk_range(chunk)  # checks design.chunk before anything runs
        fingerprint = f"{plan.fingerprint(params, horizon)}-{chunk}of{plan.chunks}"
    if resume:
        complete, _ = sweep.check_complete(outdir, fingerprint, results.model_version())
        if complete:
            summary = json.loads((outdir / results.SUMMARY_FILE).read_text())
            return {**summary, "reused": True}
    previous = sweep.clear_job(outdir)
    started = time.perf_counter()
    if plan is None:
        rows, fan = runner.run_point(
            params,
            seed=seed,
            replicates=replicates,
            horizon=horizon,
            batch_size=int(cfg.output.batch_size),
            quantiles=bool(cfg.output.quantiles),
        )
    else:
        rows, fan = design.evaluate_chunk(
            plan,
            chunk,
            params,
            horizon=horizon,
            batch_size=int(cfg.output.batch_size),
            quantiles=bool(cfg.output.quantiles),
        )
        replicates = len(rows)
    elapsed = time.perf_counter() - started
    meta = results.provenance(fingerprint, seed)
    extra = {
        "experiment": str(cfg.get("experiment_name", "default")),
        "replicates": replicates,
        "horizon": horizon,
        "start_quarter": FORWARD_START,
        "parameters": params,
        "runs_per_second": round(replicates / max(elapsed, 1e-9), 1),
    }
    if plan is not None:
        start, stop = plan.chunk_range(chunk)
        extra["design"] = {
            **plan.describe(),
            "hash": plan.fingerprint(params, horizon),
            "chunk": chunk,
            "start": start,
            "stop": stop,
        }
        extra["parameters"] = {k: v for k, v in params.items() if k not in plan.parameters}
    summary = results.write_run(outdir, rows, fan, meta, extra)
    points = sweep.point_rows(rows)
    results.write_parquet(outdir / sweep.POINTS_FILE, points, meta)
    sweep.mark_done(outdir, fingerprint, summary, previous)
    return summary


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    outdir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode != RunMode.MULTIRUN:
        summary = run(cfg, outdir)
        print(results.format_table(summary))
        print(f"outputs: {outdir}")
        return
    job = int(hydra_cfg.job.num)
    overrides = list(hydra_cfg.overrides.task)
    try:
        summary = run(cfg, outdir, resume=True)
    except Exception as error:  # one failing cell must not stop the sweep (issue 3)
        sweep.record_failure(outdir, job, overrides, error)
        print(f"error: job {job} [{' '.join(overrides)}] failed: {error}", file=sys.stderr)
        return
    shares = "  ".join(f"{s} {r['share']:.1%}" for s, r in summary["scenarios"].items())
    status = "reused" if summary.get("reused") else "done"
    print(f"job {job} {status} [{' '.join(overrides)}]: {shares} (n={summary['n']})")


if __name__ == "__main__":
    config.preflight(sys.argv[1:])
    sys.exit(main())
