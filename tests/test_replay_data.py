"""Structure checks for the replay data: sim/data/replay_inputs.csv and sim/data/record.csv.

The replay inputs are the exogenous drivers of the 2000Q1–2024Q3 replay; the record is the
article's dated record (ARTICLE.md ids) that the replay output is compared with. See
docs/REPLAY_DATA.md for the meaning of every column and the coding rules.
"""

import csv
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "sim" / "data"
ARTICLE = Path(__file__).resolve().parents[1] / "docs" / "ARTICLE.md"  # copy of shared/ARTICLE.md

INPUT_COLUMNS = [
    "quarter",
    "confrontation",
    "war",
    "trilateral",
    "un_resolutions",
    "un_monitoring",
    "border_open",
    "visits_open",
    "source",
]
RECORD_COLUMNS = [
    "date", "quarter", "event", "article_id", "indicator", "note", "measure", "value", "low", "high"
]  # fmt: skip
INDICATORS = {
    "summit",
    "sanctions_posture",
    "munitions_flow",
    "energy_flow",
    "tech_transfer",
    "defence_treaty",
    "tourism",
    "troops_deployed",
    "debt_relief",
    "un_resolution",
    "munitions_containers",
    "summit_count",
    "treaty_quarter",
    "tourism_restarted",
    "open_breach",
}
ARTICLE_IDS = {"F02", "F03", "F04", "F05", "F06", "F07", "F08", "F13", "Table 1"}


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _qkey(quarter: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})Q([1-4])", quarter)
    assert m, f"bad quarter {quarter!r}"
    return int(m.group(1)), int(m.group(2))


def _quarters(first: tuple[int, int], last: tuple[int, int]) -> list[str]:
    out, (y, q) = [], first
    while (y, q) <= last:
        out.append(f"{y}Q{q}")
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


@pytest.fixture(scope="module")
def inputs() -> list[dict[str, str]]:
    header, rows = _read("replay_inputs.csv")
    assert header == INPUT_COLUMNS
    return rows


@pytest.fixture(scope="module")
def record() -> list[dict[str, str]]:
    header, rows = _read("record.csv")
    assert header == RECORD_COLUMNS
    return rows


def test_99_consecutive_quarters(inputs):
    assert [r["quarter"] for r in inputs] == _quarters((2000, 1), (2024, 3))
    assert len(inputs) == 99


def test_values_in_range(inputs):
    for r in inputs:
        for col in ("confrontation", "trilateral", "un_monitoring"):
            assert 0.0 <= float(r[col]) <= 1.0, (r["quarter"], col)
        for col in ("war", "border_open", "visits_open"):
            assert r[col] in {"0", "1"}, (r["quarter"], col)
        assert 0 <= int(r["un_resolutions"]) <= 9, r["quarter"]


def test_un_resolutions_monotone_and_nine_by_2017q4(inputs):
    counts = [int(r["un_resolutions"]) for r in inputs]
    assert all(a <= b for a, b in zip(counts, counts[1:], strict=False))
    by_q = {r["quarter"]: int(r["un_resolutions"]) for r in inputs}
    assert by_q["2017Q4"] == 9
    assert by_q["2017Q3"] < 9


def test_war_from_2022q1_exactly(inputs):
    for r in inputs:
        expected = 1 if _qkey(r["quarter"]) >= (2022, 1) else 0
        assert int(r["war"]) == expected, r["quarter"]


def test_every_input_row_has_source(inputs):
    assert all(r["source"].strip() for r in inputs)


def test_documented_anchors(inputs):
    """Values that are documented fact, not judgement (see docs/REPLAY_DATA.md)."""
    by_q = {r["quarter"]: r for r in inputs}
    for q in _quarters((2000, 1), (2006, 3)):
        assert float(by_q[q]["un_monitoring"]) == 0.0, q  # no sanctions regime yet
    for q in _quarters((2009, 2), (2024, 1)):
        assert float(by_q[q]["un_monitoring"]) == 1.0, q  # Panel of Experts in place
    for q in _quarters((2020, 1), (2023, 4)):
        assert by_q[q]["border_open"] == "0", q  # COVID-19 closure
    for q in _quarters((2024, 1), (2024, 3)):
        assert by_q[q]["border_open"] == "1", q  # F08
    assert float(by_q["2023Q3"]["trilateral"]) > float(by_q["2023Q2"]["trilateral"])  # F01


def test_record_structure(record):
    assert record
    for r in record:
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])(-\d{2})?", r["date"]), r
        y, m = int(r["date"][:4]), int(r["date"][5:7])
        assert r["quarter"] == f"{y}Q{(m - 1) // 3 + 1}", r
        assert r["indicator"] in INDICATORS, r
        assert r["article_id"] in ARTICLE_IDS, r
        assert r["event"].strip(), r


def test_record_numbers_are_ranges_with_sources(record):
    """Issue 21: each number the calibration reads is dated, sourced and a range low ≤ value ≤ high;
    nothing after 2024Q3 is a target (the troops of F13 stay out of calibration)."""
    numbers = [r for r in record if r["measure"]]
    measures = [r["measure"] for r in numbers]
    assert len(measures) == len(set(measures))
    assert {"munitions_by_2024Q3", "summits_2001_2018", "treaty_quarter"} <= set(measures)
    for r in numbers:
        low, value, high = float(r["low"]), float(r["value"]), float(r["high"])
        assert low <= value <= high, r
        assert len(r["note"]) > 40, r  # the source and how uncertain it is
        assert _qkey(r["quarter"]) <= (2024, 3), r
    assert not any(r["measure"] for r in record if r["indicator"] == "troops_deployed")


def test_record_covers_the_article(record):
    ids = [r["article_id"] for r in record]
    for aid in ARTICLE_IDS - {"F03"}:  # F03 is Table 1
        assert aid in ids, aid
    visits = [r for r in record if r["article_id"] == "Table 1"]
    assert len(visits) == 10  # 4 Russian-side rows + 6 DPRK-side rows of Table 1
    assert all(r["indicator"] == "summit" for r in visits)


def test_record_resolutions_match_inputs(record, inputs):
    """The nine F06 rows and the un_resolutions input count the same resolutions."""
    res = [r for r in record if r["indicator"] == "un_resolution"]
    assert len(res) == 9
    for row in inputs:
        adopted = sum(_qkey(r["quarter"]) <= _qkey(row["quarter"]) for r in res)
        assert int(row["un_resolutions"]) == adopted, row["quarter"]


def test_record_article_ids_in_article_text(record):
    text = ARTICLE.read_text(encoding="utf-8")
    for aid in {r["article_id"] for r in record}:
        assert aid in text, aid
