"""Counter-based random numbers that do not depend on batching.

Every random number in the model is a pure function of ``(seed, replicate, step, draw)``:
Philox4x32-10 (Salmon et al., 2011, "Parallel random numbers: as easy as 1, 2, 3") evaluated
over numpy arrays of replicate indices. Replicate ``k`` of seed ``s`` therefore sees the same
numbers whether it runs alone, in a batch of 100,000, in another process or on another machine —
there is no shared generator whose position shifts with the batch size.

One call to :meth:`Streams.uniforms` returns four independent uniforms per replicate (the four
32-bit words of one Philox block); ``draw`` numbers each call within a step.
"""

from __future__ import annotations

import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = 0x9E3779B9
_W1 = 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ROUNDS = 10


def philox4x32(
    counter: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], key: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Philox4x32-10 block function over arrays of 32-bit counter words (held in uint64).

    Returns the four output words. Matches the Random123 known-answer vectors (tests).
    """
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in counter)
    k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
    for r in range(_ROUNDS):
        if r:
            k0 = (k0 + _W0) & 0xFFFFFFFF
            k1 = (k1 + _W1) & 0xFFFFFFFF
        p0 = c0 * _M0  # exact: both factors < 2**32
        p1 = c2 * _M1
        c0, c1, c2, c3 = (
            (p1 >> _S32) ^ c1 ^ np.uint64(k0),
            p1 & _MASK,
            (p0 >> _S32) ^ c3 ^ np.uint64(k1),
            p0 & _MASK,
        )
    return c0, c1, c2, c3


class Streams:
    """Per-replicate random streams for one seed and a set of replicate indices."""

    def __init__(self, seed: int, replicates: np.ndarray):
        seed = int(seed)
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        self.key = (seed & 0xFFFFFFFF, seed >> 32)
        reps = np.asarray(replicates, dtype=np.uint64)
        self._rep_lo = reps & _MASK
        self._rep_hi = reps >> _S32
        self._zeros = np.zeros_like(self._rep_lo)

    def uniforms(self, step: int, draw: int) -> np.ndarray:
        """Four uniforms in (0, 1) per replicate, shape (4, R), for this step and draw."""
        words = philox4x32(
            (
                self._rep_lo,
                self._rep_hi,
                self._zeros + np.uint64(step),
                self._zeros + np.uint64(draw),
            ),
            self.key,
        )
        out = np.empty((4, self._rep_lo.size))
        for i, w in enumerate(words):
            # (w + 0.5) / 2**32 lies strictly inside (0, 1): safe for log() and comparisons.
            np.multiply(w.astype(np.float64) + 0.5, 2.0**-32, out=out[i])
        return out

    @staticmethod
    def normals(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
        """Standard normals from two uniforms (Box–Muller)."""
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
