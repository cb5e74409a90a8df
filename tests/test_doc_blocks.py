"""The generated blocks of the docs: one helper replaces them (``contract.io.replace_between``),
and a script that fills several files writes none when one of them cannot be filled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract.io import replace_between

REPO = Path(__file__).resolve().parents[1]


def test_a_generated_block_is_replaced_between_its_markers_only():
    text = "head\n<!-- a -->\nold\n<!-- b -->\ntail\n"
    assert replace_between(text, "<!-- a -->", "<!-- b -->", "new\n") == (
        "head\n<!-- a -->\nnew\n<!-- b -->\ntail\n"
    )
    with pytest.raises(ValueError, match="README.md lacks the markers"):
        replace_between("no markers", "<!-- a -->", "<!-- b -->", "x", "README.md")


def test_bench_summary_writes_no_file_when_one_cannot_be_filled(tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import bench_summary as B
    finally:
        sys.path.pop(0)
    data = {"benchmarks": [], "machine_info": {}, "datetime": "2026-12-07T10:01:00"}
    (tmp_path / "b.json").write_text(json.dumps(data), encoding="utf-8")
    good = tmp_path / "good.md"
    good.write_text(f"a\n{B.START}\nold\n{B.END}\nz\n", encoding="utf-8")
    plain = tmp_path / "plain.md"
    plain.write_text("no block\n", encoding="utf-8")
    command = [sys.executable, str(REPO / "scripts" / "bench_summary.py"), str(tmp_path / "b.json")]
    done = subprocess.run(
        [*command, "--write", str(good), str(plain)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "lacks the markers" in done.stderr
    assert "\nold\n" in good.read_text() and plain.read_text() == "no block\n"
