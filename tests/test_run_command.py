"""``python -m experiments.run`` as users call it (CONTRACT.md: entry points, files, bad input).

Runs the command in a subprocess with a small ``replicates`` and checks the files it writes:
``runs.parquet`` (one row per replicate: replicate, seed, every dotted parameter key, scenario,
the indicators), ``summary.json`` (n, scenarios with count/share/interval, config_hash,
model_version) and ``.hydra/``; that replicate k does not depend on ``replicates``; and that bad
input exits 1 with one message naming the key and what is allowed, leaving no output directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import RussiaDPRKModel

ROOT = Path(__file__).resolve().parents[1]


def run_command(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "experiments.run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, Path]:
    """Two runs of the same point and seed: 10 and 100 replicates."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for n in (10, 100):
        outdir = base / f"r{n}"
        done = run_command(
            f"replicates={n}", "seed=7", "world.confrontation=0.7", f"hydra.run.dir={outdir}"
        )
        assert done.returncode == 0, done.stderr
        assert "S1" in done.stdout and "S2" in done.stdout and "neither" in done.stdout
        out[n] = outdir
    return out


def test_runs_parquet_has_one_row_per_replicate_and_every_column(runs) -> None:
    frame = pd.read_parquet(runs[100] / "runs.parquet")
    assert len(frame) == 100
    assert list(frame["replicate"]) == list(range(100))
    assert (frame["seed"] == 7).all()
    assert set(P.BY_KEY) <= set(frame.columns)  # every dotted parameter key
    assert (frame["world.confrontation"] == 0.7).all()
    assert (frame["stockpile.dprk"] == P.BY_KEY["stockpile.dprk"].default).all()
    assert set(frame["scenario"]) <= set(SCENARIOS)
    indicators = classify(RussiaDPRKModel(replicates=1, horizon=40).run())
    assert set(indicators) <= set(frame.columns)


def test_summary_json_follows_the_contract(runs) -> None:
    summary = json.loads((runs[100] / "summary.json").read_text())
    assert summary["n"] == 100
    assert set(summary["scenarios"]) == set(SCENARIOS)
    for row in summary["scenarios"].values():
        assert {"count", "share", "ci_low", "ci_high"} <= set(row)
        assert row["ci_low"] <= row["share"] <= row["ci_high"]
    assert sum(r["count"] for r in summary["scenarios"].values()) == 100
    assert abs(sum(r["share"] for r in summary["scenarios"].values()) - 1) < 1e-9
    assert isinstance(summary["config_hash"], str) and summary["config_hash"]
    assert isinstance(summary["model_version"], str) and summary["model_version"]
    frame = pd.read_parquet(runs[100] / "runs.parquet")
    for s in SCENARIOS:
        assert summary["scenarios"][s]["count"] == int((frame["scenario"] == s).sum())


def test_hydra_snapshot_is_written(runs) -> None:
    hydra_dir = runs[10] / ".hydra"
    assert (hydra_dir / "config.yaml").is_file()
    assert "world.confrontation=0.7" in (hydra_dir / "overrides.yaml").read_text()


def test_first_rows_do_not_depend_on_replicates(runs) -> None:
    """CONTRACT: the first 10 rows of a 100-replicate run equal a 10-replicate run."""
    ten = pd.read_parquet(runs[10] / "runs.parquet")
    hundred = pd.read_parquet(runs[100] / "runs.parquet").head(10)
    pd.testing.assert_frame_equal(ten, hundred, check_exact=True)


# Each case runs the command (about 4 s each on a busy 2-core machine): one per kind of mistake.
BAD = [
    (["world.confrontaton=0.5"], "world.confrontaton", "world.confrontation"),  # unknown key
    (["world.confrontation=abc"], "world.confrontation", "[0, 1]"),  # wrong type
    (["world.confrontation=1.5"], "world.confrontation", "[0, 1]"),  # out of range
    (["russia=nonexistent"], "russia", "bold"),  # missing preset
    (["classifier.short=20", "classifier.medium=10"], "classifier.short", "classifier.medium"),
]
# Further cases of the same check, run in-process through ``config.preflight``.
BAD_PREFLIGHT = [
    (["stockpile.dprk=-1"], "stockpile.dprk", "[0, 100]"),
    (["dprk.troops_deployed=3"], "dprk.troops_deployed", "true or false"),
    (["experiment=nonexistent"], "experiment", "article_baseline"),
    (["replicates=abc"], "replicates", "integer"),
    (["-m", "rok.shell_hazard=0.1,2"], "rok.shell_hazard", "[0, 1]"),
]


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"), BAD_PREFLIGHT, ids=[b[1] for b in BAD_PREFLIGHT]
)
def test_preflight_names_the_key_and_what_is_allowed(
    capsys: pytest.CaptureFixture, overrides: list[str], key: str, allowed: str
) -> None:
    from experiments import config

    with pytest.raises(SystemExit) as exit_info:
        config.preflight(overrides)
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1 and key in message and allowed in message, message


@pytest.mark.parametrize(("overrides", "key", "allowed"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_exits_2_with_one_message_and_no_output(
    tmp_path: Path, overrides: list[str], key: str, allowed: str
) -> None:
    outdir = tmp_path / "out"
    done = run_command(*overrides, "replicates=5", f"hydra.run.dir={outdir}")
    assert done.returncode == 2, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message  # one message, no traceback
    assert key in message and allowed in message, message
    assert not outdir.exists()


def test_bad_sweep_value_stops_before_any_job(tmp_path: Path) -> None:
    """-m with one value out of range: exit 2 before any job directory is made."""
    outdir = tmp_path / "sweep"
    done = run_command(
        "-m", "world.confrontation=0.5,1.5", "replicates=5", f"hydra.sweep.dir={outdir}"
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "world.confrontation" in message and "[0, 1]" in message
    assert not outdir.exists()
