"""A sweep folder belongs to one sweep, and resume trusts content, not sizes.

* A second, different sweep into the same folder stops before anything runs, with one line naming
  what differs, and leaves the first sweep's ``sweep.parquet`` byte for byte as it was;
  ``discard=true`` deletes the first sweep and runs the second.
* A one-bit flip in any file of a finished job is caught on rerun by its SHA-256 in ``done.json``;
  the job is redone with the file named as the reason, and the final table equals the untouched
  sweep's. Stale temporary files of a killed aggregation are removed on the next run.

The grids vary sanctions enforcement (M10, M17) and the DPRK's stockpile (F07, M15).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from contract import files as F
from experiments import jobs

ROOT = Path(__file__).resolve().parents[1]
# Pin model_version (no git commit): another engineer's commit between two runs would otherwise,
# rightly, make the folder another sweep's.
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_DIR": str(ROOT / "no-such-git-dir")}
FIRST = ("sanctions.enforcement=0.1,0.5,0.9", "replicates=300", "seed=3")
SECOND = ("stockpile.dprk=low,high", "replicates=300", "seed=1")


def sweep(root: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "experiments.run", "-m", *args, f"hydra.sweep.dir={root}"]
    return subprocess.run(
        cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("identity") / "sweep"
    done = sweep(root, *FIRST)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".hydra" not in p.parts
    }


def test_another_sweep_into_the_same_folder_stops_before_running(
    first: Path, tmp_path: Path
) -> None:
    root = tmp_path / "reused"
    shutil.copytree(first, root)
    before = snapshot(root)
    done = sweep(root, *SECOND)
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message, message
    assert "hydra.sweep.dir" in message and "discard=true" in message
    assert "overrides" in message and "stockpile.dprk=low,high" in message
    assert "job" not in done.stdout  # no job ran
    assert snapshot(root) == before  # the first sweep is untouched, sweep.parquet included

    done = sweep(root, *SECOND, "discard=true")
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_parquet(root / F.SWEEP_PARQUET)
    assert sorted(table["stockpile.dprk"].unique()) == sorted(
        pd.read_parquet(root / "0" / F.POINTS_FILE)["stockpile.dprk"].tolist()
        + pd.read_parquet(root / "1" / F.POINTS_FILE)["stockpile.dprk"].tolist()
    )
    assert len(table) == 2 and set(table["seed"]) == {1}
    assert not (root / "2").exists()  # the first sweep's third cell was discarded
    report = json.loads((root / F.SWEEP_JSON).read_text())
    assert report["jobs"] == 2 and report["failed"] == []


def flip_one_bit(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_one_bit_flip_in_any_job_file_is_redone(first: Path, tmp_path: Path) -> None:
    root = tmp_path / "flipped"
    shutil.copytree(first, root)
    broken = {0: F.RUNS_FILE, 1: F.POINTS_FILE, 2: F.SUMMARY_FILE}
    for job, name in broken.items():
        flip_one_bit(root / str(job) / name)
        ok, reason = jobs.check_complete(root / str(job))
        assert not ok and reason.startswith(f"{name} changed"), reason
    flip_one_bit(root / "0" / F.QUANTILES_FILE)  # a second file of the same job
    (root / f".{F.SWEEP_PARQUET}.abc123.tmp").write_bytes(b"left by a killed aggregation")
    (root / "1" / f".{F.RUNS_FILE}.xyz.tmp").write_bytes(b"left by a killed job")

    done = sweep(root, *FIRST)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((root / F.SWEEP_JSON).read_text())
    assert sorted(report["ran"]) == [0, 1, 2] and report["reused"] == []
    reasons = {r["job"]: r["reason"] for r in report["redone"]}
    for job, name in broken.items():
        assert reasons[job].startswith(name) and "SHA-256" in reasons[job], reasons
    assert not list(root.rglob("*.tmp"))
    pd.testing.assert_frame_equal(
        pd.read_parquet(root / F.SWEEP_PARQUET),
        pd.read_parquet(first / F.SWEEP_PARQUET),
        check_exact=True,
    )


def test_resume_names_a_model_version_change(first: Path) -> None:
    job = first / "0"
    done = json.loads((job / F.DONE_FILE).read_text())
    ok, reason = jobs.check_complete(job, done["fingerprint"], "0.0.0+gother")
    assert not ok and reason.startswith("model version changed"), reason
    ok, reason = jobs.check_complete(job, "another-config", done["model_version"])
    assert not ok and reason == "config changed"
    ok, reason = jobs.check_complete(job, done["fingerprint"], done["model_version"], "other-id")
    assert not ok and reason == "made by another sweep"
    assert jobs.check_complete(
        job, done["fingerprint"], done["model_version"], done["sweep_identity"]
    ) == (True, "")
