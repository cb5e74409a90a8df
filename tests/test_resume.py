"""Nothing lost on a crash: a SIGKILLed sweep, run again with the same command, completes only the
missing or broken cells and aggregates to the same table as an uninterrupted run.

The grid varies sanctions enforcement (M10, M17) and the Russia–West confrontation (M02, M03).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from experiments import jobs, sweep

ROOT = Path(__file__).resolve().parents[1]
ARGS = (
    "sanctions.enforcement=0.1,0.35,0.6,0.85",
    "world.confrontation=0.3,0.85",
    "replicates=8000",
    "seed=5",
    "output.quantiles=false",
)
CELLS = 8
# Pin model_version (no git commit): another engineer's commit between the two runs would
# otherwise, rightly, make every cell stale.
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_DIR": str(ROOT / "no-such-git-dir")}


def command(root: Path) -> list[str]:
    return [sys.executable, "-m", "experiments.run", "-m", *ARGS, f"hydra.sweep.dir={root}"]


def run(root: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        command(root), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def complete_jobs(root: Path) -> set[int]:
    return {j for j in range(CELLS) if jobs.check_complete(root / str(j))[0]}


def test_killed_sweep_resumes_only_the_missing_cells(tmp_path: Path) -> None:
    reference = tmp_path / "uninterrupted"
    run(reference)

    root = tmp_path / "killed"
    proc = subprocess.Popen(
        command(root), cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    try:
        while len(list(root.glob(f"*/{sweep.DONE_FILE}"))) < 3:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no cell finished in time"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (root / sweep.SWEEP_PARQUET).exists()
    complete = complete_jobs(root)
    assert 3 <= len(complete) < CELLS, complete

    # a file broken after the crash is detected and its cell redone, never aggregated
    broken = min(complete)
    runs = root / str(broken) / "runs.parquet"
    runs.write_bytes(runs.read_bytes()[:-100])
    kept = complete - {broken}
    stamps = {j: (root / str(j) / "runs.parquet").stat().st_mtime_ns for j in kept}

    done = run(root)
    report = json.loads((root / sweep.SWEEP_JSON).read_text())
    missing = set(range(CELLS)) - complete
    assert set(report["ran"]) == missing | {broken}
    assert set(report["reused"]) == kept
    assert {
        "job": broken,
        "reason": "runs.parquet changed since it was written (SHA-256 differs)",
    } in report["redone"]
    assert report["failed"] == []
    for j in kept:  # reused cells were not touched
        assert (root / str(j) / "runs.parquet").stat().st_mtime_ns == stamps[j]
        assert f"job {j} reused" in done.stdout
    for j in missing | {broken}:
        assert f"job {j} done" in done.stdout

    resumed = pd.read_parquet(root / sweep.SWEEP_PARQUET)
    pd.testing.assert_frame_equal(
        resumed, pd.read_parquet(reference / sweep.SWEEP_PARQUET), check_exact=True
    )
    assert len(resumed) == CELLS
