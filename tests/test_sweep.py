"""Multirun sweeps: validation before any job directory, aggregation, failures, corrupt files.

The sweeps vary the article's key axes (sanctions enforcement M10/M17, the DPRK's stockpile
F07/M15, the Russia–West confrontation M02/M03) with few replicates: the tests check that the
aggregated table is exactly what the job files say, not what the model concludes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.stats import proportion_ci
from experiments import jobs, sweep
from sim import params as P
from sim.classifier import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]


def run_sweep(*args: str, sweep_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "experiments.run", "-m", *args, f"hydra.sweep.dir={sweep_dir}"]
    return subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


GRID = ("sanctions.enforcement=0.2,0.8", "stockpile.dprk=low,high", "replicates=400", "seed=7")


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("grid") / "sweep"
    done = run_sweep(*GRID, sweep_dir=root)
    assert done.returncode == 0, done.stderr
    return root, done


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("sanctions.enforcment=0.2,0.5", "sanctions.enforcment"),  # misspelt key
        ("sanctions.enforcement=0.2,lots", "sanctions.enforcement"),  # wrong type
        ("stockpile.dprk=low,huge", "stockpile.dprk"),  # not a level nor a number
        ("replicates=10,many", "replicates"),
    ],
)
def test_bad_sweep_value_exits_2_before_any_job_directory(
    tmp_path: Path, override: str, key: str
) -> None:
    root = tmp_path / "sweep"
    done = run_sweep(override, sweep_dir=root, timeout=120)
    assert done.returncode == 2
    assert key in done.stderr
    assert done.stderr.count("error:") == 1
    assert not root.exists()


def test_bad_design_key_exits_2_before_any_job_directory(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    done = run_sweep(
        "experiment=lhs_design", "design.parameters=[sanctions.enforcment]", sweep_dir=root
    )
    assert done.returncode == 2
    assert "sanctions.enforcment" in done.stderr and "did you mean" in done.stderr
    assert not root.exists()


def test_grid_sweep_table_is_what_the_job_files_say(grid: tuple[Path, object]) -> None:
    root, _ = grid
    table = pd.read_parquet(root / sweep.SWEEP_PARQUET)
    report = json.loads((root / sweep.SWEEP_JSON).read_text())
    assert report["kind"] == "grid" and report["design"] is None
    assert report["swept"] == ["sanctions.enforcement", "stockpile.dprk"]
    assert report["cells"] == len(table) == 4 and report["failed"] == []
    # swept keys are columns of resolved numbers: the level names became the declared values
    levels = P.BY_KEY["stockpile.dprk"].levels
    assert sorted(set(table["stockpile.dprk"])) == sorted({levels["low"], levels["high"]})
    assert sorted(set(table["sanctions.enforcement"])) == [0.2, 0.8]
    for _, row in table.iterrows():
        job = root / str(int(row["job"]))
        summary = json.loads((job / "summary.json").read_text())
        runs = pd.read_parquet(job / "runs.parquet")
        assert row["n"] == summary["n"] == len(runs) == 400
        assert row["config_hash"] == summary["config_hash"]
        assert row["seed"] == 7 == summary["seed"]
        for s in SCENARIOS:
            count = int((runs["scenario"] == s).sum())
            assert row[f"{s}_count"] == count == summary["scenarios"][s]["count"]
            low, high = proportion_ci(count, 400)
            assert row[f"{s}_share"] == pytest.approx(count / 400)
            assert (row[f"{s}_ci_low"], row[f"{s}_ci_high"]) == pytest.approx(
                (float(low), float(high))
            )
        for name in sweep.INDICATORS:
            assert row[f"{name}_mean"] == pytest.approx(runs[name].mean())
        assert row["sanctions.enforcement"] == summary["parameters"]["sanctions.enforcement"]
    assert table[[f"{s}_count" for s in SCENARIOS]].to_numpy().sum() == 1600
    meta = json.loads(pq.read_schema(root / sweep.SWEEP_PARQUET).metadata[b"rudprk"])
    assert {"mesa", "numpy", "hydra-core"} <= set(meta["versions"])
    assert meta["model_version"] == report["model_version"]


def test_summary_md_and_progress_line(grid: tuple[Path, subprocess.CompletedProcess]) -> None:
    root, done = grid
    text = (root / sweep.SUMMARY_MD).read_text()
    assert "| sanctions.enforcement | stockpile.dprk | n |" in text
    assert text.count("| 400 |") == 4
    assert "n = 1600 replicates" in text
    assert "4/4 cells done" in done.stderr and "runs/s" in done.stderr


def test_failing_cell_is_reported_and_others_complete(tmp_path: Path) -> None:
    # classifier.medium=45 is a valid value on its own but longer than the 40-quarter horizon:
    # only the cells with it fail, when they run.
    root = tmp_path / "sweep"
    done = run_sweep(
        "classifier.medium=12,45", "sanctions.enforcement=0.2,0.8", "replicates=200",
        sweep_dir=root,
    )  # fmt: skip
    assert done.returncode == 1
    assert "classifier.medium=45" in done.stderr and "horizon" in done.stderr
    report = json.loads((root / sweep.SWEEP_JSON).read_text())
    assert [f["job"] for f in report["failed"]] == [2, 3]
    for failure in report["failed"]:
        assert "classifier.medium=45" in failure["overrides"]
        assert "ParameterError" in failure["error"] and "horizon=40" in failure["error"]
    table = pd.read_parquet(root / sweep.SWEEP_PARQUET)
    assert sorted(table["job"]) == [0, 1] and (table["n"] == 200).all()
    assert "FAILED job 3" in (root / sweep.SUMMARY_MD).read_text()


def test_corrupt_or_partial_job_is_never_aggregated(
    grid: tuple[Path, object], tmp_path: Path
) -> None:
    src, _ = grid
    root = tmp_path / "copy"
    shutil.copytree(src, root)
    runs = root / "1" / "runs.parquet"
    runs.write_bytes(runs.read_bytes()[: runs.stat().st_size // 2])  # truncated
    (root / "2" / sweep.DONE_FILE).unlink()  # killed before its marker was written
    ok, reason = jobs.check_complete(root / "1")
    assert not ok and reason.startswith("runs.parquet changed"), reason
    assert jobs.check_complete(root / "2") == (False, "partial files (no done.json)")
    assert jobs.check_complete(root / "0") == (True, "")
    done = json.loads((root / "0" / sweep.DONE_FILE).read_text())
    assert not jobs.check_complete(root / "0", fingerprint="another-config")[0]
    assert jobs.check_complete(root / "0", fingerprint=done["fingerprint"])[0]
    report = sweep.aggregate(root)
    assert [f["job"] for f in report["failed"]] == [1, 2]
    assert all(f["error"].startswith("incomplete") for f in report["failed"])
    table = pd.read_parquet(root / sweep.SWEEP_PARQUET)
    assert sorted(table["job"]) == [0, 3]
    original = pd.read_parquet(src / sweep.SWEEP_PARQUET).set_index("job")
    pd.testing.assert_frame_equal(table.set_index("job"), original.loc[[0, 3]])


def test_point_rows_counts_and_means_per_point() -> None:
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({k: np.full(9, P.BY_KEY[k].default, dtype=float) for k in P.BY_KEY})
    rows.insert(0, "point", np.repeat([4, 5, 6], 3))
    rows["scenario"] = ["S1", "S2", "S2", "neither", "neither", "neither", "S1", "S1", "S2"]
    for name in sweep.INDICATORS:
        rows[name] = rng.normal(size=9)
    out = jobs.point_rows(rows)
    assert list(out["point"]) == [4, 5, 6] and list(out["n"]) == [3, 3, 3]
    assert list(out["S1_count"]) == [1, 0, 2] and list(out["neither_count"]) == [0, 3, 0]
    for name in sweep.INDICATORS:
        expected = rows.groupby("point")[name].mean().to_numpy()
        np.testing.assert_allclose(out[f"{name}_mean"], expected)
