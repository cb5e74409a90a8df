"""Observers change no result: measuring M22's lag leaves every byte of a run as it was.

(Issue 13's bit-for-bit comparison with the model before its speed work ended with issue 21,
which changed the rules on purpose; the scalar reference, ``tests/test_reference.py``, is the
oracle of the rules now.)
"""

from __future__ import annotations

import numpy as np

from sim import params as P
from sim.classifier import classify
from sim.model import TRACKED, RussiaDPRKModel

SEED = 20241001
LIMITS = tuple(p.name for p in P.PARAMETERS if p.group == "limits")
POINTS = {
    "defaults": {},
    "war held on, every limit off": {
        "world.ceasefire_hazard": 0.0,
        **{f"limits.{name}": False for name in LIMITS},
    },
    "bold Russia, Seoul ships shells": {
        "russia.reputation_cost": 0.1,
        "russia.tech_control": 0.3,
        "rok.shell_hazard": 0.2,
    },
}


def _state(model) -> dict[str, bytes]:
    out = {f"traj.{k}": np.ascontiguousarray(model.trajectory[k]).tobytes() for k in TRACKED}
    for owner, names in (
        (model.russia, ("posture", "tech_tier", "exposure", "quality_trust", "credibility")),
        (model.dprk, ("stockpile", "interest", "troops_deployed")),
        (model, ("munitions_total", "gas_total", "summit_count", "infrastructure")),
    ):
        out.update({f"state.{n}": np.asarray(getattr(owner, n)).tobytes() for n in names})
    for name, value in classify(model).items():
        out[f"classify.{name}"] = np.asarray(value).astype(str).tobytes()
    return out


def test_lag_measurement_is_an_observer() -> None:
    """M22's lag is measured only when asked (``measure_lag``), and measuring it changes nothing
    else; unmeasured, ``lag_sum`` is None rather than zeros that look like a measurement."""
    plain = RussiaDPRKModel(replicates=500, seed=SEED).run()
    measured = RussiaDPRKModel(replicates=500, seed=SEED, measure_lag=True).run()
    assert plain.lag_sum is None and plain.lag_count is None
    assert measured.lag_count[1:].sum() > 0
    a, b = _state(plain), _state(measured)
    assert [k for k in a if a[k] != b[k]] == []
