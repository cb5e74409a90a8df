"""A SolaraViz page renders and runs in a real browser with no request leaving 127.0.0.1.

The test writes a tiny Mesa model with a DataCollector, one ``make_plot_component`` plot and
a slider parameter, serves it with ``solara run --production`` in the offline environment of
``experiments.solara_env``, and drives it with headless Chromium: the sliders and the plot
render, Step advances the model and redraws the plot. The ``browser_page`` fixture then fails
the test if any request went to another host or any asset was missing from Solara's local
cache. The assets must have been installed with ``python scripts/solara_assets.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from experiments.solara_env import SOLARA_RUN_FLAGS, offline_environment

REPO = Path(__file__).resolve().parents[2]
STEPS = 3

APP = textwrap.dedent(
    """
    import mesa
    from mesa.visualization import SolaraViz, make_plot_component


    class Walker(mesa.Agent):
        def __init__(self, model):
            super().__init__(model)
            self.wealth = 0

        def step(self):
            self.wealth += 1


    class TinyModel(mesa.Model):
        def __init__(self, n=4, rng=42):
            super().__init__(rng=rng)
            Walker.create_agents(self, n)
            self.datacollector = mesa.DataCollector(
                model_reporters={"Wealth": lambda m: sum(a.wealth for a in m.agents)}
            )
            self.datacollector.collect(self)

        def step(self):
            self.agents.do("step")
            self.datacollector.collect(self)


    model_params = {
        "n": {
            "type": "SliderInt", "value": 4, "label": "Walkers", "min": 1, "max": 10, "step": 1,
        },
    }
    page = SolaraViz(
        TinyModel(),
        components=[make_plot_component("Wealth")],
        model_params=model_params,
        name="Tiny offline model",
    )
    """
)


def _missing_assets() -> str:
    """What scripts/solara_assets.py would still install into this python's Solara cache."""
    script = REPO / "scripts" / "solara_assets.py"
    check = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    return "" if check.returncode == 0 else (check.stdout + check.stderr).strip()


@pytest.fixture(scope="module")
def solara_assets() -> None:
    """Solara's front-end files are in its local cache (no download here: offline test)."""
    if missing := _missing_assets():
        message = (
            f"Solara's front-end files are not installed for {sys.executable}; run "
            f"`{sys.executable} scripts/solara_assets.py`.\n{missing}"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _plot(page):
    """The plot: FigureMatplotlib renders into an ipywidgets Image (a blob: url)."""
    image = page.locator("img.widget-image").first
    image.wait_for(state="visible")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 100", arg=image.element_handle()
    )
    return image


def _time(n: int) -> re.Pattern[str]:
    """Mesa's "Information" card text after ``n`` steps ("Time: 3.0")."""
    return re.compile(rf"^Time: {n}(\.0)?$")


@pytest.mark.browser
def test_solaraviz_page_renders_and_steps_offline(
    browser_page, request_log, solara_assets, start_server, server_port: int, tmp_path: Path
) -> None:
    app = tmp_path / "tiny_app.py"
    app.write_text(APP)
    env = {**os.environ, **offline_environment(), "SOLARA_HOME": str(tmp_path / "solara-home")}
    env.pop("PYTEST_CURRENT_TEST", None)  # Solara skips some checks under pytest; do not hide them
    port = server_port
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--no-open", *SOLARA_RUN_FLAGS]

    with start_server(cmd, port, env, timeout=90, cwd=tmp_path) as server:
        page = browser_page
        page.set_default_timeout(30_000)
        page.goto(server.url)

        # the sidebar: Solara's sliders and the model parameter slider
        try:
            page.get_by_text("Walkers", exact=True).wait_for(state="visible")
        except PlaywrightTimeoutError:
            failures = request_log.failed_assets() + request_log.non_local()
            pytest.fail(
                "the page did not render; failed or non-local loads:\n"
                + "\n".join(failures or ["(none)"])
                + f"\nserver log:\n{server.log()[-3000:]}"
            )
        assert page.locator(".v-slider").count() >= 3  # play + render interval, "Walkers"
        page.get_by_text(_time(0)).wait_for(state="visible")
        plot = _plot(page)
        before = plot.screenshot()

        step = page.get_by_role("button", name="Step")
        for n in range(1, STEPS + 1):
            step.click()
            page.get_by_text(_time(n)).wait_for(state="visible")

        # the plot is redrawn with the new data: its pixels change
        deadline = time.monotonic() + 15
        while (after := _plot(page).screenshot()) == before and time.monotonic() < deadline:
            time.sleep(0.25)
        assert after != before, "the plot did not change after stepping the model"
        page.screenshot(path=str(tmp_path / "solaraviz-offline.png"), full_page=True)

        log = server.log()
        assert "Could not load URL" not in log, log[-4000:]

    assert any(url.startswith(server.url) for url in request_log.urls)
    assert any("/_solara/cdn/" in url for url in request_log.urls), "no asset came from the cache"
