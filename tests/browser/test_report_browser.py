"""Real-browser tests of ``report.html`` at 1280 px: it answers on its first screen, fits the
window, labels every axis, and nothing leaves 127.0.0.1.

Three reports, each made for real through Hydra and ``python -m analysis.report`` as a user makes
them: a single run (``python -m experiments.run``), the demo's grid sweep (``experiment=demo``:
sanctions enforcement M10/M17 × stockpile F07/M15 × confrontation M02/M03, joblib launcher, fewer
replicates per cell) and a small Sobol' design (``experiment=sobol_design`` with fewer points).
Each report directory is served by Python's ``http.server`` on 127.0.0.1 and opened in headless
Chromium (fixtures in conftest.py, whose ``browser_page`` fails the test if any request goes to
another host). The checks (issue 12):

* ``document.documentElement.scrollWidth <= 1280`` and a full-page screenshot no wider than the
  window (wide tables scroll inside their own box);
* the first paragraph names the most common scenario with its share and Wilson interval (read
  from the report's own ``tables/scenarios.csv``) and is on the first screen (its screenshot shows
  text, not a blank box);
* every figure is an inline SVG in which every axis that shows tick labels also has an axis label
  (read from the SVG's text elements).

The screenshots are written to ``REPORT_SCREENSHOTS`` (a directory) when that variable is set.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1280, 900

pytestmark = pytest.mark.browser

#: How each kind of result is made (a real Hydra command line) and reported.
MAKE = {
    "single run": ["replicates=300"],
    "grid sweep": ["-m", "experiment=demo", "replicates=100"],
    "Sobol' design": [
        "-m",
        "experiment=sobol_design",
        "design.points=128",
        "design.replicates_per_point=4",
    ],
}

#: For every axis of every inline SVG figure: how many tick labels it shows, and its label.
AXES_JS = """() => [...document.querySelectorAll('figure svg')].map(svg => ({
  figure: svg.closest('figure').id,
  axes: [...svg.querySelectorAll('g[id^="matplotlib.axis_"]')].map(axis => {
    const texts = [...axis.querySelectorAll('text')];
    const inTick = t => t.closest('g[id^="xtick_"], g[id^="ytick_"]') !== null;
    return {
      ticks: texts.filter(inTick).filter(t => t.textContent.trim()).length,
      label: texts.filter(t => !inTick(t)).map(t => t.textContent.trim()).join(' ').trim(),
    };
  }),
}))"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three report directories, made as a user makes them."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out: dict[str, Path] = {}
    for kind, args in MAKE.items():
        root = tmp_path_factory.mktemp("result") / "result"
        where = "hydra.sweep.dir" if "-m" in args else "hydra.run.dir"
        cmd = [sys.executable, "-m", "experiments.run", *args, f"{where}={root}"]
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (kind, done.stderr[-3000:])
        report = root / "report"
        cmd = [sys.executable, "-m", "analysis.report", str(root), "--out", str(report)]
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (kind, done.stderr[-3000:])
        out[kind] = report
    return out


def _has_text(png: bytes) -> bool:
    """Whether a screenshot shows something (dark text pixels on the light page)."""
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png))[..., :3].mean(axis=2)
    return bool((pixels < 0.5).mean() > 0.005)


@pytest.mark.parametrize("kind", list(MAKE))
def test_report_answers_on_its_first_screen_and_fits_the_window(
    kind: str,
    reports: dict[str, Path],
    browser_page,
    request_log,
    start_server,
    server_port: int,
) -> None:
    report_dir = reports[kind]
    cmd = [sys.executable, "-m", "http.server", str(server_port), "--bind", "127.0.0.1"]
    cmd += ["--directory", str(report_dir)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with start_server(cmd, server_port, env) as server:
        browser_page.goto(server.url + "report.html", wait_until="load")
        scroll_width = browser_page.evaluate("document.documentElement.scrollWidth")
        first = browser_page.locator("p").first
        first_text = first.inner_text()
        first_box = first.bounding_box()
        first_shot = first.screenshot()
        screen = browser_page.screenshot()
        full = browser_page.screenshot(full_page=True)
        axes = browser_page.evaluate(AXES_JS)
    if target := os.environ.get("REPORT_SCREENSHOTS"):
        name = kind.replace(" ", "_").replace("'", "")
        Path(target).mkdir(parents=True, exist_ok=True)
        (Path(target) / f"{name}.png").write_bytes(screen)
        (Path(target) / f"{name}_full.png").write_bytes(full)
    print(f"{kind}: scrollWidth {scroll_width} px at a {WIDTH} px window; {len(axes)} figures")

    # the page is no wider than the window, also as the browser draws it
    from matplotlib.image import imread

    assert scroll_width <= WIDTH
    assert imread(io.BytesIO(full)).shape[1] <= WIDTH
    # the first paragraph names the most common scenario with its share and interval
    table = pd.read_csv(report_dir / "tables" / "scenarios.csv").set_index("scenario")
    top = str(table["share"].idxmax())
    r = table.loc[top]
    assert first_text.startswith("Most common outcome"), first_text
    assert first_text.split(": ", 1)[1].startswith(top), first_text
    share = f"{r['share']:.1%} of {int(table['count'].sum()):,} runs"
    interval = f"interval {r['ci_low']:.1%} to {r['ci_high']:.1%}"
    assert share in first_text and interval in first_text, first_text
    # ... on the first screen, drawn as text
    assert first_box is not None and first_box["y"] + first_box["height"] <= HEIGHT
    assert _has_text(first_shot) and _has_text(screen)
    # every figure labels every axis that shows tick labels
    assert axes, "the report has figures"
    if kind != "single run":
        assert any(f["figure"].startswith("fig-heatmap_") for f in axes)
    for figure in axes:
        assert any(a["ticks"] for a in figure["axes"]), figure["figure"]
        for axis in figure["axes"]:
            if axis["ticks"]:
                assert axis["label"], (figure["figure"], axis)
    assert any(url.endswith("report.html") for url in request_log.urls)
