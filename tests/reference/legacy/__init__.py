"""The ensemble model as it was before the speed work of issue 13 (a frozen copy, benchmarks only).

``model.py``, ``agents.py`` and ``rng.py`` are ``sim/`` at commit dd89243, with only their imports of
each other made relative. ``tests/test_benchmark.py`` times this copy beside the current
``sim.model`` in the same run, so the speed-up is measured on one machine under one load. Nothing
else imports it; it is not kept in step with later rule changes (the rules then differ, the timing
comparison stays roughly meaningful; refresh it from git when a new before/after is wanted).
"""

from .model import RussiaDPRKModel

__all__ = ["RussiaDPRKModel"]
