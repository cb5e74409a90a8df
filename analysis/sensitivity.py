"""Global sensitivity analysis of model outputs with SALib.

Thin, typed wrappers around SALib's samplers and analysers (nothing of Sobol', Saltelli or
Morris is re-implemented here):

1. :func:`make_problem` describes the uncertain parameters and their ranges;
2. :func:`sample_design` draws a design (Saltelli/Sobol', Morris trajectories or a Latin
   hypercube) as a DataFrame whose row order must be kept, because the analysers rely on it;
3. the model is run once per design row, giving one output vector ``y`` per quantity of interest;
4. :func:`sobol_indices` / :func:`morris_indices` estimate the indices, :func:`rank_drivers`
   collects them into one tidy table and :func:`sobol_bar_chart` draws them.

Second-order Sobol' indices are not computed (``calc_second_order=False``): the design then costs
``n * (D + 2)`` model runs instead of ``n * (2 D + 2)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import latin as latin_sample
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

__all__ = [
    "MORRIS_LEVELS",
    "Problem",
    "make_problem",
    "morris_indices",
    "rank_drivers",
    "sample_design",
    "sobol_bar_chart",
    "sobol_indices",
]

#: Number of grid levels of the Morris design; sampling and analysis must use the same value.
MORRIS_LEVELS = 4


@dataclass(frozen=True)
class Problem:
    """Uncertain parameters and their (uniform) ranges, in SALib's sense of a "problem"."""

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]

    @property
    def num_vars(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def to_salib(self) -> dict[str, Any]:
        """The problem as the dict SALib expects."""
        return {
            "num_vars": self.num_vars,
            "names": list(self.names),
            "bounds": [list(b) for b in self.bounds],
        }


def make_problem(names: list[str], bounds: list[tuple[float, float]]) -> Problem:
    """Build a :class:`Problem`; checks that names are unique and every ``low < high``."""
    if len(names) != len(bounds):
        raise ValueError(f"{len(names)} names but {len(bounds)} bounds")
    if len(set(names)) != len(names):
        raise ValueError("parameter names must be unique")
    if not names:
        raise ValueError("at least one parameter is needed")
    clean: list[tuple[float, float]] = []
    for name, (low, high) in zip(names, bounds, strict=True):
        low, high = float(low), float(high)
        if not low < high:
            raise ValueError(f"bounds of {name!r} must satisfy low < high, got {(low, high)}")
        clean.append((low, high))
    return Problem(names=tuple(names), bounds=tuple(clean))


def _salib(problem: Problem | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(problem, Problem):
        return problem.to_salib()
    return dict(problem)


def sample_design(
    problem: Problem,
    method: Literal["sobol", "morris", "lhs"],
    n: int,
    seed: int,
) -> pd.DataFrame:
    """Draw a design; one row per model run, one column per parameter, in design order.

    ``n`` means what SALib means by it:

    * ``"sobol"``: base sample size of the Saltelli/Sobol' scheme (use a power of 2; SALib warns
      otherwise); the design has ``n * (D + 2)`` rows (no second-order indices).
    * ``"morris"``: number of trajectories on a :data:`MORRIS_LEVELS`-level grid; the design has
      ``n * (D + 1)`` rows.
    * ``"lhs"``: number of Latin-hypercube points (for exploration/scenario discovery; there is no
      matching SALib analyser here).
    """
    sp = _salib(problem)
    if n < 1:
        raise ValueError("n must be positive")
    if method == "sobol":
        x = sobol_sample.sample(sp, n, calc_second_order=False, seed=seed)
    elif method == "morris":
        x = morris_sample.sample(sp, n, num_levels=MORRIS_LEVELS, seed=seed)
    elif method == "lhs":
        x = latin_sample.sample(sp, n, seed=seed)
    else:
        raise ValueError(f"unknown method {method!r}; use 'sobol', 'morris' or 'lhs'")
    return pd.DataFrame(x, columns=list(sp["names"]))


def _output_vector(y: ArrayLike) -> np.ndarray:
    arr = np.asarray(y, dtype=float)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise ValueError("model output contains NaN or infinite values")
    return arr


def sobol_indices(problem: Problem, y: ArrayLike, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol' indices from outputs of a ``"sobol"`` design.

    ``y`` must be in design order. Returns a DataFrame indexed by parameter with columns
    ``S1, S1_conf, ST, ST_conf``; the ``_conf`` columns are SALib's bootstrap half-widths of the
    95 % confidence interval (``seed`` fixes the bootstrap). A constant output has no variance
    to apportion; every index is then reported as 0 (no parameter drives it).
    """
    sp = _salib(problem)
    arr = _output_vector(y)
    columns = ["S1", "S1_conf", "ST", "ST_conf"]
    index = pd.Index(list(sp["names"]), name="parameter")
    if arr.size % (sp["num_vars"] + 2) != 0:
        raise ValueError(
            f"len(y) = {arr.size} is not a multiple of D + 2 = {sp['num_vars'] + 2}; "
            "was y produced from a 'sobol' design of this problem?"
        )
    if np.ptp(arr) == 0:
        return pd.DataFrame(0.0, index=index, columns=columns)
    # SALib tests `if seed:` so an int seed of 0 would silently be ignored; a Generator is not.
    res = sobol_analyze.analyze(
        sp,
        arr,
        calc_second_order=False,
        conf_level=0.95,
        seed=np.random.default_rng(seed),
    )
    return pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in columns}, index=index)


def morris_indices(
    problem: Problem, design: pd.DataFrame | np.ndarray, y: ArrayLike, seed: int = 0
) -> pd.DataFrame:
    """Morris elementary-effect statistics from outputs of a ``"morris"`` design.

    Returns a DataFrame indexed by parameter with columns ``mu_star`` (mean absolute elementary
    effect), ``mu_star_conf`` (bootstrap 95 % half-width) and ``sigma`` (spread of the effects,
    a sign of interactions or non-linearity).
    """
    sp = _salib(problem)
    if isinstance(design, pd.DataFrame):
        x = design.loc[:, list(sp["names"])].to_numpy(dtype=float)
    else:
        x = np.asarray(design, dtype=float)
    arr = _output_vector(y)
    if x.shape[0] != arr.size:
        raise ValueError(f"design has {x.shape[0]} rows but y has {arr.size} values")
    res = morris_analyze.analyze(sp, x, arr, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=seed)
    cols = ["mu_star", "mu_star_conf", "sigma"]
    return pd.DataFrame(
        {c: np.asarray(res[c], dtype=float) for c in cols},
        index=pd.Index(list(sp["names"]), name="parameter"),
    )


def rank_drivers(indices_by_output: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Tidy table of total-order indices across outputs, ranked within each output.

    Columns: ``output, parameter, ST, ST_conf, rank``; rank 1 is the largest ``ST`` of that
    output (ties broken by parameter order). Rows follow the dict order of the outputs, then rank.
    """
    frames = []
    for output, ind in indices_by_output.items():
        part = pd.DataFrame(
            {
                "output": output,
                "parameter": ind.index.astype(str),
                "ST": ind["ST"].to_numpy(dtype=float),
                "ST_conf": ind["ST_conf"].to_numpy(dtype=float),
            }
        )
        part["rank"] = part["ST"].rank(ascending=False, method="first").astype(int)
        frames.append(part.sort_values("rank", kind="stable"))
    if not frames:
        return pd.DataFrame(columns=["output", "parameter", "ST", "ST_conf", "rank"])
    return pd.concat(frames, ignore_index=True)


def sobol_bar_chart(indices: pd.DataFrame, title: str) -> Figure:
    """Grouped bar chart of S1 and ST per parameter with 95 % confidence error bars.

    Drawn on an Agg canvas without pyplot (no global figure state, nothing is shown).
    """
    fig = Figure(figsize=(max(4.0, 0.9 * len(indices) + 2.0), 3.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(len(indices))
    width = 0.38
    ax.bar(
        x - width / 2,
        indices["S1"],
        width,
        yerr=indices["S1_conf"],
        capsize=3,
        label="first-order index",
    )
    ax.bar(
        x + width / 2, indices["ST"], width, yerr=indices["ST_conf"], capsize=3, label="total index"
    )
    ax.set_xticks(x, [str(i) for i in indices.index], rotation=30, ha="right")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlabel("parameter")
    ax.set_ylabel("Sobol' index (share of output variance)")
    ax.set_title(title)
    ax.legend(frameon=False)
    return fig
