"""Generated parts of ``docs/ODD.md``: the parameter table and the rule index (a docs writer, so
it lives outside ``sim/``, which does no I/O).

Both are read from the single sources of truth — the parameter table from ``sim.params``, the
rule index from the docstrings of the agents' rules and the model's exchanges (``Names:`` lines
citing article ids) — and written between marker comments in ``docs/ODD.md``::

    python -m analysis.odd            # rewrite the generated sections of docs/ODD.md and print them
    python -m analysis.odd --check    # exit 1 if docs/ODD.md is out of date (used by the tests)
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
from pathlib import Path

from sim import params as P

ODD_PATH = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])([MF]\d\d|S[12])(?![0-9])")
SECTIONS = ("parameters", "rules")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _number(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parameter_table() -> str:
    """Markdown table of every parameter in ``sim.params.PARAMETERS``, grouped as declared."""
    lines = [
        "| key | default | allowed | unit | meaning | ids | number from |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in P.PARAMETERS:
        default = _number(p.default)
        if p.levels:
            default += " (" + ", ".join(f"{k} = {_number(v)}" for k, v in p.levels.items()) + ")"
        allowed = (
            "true / false" if p.kind is bool else f"{p.kind.__name__} in [{p.low:g}, {p.high:g}]"
        )
        if p.plausible is not None:
            allowed += f"; plausible [{p.plausible[0]:g}, {p.plausible[1]:g}]"
        source = "modelling choice" if p.chosen else "the article"
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f"`{p.key}`",
                    default,
                    allowed,
                    p.unit,
                    p.meaning,
                    ", ".join(p.ids),
                    source,
                )
            )
            + " |"
        )
    return "\n".join(lines)


def rules() -> list[tuple[str, str, tuple[str, ...]]]:
    """(qualified name, first docstring line, article ids) of every rule that cites ids."""
    from sim import agents, model, world

    found = []
    holders = [*agents.AGENT_CLASSES, model.RussiaDPRKModel, world.World]
    for cls in holders:
        for name, member in cls.__dict__.items():
            if name.startswith("__") or not inspect.isfunction(member):
                continue
            doc = inspect.getdoc(member) or ""
            ids = tuple(dict.fromkeys(ID_PATTERN.findall(doc)))
            if ids:
                first = " ".join(doc.strip().split("\n\n")[0].split())  # the first paragraph
                found.append((f"{cls.__name__}.{name}", first, ids))
    return found


def rule_table() -> str:
    """Markdown index of the rules with the article ids their docstrings cite."""
    lines = ["| rule | what it does | article ids |", "|---|---|---|"]
    for qualname, first, ids in rules():
        lines.append(f"| `{qualname}` | {_cell(first)} | {', '.join(ids)} |")
    return "\n".join(lines)


def generated() -> dict[str, str]:
    return {"parameters": parameter_table(), "rules": rule_table()}


def _markers(section: str) -> tuple[str, str]:
    return (
        f"<!-- generated:{section} start (python -m analysis.odd) -->",
        f"<!-- generated:{section} end -->",
    )


def render(text: str, sections: dict[str, str] | None = None) -> str:
    """``text`` with every generated section replaced by its current content."""
    sections = sections or generated()
    for section, body in sections.items():
        start, end = _markers(section)
        if start not in text or end not in text:
            raise ValueError(f"docs/ODD.md lacks the markers of the {section!r} section: {start}")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m analysis.odd", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/ODD.md is outdated")
    parser.add_argument("--path", type=Path, default=ODD_PATH, help="the ODD file")
    args = parser.parse_args(argv)
    text = args.path.read_text(encoding="utf-8")
    try:
        new = render(text)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.check:
        if new != text:
            print(f"error: {args.path} is out of date: run python -m analysis.odd", file=sys.stderr)
            return 1
        return 0
    if new != text:
        tmp = args.path.with_name(f".{args.path.name}.tmp")
        tmp.write_text(new, encoding="utf-8")
        os.replace(tmp, args.path)  # never a half-written ODD
        print(f"updated {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
