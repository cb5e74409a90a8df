"""Measure report pages in Chromium at 1,280 px: table widths, raw headers and the smallest text.

``python scripts/report_widths.py PAGE.html [PAGE.html ...]`` opens each page (a file URL, no
network) in headless Chromium (``/usr/bin/chromium`` through Playwright) with a 1,280 × 800
window and prints, per page: the text column's width, every table wider than it, every table
header that is a raw ``snake_case`` column name, and the smallest text drawn in an inline SVG
figure in CSS pixels (font size × the figure's scale on the page), with the figures below 10 px.
Exit status 1 when a page breaks one of these rules (issue 25), 0 otherwise.

:func:`measure` returns the same as a dictionary (the browser tests use it).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 800
MIN_TEXT_PX = 10.0
SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")

MEASURE_JS = """() => {
  const column = document.body.clientWidth
    - parseFloat(getComputedStyle(document.body).paddingLeft)
    - parseFloat(getComputedStyle(document.body).paddingRight);
  const tables = [...document.querySelectorAll('table')].map((t, i) => ({
    index: i,
    width: t.getBoundingClientRect().width,
    caption: (t.closest('div')?.previousElementSibling?.textContent || '').slice(0, 80),
    headers: [...t.querySelectorAll('th')].map(h => h.textContent.trim()),
  }));
  const texts = [];
  for (const svg of document.querySelectorAll('svg')) {
    const figure = svg.closest('figure')?.id || 'svg';
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      const size = parseFloat(getComputedStyle(t).fontSize);
      const m = t.getScreenCTM();
      if (!m || !size) continue;
      const scale = Math.sqrt(m.a * m.a + m.b * m.b);
      texts.push({figure, text: t.textContent.trim().slice(0, 40), px: size * scale});
    }
  }
  return {column, scrollWidth: document.documentElement.scrollWidth, tables, texts};
}"""


def measure(page: Path | str, browser: Any = None) -> dict[str, Any]:
    """Widths, headers and text sizes of one page at 1,280 px (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    def run(b: Any) -> dict[str, Any]:
        tab = b.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        tab.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        tab.goto(Path(page).resolve().as_uri(), wait_until="load")
        data = tab.evaluate(MEASURE_JS)
        tab.close()
        return data

    if browser is not None:
        data = run(browser)
    else:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                data = run(b)
            finally:
                b.close()
    column = float(data["column"])
    data["too_wide"] = [t for t in data["tables"] if t["width"] > column + 0.5]
    data["raw_headers"] = sorted(
        {h for t in data["tables"] for h in t["headers"] if SNAKE.match(h)}
    )
    small = [t for t in data["texts"] if t["px"] < MIN_TEXT_PX - 1e-6]
    data["small_text"] = small
    data["smallest_px"] = min((t["px"] for t in data["texts"]), default=float("nan"))
    data["widest_table"] = max((t["width"] for t in data["tables"]), default=0.0)
    return data


def main(argv: list[str]) -> int:
    bad = 0
    for page in argv:
        d = measure(page)
        print(
            f"{page}: column {d['column']:.0f} px, page {d['scrollWidth']} px, "
            f"{len(d['tables'])} tables (widest {d['widest_table']:.0f} px), "
            f"{len(d['texts'])} figure texts (smallest {d['smallest_px']:.1f} px)"
        )
        for t in d["too_wide"]:
            print(f"  table {t['index']} is {t['width']:.0f} px: {t['headers'][:6]}")
        for h in d["raw_headers"]:
            print(f"  raw header: {h}")
        figs = sorted({t["figure"] for t in d["small_text"]})
        for f in figs:
            worst = min(t["px"] for t in d["small_text"] if t["figure"] == f)
            print(f"  text under {MIN_TEXT_PX:g} px in {f}: {worst:.1f} px")
        bad += bool(d["too_wide"] or d["raw_headers"] or d["small_text"])
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(json.dumps({"usage": "python scripts/report_widths.py PAGE.html ..."}))
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
