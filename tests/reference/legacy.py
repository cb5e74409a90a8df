"""The ensemble model as it was before issue 21 (forward runs only, no history), read from git.

Benchmarks only: it shows what the 2000–2024 history every run now starts with costs.
``sim/model.py``, ``sim/agents.py``, ``sim/world.py``, ``sim/rng.py`` and ``sim/params.py`` at
commit ``BEFORE`` are written into a
temporary package with their imports of each other made relative, so ``tests/test_benchmark.py``
times the old code beside the current ``sim.model`` in the same run, on one machine under one
load — without a second copy of the model in the tree. Where the commit is not in the clone (a
shallow clone), ``load`` raises ``LookupError`` and the benchmark skips with that reason.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

BEFORE = "d1075dc"  # the last commit before issue 21's one history
FILES = ("model", "agents", "world", "rng", "params")
ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "legacy_sim"


def load() -> type:
    """The ``RussiaDPRKModel`` class of commit ``BEFORE``."""
    if PACKAGE in sys.modules:
        return sys.modules[f"{PACKAGE}.model"].RussiaDPRKModel
    folder = Path(tempfile.mkdtemp(prefix="legacy-")) / PACKAGE
    folder.mkdir()
    for name in FILES:
        shown = subprocess.run(
            ["git", "show", f"{BEFORE}:sim/{name}.py"], cwd=ROOT, capture_output=True, text=True
        )
        if shown.returncode != 0:
            raise LookupError(f"commit {BEFORE} is not in this clone: {shown.stderr.strip()}")
        text = shown.stdout
        for other in FILES:
            text = text.replace(f"from sim.{other} import", f"from .{other} import")
            text = text.replace(f"from sim import {other} as", f"from . import {other} as")
        (folder / f"{name}.py").write_text(text, encoding="utf-8")
    (folder / "__init__.py").write_text("", encoding="utf-8")
    sys.path.insert(0, str(folder.parent))
    return importlib.import_module(f"{PACKAGE}.model").RussiaDPRKModel
