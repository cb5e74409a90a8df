"""Robustness of the headline (experiments.robustness; issue 9 item 5; S1, S2, docs/ODD.md §7.9).

Re-classifying one simulated ensemble per classifier definition must give exactly what running
the model with those thresholds gives; the Latin hypercube must stay inside the declared ranges
with short < medium < horizon; the Morris screening must name parameters that exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis import hedges as H
from experiments import argument as A
from experiments import robustness as RB
from sim import params as P
from sim.classifier import SCENARIOS, classify
from sim.model import RussiaDPRKModel

SEED = 20241001


def test_reclassification_equals_a_direct_classification() -> None:
    draws = RB.classifier_draws(6, seed=11, horizon=40)
    assert draws[["classifier.short", "classifier.medium"]].drop_duplicates().shape[0] > 1
    model = RussiaDPRKModel({}, replicates=300, seed=SEED).run()
    before = dict(model.p)
    codes = RB.reclassify(model, draws)
    assert model.p == before  # the model's parameters are restored
    for i, draw in draws.iterrows():
        values = {k: RB._scalar(k, v) for k, v in draw.items()}
        direct = classify(RussiaDPRKModel(values, replicates=300, seed=SEED).run())["scenario"]
        assert list(np.asarray(SCENARIOS)[codes[i]]) == list(direct), dict(values)


def test_definitions_stay_in_the_declared_ranges_and_nest() -> None:
    n = 40
    draws = RB.classifier_draws(n, seed=5, horizon=40)
    assert list(draws.columns) == [p.key for p in RB.CLASSIFIER]
    assert (draws["classifier.short"] < draws["classifier.medium"]).all()
    assert (draws["classifier.medium"] < 40).all()
    for p in RB.CLASSIFIER:
        low, high = p.plausible_bounds()  # the readings of the article's words
        assert draws[p.key].between(low, high).all(), p.key
        assert draws[p.key].between(p.low, p.high).all(), p.key
        if p.kind is float:  # a Latin hypercube: one value in each of n equal strata
            strata = np.floor((draws[p.key] - low) / (high - low) * n).clip(0, n - 1)
            assert sorted(strata.astype(int)) == list(range(n)), p.key
        else:
            assert (draws[p.key] == draws[p.key].round()).all()
    assert set(draws["classifier.s1_tech_tier"]) == {2}  # fixed by the text (§7.9.1)
    assert set(draws["classifier.s2_tech_tier"]) == {1}  # fixed by the text (satellites, §7.9.1)
    assert set(draws["classifier.medium"]) > {10, 20}  # an integer with a range is drawn over it


def test_summary_of_definitions_on_a_planted_table() -> None:
    table = pd.DataFrame(
        {
            "ensemble": ["defaults"] * 4,
            "S1_share": [0.1, 0.0, 0.3, 0.2],
            "S2_share": [0.5, 0.0, 0.2, 0.6],
            "neither_share": [0.4, 1.0, 0.5, 0.2],
        }
    )
    table["s2_above_s1"] = table["S2_share"] > table["S1_share"]
    row = RB.summarise_definitions(table).iloc[0]
    assert row["share_s2_above_s1"] == 0.5  # ties (0 = 0) do not count
    assert (row["S2_min"], row["S2_median"], row["S2_max"]) == (0.0, 0.35, 0.6)


def test_morris_names_parameters_that_exist() -> None:
    settings = A.parse_settings(["replicates=100", "world.ceasefire_hazard=0"])
    table, info = RB.morris(settings, trajectories=2, point_replicates=20)
    names = set(table["parameter"])
    screened = {p.key for p in RB.model_parameters()} - {"world.ceasefire_hazard"}
    assert names == screened | {RB.DUMMY}  # a parameter set on the command line stays fixed
    assert set(table["output"]) == set(RB.OUTPUTS.values())
    assert info["points"] == 2 * (len(screened) + 2)
    assert set(RB.carriers(table)) <= set(P.BY_KEY)
    assert (table["mu_star"] >= 0).all() and table["mu_star"].notna().all()


def test_command_writes_its_files(tmp_path: pytest.TempPathFactory) -> None:
    out = tmp_path / "rob"  # type: ignore[operator]
    args = ["definitions=3", "trajectories=2", "point_replicates=5", "replicates=60", f"out={out}"]
    assert RB.main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(RB.ROBUSTNESS_FILES)
    meta = json.loads((out / "robustness.json").read_text())
    assert meta["definitions"]["draws"] == 3 and meta["morris"]["trajectories"] == 2
    definitions = pd.read_csv(out / "robustness_definitions.csv")
    assert len(definitions) == 2 * 3 and set(definitions["ensemble"]) == {"defaults", "war_on"}


@pytest.mark.parametrize(
    ("args", "message"),
    [(["part=everything"], "part="), (["span=2"], "span=2"), (["definitions=x"], "definitions=")],
)
def test_bad_input_is_one_line(
    args: list[str], message: str, tmp_path: pytest.TempPathFactory
) -> None:
    with pytest.raises(ValueError, match=message) as error:
        RB.main([*args, "part=morris" if "part" not in args[0] else args[0], f"out={tmp_path}/x"])
    assert "\n" not in str(error.value)
    assert not (tmp_path / "x").exists()  # type: ignore[operator]


def _docs_numbers() -> object:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "docs_numbers.py"
    spec = importlib.util.spec_from_file_location("docs_numbers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_numbers_fill_only_the_marked_blocks(tmp_path: Path) -> None:
    """scripts/docs_numbers.py: the numbers in the docs come from the commands' outputs."""
    dn: Any = _docs_numbers()
    out = tmp_path / "out"
    A.main(["replicates=120", f"out={out}"])
    RB.main(
        ["definitions=3", "trajectories=2", "point_replicates=5", "replicates=60", f"out={out}"]
    )
    RB.main(
        ["part=morris", "span=0.25", "trajectories=2", "point_replicates=5", f"out={out}/local"]
    )
    H.main(["--out", str(out / dn.HEDGES), "--replicates", "500", "--cell-replicates", "100"])
    root = tmp_path / "root"
    texts = {}
    for rel, name, _ in dn.BLOCKS:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        start, end = dn.markers(name)
        before = path.read_text() if path.exists() else "# kept above\n"
        path.write_text(f"{before}{start}\nstale 37.3 %\n{end}\nkept below {name}\n")
        texts[rel] = path.read_text()
    files = dn.render_all(out, root)
    meta = json.loads((out / A.JSON_FILE).read_text())
    for path, (old, new) in files.items():
        rel = str(path.relative_to(root))
        assert old == texts[rel] and "stale 37.3 %" not in new
        assert new.startswith("# kept above\n")
        for file, name, _ in dn.BLOCKS:
            if file == rel:
                assert f"kept below {name}\n" in new and dn.markers(name)[0] in new
    readme = files[root / "README.md"][1]
    assert dn.shown(meta["command"]) in readme  # the command is shown beside its numbers
    with pytest.raises(ValueError, match="headline"):
        dn.replace_block("no markers here", "headline", "x", "README.md")


def test_threshold_effects_rank_the_parameter_that_moves_s2() -> None:
    draws = RB.classifier_draws(20, seed=2, horizon=40)
    table = draws.assign(ensemble="war_on", S1_share=0.0)
    table["S2_share"] = 1.0 - (table["classifier.s2_burst_ratio"] - 0.25)  # falls with the ratio
    effects = RB.threshold_effects(table)
    assert effects.iloc[0]["parameter"] == "classifier.s2_burst_ratio"
    assert effects.iloc[0]["rho_S2_war_on"] == pytest.approx(-1.0)
    assert effects["rho_S1_war_on"].isna().all()  # S1 does not vary
