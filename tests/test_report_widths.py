"""Report pages measured in Chromium at 1,280 px (issue 25): every table fits the text column, no
table header is a raw ``snake_case`` column name, no text in an inline figure is under 10 px.

The pages: a grid sweep's and a sampled design's report (``analysis.report``), a folder of the
argument's outputs (``experiments.argument`` at a few replicates, then ``analysis.report``), a
comparison of two runs (``analysis.compare``) and a dated forecast scored against the shipped
example record (``analysis.forecast``). Each is opened from its file (no network) by
``scripts/report_widths.py``, which the command line also runs:
``python scripts/report_widths.py PAGE.html ...``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from analysis_fixtures import write_design_sweep, write_grid_sweep, write_run

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
        reason="needs /usr/bin/chromium and playwright",
    ),
]

GRID = {
    "sanctions.enforcement": [0.2, 0.5, 0.8],
    "stockpile.dprk": [15.0, 20.0, 40.0],
    "world.confrontation": [0.5, 0.9],
}


def _measure(widths: Any, page: Path) -> dict[str, Any]:
    """``widths.measure`` in a thread of its own: Playwright's sync API refuses a thread whose
    asyncio loop is running, as the main thread's is while the browser tests' session-wide
    Chromium (tests/browser/conftest.py) is open."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["data"] = widths.measure(page)
        except BaseException as error:  # re-raised in the test's thread
            out["error"] = error

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if "error" in out:
        raise out["error"]
    return out["data"]


@pytest.fixture(scope="module")
def widths():
    sys.path.insert(0, str(ROOT / "scripts"))
    import report_widths

    return report_widths


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from analysis import compare, forecast, report
    from analysis import results as R
    from experiments import argument, results, runner
    from sim import params as P

    root = tmp_path_factory.mktemp("pages")
    out: dict[str, Path] = {}
    grid = write_grid_sweep(root / "grid", GRID, seed=3, replicates=60)
    out["grid"] = report.write(report.build(grid), root / "grid_report")
    bounds = {"world.confrontation": (0.3, 1.0), "stockpile.dprk": (5.0, 60.0)}
    design = write_design_sweep(root / "design", bounds, n=32, seed=5, replicates_per_point=10)
    out["design"] = report.write(report.build(design), root / "design_report")
    assert argument.main(["replicates=100", "seed=7", f"out={root / 'arg'}"]) == 0
    out["argument"] = report.write(report.argument_report(root / "arg"), root / "arg_report")
    write_run(root / "a", {}, seed=8, replicates=200)
    write_run(root / "b", {"stockpile.dprk": 40.0}, seed=8, replicates=200)
    cmp = compare.compare_results(R.load(root / "a"), R.load(root / "b"))
    out["compare"] = compare.write_outputs(cmp, root / "cmp")[1]
    params = P.defaults()
    rows, _ = runner.run_point(params, seed=11, replicates=500, horizon=12, quantiles=False)
    run = root / "run"
    meta = {"replicates": 500, "horizon": 12, "parameters": params}
    results.write_run(run, rows, None, results.provenance("test", 11), meta)
    record = ROOT / "examples" / "observations_example.csv"
    fc = forecast.write_forecast(run, record_path=record, out=root / "fc", replicates=500)
    out["forecast"] = fc / "forecast.html"
    return out


@pytest.mark.parametrize("kind", ["grid", "design", "argument", "compare", "forecast"])
def test_page_fits_the_column_with_worded_headers_and_readable_figures(
    kind: str, pages: dict[str, Path], widths, record_property
) -> None:
    d = _measure(widths, pages[kind])
    record_property(
        "measured",
        f"{kind}: column {d['column']:.0f} px, widest table {d['widest_table']:.0f} px, "
        f"smallest figure text {d['smallest_px']:.1f} px",
    )
    assert d["tables"], "the page has tables"
    assert not d["too_wide"], [(t["width"], t["headers"][:5]) for t in d["too_wide"]]
    assert not d["raw_headers"], d["raw_headers"]
    assert not d["small_text"], d["small_text"][:5]
    assert d["scrollWidth"] <= widths.WIDTH
    if kind in ("grid", "design", "argument"):
        assert d["texts"], "inline SVG figures were measured"


def test_the_measure_sees_a_table_too_wide_and_a_raw_header(tmp_path: Path, widths) -> None:
    """The check has power: a page with a wide table, a snake_case header and 7 px text fails."""
    from analysis.html import page

    cells = "".join(f"<td>{'x' * 40}_{i}</td>" for i in range(40))
    body = (
        "<table class='t'><tr><th>munitions_total_mean</th></tr>"
        f"<tr>{cells}</tr></table>"
        "<figure id='fig-x'><svg width='200' height='50'><text style='font-size:7px' x='0' "
        "y='20'>tiny</text></svg></figure>"
    )
    (tmp_path / "bad.html").write_text(page("bad", body), encoding="utf-8")
    d = _measure(widths, tmp_path / "bad.html")
    assert d["too_wide"] and d["raw_headers"] == ["munitions_total_mean"] and d["small_text"]
