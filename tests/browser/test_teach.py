"""The teaching app in a real browser: layout, languages, steps, a class of 30, the class board.

Starts ``python -m experiments.teach --port FREE`` (offline environment) and drives it with
Debian's Chromium through the fixtures of ``conftest.py`` (every page fails the test if a request
leaves 127.0.0.1). What issue 11 checks:

1. Layout at 1024×768, 1280×720 and 1920×1080, in English and Mongolian: every slider track ≥ 120 px with
   its value shown; no element of the main area starts left of the sidebar's right edge; no text
   of the futures panel is clipped; every visible control label is in the chosen language; no
   "runs on Solara" banner. Step, Reset with a moved slider, an exercise from the selector, and
   the end of the run ("finished — press Reset", Step disabled).
2. A class: 30 sessions (browser contexts) step a 1,000-replicate ensemble at once; median and
   95th-percentile step time (click → futures panel and both charts show the new quarter) and
   server memory per session are printed and recorded; no session shows another's quarter or
   settings. No wall-clock assertion (the figures go to the summary and docs/TEACHING.md).
3. The class board: two sessions submit; the board refuses without the teacher code, lists both
   with it, exports both as CSV; after a restart on the same port with a browser still attached
   (no "Address already in use"), the board still holds both and keeps its code (not printed
   again: the board keeps only its hash); five wrong codes lock the board page of this
   computer, and a reload shows the lock, not the code field (issue 23).
4. A page of another site (another origin) can neither open the app's websocket nor frame it
   (issue 23).
5. A public address needs ``--i-know-this-is-public`` and then warns on stderr.
6. Readable at the back of the room (issue 24): at 1024×768 in English and Mongolian, no visible
   text under 12 px in the network, the key flows and the event log — the charts' own texts
   read from Vega's scene graph, so declared font sizes count — the states named as the glossary
   names them, a legend entry for every band of the flows, the highlighted run's scenario stated,
   and an exercise's key events (Seoul's shells) at the top of the event log to the last quarter.

Screenshots go to ``$TEACH_SCREENSHOTS`` if set, else the test's temporary directory.
"""

from __future__ import annotations

import csv
import io
import os
import re
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.classboard import MAX_TRIES
from experiments.i18n import t
from experiments.solara_env import offline_environment

REPO = Path(__file__).resolve().parents[2]
SLIDER = "rok.shell_hazard"
SESSIONS = 30
ROUNDS = 4
VIEWPORTS = ((1024, 768), (1280, 720), (1920, 1080))
MIN_TRACK = 120

# Click Step and resolve when this page shows quarter `n` in the futures panel and both charts
# have drawn it. Returns at once; the time (ms) lands in window.__stepResult, so many pages can
# step at the same time.
STEP_JS = """
(n) => {
  window.__stepResult = null;
  const t0 = performance.now();
  const done = () => {
    const step = document.querySelector('.teach-step');
    const drawn = [...document.querySelectorAll('.teach-main .reveal-chart')]
      .map(e => e.getAttribute('data-drawn-step'));
    return step && step.textContent.trim() === String(n) && drawn.length === 2
      && drawn.every(d => d === String(n));
  };
  const observer = new MutationObserver(() => {
    if (window.__stepResult === null && done()) {
      window.__stepResult = performance.now() - t0; observer.disconnect();
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true,
                                   attributes: true});
  document.querySelector('.teach-step-button').click();
}
"""

# Layout measurements of the page (see test 1).
LAYOUT_JS = """
() => {
  const visible = e => { const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  const side = document.querySelector('.teach-side').getBoundingClientRect();
  const main = [...document.querySelectorAll('.teach-main *')].filter(visible);
  const leftOfSidebar = main.filter(e => e.getBoundingClientRect().left < side.right - 0.5)
    .map(e => e.className || e.tagName);
  const futures = [...document.querySelectorAll('.teach-futures, .teach-futures *')]
    .filter(visible);
  const clipped = futures.filter(e => e.scrollWidth > e.clientWidth + 1
      || (e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== 'visible'))
    .map(e => (e.textContent || '').slice(0, 60));
  const panel = document.querySelector('.teach-futures').getBoundingClientRect();
  return {
    tracks: [...document.querySelectorAll('.v-slider__track-container')]
      .map(e => e.getBoundingClientRect().width),
    values: [...document.querySelectorAll('.teach-param-value')].map(e => e.textContent.trim()),
    leftOfSidebar, clipped,
    futuresInside: panel.left >= side.right && panel.right <= window.innerWidth + 0.5,
    pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
    banner: [...document.querySelectorAll('body *')].filter(visible)
      .some(e => /runs on Solara/.test(e.textContent) && e.children.length === 0),
  };
}
"""

# Every visible word a student reads as a control: buttons, labels, headings, selections.
CONTROL_TEXT_JS = """
() => [...document.querySelectorAll(
    '.v-btn, .v-label, label, h2, h3, th, .teach-param-label, .v-select__selection, '
    + '.teach-progress, .teach-finished, .v-alert, .v-expansion-panel-header')]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
  .filter(e => !e.closest('.teach-lang'))  // the language switch names each language in itself
  .map(e => e.innerText.trim()).filter(text => text.length > 0)
"""
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")
NEUTRAL = re.compile(r"\bS[12]\b|\b[FM]\d\d\b|\bCSV\b|\d+(\.\d+)?|[^\w]")  # ids, numbers, signs


def foreign_labels(texts: list[str], lang: str) -> list[str]:
    """Control texts not in ``lang`` (Mongolian: no Latin words; English: no Cyrillic)."""
    out = []
    for text in texts:
        plain = NEUTRAL.sub(" ", text)
        if lang == "mn" and LATIN.search(plain):
            out.append(text)
        if lang == "en" and CYRILLIC.search(plain):
            out.append(text)
    return out


def screenshot_dir(tmp_path: Path) -> Path:
    path = Path(os.environ.get("TEACH_SCREENSHOTS", tmp_path))
    path.mkdir(parents=True, exist_ok=True)
    return path


def teach_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, **offline_environment(), "SOLARA_HOME": str(tmp_path / "solara-home")}
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def step_text(page) -> str:
    return page.locator(".teach-step").first.text_content().strip()


def wait_step(page, n: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "n => { const e = document.querySelector('.teach-step'); "
        "const d = [...document.querySelectorAll('.teach-main .reveal-chart')]"
        ".map(c => c.getAttribute('data-drawn-step')); "
        "return e && e.textContent.trim() === String(n) && d.every(x => x === String(n)); }",
        arg=n,
        timeout=timeout,
    )


def open_app(page, url: str) -> None:
    if page.url != url:
        page.goto(url, wait_until="commit")
    page.locator(".teach-step-button").wait_for(timeout=120_000)
    wait_step(page, 0, timeout=120_000)


def move_slider_to_max(page, key: str) -> None:
    slider = page.locator(f".teach-param-{key.replace('.', '-')} [role=slider]").first
    slider.focus()
    slider.press("End")


def click(page, selector: str) -> None:
    page.locator(selector).first.click()


def timed_step(page, n: int) -> float:
    page.evaluate(STEP_JS, n)
    page.wait_for_function("() => window.__stepResult !== null", timeout=60_000)
    return float(page.evaluate("() => window.__stepResult"))


def rss_kib(pid: int) -> int:
    """Resident memory of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def check_layout(page, lang: str, size: tuple[int, int]) -> None:
    where = f"{lang} at {size[0]}×{size[1]}"
    layout = page.evaluate(LAYOUT_JS)
    assert layout["tracks"], f"{where}: no sliders"
    assert min(layout["tracks"]) >= MIN_TRACK, f"{where}: slider tracks {layout['tracks']}"
    assert len(layout["values"]) == len(layout["tracks"]), f"{where}: a slider hides its value"
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in layout["values"]), layout["values"]
    assert not layout["leftOfSidebar"], f"{where}: under the sidebar: {layout['leftOfSidebar']}"
    assert not layout["clipped"], f"{where}: clipped futures text: {layout['clipped']}"
    assert layout["futuresInside"], f"{where}: the futures panel leaves the screen"
    assert layout["pageWidth"] <= layout["viewport"], f"{where}: the page scrolls sideways"
    assert not layout["banner"], f"{where}: Solara's banner is on the page"
    foreign = foreign_labels(page.evaluate(CONTROL_TEXT_JS), lang)
    assert not foreign, f"{where}: control labels not in {lang}: {foreign}"


@pytest.mark.browser
def test_layout_languages_steps_and_the_end_of_a_run(
    _chromium, request_log, start_server, server_port, tmp_path, record_property
):
    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(server_port)]
    shots = screenshot_dir(tmp_path)
    with start_server(cmd, server_port, teach_env(tmp_path), timeout=120, cwd=REPO) as server:
        assert f"listening on http://127.0.0.1:{server_port}/" in server.log()
        for width, height in VIEWPORTS:
            for lang in ("en", "mn"):
                context = _chromium.new_context(viewport={"width": width, "height": height})
                context.on("request", lambda request: request_log.urls.append(request.url))
                page = context.new_page()
                page.set_default_timeout(30_000)
                try:
                    open_app(page, server.url)
                    if lang == "mn":
                        click(page, ".lang-mn")
                        page.get_by_text(t("panel.futures", "mn")).wait_for()
                    for n in (1, 2, 3):
                        click(page, ".teach-step-button")
                        wait_step(page, n)
                    check_layout(page, lang, (width, height))
                    page.screenshot(path=str(shots / f"teach-{lang}-{width}.png"), full_page=True)
                finally:
                    context.close()
        assert request_log.non_local() == []

        # Reset applies a moved slider; the futures panel names it
        context = _chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            open_app(page, server.url)
            label = t(f"param.{SLIDER}.label", "en")
            page.get_by_text(t("futures.none_changed", "en")).wait_for()
            move_slider_to_max(page, SLIDER)
            click(page, ".teach-reset")
            page.get_by_text(re.compile(re.escape(label) + r" = 1\b")).wait_for()
            wait_step(page, 0)
            shares_before = page.locator(".teach-futures").inner_text()
            for n in range(1, 9):
                click(page, ".teach-step-button")
                wait_step(page, n)
            assert re.findall(r"\d+\.\d %", page.locator(".teach-futures").inner_text())
            assert page.locator(".teach-futures").inner_text() != shares_before
            assert page.locator(".teach-event").count() >= 1

            # an exercise from the selector, in Mongolian: its question and its event
            click(page, ".lang-mn")
            page.locator(".teach-exercise").first.click()
            page.get_by_role("option", name=t("exercise.ceasefire.title", "mn")).click()
            page.get_by_text(t("exercise.ceasefire.question", "mn")).first.wait_for()
            wait_step(page, 0)
            mn_label = t("param.world.ceasefire_hazard.label", "mn")
            page.get_by_text(re.compile(re.escape(mn_label) + r" = 1\b")).wait_for()
            click(page, ".teach-step-button")
            wait_step(page, 1)
            page.get_by_text(t("event.ceasefire", "mn")).first.wait_for()

            # the end of the run: a clear message, Step and Play disabled
            step_button = page.locator(".teach-step-button")
            n = 1
            while not step_button.is_disabled():
                step_button.click()
                n += 1
                wait_step(page, n)
            assert n == 40, f"the run ended at quarter {n}"
            page.locator(".teach-finished").wait_for()
            assert "40" in page.locator(".teach-finished").inner_text()
            assert page.locator(".teach-play").is_disabled()
            check_layout(page, "mn", (1280, 720))
            page.screenshot(path=str(shots / "teach-mn-finished.png"), full_page=True)
            click(page, ".teach-reset")
            wait_step(page, 0)
            assert not step_button.is_disabled()
        finally:
            context.close()
        assert "Traceback" not in server.log(), server.log()[-4000:]


@pytest.mark.browser
def test_a_class_of_thirty_steps_at_once(
    _chromium, request_log, start_server, server_port, tmp_path, record_property
):
    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(server_port)]
    with start_server(cmd, server_port, teach_env(tmp_path), timeout=120, cwd=REPO) as server:
        label = t(f"param.{SLIDER}.label", "en")
        warm = _chromium.new_context()
        open_app(warm.new_page(), server.url)  # imports and the baseline run are shared
        warm.close()
        rss_before = rss_kib(server.process.pid)
        contexts, pages = [], []
        for _ in range(SESSIONS):
            context = _chromium.new_context(viewport={"width": 1280, "height": 720})
            context.on("request", lambda request: request_log.urls.append(request.url))
            contexts.append(context)
            pages.append(context.new_page())
        try:
            for p in pages:
                p.goto(server.url, wait_until="commit")
            for p in pages:
                p.set_default_timeout(120_000)
                open_app(p, server.url)
            # every other session changes a slider: no session may see another's change
            for i, p in enumerate(pages):
                if i % 2:
                    move_slider_to_max(p, SLIDER)
                    click(p, ".teach-reset")
                    p.get_by_text(re.compile(re.escape(label) + r" = 1\b")).wait_for()
            times: list[float] = []
            for n in range(1, ROUNDS + 1):
                for p in pages:
                    p.evaluate(STEP_JS, n)
                for p in pages:
                    p.wait_for_function("() => window.__stepResult !== null", timeout=120_000)
                    times.append(float(p.evaluate("() => window.__stepResult")))
            rss_after = rss_kib(server.process.pid)
            for i, p in enumerate(pages):
                assert step_text(p) == str(ROUNDS), f"session {i} shows another quarter"
                changed = p.get_by_text(re.compile(re.escape(label) + r" = 1\b")).count() > 0
                assert changed == bool(i % 2), f"session {i} shows another session's settings"
                assert p.locator(".v-alert.error").count() == 0, f"session {i} shows an error"
        finally:
            for context in contexts:
                context.close()
        assert "Traceback" not in server.log(), server.log()[-4000:]
    p50, p95 = (float(x) for x in np.percentile(times, [50, 95]))
    per_session = (rss_after - rss_before) / SESSIONS / 1024
    summary = (
        f"{SESSIONS} sessions stepping a 1,000-replicate ensemble at once: median "
        f"{p50:.0f} ms, p95 {p95:.0f} ms per step over {len(times)} steps (target p95 < 1000 ms); "
        f"server memory {per_session:.1f} MiB per session "
        f"({rss_before / 1024:.0f} → {rss_after / 1024:.0f} MiB)"
    )
    record_property("load_step_ms_median", round(p50, 1))
    record_property("load_step_ms_p95", round(p95, 1))
    record_property("memory_mib_per_session", round(per_session, 2))
    record_property("measured", summary)
    print("\n" + summary)
    print(f"single steps (ms): {statistics.median(times[:SESSIONS]):.0f} median in round 1")


# The texts each chart draws (Vega's scene graph of the view the page keeps), with their sizes.
CHART_TEXTS_JS = """
() => {
  const comp = document.querySelector('.teach-main').__vue__;
  const out = {};
  for (const [name, view] of Object.entries(comp.views)) {
    const texts = [];
    const walk = (item) => {
      if (!item) return;
      if (item.mark && item.mark.marktype === 'text' && item.text != null
          && String(item.text).length && item.opacity !== 0 && item.fillOpacity !== 0
          && item.fill !== 'white') {
        texts.push({size: item.fontSize, text: [].concat(item.text).join(' '),
                    role: item.mark.role});
      }
      for (const child of (item.items || [])) walk(child);
    };
    walk(view.scenegraph().root);
    out[name] = texts;
  }
  return out;
}
"""

# Visible elements with text of their own in the given panels, and their font size (px).
DOM_TEXT_SIZES_JS = """
(selectors) => {
  const out = [];
  for (const selector of selectors) {
    for (const e of document.querySelectorAll(selector + ', ' + selector + ' *')) {
      const own = [...e.childNodes].filter(n => n.nodeType === 3)
        .map(n => n.textContent.trim()).join('');
      const r = e.getBoundingClientRect();
      if (!own || r.width === 0 || r.height === 0) continue;
      out.push({size: parseFloat(getComputedStyle(e).fontSize), text: own.slice(0, 40)});
    }
  }
  return out;
}
"""

# Where the exercise's pinned events sit in the event log panel.
KEY_EVENTS_JS = """
() => {
  const panel = document.querySelector('.teach-events');
  const key = panel.querySelector('.teach-key-events');
  if (!key) return null;
  const p = panel.getBoundingClientRect(), k = key.getBoundingClientRect();
  const first = panel.querySelector('table');
  return {inPanel: k.top >= p.top - 0.5 && k.bottom <= p.top + panel.clientHeight + 0.5,
          first: first === key, scrollTop: panel.scrollTop,
          text: key.innerText};
}
"""
MIN_TEXT_PX = 12


@pytest.mark.browser
def test_readable_at_the_back_of_the_room(
    _chromium, request_log, start_server, server_port, tmp_path
):
    from experiments.i18n import term

    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(server_port)]
    cmd += ["--replicates", "300"]
    shots = screenshot_dir(tmp_path)
    with start_server(cmd, server_port, teach_env(tmp_path), timeout=120, cwd=REPO) as server:
        for lang in ("en", "mn"):
            context = _chromium.new_context(viewport={"width": 1024, "height": 768})
            context.on("request", lambda request: request_log.urls.append(request.url))
            page = context.new_page()
            page.set_default_timeout(60_000)
            try:
                open_app(page, server.url)
                if lang == "mn":
                    click(page, ".lang-mn")
                    page.get_by_text(t("panel.futures", "mn")).wait_for()
                page.locator(".teach-exercise").first.click()
                page.get_by_role("option", name=t("exercise.rok_shells.title", lang)).click()
                page.get_by_text(t("exercise.rok_shells.question", lang)).first.wait_for()
                wait_step(page, 0)
                for n in range(1, 7):
                    click(page, ".teach-step-button")
                    wait_step(page, n)
                where = f"{lang} at 1024×768"
                charts = page.evaluate(CHART_TEXTS_JS)
                assert set(charts) == {"network", "flows"}, charts.keys()
                for name, texts in charts.items():
                    small = [x for x in texts if x["size"] < MIN_TEXT_PX]
                    assert texts and not small, f"{where}: {name} text under 12 px: {small[:5]}"
                # the states as the glossary names them (one name each, both languages)
                names = {x["text"] for x in charts["network"] if x["role"] == "mark"}
                for state in ("Russia", "DPRK", "China", "USA", "ROK", "Japan"):
                    assert term(f"country.{state}", lang) in names, (where, names)
                # a legend entry for every band and line of the flows
                legend = {x["text"] for x in charts["flows"] if x["role"] == "legend-label"}
                bands = {t(k, lang) for k in ("flows.outer", "flows.inner", "flows.median")}
                assert bands | {t("flows.highlight", lang)} <= legend, legend
                assert page.locator(".teach-flows canvas").bounding_box()["width"] >= 500
                panels = [".teach-network", ".teach-flows", ".teach-events", ".teach-futures"]
                small = [
                    x for x in page.evaluate(DOM_TEXT_SIZES_JS, panels) if x["size"] < MIN_TEXT_PX
                ]
                assert not small, f"{where}: page text under 12 px: {small[:5]}"
                # the highlighted run's scenario, stated in the futures panel and the log
                scenarios = [term(f"scenario.{s}", lang) for s in ("S1", "S2", "neither")]
                for panel in (".teach-futures", ".teach-events"):
                    said = page.locator(f"{panel} .teach-highlight").inner_text()
                    assert any(name in said for name in scenarios), (where, said)
                # the exercise's key events stay at the top of the log to the last quarter
                n = 6
                while not page.locator(".teach-step-button").is_disabled():
                    click(page, ".teach-step-button")
                    n += 1
                    wait_step(page, n)
                page.locator(".teach-events").scroll_into_view_if_needed()
                key = page.evaluate(KEY_EVENTS_JS)
                assert key and key["first"] and key["inPanel"], (where, key)
                assert t("event.rok_shells", lang) in key["text"], (where, key["text"])
                page.screenshot(path=str(shots / f"readable-{lang}-1024.png"), full_page=True)
            finally:
                context.close()
        assert "Traceback" not in server.log(), server.log()[-4000:]


@pytest.mark.browser
def test_class_board_survives_a_restart_and_needs_the_teacher_code(
    _chromium, request_log, start_server, server_port, tmp_path
):
    class_dir = tmp_path / "class-7b"
    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(server_port)]
    cmd += ["--class-dir", str(class_dir)]
    env = teach_env(tmp_path)
    context = _chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.on("request", lambda request: request_log.urls.append(request.url))
    try:
        with start_server(cmd, server_port, env, timeout=120, cwd=REPO) as server:
            # the code is not in the terminal the teacher may project: in a 0600 file
            code_file = class_dir / "teacher-code.txt"
            assert f"teacher code: in {code_file}" in server.log()
            assert oct(code_file.stat().st_mode & 0o777) == "0o600"
            code = code_file.read_text().strip()
            assert re.fullmatch(r"[A-Z2-9]{8}", code) and code not in server.log()
            students = []
            for name, group in (("Bat", "1"), ("Saraa", "2")):
                student = _chromium.new_context(viewport={"width": 1280, "height": 900})
                students.append(student)
                page = student.new_page()
                page.set_default_timeout(60_000)
                open_app(page, server.url)
                if name == "Saraa":
                    move_slider_to_max(page, SLIDER)
                    click(page, ".teach-reset")
                    wait_step(page, 0)
                for n in (1, 2, 3, 4, 5, 6):
                    click(page, ".teach-step-button")
                    wait_step(page, n)
                if name == "Bat":  # an empty name is refused, in the page's language
                    click(page, ".teach-submit-button")
                    page.get_by_text(t("board.bad_name", "en", name=40, group=20)).wait_for()
                page.locator(".teach-name input").fill(name)
                page.locator(".teach-group input").fill(group)
                click(page, ".teach-submit-button")
                # only its own submission (a retrying check: the card re-renders as it refreshes)
                from playwright.sync_api import expect

                expect(page.locator(".teach-mine")).to_have_count(1)
            for student in students:
                student.close()

            board = context.new_page()
            board.set_default_timeout(60_000)
            board.goto(server.url + "board")
            board.locator(".board-code input").wait_for()
            assert board.locator(".board-row").count() == 0  # nothing without the code
            assert "Saraa" not in board.locator("body").inner_text()
            board.locator(".board-code input").fill("WRONG999")
            click(board, ".board-open")
            board.locator(".board-wrong").wait_for()
            assert "Saraa" not in board.locator("body").inner_text()
            board.locator(".board-code input").fill(code)
            click(board, ".board-open")
            board.locator(".board-row").nth(1).wait_for()
            text = board.locator(".teach-board").inner_text()
            assert "Bat" in text and "Saraa" in text
            assert t(f"param.{SLIDER}.label", "en") in text
            with board.expect_download() as download:
                click(board, ".board-export")
            rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
            assert sorted(r["name"] for r in rows) == ["Bat", "Saraa"]
            assert {r["group"] for r in rows} == {"1", "2"}
            assert all(0 <= float(r["S2"]) <= 1 for r in rows)
        # stopped with the board page still attached; restart on the same port at once
        with start_server(cmd, server_port, env, timeout=120, cwd=REPO) as server:
            assert "Address already in use" not in server.log()
            # the class keeps its code; kept hashed, it is not printed again
            assert "teacher code: unchanged" in server.log() and code not in server.log()
            board = context.new_page()
            board.set_default_timeout(60_000)
            board.goto(server.url + "board")
            board.locator(".board-code input").fill(code)
            click(board, ".board-open")
            board.locator(".board-row").nth(1).wait_for()
            assert board.locator(".board-row").count() == 2
            assert board.locator(".board-count").inner_text() == "2 submissions"
            # the teacher hides a row: gone from the table, the count says "1 submission"
            board.locator(".board-row-number input").fill("1")
            click(board, ".board-hide")
            board.locator(".board-hidden").wait_for()
            from playwright.sync_api import expect

            expect(board.locator(".board-row")).to_have_count(1)
            assert board.locator(".board-count").inner_text() == "1 submission"
            assert "Bat" not in board.locator(".board-table").inner_text()
            # and closes submissions: a student's page says so
            click(board, ".board-toggle")
            board.get_by_text(t("board.state_closed", "en")).wait_for()
            student = context.new_page()
            student.set_default_timeout(60_000)
            open_app(student, server.url)
            click(student, ".teach-step-button")
            wait_step(student, 1)
            student.locator(".teach-name input").fill("Tuya")
            click(student, ".teach-submit-button")
            student.get_by_text(t("board.closed", "en")).wait_for()
            student.close()

            # five wrong codes lock this computer out; a reload does not lift the lock
            locked = context.new_page()
            locked.set_default_timeout(60_000)
            locked.goto(server.url + "board")
            field = locked.locator(".board-code input")
            for _ in range(MAX_TRIES):
                field.fill("WRONG999")
                click(locked, ".board-open")
                locked.wait_for_function(
                    "() => { const e = document.querySelector('.board-code input');"
                    " return !e || e.value === ''; }"
                )
            locked.locator(".board-locked").wait_for()
            assert "minute" in locked.locator(".board-locked").inner_text()
            locked.reload()
            locked.locator(".board-locked").wait_for()
            assert locked.locator(".board-code input").count() == 0
            assert "Saraa" not in locked.locator("body").inner_text()
    finally:
        context.close()
    assert request_log.non_local() == []


# Open the app's kernel websocket from the page this runs in: "open" or "refused".
WEBSOCKET_JS = """
(url) => new Promise(resolve => {
  const socket = new WebSocket(url);
  socket.onopen = () => { socket.close(); resolve('open'); };
  socket.onerror = () => resolve('refused');
  setTimeout(() => resolve('timeout'), 15000);
})
"""


@pytest.mark.browser
def test_a_page_of_another_site_cannot_connect_to_or_frame_the_app(
    _chromium, start_server, server_port, tmp_path
):
    """Issue 23: a foreign page (here another port, so another origin) cannot open the app's
    websocket, through which every submission goes, nor show the app in a frame to click on."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    app = f"http://127.0.0.1:{server_port}/"
    socket_url = f"ws://127.0.0.1:{server_port}/jupyter/api/kernels/k1/channels?session_id=p1"

    class Foreign(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = f"<html><body><iframe src='{app}' width=800 height=600></iframe></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    foreign = ThreadingHTTPServer(("127.0.0.1", 0), Foreign)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(server_port)]
    cmd += ["--class-dir", str(tmp_path / "class")]
    context = _chromium.new_context()
    try:
        with start_server(cmd, server_port, teach_env(tmp_path), timeout=120, cwd=REPO) as server:
            own = context.new_page()
            own.goto(app)
            assert own.evaluate(WEBSOCKET_JS, socket_url) == "open"  # the app's own page
            page = context.new_page()
            page.goto(f"http://localhost:{foreign.server_address[1]}/")
            assert page.evaluate(WEBSOCKET_JS, socket_url) == "refused"
            page.wait_for_timeout(3000)
            frame = page.frames[1]
            # frame-ancestors 'self': Chromium shows its error page instead of the app
            assert frame.url.startswith("chrome-error://"), frame.url
            assert frame.locator(".teach-step-button").count() == 0
            assert "refused websocket" in server.log()
    finally:
        context.close()
        foreign.shutdown()


@pytest.mark.browser
def test_public_address_warns_on_stderr(start_server, server_port, tmp_path):
    import subprocess

    refused = subprocess.run(
        [sys.executable, "-m", "experiments.teach", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert refused.returncode == 1 and "--i-know-this-is-public" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    cmd = [sys.executable, "-m", "experiments.teach", "--host", "0.0.0.0"]
    cmd += ["--port", str(server_port), "--i-know-this-is-public"]
    with start_server(cmd, server_port, teach_env(tmp_path), timeout=120, cwd=REPO) as server:
        assert "no authentication" in server.log()
        assert "other machines on the network can connect" in server.log()
