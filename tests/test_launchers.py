"""The same sweep gives the same sweep.parquet rows, bit for bit, whichever launcher ran it.

A 2 x 2 grid over sanctions enforcement (M10, M17) and the Russia–West confrontation (M02, M03)
runs under Hydra's basic launcher, joblib, a local Ray (one test: Ray starts slowly) and
submitit_local (capped by the sweeper's max_batch_size); a small Latin-hypercube design runs as
one chunk and as three. sweep.parquet has no timing columns, so whole tables are compared (but for the provenance
column model_version, which changes whenever someone commits).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments import sweep

ROOT = Path(__file__).resolve().parents[1]
GRID = ("sanctions.enforcement=0.2,0.8", "world.confrontation=0.3,0.85", "replicates=300")


def run_sweep(*args: str, sweep_dir: Path, timeout: float = 600) -> pd.DataFrame:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_DEDUP_LOGS": "0"}
    cmd = [sys.executable, "-m", "experiments.run", "-m", *args, f"hydra.sweep.dir={sweep_dir}"]
    done = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((sweep_dir / sweep.SWEEP_JSON).read_text())
    assert report["failed"] == [] and report["ran"] == list(range(report["jobs"]))
    # model_version names the git commit: another commit landing mid-test must not count
    return pd.read_parquet(sweep_dir / sweep.SWEEP_PARQUET).drop(columns="model_version")


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    table = run_sweep(*GRID, sweep_dir=tmp_path_factory.mktemp("basic") / "s")
    assert len(table) == 4
    return table


LAUNCHERS = {
    "joblib": ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"),
    "ray": ("hydra/launcher=ray_local", "hydra.launcher.ray.init.num_cpus=2"),
    "submitit_local": ("hydra/launcher=submitit_local", "hydra.sweeper.max_batch_size=2"),
}
PLUGINS = {
    "joblib": "hydra_plugins.hydra_joblib_launcher",
    "ray": "hydra_plugins.hydra_ray_launcher",
    "submitit_local": "hydra_plugins.hydra_submitit_launcher",
}


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_launcher_gives_identical_rows(launcher: str, basic: pd.DataFrame, tmp_path: Path) -> None:
    if importlib.util.find_spec(PLUGINS[launcher]) is None:
        pytest.skip(f"{PLUGINS[launcher]} is not installed (make test installs it)")
    table = run_sweep(*GRID, *LAUNCHERS[launcher], sweep_dir=tmp_path / "s")
    pd.testing.assert_frame_equal(table, basic, check_exact=True)


def test_basic_sweep_differs_between_cells(basic: pd.DataFrame) -> None:
    # guards the equivalence test against comparing four copies of one cell
    assert basic["config_hash"].nunique() == 4
    assert basic[["sanctions.enforcement", "world.confrontation"]].drop_duplicates().shape[0] == 4


def test_design_rows_do_not_depend_on_chunk_count(tmp_path: Path) -> None:
    args = ("experiment=lhs_design", "design.points=30", "design.replicates_per_point=7")
    one = run_sweep(*args, "design.chunks=1", sweep_dir=tmp_path / "one")
    three = run_sweep(*args, "design.chunks=3", sweep_dir=tmp_path / "three")
    assert len(one) == 30 and (one["n"] == 7).all()
    assert one["job"].tolist() == list(range(30))
    pd.testing.assert_frame_equal(one, three, check_exact=True)
