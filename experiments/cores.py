"""Worker processes for one large run (issue 13): how many, and starting them early.

Light on purpose (no model, no pandas): ``experiments.run`` starts the workers before it imports
the model itself, so the workers' own imports (about a second) overlap the run's preparation
instead of delaying their first batch.

The pool is the standard library's ``ProcessPoolExecutor`` on a fork server. joblib's loky pool
was used first: it measures a worker's memory after its first task and replaces the worker once
it has grown by 300 MB — after the first 50,000-replicate batch, when the first task was the
warm-up import — which cost a second import in the middle of every large run (issue 13). Each
worker watches this process (``experiments.watchdog``) and ends when it is gone, even by SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

# Below this many replicates a point runs in one process: starting workers costs more (issue 13).
PARALLEL_FROM = 500_000

_pools: dict[int, ProcessPoolExecutor] = {}  # size -> the pool, kept for the next large run


def available() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def workers_for(requested: int, replicates: int) -> int:
    """How many processes run a point: ``requested`` (0 = every available core), but one below
    ``PARALLEL_FROM`` replicates, where starting worker processes costs more than it saves."""
    wanted = int(requested) if requested > 0 else available()
    return max(1, wanted) if replicates >= PARALLEL_FROM else 1


def executor(workers: int) -> ProcessPoolExecutor:
    """The pool of ``workers`` - 1 worker processes (kept and reused for the same size); the
    calling process is the other worker."""
    size = workers - 1
    if size not in _pools:
        for pool in _pools.values():
            pool.shutdown(cancel_futures=True)
        _pools.clear()
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        from experiments import watchdog

        _pools[size] = ProcessPoolExecutor(
            size, mp_context=context, initializer=_start_worker, initargs=(watchdog.identity(),)
        )
    return _pools[size]


def shutdown() -> None:
    """Stop the worker processes now (after Ctrl+C): their batches are not waited for."""
    for pool in _pools.values():
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
    _pools.clear()


def warm_up(workers: int) -> None:
    """Start the worker processes now; each imports the model as it starts (no-op for one)."""
    if workers > 1:
        pool = executor(workers)
        for _ in range(workers - 1):
            pool.submit(int)  # a process starts for each task that finds none idle


def _start_worker(parent: str) -> None:
    """In a new worker: end with ``parent`` (the run's process), and import the model now."""
    import signal

    from experiments import watchdog

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the run's to answer, in one line
    os.environ[watchdog.ENV] = parent
    watchdog.guard()
    import experiments.runner  # noqa: F401  (the import is the point)
