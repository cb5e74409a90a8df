"""Imported by the fork server of :class:`experiments.app.ensemble.Workers`: runs a tiny ensemble.

Every worker process is forked from that server, so what this loads once — the model's modules,
its numba kernels from their cache, the classifier — every worker starts with, and a class's
first Reset does not pay for it.
"""

from __future__ import annotations

from experiments.app.ensemble import compute_run, settings_key

compute_run(settings_key({}), seed=1, replicates=4, horizon=2)
