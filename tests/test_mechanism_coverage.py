"""Every mechanism of the article has a rule and a test, or is declared not modelled (issue 2).

Reads the ids M01–M25 and F01–F13 from ``../shared/ARTICLE.md`` and fails if an M id is neither
(cited in a docstring under ``sim/`` and cited in a test under ``tests/``) nor listed in the
"Not modelled" table of ``docs/ODD.md`` with a reason. Also: every id the code cites exists in
the article, every F id is used by the code or explained in the ODD, and the generated sections
of ``docs/ODD.md`` (parameter table, rule index) are up to date with ``sim.params`` and the
docstrings (``python -m analysis.odd``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from analysis import odd as docs
from sim import params as P

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "docs" / "ARTICLE.md"  # the project's copy of ../shared/ARTICLE.md
SHARED_ARTICLE = ROOT.parent / "shared" / "ARTICLE.md"
ODD = ROOT / "docs" / "ODD.md"


def _id(token: str) -> re.Pattern:
    """``token`` as a whole id: 'M01' in 'test_M01_x' or '(M01)', not in 'M011'."""
    return re.compile(rf"(?<![0-9A-Za-z]){token}(?![0-9])")


ANY_ID = re.compile(r"(?<![0-9A-Za-z])([MF]\d\d)(?![0-9])")


def test_project_copy_of_the_article_is_current() -> None:
    """docs/ARTICLE.md must equal ../shared/ARTICLE.md where the shared folder is present."""
    if not SHARED_ARTICLE.is_file():
        pytest.skip(f"{SHARED_ARTICLE} is not next to this checkout; docs/ARTICLE.md is used")
    ours = ARTICLE.read_text(encoding="utf-8")
    if ours.startswith("<!--"):  # the one-line note saying what the copy is
        ours = ours.split("\n", 1)[1]
    assert ours == SHARED_ARTICLE.read_text(encoding="utf-8"), (
        "docs/ARTICLE.md differs from ../shared/ARTICLE.md: copy the shared file over"
    )


def test_project_copy_of_the_original_is_current() -> None:
    """docs/article_mn.txt (the Mongolian original, which wins where the readings differ) must
    equal ../shared/seed/article_mn.txt where the shared folder is present."""
    shared = SHARED_ARTICLE.parent / "seed" / "article_mn.txt"
    if not shared.is_file():
        pytest.skip(f"{shared} is not next to this checkout; docs/article_mn.txt is used")
    ours = ROOT / "docs" / "article_mn.txt"
    assert ours.read_bytes() == shared.read_bytes(), "copy ../shared/seed/article_mn.txt over"


@pytest.fixture(scope="module")
def article_ids() -> dict[str, list[str]]:
    text = ARTICLE.read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*([MF]\d\d)\s*\|", text, flags=re.MULTILINE)
    ids = {
        "M": sorted({r for r in rows if r[0] == "M"}),
        "F": sorted({r for r in rows if r[0] == "F"}),
    }
    assert ids["M"] and ids["F"], "no id tables found in ARTICLE.md"
    return ids


def _docstrings(folder: Path) -> str:
    """All module, class and function docstrings of the Python files under ``folder``."""
    parts = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                parts.append(ast.get_docstring(node) or "")
    return "\n".join(parts)


def _tests_text() -> str:
    own = Path(__file__).resolve()
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "tests").rglob("test_*.py"))
        if p != own
    )


def _not_modelled() -> dict[str, str]:
    """id → reason from the 'Not modelled' table of docs/ODD.md."""
    text = ODD.read_text(encoding="utf-8")
    match = re.search(r"^#+ .*Not modelled.*$(.*?)(?=^#+ |\Z)", text, flags=re.M | re.S)
    assert match, "docs/ODD.md has no 'Not modelled' section"
    out = {}
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"[MF]\d\d", cells[0]):
            out[cells[0]] = cells[-1]
    return out


def test_every_mechanism_has_a_rule_and_a_test_or_is_declared_not_modelled(article_ids) -> None:
    code, tests, skipped = _docstrings(ROOT / "sim"), _tests_text(), _not_modelled()
    missing = []
    for mid in article_ids["M"]:
        pattern = _id(mid)
        if pattern.search(code) and pattern.search(tests):
            continue
        if len(skipped.get(mid, "")) >= 10:  # listed with a reason
            continue
        where = [
            n for n, t in (("a sim/ docstring", code), ("a test", tests)) if not _id(mid).search(t)
        ]
        missing.append(f"{mid}: not cited in {' or '.join(where)}")
    assert not missing, "\n".join(missing)


def test_every_fact_is_used_or_explained(article_ids) -> None:
    """F ids: cited by the code (docstrings or the parameter declaration) or in docs/ODD.md."""
    code = _docstrings(ROOT / "sim") + " ".join(" ".join(p.ids) for p in P.PARAMETERS)
    odd = ODD.read_text(encoding="utf-8")
    unused = [f for f in article_ids["F"] if not (_id(f).search(code) or _id(f).search(odd))]
    assert not unused, unused


def test_code_cites_only_ids_the_article_has(article_ids) -> None:
    known = set(article_ids["M"]) | set(article_ids["F"])
    cited = set(ANY_ID.findall(_docstrings(ROOT / "sim")))
    cited |= {i for p in P.PARAMETERS for i in p.ids if ANY_ID.fullmatch(i)}
    assert cited <= known, sorted(cited - known)


def test_odd_generated_sections_are_up_to_date() -> None:
    """docs/ODD.md's parameter table and rule index equal what ``python -m analysis.odd`` writes."""
    text = ODD.read_text(encoding="utf-8")
    assert docs.render(text) == text, "docs/ODD.md is out of date: run python -m analysis.odd"
    for p in P.PARAMETERS:
        assert f"`{p.key}`" in text


def test_sim_docs_check_reports_an_outdated_file(tmp_path: Path) -> None:
    stale = tmp_path / "ODD.md"
    stale.write_text(ODD.read_text(encoding="utf-8").replace("`world.confrontation`", "`x`"))
    assert docs.main(["--check", "--path", str(stale)]) == 1
    assert docs.main(["--path", str(stale)]) == 0
    assert docs.main(["--check", "--path", str(stale)]) == 0
