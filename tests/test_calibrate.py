"""ABC-SMC calibration to the record's numbers (issues 14, 21): recovery, bookkeeping, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import calibrate as C
from sim import params as P
from sim.replay import per_replicate, run_replay

TRUE_SUMMIT_RATE = 0.3


@pytest.fixture(scope="module")
def synthetic_record() -> dict[str, tuple[float, float, float, float]]:
    """The record a world with summit_rate = 0.3 would leave: the summit counts' ensemble
    medians, as exact numbers (value = low = high) with the shipped scales."""
    rows = per_replicate(
        run_replay(replicates=2000, seed=5, params={"russia.summit_rate": TRUE_SUMMIT_RATE})
    )
    record = {}
    for measure in ("summits_2001_2018", "summits_2019_2022", "summits_2023_2024"):
        value = float(np.median(rows[measure].to_numpy(dtype=float)))
        record[measure] = (value, value, value, C.SCALES[measure])
    return record


def test_a_known_parameter_is_recovered(synthetic_record, record_property) -> None:
    post = C.abc_smc(
        ["russia.summit_rate"], particles=150, generations=2, seed=3, record=synthetic_record
    )
    row = post.summary().iloc[0]
    record_property(
        "measured",
        f"summit_rate posterior median {row['median']:.2f} [{row['q05']:.2f}, {row['q95']:.2f}] "
        f"(true {TRUE_SUMMIT_RATE}, default {row['default']})",
    )
    assert row["q05"] <= TRUE_SUMMIT_RATE <= row["q95"]
    assert row["q95"] < P.BY_KEY["russia.summit_rate"].default  # the default is ruled out
    assert row["q95"] - row["q05"] < 0.6  # narrower than the prior's 90 % (0.9)


def test_populations_are_consistent() -> None:
    post = C.abc_smc(particles=40, generations=3, oversample=5, seed=1)
    low, high = C._ranges(post.parameters)
    for g, pop in enumerate(post.populations):
        assert pop.theta.shape == (40, len(C.PARAMETERS))
        assert np.all((pop.theta >= low) & (pop.theta <= high))
        assert pop.weights.sum() == pytest.approx(1.0) and np.all(pop.weights > 0)
        assert np.all(pop.distances <= pop.threshold + 1e-12)
        assert 1 <= pop.ess <= 40 + 1e-6
        if g:
            assert pop.threshold <= post.populations[g - 1].threshold
    assert np.average(post.last.distances, weights=post.last.weights) < np.mean(
        post.populations[0].distances
    )
    again = C.abc_smc(particles=40, generations=3, oversample=5, seed=1)
    np.testing.assert_array_equal(again.last.theta, post.last.theta)  # reproducible


def test_distance_is_zero_only_inside_the_records_ranges() -> None:
    """Inside every range the distance is 0; outside, it counts in scales (the treaty capped)."""
    import pandas as pd

    record = C.record_table()
    exact = pd.DataFrame({C.COLUMNS.get(k, k): [v] for k, (v, *_) in record.items()})
    assert C.distances(exact)[0] == 0
    high = exact.assign(munitions_by_2024Q3=16.0)  # the top of the record's range
    assert C.distances(high)[0] == 0
    off = exact.assign(summits_2001_2018=6, munitions_by_2024Q3=20.0, treaty_quarter_number=60)
    expected = 3 / 3 + (20 - 16) / 2 + C.CAPS["treaty_quarter"]
    assert C.distances(off)[0] == pytest.approx(expected)


def test_the_record_is_read_from_the_data_file() -> None:
    """Issue 21: the targets are the dated, sourced numbers of sim/data/record.csv."""
    record = C.record_table()
    assert record["munitions_by_2024Q3"][:3] == (13.0, 13.0, 16.0)
    assert record["summits_2001_2018"][0] == 3 and record["treaty_quarter"][0] == 98
    assert set(record) == set(C.SCALES)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--parameters", "russia.summit_rat"], "unknown parameter 'russia.summit_rat'"),
        (["--parameters", "classifier.short"], "cannot be calibrated"),
        (["--particles", "3"], "at least 10"),
        (["--ppc-ensembles", "0"], "--ppc-ensembles must be at least 1"),
    ],
)
def test_bad_settings_give_one_line(tmp_path: Path, capsys, argv: list[str], needle: str) -> None:
    code = C.main(["--out", str(tmp_path / "c"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1
    assert not (tmp_path / "c").exists()


def test_command_writes_posterior_checks_and_shares(tmp_path: Path, capsys) -> None:
    code = C.main(
        [
            "--out",
            str(tmp_path),
            "--particles",
            "30",
            "--generations",
            "2",
            "--ppc-ensembles",
            "2",
            "--ppc-replicates",
            "200",
            "--forward-replicates",
            "500",
        ]
    )
    assert code == 0
    payload = json.loads((tmp_path / "calibration.json").read_text())
    ppc = payload["predictive_checks"]
    assert [r["pattern"] for r in ppc["posterior"]] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    for side in ("posterior", "defaults"):
        shares = payload["forward_shares"][side]
        assert sum(r["share"] for r in shares) == pytest.approx(1.0)
    assert payload["seed"] == C.SEED and payload["model_version"]
    fit = {
        side: {r["pattern"]: r for r in ppc[f"record_fit_{side}"]}
        for side in ("posterior", "defaults")
    }
    # Table 1's 3 summits in 2001–2018: the defaults give far more, the posterior fewer
    post, base = fit["posterior"]["summits_2001_2018"], fit["defaults"]["summits_2001_2018"]
    assert abs(post["pred_median"] - 3) < abs(base["pred_median"] - 3)
    table = pd.read_csv(tmp_path / "posterior_predictive.csv")
    contract = ["pattern", "observed", "pred_median", "pred_q05", "pred_q95", "inside"]
    assert list(table.columns[:6]) == contract
    assert {"munitions_by_2024Q3", "summits_2001_2018"} <= set(table["pattern"])
    assert (table["pred_q05"] <= table["pred_median"]).all()
    assert (table["pred_median"] <= table["pred_q95"]).all()
    inside = (table["pred_q05"] <= table["observed"]) & (table["observed"] <= table["pred_q95"])
    assert (inside == table["inside"]).all()
    assert (tmp_path / "posterior.png").stat().st_size > 1000
    assert "forward shares" in capsys.readouterr().out


def test_the_shipped_posterior_predicts_every_record_number() -> None:
    """Issue 21: under sim/data/posterior.csv every record number lies inside the predicted
    90 % interval (an ensemble of 4,000 replays, a seed the calibration never used)."""
    from analysis import posterior

    table = posterior.load(posterior.DEFAULT)
    sample = table.draw(11, 4000)
    _, fit = C.predictive_checks(sample, ensembles=2, replicates=2000, seed=101)
    outside = fit.loc[~fit["inside"], "pattern"].tolist()
    assert outside == [], outside
