"""Hydra entry point: ``python -m experiments.run [overrides]`` (one point) or ``-m`` (a sweep).

compose config → validate against ``sim.params`` → run the replicates as ensemble models →
write ``runs.parquet``, ``quantiles.parquet`` and ``summary.json`` into the Hydra output
directory (atomically) → print the scenario table. Multirun aggregation happens in the callback
``experiments.callbacks.SweepCallback`` when the sweep ends.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments import config, results, runner

config.register()


def run(cfg: DictConfig, outdir: Path) -> dict:
    """Run the composed config and write its files into ``outdir``; return the summary."""
    params, seed, replicates, horizon = config.run_settings(cfg)
    started = time.perf_counter()
    rows, fan = runner.run_point(
        params,
        seed=seed,
        replicates=replicates,
        horizon=horizon,
        batch_size=int(cfg.output.batch_size),
        quantiles=bool(cfg.output.quantiles),
    )
    elapsed = time.perf_counter() - started
    meta = results.provenance(config.config_hash(params, seed, replicates, horizon), seed)
    extra = {
        "experiment": str(cfg.get("experiment_name", "default")),
        "replicates": replicates,
        "horizon": horizon,
        "start_quarter": "2024Q4",
        "parameters": params,
        "runs_per_second": round(replicates / max(elapsed, 1e-9), 1),
    }
    return results.write_run(outdir, rows, fan, meta, extra)


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    outdir = Path(HydraConfig.get().runtime.output_dir)
    summary = run(cfg, outdir)
    print(results.format_table(summary))
    print(f"outputs: {outdir}")


if __name__ == "__main__":
    config.preflight(sys.argv[1:])
    sys.exit(main())
