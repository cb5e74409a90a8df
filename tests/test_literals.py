"""Every number in a rule is declared (issue 9, item 3; docs/ODD.md §8).

The rules live in ``sim/agents.py``, ``sim/model.py``, ``sim/world.py`` and
``sim/classifier.py``. Inside a function body a numeric literal other than 0 and 1 (the
identities of sums, products and shares) is a hidden assumption that the sweeps, the sensitivity
analysis and the ODD table cannot see: it must be a parameter in ``sim/params.py`` or a named
module constant whose comment says why it is structural.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
RULE_FILES = ("agents.py", "model.py", "world.py", "classifier.py")
IDENTITIES = {0, 1}


def hidden_literals(source: str) -> list[tuple[int, str, object]]:
    """(line, function, value) of every numeric literal in a function body beyond 0 and 1."""
    found = []
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for stmt in func.body:
            for node in ast.walk(stmt):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, int | float)
                    and not isinstance(node.value, bool)
                    and node.value not in IDENTITIES
                ):
                    found.append((node.lineno, func.name, node.value))
    return sorted(set(found))


@pytest.mark.parametrize("name", RULE_FILES)
def test_no_numeric_literal_hides_in_a_rule_body(name: str) -> None:
    found = hidden_literals((SIM / name).read_text(encoding="utf-8"))
    where = ", ".join(f"line {line} in {func}(): {value!r}" for line, func, value in found)
    assert not found, (
        f"sim/{name}: undeclared numbers ({where}); declare each in sim/params.py or as a named constant"
    )


def test_the_check_finds_a_planted_coefficient() -> None:
    """The check can fail: a coefficient written into a rule is found, a named one is not."""
    planted = "RATE = 0.3\n\ndef rule(x):\n    return 0.3 * x + RATE * (1 - x)\n"
    assert hidden_literals(planted) == [(4, "rule", 0.3)]
