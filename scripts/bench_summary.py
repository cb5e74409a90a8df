"""Print the replicate-runs per second recorded by the benchmarks (``make bench``).

pytest-benchmark's table shows seconds per round; the runs/s figures the README quotes live in
each benchmark's ``extra_info``, read here from the JSON file pytest-benchmark wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> int:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    print(f"\n{'benchmark':<45} extra figures")
    for bench in data["benchmarks"]:
        info = ", ".join(f"{k}={v}" for k, v in bench.get("extra_info", {}).items())
        print(f"{bench['name']:<45} {info}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".benchmarks/latest.json"))
