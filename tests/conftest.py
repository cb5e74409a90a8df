"""Shared pytest hooks: print every test's recorded ``measured`` property in the summary.

A test that calls ``record_property("measured", "...")`` (e.g. the replay pattern checks, which
state a measured value next to its tolerance) gets that line shown in the normal terminal output,
whatever the outcome and without ``-s``.
"""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter) -> None:
    lines = []
    for outcome, reports in terminalreporter.stats.items():
        for rep in reports:
            if getattr(rep, "when", None) != "call":
                continue
            for name, value in getattr(rep, "user_properties", ()):
                if name == "measured":
                    lines.append(f"{outcome.upper():>8} {rep.nodeid.split('::')[-1]}: {value}")
    if lines:
        terminalreporter.section("measured values")
        for line in lines:
            terminalreporter.write_line(line)
