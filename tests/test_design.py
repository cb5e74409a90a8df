"""Sampled designs: points from the declared ranges, stable replicate ids, chunked evaluation.

The designs vary the article's drivers (world.confrontation M02/M03, sanctions.enforcement
M10/M17, stockpile.dprk F07/M15); results must not depend on how a design is split into jobs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import design, jobs, sweep
from sim import params as P

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("world.confrontation", "sanctions.enforcement", "stockpile.dprk", "russia.tech_control")


def make(method: str = "lhs", points: int = 12, rpp: int = 3, chunks: int = 1) -> design.Design:
    return design.Design(method, KEYS, points, seed=11, replicates_per_point=rpp, chunks=chunks)


@pytest.mark.parametrize(("method", "rows"), [("lhs", 12), ("sobol", 8 * 6), ("morris", 4 * 5)])
def test_points_come_from_the_declared_ranges(method: str, rows: int) -> None:
    d = make(method, points=12 if method == "lhs" else (8 if method == "sobol" else 4))
    table = d.table()
    assert len(table) == d.size() == rows
    assert list(table.columns) == list(KEYS)
    for key in KEYS:
        p = P.BY_KEY[key]
        assert table[key].between(p.low, p.high).all()
        assert d.describe()["bounds"][KEYS.index(key)] == [p.low, p.high]
    # the same seed gives the same design
    pd.testing.assert_frame_equal(table, d.table())


def test_chunks_partition_the_design_and_keep_replicate_ids() -> None:
    base = P.resolve({})
    whole_params, whole_ids, whole_points = design.chunk_inputs(make(chunks=1), 0, base)
    assert np.array_equal(whole_ids, np.arange(12 * 3))  # id = point * 3 + r
    assert np.array_equal(whole_points, np.repeat(np.arange(12), 3))
    three = make(chunks=3)
    ranges = [three.chunk_range(c) for c in range(3)]
    assert ranges[0][0] == 0 and ranges[-1][1] == 12
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    parts = [design.chunk_inputs(three, c, base) for c in range(3)]
    assert np.array_equal(np.concatenate([p[1] for p in parts]), whole_ids)
    assert np.array_equal(np.concatenate([p[2] for p in parts]), whole_points)
    for key in KEYS:
        joined = np.concatenate([p[0][key] for p in parts])
        assert np.array_equal(joined, whole_params[key])
    # parameters not in the design keep the base value for every replicate
    assert parts[1][0]["russia.reputation_cost"] == base["russia.reputation_cost"]


def test_chunk_results_do_not_depend_on_chunking() -> None:
    base = P.resolve({})
    one = design.evaluate_chunk(make(chunks=1), 0, base, horizon=40)[0]
    three = pd.concat(
        [design.evaluate_chunk(make(chunks=3), c, base, horizon=40)[0] for c in range(3)],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(one, three)
    assert jobs.point_rows(one).equals(jobs.point_rows(three))
    # each point's replicates really ran with that point's parameters
    table = make().table()
    firsts = one.groupby("point").first()
    np.testing.assert_allclose(firsts["stockpile.dprk"], table["stockpile.dprk"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "grid"}, "design.method='grid'"),
        ({"parameters": ("sanctions.enforcment",)}, "sanctions.enforcment"),
        ({"parameters": ()}, "design.parameters is empty"),
        ({"parameters": ("classifier.medium",)}, "'classifier.medium' is a classifier setting"),
        ({"points": 0}, "design.points=0"),
        ({"chunks": 1000}, "design.chunks=1000"),
    ],
)
def test_bad_design_names_the_key(kwargs: dict, message: str) -> None:
    args = {"method": "lhs", "parameters": KEYS, "points": 12, "seed": 1, **kwargs}
    with pytest.raises(P.ParameterError, match=message.replace("[", r"\[")):
        design.Design(**args)


def test_boolean_parameters_cannot_be_sampled() -> None:
    flags = [p.key for p in P.PARAMETERS if p.kind is bool]
    if not flags:
        pytest.skip("no true/false parameter is declared")
    with pytest.raises(P.ParameterError, match="true/false"):
        design.Design("lhs", (flags[0],), 4, seed=1)


def test_chunk_out_of_range_is_refused() -> None:
    with pytest.raises(P.ParameterError, match="design.chunk=3 is out of range"):
        make(chunks=3).chunk_range(3)


def test_sobol_design_of_200k_runs_completes_as_chunked_jobs(tmp_path: Path) -> None:
    """The preset: 32,768 x (6 + 2) = 262,144 replicate-runs in two chunks, one table."""
    root = tmp_path / "sobol"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "experiments.run", "-m", "experiment=sobol_design"]
    done = subprocess.run(
        [*cmd, f"hydra.sweep.dir={root}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((root / sweep.SWEEP_JSON).read_text())
    assert report["kind"] == "design" and report["jobs"] == 2 and report["failed"] == []
    assert report["design"]["method"] == "sobol"
    assert report["replicate_runs"] == report["cells"] == 262_144 >= 200_000
    table = pd.read_parquet(root / sweep.SWEEP_PARQUET, columns=["job", "n", "stockpile.dprk"])
    assert len(table) == 262_144 and (table["n"] == 1).all()
    assert np.array_equal(table["job"], np.arange(262_144))
    expected = design.Design(
        "sobol", tuple(report["design"]["parameters"]), 32768, seed=report["seed"]
    ).table()
    np.testing.assert_array_equal(table["stockpile.dprk"], expected["stockpile.dprk"])
