"""Counter-based random numbers that do not depend on batching.

Every random number in the model is a pure function of ``(seed, replicate, step, draw)``:
Philox4x32-10 (Salmon et al., 2011, "Parallel random numbers: as easy as 1, 2, 3") evaluated
over numpy arrays of replicate indices. Replicate ``k`` of seed ``s`` therefore sees the same
numbers whether it runs alone, in a batch of 100,000, in another process or on another machine —
there is no shared generator whose position shifts with the batch size.

One call to :meth:`Streams.uniforms` returns four independent uniforms per replicate (the four
32-bit words of one Philox block); ``draw`` numbers each call within a step.

Two implementations of the same function: ``philox4x32`` in numpy, the readable specification
checked against the Random123 known-answer vectors, and ``_philox_uniforms``, the same rounds
compiled by numba into one pass per block that writes the uniforms directly (about ten times
faster at R = 100,000, issue 13). ``tests/test_rng.py`` checks that the two agree bit for bit.
"""

from __future__ import annotations

import sys

import numba
import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = 0x9E3779B9
_W1 = 0xBB67AE85
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ROUNDS = 10
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


_TO_UNIT = 2.0**-32  # (w + 0.5) / 2**32 lies strictly inside (0, 1): safe for log() and comparisons
_W0_64, _W1_64 = np.uint64(_W0), np.uint64(_W1)


@numba.njit(cache=True, nogil=True)
def _philox_uniforms(
    rep_lo: np.ndarray, rep_hi: np.ndarray, step: int, draw: int, k0: int, k1: int, out: np.ndarray
) -> None:
    """``philox4x32`` of counters (rep_lo, rep_hi, step, draw), as uniforms into out (4, R).

    The same rounds as ``philox4x32``, on 64-bit words masked to 32 bits, one replicate at a time
    (the compiler vectorises the loop over replicates).
    """
    for i in range(rep_lo.size):
        c0, c1 = np.uint64(rep_lo[i]), np.uint64(rep_hi[i])
        c2, c3 = np.uint64(step), np.uint64(draw)
        a0, a1 = np.uint64(k0), np.uint64(k1)
        for _ in range(_ROUNDS):
            p0, p1 = c0 * _M0, c2 * _M1
            c0, c2 = (p1 >> _S32) ^ c1 ^ a0, (p0 >> _S32) ^ c3 ^ a1
            c1, c3 = p1 & _MASK, p0 & _MASK
            a0, a1 = (a0 + _W0_64) & _MASK, (a1 + _W1_64) & _MASK
        out[0, i] = (np.float64(np.uint32(c0)) + 0.5) * _TO_UNIT
        out[1, i] = (np.float64(np.uint32(c1)) + 0.5) * _TO_UNIT
        out[2, i] = (np.float64(np.uint32(c2)) + 0.5) * _TO_UNIT
        out[3, i] = (np.float64(np.uint32(c3)) + 0.5) * _TO_UNIT


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
        self._block: np.ndarray | None = None  # this quarter's uniforms (draw, lane, replicate)

    def uniforms(self, step: int, draw: int) -> np.ndarray:
        """Four uniforms in (0, 1) per replicate, shape (4, R), for this step and draw."""
        out = np.empty((4, self._rep_lo.size))
        _philox_uniforms(self._rep_lo, self._rep_hi, step, draw, *self.key, out)
        return out

    def quarter(self, step: int, draws: int) -> np.ndarray:
        """Uniforms of draws ``0 … draws-1`` of one step: ``quarter(s, n)[d][lane]``, length R.

        ``quarter(s, n)[d]`` equals ``uniforms(s, d)`` bit for bit. The block is reused from one
        quarter to the next: the previous quarter's draws are overwritten.
        """
        R = self._rep_lo.size
        if self._block is None or self._block.shape[0] != draws:
            self._block = np.empty((draws, 4, R))
        for d in range(draws):
            _philox_uniforms(self._rep_lo, self._rep_hi, step, d, *self.key, self._block[d])
        return self._block

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
