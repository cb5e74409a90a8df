"""The example notebook (experiments/analysis_example.ipynb) runs from top to bottom with nbmake.

It runs a small experiment through the Python API (two stockpile settings, F07/M15), shows the
tables and figures of ``analysis.api``, and asserts that the planted difference is found, so the
notebook cannot rot silently.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "experiments" / "analysis_example.ipynb"


def test_example_notebook_runs() -> None:
    pytest.importorskip("nbmake")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbmake",
            "--nbmake-timeout=120",
            "-p",
            "no:cacheprovider",
            "-q",
            str(NOTEBOOK),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
