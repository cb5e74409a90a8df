"""The robustness checks' tables and figures, read from what ``experiments.robustness`` wrote.

``experiments.robustness`` simulates and re-classifies; this module summarises the classifier
definitions (the share of definitions in which S2 > S1, the range of each share), names the
parameters that carry the headline in the Morris screening and draws both figures, so that
``analysis.report`` can show them without importing the command (imports point one way). Ids: S1,
S2 (docs/ODD.md §7.9).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.figures import SCENARIO_COLOURS, SCENARIO_NAMES
from sim.classifier import SCENARIOS

MD_FILE, DEF_CSV, MORRIS_CSV, DEF_PNG, MORRIS_PNG, JSON_FILE = (
    "robustness.md",
    "robustness_definitions.csv",
    "robustness_morris.csv",
    "robustness_definitions.png",
    "robustness_morris.png",
    "robustness.json",
)
#: Files the command may write (``robustness.json`` last).
ROBUSTNESS_FILES = (MD_FILE, DEF_CSV, MORRIS_CSV, DEF_PNG, MORRIS_PNG, JSON_FILE)
DUMMY = "(replicate block)"  # the Morris dummy: only the block of replicate ids changes
OUTPUTS = {"S2": "S2 share", "S1": "S1 share", "S2-S1": "S2 − S1"}


def summarise_definitions(table: pd.DataFrame) -> pd.DataFrame:
    """Per ensemble: definitions, share with S2 > S1, and min/median/max of each share."""
    rows = []
    for name, part in table.groupby("ensemble", sort=False):
        row: dict[str, Any] = {
            "ensemble": name,
            "definitions": len(part),
            "share_s2_above_s1": float(part["s2_above_s1"].mean()),
        }
        for s in SCENARIOS:
            values = part[f"{s}_share"]
            row |= {
                f"{s}_min": float(values.min()),
                f"{s}_median": float(values.median()),
                f"{s}_max": float(values.max()),
            }
        rows.append(row)
    return pd.DataFrame(rows)


def definitions_figure(table: pd.DataFrame, defaults: pd.DataFrame | None = None) -> Figure:
    """S1 and S2 shares across the definitions (one dot per definition), per ensemble."""
    ensembles = list(dict.fromkeys(table["ensemble"]))
    fig = Figure(figsize=(4.2 * len(ensembles), 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(ensembles), squeeze=False, sharex=True, sharey=True)[0]
    for ax, name in zip(axes, ensembles, strict=True):
        part = table[table["ensemble"] == name]
        ax.plot([0, 100], [0, 100], color="#999999", lw=0.8, ls="--")
        ax.scatter(
            100 * part["S1_share"],
            100 * part["S2_share"],
            s=10,
            color=SCENARIO_COLOURS["S2"],
            alpha=0.6,
            label="one classifier definition",
        )
        if defaults is not None:
            d = defaults[defaults["ensemble"] == name]
            ax.scatter(
                100 * d["S1_share"],
                100 * d["S2_share"],
                s=60,
                marker="*",
                color=SCENARIO_COLOURS["S1"],
                label="the default definition",
            )
        share = part["s2_above_s1"].mean()
        ax.set_title(f"{name}: S2 > S1 in {share:.0%} of definitions", fontsize=9)
        ax.set_xlabel(f"{SCENARIO_NAMES['S1']}, % of runs")
        ax.set_xlim(-2, 102)
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"{SCENARIO_NAMES['S2']}, % of runs")
    axes[0].legend(fontsize=7, loc="upper right")
    return fig


def carriers(table: pd.DataFrame, output: str = OUTPUTS["S2-S1"]) -> list[str]:
    """The parameters that carry ``output``, largest mu* first."""
    part = table[(table["output"] == output) & table["carries"]]
    return list(part.sort_values("mu_star", ascending=False)["parameter"])


def morris_figure(table: pd.DataFrame, top: int = 15) -> Figure:
    """mu* of S2 − S1 for the leading parameters, with the dummy's noise floor."""
    part = table[table["output"] == OUTPUTS["S2-S1"]].sort_values("mu_star", ascending=False)
    floor = part[part["parameter"] == DUMMY].iloc[0]
    shown = part[part["parameter"] != DUMMY].head(top)[::-1]
    fig = Figure(figsize=(7.5, 0.32 * len(shown) + 1.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colours = [SCENARIO_COLOURS["S2"] if c else "#bbbbbb" for c in shown["carries"]]
    ax.barh(shown["parameter"], shown["mu_star"], xerr=shown["mu_star_conf"], color=colours)
    ax.axvline(floor["mu_star"], color="black", ls="--", lw=0.8)
    ax.text(
        floor["mu_star"],
        -0.9,
        " sampling-noise floor (dummy)",
        fontsize=7,
        va="bottom",
    )
    ax.set_xlabel("Morris mu* of S2 − S1 (share of runs per full parameter range)")
    ax.set_title(
        "Which parameters carry the headline (coloured: above the noise floor)", fontsize=9
    )
    ax.tick_params(axis="y", labelsize=7)
    return fig
