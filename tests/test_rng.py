"""Counter-based randomness (sim.rng) and the batching independence it buys (issue 2, point 4).

Philox4x32-10 must match the Random123 known-answer vectors; its uniforms must lie strictly in
(0, 1) and look uniform; and replicate k of seed s must be the same trajectory, bit for bit,
whether it runs alone, inside batches of 10 or 1,000, inside a shuffled or offset array of
replicate ids, or in another process.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.classifier import classify
from sim.model import TRACKED, RussiaDPRKModel
from sim.rng import Streams, philox4x32

ROOT = Path(__file__).resolve().parents[1]
SEED = 20241001


def _words(*hexes: str) -> tuple[np.ndarray, ...]:
    return tuple(np.array([int(h, 16)], dtype=np.uint64) for h in hexes)


@pytest.mark.parametrize(
    ("counter", "key", "expected"),
    [
        (
            ("00000000",) * 4,
            ("00000000",) * 2,
            ("6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"),
        ),
        (
            ("ffffffff",) * 4,
            ("ffffffff",) * 2,
            ("408f276d", "41c83b0e", "a20bc7c6", "6d5451fd"),
        ),
        (
            ("243f6a88", "85a308d3", "13198a2e", "03707344"),
            ("a4093822", "299f31d0"),
            ("d16cfe09", "94fdcceb", "5001e420", "24126ea1"),
        ),
    ],
    ids=["zeros", "ones", "pi"],
)
def test_philox_known_answer_vectors(counter, key, expected) -> None:
    """Philox4x32-10 equals the Random123 KAT vectors (kat_vectors, philox4x32 10 rounds)."""
    out = philox4x32(_words(*counter), tuple(int(k, 16) for k in key))
    assert [f"{int(w[0]):08x}" for w in out] == list(expected)


def test_philox_is_elementwise_over_arrays() -> None:
    """A vector of counters gives the same words as each counter alone (no cross-talk)."""
    counters = [np.array([0, 1, 2**32 - 1], dtype=np.uint64)] * 4
    together = philox4x32(tuple(counters), (5, 7))
    for i in range(3):
        alone = philox4x32(tuple(c[i : i + 1] for c in counters), (5, 7))
        assert [int(w[i]) for w in together] == [int(w[0]) for w in alone]


def test_compiled_kernel_equals_the_numpy_specification() -> None:
    """The numba kernel the model draws from gives philox4x32's words bit for bit (issue 13):
    counters across the whole 32-bit range, ids above 2**32, keys with every bit set."""
    rng = np.random.default_rng(11)
    ids = np.concatenate([np.arange(5), rng.integers(0, 2**40, 995), [2**32 - 1, 2**32, 2**63]])
    ids = ids.astype(np.uint64)
    for seed, step, draw in ((0, 0, 0), (SEED, 17, 3), (2**64 - 1, 2**32 - 1, 2**32 - 1)):
        streams = Streams(seed, ids)
        words = philox4x32(
            (
                ids & 0xFFFFFFFF,
                ids >> np.uint64(32),
                np.full(ids.size, step),
                np.full(ids.size, draw),
            ),
            streams.key,
        )
        expected = np.stack([(w.astype(np.float64) + 0.5) * 2.0**-32 for w in words])
        assert streams.uniforms(step, draw).tobytes() == expected.tobytes()
        block = streams.quarter(step, draw + 1) if draw < 8 else None
        if block is not None:
            assert block[draw].tobytes() == expected.tobytes()


def test_uniforms_in_open_interval_and_uniform() -> None:
    """Uniforms lie strictly inside (0, 1) and pass a KS test for U(0, 1) (fixed seed)."""
    streams = Streams(SEED, np.arange(50_000))
    u = np.concatenate([streams.uniforms(step, 0).ravel() for step in range(2)])
    assert u.size == 400_000
    assert (u > 0).all() and (u < 1).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # The four lanes are not copies of each other.
    lanes = streams.uniforms(3, 1)
    assert abs(np.corrcoef(lanes)[np.triu_indices(4, 1)]).max() < 0.02


def test_streams_depend_on_seed_step_draw_and_replicate() -> None:
    base = Streams(1, np.arange(4)).uniforms(1, 1)
    assert not np.array_equal(base, Streams(2, np.arange(4)).uniforms(1, 1))
    assert not np.array_equal(base, Streams(1, np.arange(4)).uniforms(2, 1))
    assert not np.array_equal(base, Streams(1, np.arange(4)).uniforms(1, 2))
    assert len({tuple(col) for col in base.T}) == 4  # four replicates, four different rows


def test_seed_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="seed"):
        Streams(-1, np.arange(2))


def _run(replicates, **overrides) -> RussiaDPRKModel:
    return RussiaDPRKModel(overrides, replicates=replicates, seed=SEED, horizon=40).run()


def _column(model: RussiaDPRKModel, result: dict, k: int) -> dict[str, np.ndarray]:
    """Every tracked trajectory, the label and every exact indicator of replicate id ``k``."""
    (pos,) = np.flatnonzero(model.replicate_ids == k)
    out = {f"traj.{name}": model.trajectory[name][:, pos] for name in TRACKED}
    out.update({f"ind.{n}": np.asarray(v)[pos] for n, v in result.items()})
    return out


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        assert x.dtype == y.dtype, name
        # Bit for bit: compare the raw bytes (NaN == NaN, -0.0 != 0.0).
        assert x.tobytes() == y.tobytes(), name


def _batches(k: int) -> list[np.ndarray]:
    shuffled = np.random.default_rng(3).permutation(np.arange(k + 5, k - 300, -1))
    ids = [
        np.arange(k - k % 10, k - k % 10 + 10),  # a batch of 10 that holds k
        np.arange(1000),  # a batch of 1,000
        shuffled[shuffled >= 0],  # shuffled and offset ids
    ]
    assert all(k in batch for batch in ids)
    return ids


@pytest.mark.parametrize("k", [0, 7, 777])
def test_replicate_alone_equals_replicate_in_any_batch(k: int) -> None:
    """Issue 2 point 4: replicate k alone == replicate k in batches of 10 and 1,000, and in a
    shuffled, offset array of ids — every tracked trajectory, the scenario label and every
    indicator (window averages included: the classifier sums in time order), bit for bit."""
    alone = _run(np.array([k]))
    reference = _column(alone, classify(alone), k)
    for ids in _batches(k):
        model = _run(ids)
        _assert_same(reference, _column(model, classify(model), k))


def test_batching_independence_holds_off_defaults() -> None:
    """The same holds where every mechanism is active (bold Russia, Seoul ships shells)."""
    overrides = {"russia.reputation_cost": 0.1, "russia.tech_control": 0.3, "rok.shell_hazard": 0.2}
    batch = _run(np.arange(40, 140), **overrides)
    batch_result = classify(batch)
    for k in (40, 99, 139):
        alone = _run(np.array([k]), **overrides)
        _assert_same(_column(alone, classify(alone), k), _column(batch, batch_result, k))


_HASH_SCRIPT = """
import hashlib, sys
import numpy as np
from sim.model import TRACKED, RussiaDPRKModel
ids = np.array([int(x) for x in sys.argv[1].split(",")])
m = RussiaDPRKModel(replicates=ids, seed=int(sys.argv[2])).run()
h = hashlib.sha256()
for name in TRACKED:
    h.update(np.ascontiguousarray(m.trajectory[name]).tobytes())
print(h.hexdigest())
"""


def test_another_process_gives_identical_bytes() -> None:
    """A fresh Python process computes the same trajectories, byte for byte."""
    ids = np.array([3, 11, 500])
    model = _run(ids)
    digest = hashlib.sha256()
    for name in TRACKED:
        digest.update(np.ascontiguousarray(model.trajectory[name]).tobytes())
    out = subprocess.run(
        [sys.executable, "-c", _HASH_SCRIPT, ",".join(map(str, ids)), str(SEED)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == digest.hexdigest()
