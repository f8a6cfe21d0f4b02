"""Independent query functions run at once, each on its own pooled connection.

A dashboard's KPI scans do not depend on one another, and both drivers release the GIL while
the database works, so on a machine with several cores the page waits for the longest share
instead of the sum (benchmarks/findings.md, round 5). `WARROOM_QUERY_WORKERS` (environment; default:
the number of cores, at most 4) sets how many run at once; 1 runs everything in turn. Engines
whose pool hands every thread the same connection (`:memory:` SQLite) always run in turn.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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


def run_all(engine: Engine, jobs: Sequence[Callable[[], T]], at_once: bool = True) -> list[T]:
    """The results of `jobs`, in order; run at once when `at_once`, the engine and `workers()`
    allow it. Callers pass `at_once=False` for jobs that are mostly Python: threads only help
    while the database works, and two threads running Python contend for the GIL (one rep's
    War Room: 8 ms in turn, 12 ms at once).

    The calling thread and `workers() - 1` pool threads take the next job from one shared
    count until none is left: one hand-off per thread, not per job (a future per job made a
    rep's dozen sub-millisecond scans slower than running them in turn). A job that itself
    calls `run_all` runs its own jobs in turn (a bounded pool waiting on itself would
    deadlock). The first failing job's exception, in job order, is raised.
    """
    size = min(workers(), len(jobs))
    shared = isinstance(engine.pool, _SHARED_CONNECTION_POOLS)
    if not at_once or size < 2 or shared or getattr(_inside, "active", False):
        return [job() for job in jobs]
    outcomes: list[tuple[bool, Any]] = [(False, None)] * len(jobs)
    taken = itertools.count()

    def drain() -> None:
        while (index := next(taken)) < len(jobs):
            try:
                outcomes[index] = (True, jobs[index]())
            except BaseException as error:  # re-raised below, in job order
                outcomes[index] = (False, error)

    helpers = [_pool(size - 1).submit(_marked(drain)) for _ in range(size - 1)]
    _marked(drain)()
    for helper in helpers:
        helper.result()
    for ok, value in outcomes:
        if not ok:
            raise value
    return [value for _, value in outcomes]
