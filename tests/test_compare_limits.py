"""``analysis.compare`` knows its limits: no matched cells is an error; a large design is pooled.

Grids over sanctions enforcement (M10, M17) written by the analysis fixtures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from analysis_fixtures import write_grid_sweep

from analysis import compare
from analysis import results as R

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def grids(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("limits")
    return {
        "low": write_grid_sweep(
            base / "low", {"sanctions.enforcement": [0.1, 0.2]}, seed=4, replicates=300
        ),
        "high": write_grid_sweep(
            base / "high", {"sanctions.enforcement": [0.8, 0.9]}, seed=4, replicates=300
        ),
        "both": write_grid_sweep(
            base / "both", {"sanctions.enforcement": [0.1, 0.2, 0.8]}, seed=5, replicates=300
        ),
    }


def test_no_matched_cells_is_one_line_and_exit_2(grids: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    done = subprocess.run(
        [sys.executable, "-m", "analysis.compare", str(grids["low"]), str(grids["high"])]
        + ["--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stdout
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "no matched cells" in line, line
    assert "sanctions.enforcement" in line and "Traceback" not in line
    assert not out.exists()


def test_more_cells_than_the_limit_are_pooled(
    grids: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    a, b = R.load(grids["low"]), R.load(grids["both"])
    cell_by_cell = compare.compare_results(a, b)
    assert len(cell_by_cell.per_cell) == 2 * 3  # two matched cells × three scenarios
    monkeypatch.setattr(compare, "MAX_CELLS", 2)  # "both" has 3 cells
    pooled = compare.compare_results(a, b)
    assert "MAX_CELLS" in pooled.pairing_reason
    # marginal effects: enforcement's range [0, 1] in 4 bins; the bins both sides reach
    # ([0, 0.25) holds 0.1 and 0.2 on both, [0.75, 1] holds 0.8 only in B) are compared
    assert set(pooled.per_cell["parameter"]) == {"sanctions.enforcement"}
    assert sorted(set(pooled.per_cell["bin"])) == [0.125]
    low_bin = pooled.per_cell[pooled.per_cell["scenario"] == "S2"].iloc[0]
    for side, result in (("a", a), ("b", b)):
        cells = result.cells()
        low = cells[cells["sanctions.enforcement"] < 0.25]
        assert low_bin[f"share_{side}"] == pytest.approx(low["S2_count"].sum() / low["n"].sum())
    # overall: the counts summed over every cell of each side
    row = pooled.overall.set_index("scenario").loc["S2"]
    for side, result in (("a", a), ("b", b)):
        cells = result.cells()
        assert row[f"share_{side}"] == pytest.approx(cells["S2_count"].sum() / cells["n"].sum())
    assert "S2" in compare.terminal_table(pooled)
    md, page = compare.write_outputs(pooled, tmp_path / "out")
    assert "marginal effects" in md.read_text()
    assert page.stat().st_size < 3_000_000
