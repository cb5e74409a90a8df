"""The teaching app in a real browser: sliders, Reset, Step, Play, languages, exercises, load.

Starts ``python -m experiments.teach --port FREE`` (offline environment) and drives it with
Debian's Chromium through the ``browser_page`` fixture, which fails the test if any request
leaves 127.0.0.1 (issue 5):

1. English: move the "Seoul ships shells" slider (F11, M23) to its maximum, press Reset (the
   futures panel names the change), step four quarters and play a few; the futures panel's
   shares and both charts change; a screenshot is saved.
2. Speed: the page-update time of one step of the 1,000-replicate ensemble — from the click to
   the futures panel and both charts showing the new quarter — median over several steps,
   reported (target < 300 ms on a 2-core machine; no wall-clock assertion).
3. Mongolian: switch the language, load the ceasefire exercise (M02, M03) from the selector,
   step, and find the Mongolian panel titles and the ceasefire event message on the page.
4. Load: 20 simultaneous sessions (browser contexts) step their own models; none shows an error
   or another session's quarter or parameters; median and 95th-percentile step times reported.

Screenshots go to ``$TEACH_SCREENSHOTS`` if set, else the test's temporary directory.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.i18n import t
from experiments.solara_env import offline_environment

REPO = Path(__file__).resolve().parents[2]
SLIDER = "rok.shell_hazard"
SESSIONS = 20
TIMING_STEPS = 7

# Click Step and resolve when this page shows quarter `n` in the futures panel and both charts
# have been redrawn (Vega draws each new spec on a new canvas). Returns immediately; the result lands in
# window.__stepResult (milliseconds) so that many pages can step at the same time.
STEP_JS = """
(n) => {
  const charts = () => ['.teach-flows canvas', '.teach-network canvas'].map(
    s => document.querySelector(s));
  const before = charts();
  window.__stepResult = null;
  const t0 = performance.now();
  const done = () => {
    const step = document.querySelector('.teach-step');
    const now = charts();
    return step && step.textContent.trim() === String(n)
      && now.every((canvas, i) => canvas !== null && canvas !== before[i]);
  };
  const observer = new MutationObserver(() => {
    if (window.__stepResult === null && done()) {
      window.__stepResult = performance.now() - t0; observer.disconnect();
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true,
                                   attributes: true});
  const button = [...document.querySelectorAll('button')]
    .find(b => b.textContent.trim() === 'Step');
  button.click();
}
"""


def screenshot_dir(tmp_path: Path) -> Path:
    path = Path(os.environ.get("TEACH_SCREENSHOTS", tmp_path))
    path.mkdir(parents=True, exist_ok=True)
    return path


def step_text(page) -> str:
    return page.locator(".teach-step").first.text_content().strip()


def wait_step(page, n: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('.teach-step'); "
        "return e && e.textContent.trim() === String(n); }",
        arg=n,
        timeout=timeout,
    )


def charts(page) -> list[str]:
    """The pixels of the two charts (Vega renders to a canvas)."""
    return [
        page.locator(f"{sel} canvas").first.evaluate("c => c.toDataURL()")
        for sel in (".teach-flows", ".teach-network")
    ]


def shares(page) -> str:
    return " ".join(page.locator(".teach-futures [class^='share-']").all_text_contents())


def move_slider_to_max(page, label: str) -> None:
    slider = page.locator(".v-input", has_text=label).locator("[role=slider]").first
    slider.focus()
    slider.press("End")


def click_button(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def timed_step(page, n: int) -> float:
    page.evaluate(STEP_JS, n)
    page.wait_for_function("() => window.__stepResult !== null", timeout=60_000)
    return float(page.evaluate("() => window.__stepResult"))


def open_app(page, url: str) -> None:
    if page.url != url:
        page.goto(url, wait_until="commit")
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=90_000)
    page.locator(".teach-step").first.wait_for(state="attached", timeout=60_000)


@pytest.mark.browser
def test_teaching_app_in_the_browser(
    browser_page, request_log, _chromium, start_server, server_port, tmp_path, record_property
):
    env = {**os.environ, **offline_environment(), "SOLARA_HOME": str(tmp_path / "solara-home")}
    env.pop("PYTEST_CURRENT_TEST", None)
    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(server_port)]
    shots = screenshot_dir(tmp_path)
    with start_server(cmd, server_port, env, timeout=120, cwd=REPO) as server:
        assert f"listening on http://127.0.0.1:{server_port}/" in server.log()
        page = browser_page
        page.set_default_timeout(30_000)

        # -- 1. English: slider, Reset, Step, Play -----------------------------------------
        open_app(page, server.url)
        label = t(f"param.{SLIDER}.label", "en")
        page.get_by_text(t("notice.reset", "en")).wait_for()
        page.get_by_text(t("futures.none_changed", "en")).wait_for()
        move_slider_to_max(page, label)
        click_button(page, "Reset")
        page.get_by_text(re.compile(re.escape(label) + r" = 1\b")).wait_for()
        assert step_text(page) == "0"
        click_button(page, "Step")
        wait_step(page, 1)
        page.locator(".teach-network canvas").first.wait_for()
        page.locator(".teach-flows canvas").first.wait_for()
        page.wait_for_timeout(300)  # Solara's chart widget redraws after a 100 ms debounce
        first_shares, first_charts = shares(page), charts(page)
        for n in range(2, 5):
            click_button(page, "Step")
            wait_step(page, n)
        page.wait_for_function(
            "url => document.querySelector('.teach-flows canvas').toDataURL() !== url",
            arg=first_charts[0],
        )
        assert re.findall(r"\d+\.\d %", first_shares) and len(first_shares.split()) >= 6
        later_charts = charts(page)
        assert later_charts[0] != first_charts[0], "the flow bands did not change"
        assert later_charts[1] != first_charts[1], "the network view did not change"
        page.screenshot(path=str(shots / "teach-en.png"), full_page=True)

        click_button(page, "▶")  # Play
        page.wait_for_function(
            "() => +document.querySelector('.teach-step').textContent >= 7", timeout=60_000
        )
        click_button(page, "❚❚")
        page.wait_for_timeout(500)
        played = int(step_text(page))
        # the shares move once the short term (4 quarters) is over and S2's burst is visible
        assert shares(page) != first_shares, "the futures panel did not change"

        # -- 2. speed of one step (1,000 replicates) ------------------------------------------
        times = [timed_step(page, played + k) for k in range(1, TIMING_STEPS + 1)]
        median = statistics.median(times)
        record_property("step_update_ms_median", round(median, 1))
        record_property(
            "measured", f"one step, 1,000 replicates: median {median:.0f} ms (target < 300 ms)"
        )
        print(
            f"\none step, 1000 replicates: median {median:.0f} ms over {len(times)} steps "
            f"({', '.join(f'{x:.0f}' for x in times)}); target < 300 ms"
        )

        # -- 3. Mongolian, with an exercise from the selector ---------------------------------
        page.get_by_role("button", name=t("language.mn", "mn")).click()
        page.get_by_text(t("panel.futures", "mn")).wait_for()
        page.get_by_text(t("notice.reset", "mn")).wait_for()
        page.locator(".teach-exercise").first.click()
        page.get_by_role("option", name=t("exercise.ceasefire.title", "mn")).click()
        page.get_by_text(t("exercise.ceasefire.question", "mn")).first.wait_for()
        wait_step(page, 0)
        mn_label = t("param.world.ceasefire_hazard.label", "mn")
        page.get_by_text(re.compile(re.escape(mn_label) + r" = 1\b")).wait_for()
        for n in (1, 2):
            click_button(page, "Step")
            wait_step(page, n)
        page.get_by_text(t("event.ceasefire", "mn")).first.wait_for()
        page.get_by_text(t("panel.events", "mn")).wait_for()
        assert page.get_by_text(mn_label).count() >= 1  # the slider label too
        body = page.locator("body").inner_text()
        assert len(re.findall(r"[\u0400-\u04FF]", body)) > 500
        page.screenshot(path=str(shots / "teach-mn.png"), full_page=True)

        # -- 4. load: 20 sessions at once ---------------------------------------------------------
        contexts, pages, steps_taken = [], [], []
        for _ in range(SESSIONS):
            context = _chromium.new_context(viewport={"width": 1000, "height": 800})
            context.on("request", lambda request: request_log.urls.append(request.url))
            contexts.append(context)
            pages.append(context.new_page())
        try:
            for p in pages:
                p.goto(server.url, wait_until="commit")
            for p in pages:
                p.set_default_timeout(120_000)
                open_app(p, server.url)
            # every other session changes the slider: no session may see another's change
            for i, p in enumerate(pages):
                if i % 2:
                    move_slider_to_max(p, label)
                    click_button(p, "Reset")
            load_times: list[float] = []
            steps_taken = [0] * SESSIONS
            for rnd in range(3):
                active = [i for i in range(SESSIONS) if rnd < 2 or i % 3 == 0]
                for i in active:
                    steps_taken[i] += 1
                    pages[i].evaluate(STEP_JS, steps_taken[i])
                for i in active:
                    pages[i].wait_for_function("() => window.__stepResult !== null")
                    load_times.append(float(pages[i].evaluate("() => window.__stepResult")))
            for i, p in enumerate(pages):
                assert step_text(p) == str(steps_taken[i]), f"session {i} shows another quarter"
                changed = p.get_by_text(re.compile(re.escape(label) + r" = 1\b")).count() > 0
                assert changed == bool(i % 2), f"session {i} shows another session's parameters"
                assert p.locator(".v-alert.error").count() == 0, f"session {i} shows an error"
        finally:
            for context in contexts:
                context.close()
        p50, p95 = np.percentile(load_times, [50, 95])
        record_property("load_step_ms_median", round(float(p50), 1))
        record_property("load_step_ms_p95", round(float(p95), 1))
        record_property(
            "measured",
            f"{SESSIONS} sessions stepping at once: median {p50:.0f} ms, p95 {p95:.0f} ms",
        )
        print(
            f"{SESSIONS} sessions stepping at once: median {p50:.0f} ms, "
            f"95th percentile {p95:.0f} ms over {len(load_times)} steps"
        )
        log = server.log()
        assert "Traceback" not in log, log[-4000:]
