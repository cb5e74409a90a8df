"""Real-browser test of ``report.html``: every figure renders and nothing leaves 127.0.0.1.

The sweep is the one ``make demo`` runs (``experiment=demo``: sanctions enforcement M10/M17 ×
stockpile F07/M15 × confrontation M02/M03, joblib launcher), made for real through Hydra with fewer
replicates per cell, and reported with ``python -m analysis.report``; the report directory is served by Python's
``http.server`` on 127.0.0.1 and opened in headless Chromium (fixtures in conftest.py, whose
``browser_page`` fails the test if any request goes to another host).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sweep (real Hydra multirun, joblib), then its report, both as a user runs them."""
    root = tmp_path_factory.mktemp("demo") / "sweep"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    sweep = [sys.executable, "-m", "experiments.run", "-m", "experiment=demo", "replicates=100"]
    sweep.append(f"hydra.sweep.dir={root}")
    subprocess.run(sweep, cwd=REPO, env=env, check=True, capture_output=True, timeout=300)
    assert (root / "sweep.parquet").is_file()
    out = root / "report"
    cmd = [sys.executable, "-m", "analysis.report", str(root), "--out", str(out)]
    subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, timeout=300)
    return out


def test_report_figures_render_offline(
    report_dir: Path, browser_page, request_log, start_server, server_port: int
) -> None:
    cmd = [
        sys.executable,
        "-m",
        "http.server",
        str(server_port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(report_dir),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with start_server(cmd, server_port, env) as server:
        browser_page.goto(server.url + "report.html", wait_until="load")
        figures = browser_page.evaluate(
            """() => [...document.querySelectorAll('img, svg')].map(el => ({
                id: el.id || el.tagName,
                tag: el.tagName.toLowerCase(),
                complete: el.tagName === 'IMG' ? el.complete : true,
                width: el.tagName === 'IMG' ? el.naturalWidth : el.getBoundingClientRect().width,
                height: el.tagName === 'IMG' ? el.naturalHeight : el.getBoundingClientRect().height,
            }))"""
        )
        text = browser_page.inner_text("body")
    ids = {f["id"] for f in figures}
    assert {"fig-heatmap_S1", "fig-heatmap_S2", "fig-marginal_effects"} <= ids
    assert {f"fig-fan_{name}" for name in ("defence", "economic", "munitions")} <= ids
    broken = [f for f in figures if not (f["complete"] and f["width"] > 0 and f["height"] > 0)]
    assert not broken, broken
    assert "Scenario table" in text and "Wilson" in text
    assert any(url.endswith("report.html") for url in request_log.urls)
