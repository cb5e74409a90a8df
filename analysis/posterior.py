"""The history-matched posterior as an input of forward runs (issue 21).

``python -m analysis.calibrate`` matches chosen parameters to the record's numbers (containers
shipped by date, summit counts, the treaty's quarter: ``sim/data/record.csv``) and writes
``posterior.csv``: one row per particle, a column per calibrated parameter, and ``weight``. The
project ships one such file, ``sim/data/posterior.csv``, made by the command in docs/VALIDATION.md.

``posterior=default`` (the shipped file) or ``posterior=PATH`` in ``experiments.run`` draws each
replicate's calibrated parameters from it: replicate k of seed s takes the particle its own
uniform picks (quarter 0 of its random stream, which no quarter of the model reads), so the draw,
like the trajectory, does not depend on the batch or on how many replicates run.
``hedge_draws`` does the same for the limit strengths over the article's hedge ranges (issue 22).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim import params as P

DEFAULT = "default"
DEFAULT_FILE = Path(__file__).resolve().parents[1] / "sim" / "data" / "posterior.csv"
WEIGHT = "weight"
DRAW = 7  # the Philox draw of quarter 0 that picks a replicate's particle
# The article's hedges (issue 22): each limit strength drawn per replicate over its plausible
# range by its own uniform of quarter 0 — (draw, lane) pairs no other part of the model reads.
HEDGE_DRAWS = ((DRAW, 1), (DRAW, 2), (DRAW, 3), (DRAW + 1, 0), (DRAW + 1, 1), (DRAW + 1, 2))
HEDGES = tuple(p.key for p in P.PARAMETERS if p.group == "limits")
MAX_BYTES = 50 * 2**20  # a posterior larger than this is not a posterior file


@dataclass(frozen=True)
class PosteriorTable:
    """Particles (n, k) of the calibrated parameters, normalised weights, the file's hash."""

    path: str
    parameters: tuple[str, ...]
    theta: np.ndarray
    weights: np.ndarray
    sha256: str

    def describe(self) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "particles": int(self.theta.shape[0]),
            "parameters": list(self.parameters),
        }

    def draw(self, seed: int, replicates: int | np.ndarray) -> dict[str, np.ndarray]:
        """One particle per replicate, by replicate id: arrays by dotted key."""
        from sim.rng import Streams  # numba: not at import (the command line is checked first)

        ids = np.arange(replicates) if np.isscalar(replicates) else np.asarray(replicates)
        u = Streams(int(seed), ids.astype(np.int64)).uniforms(0, DRAW)[0]
        cdf = np.cumsum(self.weights)
        pick = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(cdf) - 1)
        out = {}
        for j, key in enumerate(self.parameters):
            values = self.theta[pick, j]
            out[key] = np.round(values) if P.BY_KEY[key].kind is int else values
        return out


def hedged_keys(params: dict[str, object]) -> list[str]:
    """The limits a run leaves at their defaults: ``hedges=true`` draws these per replicate."""
    return [k for k in HEDGES if params[k] == P.BY_KEY[k].default]


def hedge_draws(
    seed: int,
    replicates: int | np.ndarray,
    *,
    beyond: bool = False,
    keys: list[str] | tuple[str, ...] = HEDGES,
) -> dict[str, np.ndarray]:
    """Each limit strength per replicate, uniform over its plausible range (docs/ODD.md §7.9.1:
    the range read from the article's hedge word), by replicate id like :meth:`draw`.
    ``beyond``: over the whole range 0–1 instead (what the hedges rule out included); ``keys``:
    only these limits (each keeps its own draw whichever others are drawn)."""
    from sim.rng import Streams

    ids = np.arange(replicates) if np.isscalar(replicates) else np.asarray(replicates)
    streams = Streams(int(seed), ids.astype(np.int64))
    lanes = {d: streams.uniforms(0, d) for d in {d for d, _ in HEDGE_DRAWS}}
    out = {}
    for key, (draw, lane) in zip(HEDGES, HEDGE_DRAWS, strict=True):
        param = P.BY_KEY[key]
        low, high = (param.low, param.high) if beyond else param.plausible_bounds()
        out[key] = low + (high - low) * lanes[draw][lane]
    return {k: v for k, v in out.items() if k in keys}


def resolve_path(spec: str) -> Path:
    return DEFAULT_FILE if spec == DEFAULT else Path(spec)


def load(spec: str) -> PosteriorTable:
    """Read ``default`` or a path; raise ``ParameterError`` in one line if it is not a posterior."""
    import pandas as pd

    path = resolve_path(spec)
    if not path.is_file():
        raise P.ParameterError(
            f"posterior={spec}: no such file; expected 'default' or the path of a posterior.csv "
            "written by python -m analysis.calibrate"
        )
    if path.stat().st_size > MAX_BYTES:
        raise P.ParameterError(f"posterior={spec}: larger than {MAX_BYTES // 2**20} MiB")
    data = path.read_bytes()
    try:
        frame = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as error:
        raise P.ParameterError(f"posterior={spec}: not a CSV table ({error})") from None
    if WEIGHT not in frame.columns:
        raise P.ParameterError(f"posterior={spec}: no '{WEIGHT}' column")
    keys = tuple(c for c in frame.columns if c in P.BY_KEY)
    if not keys or len(frame) == 0:
        raise P.ParameterError(f"posterior={spec}: no parameter columns or no particles")
    for key in keys:
        P.BY_KEY[key].resolve_array(frame[key].to_numpy())
    weights = frame[WEIGHT].to_numpy(dtype=float)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise P.ParameterError(f"posterior={spec}: weights must be finite, ≥ 0 and not all 0")
    return PosteriorTable(
        path=str(spec),
        parameters=keys,
        theta=frame[list(keys)].to_numpy(dtype=float),
        weights=weights / weights.sum(),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def for_run(spec: str, params: dict[str, object]) -> PosteriorTable:
    """The posterior of ``posterior=spec`` for a run with ``params``; one-line error if a
    calibrated parameter is also set away from its default (it would be silently replaced)."""
    table = load(spec)
    defaults = P.defaults()
    set_here = [k for k in table.parameters if params[k] != defaults[k]]
    if set_here:
        raise P.ParameterError(
            f"{set_here[0]}={params[set_here[0]]} is drawn from posterior={spec}: set it "
            "without posterior=, or leave it at its default"
        )
    return table
