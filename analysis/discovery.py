"""Scenario discovery: which regions of parameter space lead to a scenario of interest?

Given an ensemble (``X``: one row of parameters per run; ``y``: True where the run ended in the
scenario of interest, e.g. "S1"), two standard rule-induction methods describe the region:

* PRIM (Friedman & Fisher 1999; Bryant & Lempert 2010) through ``ema_workbench.analysis.prim``:
  a box (one interval per parameter) traded off between *coverage* (share of all cases of interest
  that fall in the box) and *density* (share of runs in the box that are cases of interest);
* CART through :class:`sklearn.tree.DecisionTreeClassifier`, rendered as text.

No rule-induction algorithm is implemented here. ema_workbench's own logging and its
import-time/pandas warnings are silenced inside these functions.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.tree import DecisionTreeClassifier, export_text

__all__ = ["PrimResult", "cart_tree", "prim_box"]

_EMA_LOGGER = "EMA"  # ema_workbench's root logger; its module loggers are children of it


@contextlib.contextmanager
def _quiet_ema() -> Iterator[None]:
    """Raise the EMA logger to WARNING and drop warnings raised from ema_workbench code."""
    logger = logging.getLogger(_EMA_LOGGER)
    old_level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # import-time notices (optional ipyparallel/altair) and pandas deprecations inside
            # ema_workbench (e.g. DataFrame.drop(inplace=True) under pandas >= 3.1)
            warnings.filterwarnings("ignore", module=r"ema_workbench(\..*)?")
            warnings.filterwarnings("ignore", message=r".*ipyparallel not installed.*")
            warnings.filterwarnings("ignore", message=r".*altair based interactive.*")
            warnings.filterwarnings("ignore", message=r".*inplace keyword.*")
            yield
    finally:
        logger.setLevel(old_level)


def _prim_module() -> ModuleType:
    """Import ``ema_workbench.analysis.prim`` lazily (it is slow to import and noisy)."""
    with _quiet_ema():
        from ema_workbench.analysis import prim

    return prim


@dataclass
class PrimResult:
    """The chosen PRIM box and the peeling/pasting trajectory it was chosen from.

    Attributes
    ----------
    trajectory
        One row per box on ema_workbench's peeling (then pasting) trajectory, columns
        ``coverage, density, mass, res_dim`` (index = step on the trajectory).
    box
        The restricted dimensions of the chosen box: columns ``parameter, low, high`` (for a
        categorical parameter, ``low`` and ``high`` both hold the set of retained categories).
    coverage, density, mass, res_dim
        Statistics of the chosen box.
    index
        Position of the chosen box on ``trajectory``.
    threshold
        Density threshold used for the choice.
    """

    trajectory: pd.DataFrame
    box: pd.DataFrame
    coverage: float
    density: float
    mass: float
    res_dim: int
    index: int
    threshold: float
    box_lims: list[pd.DataFrame] = field(default_factory=list, repr=False)

    def plot_trajectory(self) -> Figure:
        """Coverage–density trade-off of the trajectory, the chosen box circled.

        Colour is the number of restricted dimensions; the dashed line is the density threshold.
        Drawn on an Agg canvas without pyplot.
        """
        fig = Figure(figsize=(5.0, 4.0), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        t = self.trajectory
        points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
        ax.scatter(
            [self.coverage],
            [self.density],
            s=120,
            facecolors="none",
            edgecolors="red",
            linewidths=1.5,
            label=f"chosen box (step {self.index})",
        )
        ax.axhline(self.threshold, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlim(0.0, 1.02)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("coverage (share of all cases inside the box)")
        ax.set_ylabel("density (share of the box that are cases)")
        ax.set_title("PRIM peeling trajectory")
        fig.colorbar(points, ax=ax, label="restricted dimensions")
        ax.legend(frameon=False, loc="lower left")
        return fig


def _prepare_x(x: pd.DataFrame) -> pd.DataFrame:
    """Cast numeric columns to float64/int64: ema_workbench's PRIM only recognises those dtypes
    and silently ignores e.g. float32 columns."""
    out = x.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if pd.api.types.is_bool_dtype(dtype):
            continue
        if pd.api.types.is_float_dtype(dtype):
            out[col] = out[col].astype(np.float64)
        elif pd.api.types.is_integer_dtype(dtype):
            out[col] = out[col].astype(np.int64)
    return out.reset_index(drop=True)


def _prepare_y(y: ArrayLike, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"y must be one-dimensional with {n} entries, got shape {arr.shape}")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise ValueError("y must be boolean (or 0/1): True marks a case of interest")
        arr = arr.astype(bool)
    if not arr.any():
        raise ValueError("y has no cases of interest")
    return arr


def _choose(
    trajectory: pd.DataFrame, threshold: float, select: Literal["f1", "max_coverage", "last"]
) -> int:
    ok = trajectory["density"] >= threshold
    if not ok.any():
        return int(trajectory["density"].idxmax())
    eligible = trajectory[ok]
    if select == "last":
        return int(eligible.index[-1])
    if select == "max_coverage":
        return int(eligible["coverage"].idxmax())
    cov, den = eligible["coverage"], eligible["density"]
    f1 = 2.0 * cov * den / (cov + den)
    return int(f1.idxmax())


def prim_box(
    X: pd.DataFrame,  # noqa: N803 (the conventional name of a design matrix)
    y: np.ndarray,
    threshold: float = 0.8,
    peel_alpha: float = 0.05,
    *,
    select: Literal["f1", "max_coverage", "last"] = "f1",
    mass_min: float = 0.05,
) -> PrimResult:
    """Find the first PRIM box for the cases of interest ``y`` and choose one box on its trajectory.

    ema_workbench's :class:`~ema_workbench.analysis.prim.Prim` peels (and then pastes) one box
    with the default "lenient1" objective; every intermediate box is kept on the trajectory. Which
    box to report is a choice, made here as follows among the boxes whose density is at least
    ``threshold`` (if none reaches it, the densest box on the trajectory is reported):

    * ``select="f1"`` (default): the box with the highest harmonic mean of coverage and density
      (the F1 score of the box read as a classifier of the cases of interest); ties go to the
      earlier, less restricted box;
    * ``select="max_coverage"``: the eligible box with the highest coverage;
    * ``select="last"``: the last eligible box on the trajectory.

    Why not ``"last"`` by default: PRIM keeps peeling while the density rises at all, so with
    noisy labels the end of the trajectory over-fits the noise (tiny gains bought with large
    losses of coverage and spurious restrictions on irrelevant parameters); ``"max_coverage"``
    stops at the loosest box that just passes the threshold, whose limits are then loose. On a
    planted box with 5 % label noise "f1" recovers the planted limits (see the tests).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must lie in (0, 1]")
    if select not in ("f1", "max_coverage", "last"):
        raise ValueError(f"unknown select {select!r}")
    x = _prepare_x(X)
    yy = _prepare_y(y, x.shape[0])
    prim = _prim_module()
    with _quiet_ema():
        algo = prim.Prim(x, yy.copy(), peel_alpha=peel_alpha, mass_min=mass_min)
        found = algo.find_box()
    if found is None:  # pragma: no cover - only when no data remain, excluded by _prepare_y
        raise RuntimeError("PRIM found no box")
    trajectory = (
        found.peeling_trajectory.loc[:, ["coverage", "density", "mass", "res_dim"]]
        .astype({"coverage": float, "density": float, "mass": float, "res_dim": int})
        .reset_index(drop=True)
    )
    trajectory.index.name = "step"
    i = _choose(trajectory, threshold, select)
    lims = found.box_lims[i]
    init = algo.box_init
    rows = []
    for col in lims.columns:
        low, high = lims.loc[0, col], lims.loc[1, col]
        if low != init.loc[0, col] or high != init.loc[1, col]:
            rows.append({"parameter": col, "low": low, "high": high})
    box = pd.DataFrame(rows, columns=["parameter", "low", "high"])
    row = trajectory.loc[i]
    return PrimResult(
        trajectory=trajectory,
        box=box,
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        res_dim=int(row["res_dim"]),
        index=i,
        threshold=threshold,
        box_lims=[bl.copy() for bl in found.box_lims],
    )


def cart_tree(
    X: pd.DataFrame,  # noqa: N803
    y: np.ndarray,
    max_depth: int = 3,
    *,
    min_samples_leaf: int = 1,
    random_state: int = 0,
) -> tuple[DecisionTreeClassifier, str]:
    """Fit a classification tree to the cases of interest and render it as text.

    Non-numeric columns are one-hot encoded (``pandas.get_dummies``); feature names in the text
    are the column names. Returns the fitted tree and :func:`sklearn.tree.export_text` output.
    """
    features = pd.get_dummies(X.reset_index(drop=True))
    yy = _prepare_y(y, features.shape[0])
    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=min_samples_leaf, random_state=random_state
    )
    tree.fit(features, yy)
    text = export_text(tree, feature_names=[str(c) for c in features.columns])
    return tree, text
