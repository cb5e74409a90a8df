"""ABC-SMC calibration to the replay record (issue 14): recovery, bookkeeping, errors (tiny runs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis import calibrate as C
from sim import params as P
from sim.replay import per_replicate, run_replay

TRUE_SUMMIT_RATE = 0.3


@pytest.fixture(scope="module")
def synthetic_record() -> dict[str, tuple[float, float]]:
    """The record a world with summit_rate = 0.3 would leave: ensemble medians and majorities."""
    rows = per_replicate(
        run_replay(replicates=2000, seed=5, params={"russia.summit_rate": TRUE_SUMMIT_RATE})
    )
    record = {}
    for column, (_, scale) in C.RECORD.items():
        values = rows[column].to_numpy(dtype=float)
        record[column] = (float(np.median(values)), scale)
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


def test_distance_is_zero_only_for_the_record() -> None:
    import pandas as pd

    exact = pd.DataFrame({k: [v] for k, (v, _) in C.RECORD.items()})
    assert C.distances(exact)[0] == 0
    off = exact.assign(summits_2001_2018=6, treaty_2023_2024=0)
    assert C.distances(off)[0] == pytest.approx(3 / 3 + 1)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--parameters", "russia.summit_rat"], "unknown parameter 'russia.summit_rat'"),
        (["--parameters", "limits.stockpile"], "cannot be calibrated"),
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
        side: {r["statistic"]: r["reproduced"] for r in ppc[f"record_fit_{side}"]}
        for side in ("posterior", "defaults")
    }
    # Table 1's 3 summits in 2001–2018: the defaults give far more, the posterior fewer
    assert fit["posterior"]["summits_2001_2018"] > fit["defaults"]["summits_2001_2018"]
    assert (tmp_path / "posterior.png").stat().st_size > 1000
    assert "forward shares" in capsys.readouterr().out
