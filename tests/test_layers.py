"""One-way imports and one owner of the file contract, checked by parsing the source.

Layers: ``sim`` (the model, no I/O of results) ← ``contract`` (file names, atomic writes,
one-line errors) ← ``analysis`` (statistics, readers, reports) ← ``experiments`` (commands that
run the model and write results). No package imports one above it, at module level or inside a
function, so no two packages import each other. Every result file name is spelled only in
``contract/files.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from contract import files as F

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("sim", "contract", "analysis", "experiments")  # each may import only those before it


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in a file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ORDER)
def test_no_package_imports_one_above_it(package: str) -> None:
    above = set(ORDER[ORDER.index(package) + 1 :])
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources(package)
        for line, name in imports(path)
        if name in above
    ]
    assert not wrong, wrong


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from experiments import sweep\n    import analysis.stats\n")
    assert [name for _, name in imports(probe)] == ["experiments", "analysis"]


FILE_NAMES = {
    value
    for name, value in vars(F).items()
    if name.isupper() and isinstance(value, str) and value.endswith((".parquet", ".json", ".md"))
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def test_result_file_names_are_spelled_only_in_the_contract() -> None:
    assert {"runs.parquet", "summary.json", "sweep.parquet", "replay.json"} <= FILE_NAMES
    wrong = []
    for package in ORDER:
        for path in sources(package):
            if path == ROOT / "contract" / "files.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and id(node) not in skip
                    and isinstance(node.value, str)
                    and node.value in FILE_NAMES
                ):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not wrong, wrong


def test_the_model_modules_import_one_another_one_way() -> None:
    """Issue 21: no circle among the modules of ``sim`` (agents ↔ model ↔ world ↔ classifier
    was one), counting every import — type-only ones and those inside functions too."""
    graph: dict[str, set[str]] = {}
    for path in sources("sim"):
        name = path.stem
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[0] == "sim" and len(parts) > 1:
                    graph[name].add(parts[1])
                elif node.module == "sim":
                    graph[name] |= {a.name for a in node.names}
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", " → ".join((*trail, node))
        state[node] = "open"
        for other in sorted(graph.get(node, ())):
            visit(other, (*trail, node))
        state[node] = "done"
        order.append(node)

    for module in sorted(graph):
        visit(module, ())
    assert {"model", "agents", "world", "classifier"} <= set(order)
