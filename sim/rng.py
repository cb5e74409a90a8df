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

import sys

import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = 0x9E3779B9
_W1 = 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ROUNDS = 10
ONE_CALL_COUNTERS = 1 << 14  # up to this many counters a quarter's draws go in one call
_HIGH = 1 if sys.byteorder == "little" else 0  # where the high word of a uint64 sits


def _high_low(products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The high and low 32-bit halves of 64-bit products, as views (no arithmetic)."""
    halves = products.view(np.uint32).reshape(-1, 2)
    return halves[:, _HIGH], halves[:, 1 - _HIGH]


def philox4x32(
    counter: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], key: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Philox4x32-10 block function over arrays of 32-bit counter words.

    Returns the four output words (uint32). Matches the Random123 known-answer vectors (tests).
    The 32×32→64-bit products are split into halves by viewing them as pairs of 32-bit words,
    and the xors run on 32-bit words: half the memory traffic of 64-bit shifts and masks.
    """
    c0, c1, c2, c3 = (np.asarray(c).astype(np.uint32, copy=False).reshape(-1) for c in counter)
    k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
    for r in range(_ROUNDS):
        if r:
            k0 = (k0 + _W0) & 0xFFFFFFFF
            k1 = (k1 + _W1) & 0xFFFFFFFF
        high0, low0 = _high_low(np.multiply(c0, _M0, dtype=np.uint64))  # exact: < 2**64
        high1, low1 = _high_low(np.multiply(c2, _M1, dtype=np.uint64))
        x0 = np.bitwise_xor(high1, c1)
        x0 ^= np.uint32(k0)
        x2 = np.bitwise_xor(high0, c3)
        x2 ^= np.uint32(k1)
        c0, c1, c2, c3 = x0, low1, x2, low0
    return c0, c1, c2, c3


class Streams:
    """Per-replicate random streams for one seed and a set of replicate indices."""

    def __init__(self, seed: int, replicates: np.ndarray):
        seed = int(seed)
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        self.key = (seed & 0xFFFFFFFF, seed >> 32)
        reps = np.asarray(replicates, dtype=np.uint64).reshape(-1)
        self._rep_lo = (reps & _MASK).astype(np.uint32)
        self._rep_hi = (reps >> _S32).astype(np.uint32)
        self._step = np.zeros_like(self._rep_lo)
        self._draw = np.zeros_like(self._rep_lo)
        self._tiled: dict[int, tuple[np.ndarray, ...]] = {}

    def uniforms(self, step: int, draw: int) -> np.ndarray:
        """Four uniforms in (0, 1) per replicate, shape (4, R), for this step and draw."""
        self._step.fill(step)
        self._draw.fill(draw)
        words = philox4x32((self._rep_lo, self._rep_hi, self._step, self._draw), self.key)
        out = np.empty((4, self._rep_lo.size))
        for i, w in enumerate(words):
            np.add(w, 0.5, out=out[i], dtype=np.float64)
        # (w + 0.5) / 2**32 lies strictly inside (0, 1): safe for log() and comparisons.
        out *= 2.0**-32
        return out

    def quarter(self, step: int, draws: int) -> np.ndarray | list[np.ndarray]:
        """Uniforms of draws ``0 … draws-1`` of one step: ``quarter(s, n)[d][lane]``, length R.

        ``quarter(s, n)[d]`` equals ``uniforms(s, d)`` bit for bit (Philox is elementwise). Small
        ensembles draw them in one Philox call (fewer numpy calls); large ones block by block,
        which keeps every temporary below the size at which fresh memory gets expensive
        (measured on the 2-core test machine: one call over 5 × 100,000 counters took about
        twice as long as five calls over 100,000).
        """
        R = self._rep_lo.size
        if draws * R > ONE_CALL_COUNTERS:
            return [self.uniforms(step, d) for d in range(draws)]
        if draws not in self._tiled:
            self._tiled[draws] = (
                np.tile(self._rep_lo, draws),
                np.tile(self._rep_hi, draws),
                np.zeros(draws * R, dtype=np.uint32),
                np.repeat(np.arange(draws, dtype=np.uint32), R),
            )
        lo, hi, steps, draw = self._tiled[draws]
        steps.fill(step)
        words = philox4x32((lo, hi, steps, draw), self.key)
        out = np.empty((4, draws * R))
        for i, w in enumerate(words):
            np.add(w, 0.5, out=out[i], dtype=np.float64)
        out *= 2.0**-32
        return out.reshape(4, draws, R).transpose(1, 0, 2)

    @staticmethod
    def normals(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
        """Standard normals from two uniforms (Box–Muller), computed in place."""
        radius = np.log(u1)
        radius *= -2.0
        np.sqrt(radius, out=radius)
        angle = np.multiply(u2, 2.0 * np.pi)
        np.cos(angle, out=angle)
        radius *= angle
        return radius
