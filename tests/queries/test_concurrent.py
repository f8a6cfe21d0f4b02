"""Running independent query functions at once: order, errors, nesting, the worker setting."""

from __future__ import annotations

import threading

import pytest

from crm_core.db import make_engine
from queries import concurrent
from queries.concurrent import run_all, workers


@pytest.fixture
def file_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    yield engine
    engine.dispose()


def _meeting(barrier: threading.Barrier, value: int):
    def job() -> tuple[int, str]:
        barrier.wait()  # breaks (timeout) unless the other job runs at the same time
        return value, threading.current_thread().name

    return job


def test_jobs_run_at_once_and_results_keep_job_order(file_engine, monkeypatch):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", "2")
    barrier = threading.Barrier(2, timeout=10)
    results = run_all(file_engine, [_meeting(barrier, 1), _meeting(barrier, 2)])
    assert [value for value, _ in results] == [1, 2]
    names = {name for _, name in results}
    assert len(names) == 2  # the calling thread and one pool thread
    assert threading.current_thread().name in names


def test_one_worker_runs_jobs_in_turn_on_the_calling_thread(file_engine, monkeypatch):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", "1")
    names = run_all(file_engine, [lambda: threading.current_thread().name] * 3)
    assert names == [threading.current_thread().name] * 3


def test_jobs_asked_not_to_run_at_once_run_in_turn(file_engine, monkeypatch):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", "2")
    names = run_all(file_engine, [lambda: threading.current_thread().name] * 2, at_once=False)
    assert names == [threading.current_thread().name] * 2


def test_every_job_runs_once_whatever_the_number_of_workers(file_engine, monkeypatch):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", "3")
    ran: list[int] = []
    assert run_all(file_engine, [lambda i=i: ran.append(i) or i * i for i in range(20)]) == [
        i * i for i in range(20)
    ]
    assert sorted(ran) == list(range(20))


def test_a_shared_connection_pool_runs_jobs_in_turn(monkeypatch):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", "4")
    engine = make_engine("sqlite:///:memory:")
    names = run_all(engine, [lambda: threading.current_thread().name] * 2)
    assert names == [threading.current_thread().name] * 2


def test_a_job_running_jobs_runs_them_in_turn(file_engine, monkeypatch):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", "2")

    def outer() -> list[str]:
        here = threading.current_thread().name
        inner = run_all(file_engine, [lambda: threading.current_thread().name] * 3)
        assert inner == [here] * 3
        return inner

    # Two outer jobs fill both workers: nested jobs submitted to the pool would never start.
    assert len(run_all(file_engine, [outer, outer])) == 2


def test_the_first_failing_job_raises(file_engine, monkeypatch):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", "2")

    def fail(message: str):
        def job():
            raise RuntimeError(message)

        return job

    with pytest.raises(RuntimeError, match="first"):
        run_all(file_engine, [lambda: 1, fail("first"), fail("second")])


def test_workers_default_and_setting(monkeypatch):
    monkeypatch.delenv("WARROOM_QUERY_WORKERS", raising=False)
    monkeypatch.setattr(concurrent.os, "cpu_count", lambda: 16)
    assert workers() == concurrent.MAX_DEFAULT_WORKERS
    monkeypatch.setattr(concurrent.os, "cpu_count", lambda: None)
    assert workers() == 1
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", " 3 ")
    assert workers() == 3


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5"])
def test_a_bad_worker_setting_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv("WARROOM_QUERY_WORKERS", bad)
    with pytest.raises(
        ValueError, match=f"WARROOM_QUERY_WORKERS must be a whole number of at least 1, not '{bad}'"
    ):
        workers()
