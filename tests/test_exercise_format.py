"""The exercise's printed comparison reads as a statistician writes it (issue 25).

``experiments.exercise.format_comparison`` on a planted table (no simulation): p-values far below
0.001 print as "< 0.001", never "0"; differences are the unrounded ones, rounded last; every line
fits 100 columns in both languages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.stats import adjust_pvalues, newcombe_diff_ci, proportion_ci, two_proportion_pvalue
from experiments import exercise as ex
from experiments.i18n import LANGUAGES
from sim.classifier import SCENARIOS


def _planted(base: list[int], arm: list[int], n: int) -> pd.DataFrame:
    counts = {"baseline": np.array(base), "exercise": np.array(arm)}
    table = pd.DataFrame(index=pd.Index(SCENARIOS, name="scenario"))
    for name, c in counts.items():
        low, high = proportion_ci(c, n)
        table[f"{name}_count"], table[f"{name}_share"] = c, c / n
        table[f"{name}_low"], table[f"{name}_high"] = low, high
    diff, low, high = newcombe_diff_ci(counts["exercise"], n, counts["baseline"], n)
    table["difference"], table["diff_low"], table["diff_high"] = diff, low, high
    table["p_holm"] = adjust_pvalues(
        two_proportion_pvalue(counts["exercise"], n, counts["baseline"], n)
    )
    return table


@pytest.mark.parametrize("lang", LANGUAGES)
def test_p_values_never_print_zero_and_lines_fit(lang: str) -> None:
    n = 100_000
    table = _planted([6_816, 20_000, 73_184], [7_064, 30_000, 62_936], n)
    assert table.loc["S2", "p_holm"] < 1e-12  # the planted difference is overwhelming
    name = ex.exercise_names()[0]
    text = ex.format_comparison(table, name, lang)
    lines = text.splitlines()
    rows = {s: next(x for x in lines if x.startswith(f"{s} ") and "%" in x) for s in SCENARIOS}
    assert rows["S2"].rstrip().endswith("< 0.001")
    assert not any(line.rstrip().endswith(" 0") for line in text.splitlines())
    # 6.816 % → 7.064 %: +0.2 from the unrounded difference 0.248, not 7.1 − 6.8 = +0.3
    assert "+0.2 pp" in rows["S1"] and "6.8 %" in rows["S1"] and "7.1 %" in rows["S1"]
    assert max(len(line) for line in text.splitlines()) <= ex.WIDTH
