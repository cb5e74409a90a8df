"""Sampled designs (Latin hypercube, Sobol'/Saltelli, Morris) evaluated in chunks.

A design draws its points from the ranges declared in ``sim.params`` (through
``analysis.sensitivity.sample_design``, i.e. SALib). Hydra composes one job per *chunk*, not per
point: each job regenerates the whole design (deterministic in the seed), takes its slice of
points and runs them as ONE ensemble model whose parameters are arrays over replicates.

Replicate ``r`` of design point ``i`` always has replicate id ``i * replicates_per_point + r``,
so its random numbers (and hence its result) do not depend on how the design was chunked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import params as P

if TYPE_CHECKING:
    import pandas as pd

    from analysis.sensitivity import Problem

METHODS = ("lhs", "sobol", "morris")


@dataclasses.dataclass(frozen=True)
class Design:
    """A sampled design: which parameters vary, how points are drawn, how they are chunked."""

    method: str
    parameters: tuple[str, ...]
    points: int  # SALib's n: base sample (sobol), trajectories (morris), points (lhs)
    seed: int
    replicates_per_point: int = 1
    chunks: int = 1

    def __post_init__(self) -> None:
        check(self)

    @property
    def problem(self) -> Problem:
        from analysis.sensitivity import make_problem  # SALib: imported only for designs

        bounds = [(P.BY_KEY[k].low, P.BY_KEY[k].high) for k in self.parameters]
        return make_problem(list(self.parameters), bounds)

    def table(self) -> pd.DataFrame:
        """Every design point in design order (row ``i`` is point ``i``); integers rounded."""
        from analysis.sensitivity import sample_design

        frame = sample_design(self.problem, self.method, self.points, seed=self.seed)  # type: ignore[arg-type]
        for key in self.parameters:
            if P.BY_KEY[key].kind is int:
                frame[key] = np.rint(frame[key])
        return frame

    def size(self) -> int:
        """Number of design points (rows of ``table()``)."""
        d = len(self.parameters)
        return {"sobol": self.points * (d + 2), "morris": self.points * (d + 1)}.get(
            self.method, self.points
        )

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """Points ``[start, stop)`` evaluated by ``chunk`` (near-equal contiguous slices)."""
        if not 0 <= chunk < self.chunks:
            raise P.ParameterError(
                f"design.chunk={chunk} is out of range: expected 0 to {self.chunks - 1} "
                f"(design.chunks={self.chunks})"
            )
        edges = np.linspace(0, self.size(), self.chunks + 1).round().astype(int)
        return int(edges[chunk]), int(edges[chunk + 1])

    def describe(self) -> dict[str, Any]:
        """The design as recorded in ``sweep.json``."""
        return {
            "method": self.method,
            "parameters": list(self.parameters),
            "bounds": [list(b) for b in self.problem.bounds],
            "points": self.points,
            "rows": self.size(),
            "seed": self.seed,
            "replicates_per_point": self.replicates_per_point,
            "chunks": self.chunks,
        }

    def fingerprint(self, base: dict[str, Any], horizon: int) -> str:
        """Hash of what determines the design's results; independent of the chunking."""
        payload = {k: v for k, v in self.describe().items() if k != "chunks"}
        text = json.dumps({"design": payload, "base": base, "horizon": horizon}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def check(design: Design) -> None:
    """Raise ``ParameterError`` naming the design key and what is allowed."""
    if design.method not in METHODS:
        raise P.ParameterError(
            f"design.method={design.method!r} is not allowed: expected one of "
            + ", ".join(("none", *METHODS))
        )
    if not design.parameters:
        raise P.ParameterError("design.parameters is empty: list the dotted keys to vary")
    if len(set(design.parameters)) != len(design.parameters):
        raise P.ParameterError(f"design.parameters={list(design.parameters)} repeats a key")
    for key in design.parameters:
        if key not in P.BY_KEY:
            raise P.ParameterError(
                f"design.parameters: unknown parameter {key!r}: {P.suggest(key)}"
            )
        if P.BY_KEY[key].kind is bool:
            raise P.ParameterError(
                f"design.parameters: {key!r} is true/false and cannot be sampled from a range"
            )
        if P.BY_KEY[key].group not in P.MODEL_GROUPS:
            # The classifier's horizons and thresholds define the outcome, they are not an
            # uncertain input of the model; sampling them would also break short < medium.
            raise P.ParameterError(
                f"design.parameters: {key!r} is a classifier setting and cannot be sampled; "
                f"allowed are the model groups " + ", ".join(P.MODEL_GROUPS)
            )
    for name in ("points", "chunks", "replicates_per_point"):
        if int(getattr(design, name)) < 1:
            raise P.ParameterError(f"design.{name}={getattr(design, name)} must be at least 1")
    if design.chunks > design.size():
        raise P.ParameterError(
            f"design.chunks={design.chunks} exceeds the design's {design.size()} points"
        )


def from_config(cfg: Any, seed: int) -> Design | None:
    """The design of a composed config (``cfg.design``), or None when ``method`` is ``none``."""
    d = cfg.design
    if str(d.method) == "none":
        return None
    return Design(
        method=str(d.method),
        parameters=tuple(str(k) for k in d.parameters),
        points=int(d.points),
        seed=int(seed),
        replicates_per_point=int(d.replicates_per_point),
        chunks=int(d.chunks),
    )


def chunk_inputs(
    design: Design, chunk: int, base: dict[str, Any]
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """(parameters with arrays over replicates, replicate ids, design point of each replicate)."""
    start, stop = design.chunk_range(chunk)
    table = design.table().iloc[start:stop]
    rpp = design.replicates_per_point
    point = np.repeat(np.arange(start, stop, dtype=np.int64), rpp)
    replicate = point * rpp + np.tile(np.arange(rpp, dtype=np.int64), stop - start)
    varied = {k: np.repeat(table[k].to_numpy(dtype=float), rpp) for k in design.parameters}
    return P.resolve({**base, **varied}), replicate, point


def evaluate_chunk(
    design: Design,
    chunk: int,
    base: dict[str, Any],
    *,
    horizon: int,
    batch_size: int = 100_000,
    quantiles: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run one chunk in memory (in ``batch_size`` batches); rows start with a ``point`` column.

    For tests and notebooks; ``experiments.run`` streams a chunk to its files instead.
    """
    import pandas as pd

    from experiments import runner

    params, replicate, point = chunk_inputs(design, chunk, base)
    frames: list[pd.DataFrame] = []
    out = runner.stream_point(
        params,
        seed=design.seed,
        replicates=replicate,
        horizon=horizon,
        batch_size=batch_size,
        quantiles=quantiles,
        points=point,
        sink=frames.append,
    )
    return pd.concat(frames, ignore_index=True), out.fan
