"""Real-browser test of ``report.html``: every figure renders and nothing leaves 127.0.0.1.

A small grid sweep (sanctions enforcement M10/M17 × stockpile F07 × confrontation M02/M03) is
reported with ``python -m analysis.report``; the report directory is served by Python's
``http.server`` on 127.0.0.1 and opened in headless Chromium (fixtures in conftest.py, whose
``browser_page`` fails the test if any request goes to another host).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the fixture writers

from analysis_fixtures import write_grid_sweep  # noqa: E402

from analysis import report  # noqa: E402

pytestmark = pytest.mark.browser

GRID = {
    "sanctions.enforcement": [0.2, 0.8],
    "stockpile.dprk": [10.0, 40.0],
    "world.confrontation": [0.5, 0.9],
}


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_grid_sweep(tmp_path_factory.mktemp("sweep"), GRID, seed=9, replicates=100)
    out = root / "report"
    assert report.main([str(root), "--out", str(out)]) == 0
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
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
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
