"""Independent query functions run at once, each on its own pooled connection.

A dashboard's KPI scans do not depend on one another, and both drivers release the GIL while
the database works, so on a machine with several cores the page waits for the longest share
instead of the sum (benchmarks/findings.md, round 5). `WARROOM_QUERY_WORKERS` (environment; default:
the number of cores, at most 4) sets how many run at once; 1 runs everything in turn. Engines
whose pool hands every thread the same connection (`:memory:` SQLite) always run in turn.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.pool import AssertionPool, SingletonThreadPool, StaticPool

T = TypeVar("T")
MAX_DEFAULT_WORKERS = 4
_SHARED_CONNECTION_POOLS = (AssertionPool, SingletonThreadPool, StaticPool)
_inside = threading.local()
_executors: dict[int, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def workers() -> int:
    """How many query functions may run at once (`WARROOM_QUERY_WORKERS`, else min(cores, 4))."""
    raw = os.environ.get("WARROOM_QUERY_WORKERS", "").strip()
    if not raw:
        return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"WARROOM_QUERY_WORKERS must be a whole number of at least 1, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"WARROOM_QUERY_WORKERS must be a whole number of at least 1, not {raw!r}")
    return value


def _pool(size: int) -> ThreadPoolExecutor:
    with _executors_lock:
        if size not in _executors:
            _executors[size] = ThreadPoolExecutor(size, thread_name_prefix="queries")
        return _executors[size]


def _marked(job: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        _inside.active = True
        try:
            return job()
        finally:
            _inside.active = False

    return run


def run_all(engine: Engine, jobs: Sequence[Callable[[], T]]) -> list[T]:
    """The results of `jobs`, in order; run at once when the engine and `workers()` allow it.

    A job that itself calls `run_all` runs its own jobs in turn (a bounded pool waiting on
    itself would deadlock). The first job's exception, in job order, is raised.
    """
    size = workers()
    shared = isinstance(engine.pool, _SHARED_CONNECTION_POOLS)
    if len(jobs) < 2 or size < 2 or shared or getattr(_inside, "active", False):
        return [job() for job in jobs]
    futures = [_pool(size).submit(_marked(job)) for job in jobs]
    return [future.result() for future in futures]
