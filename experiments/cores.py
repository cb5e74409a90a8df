"""Worker processes for one large run (issue 13): how many, and starting them early.

Light on purpose (no model, no pandas): ``experiments.run`` starts the workers before it imports
the model itself, so the workers' own imports (about a second) overlap the run's preparation
instead of delaying their first batch.
"""

from __future__ import annotations

import os
from typing import Any

from joblib.externals.loky import get_reusable_executor

# Below this many replicates a point runs in one process: starting workers costs more (issue 13).
PARALLEL_FROM = 500_000


def workers_for(requested: int, replicates: int) -> int:
    """How many processes run a point: ``requested`` (0 = every available core), but one below
    ``PARALLEL_FROM`` replicates, where starting worker processes costs more than it saves."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = int(requested) if requested > 0 else int(available or 1)
    return max(1, wanted) if replicates >= PARALLEL_FROM else 1


def executor(workers: int) -> Any:
    """The pool of ``workers`` - 1 worker processes (loky's, reused while its size stays the
    same); the calling process is the other worker."""
    return get_reusable_executor(max_workers=workers - 1)


def warm_up(workers: int) -> None:
    """Start the worker processes now and have them import the model (no-op for one worker)."""
    if workers > 1:
        pool = executor(workers)
        for _ in range(workers - 1):
            pool.submit(_import_model)


def _import_model() -> None:
    import experiments.runner  # noqa: F401  (the import is the point)
