"""Database fixtures. `TEST_DATABASE_URL` (PostgreSQL) selects the server; else a SQLite file per test.

On SQLite each test gets a copy of a schema migrated once per run. On PostgreSQL each test run
(each xdist worker) creates its own database next to the one named, migrates it once, truncates
it before each test and drops it at the end, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from crm_core.db import make_engine
from crm_core.models import Base
from crm_core.schema import upgrade_to_head

PG_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_report_header(config) -> str:
    return f"database under test: {'PostgreSQL' if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory) -> Iterator[str]:
    """A URL of a database at Alembic head, made once per test run."""
    if PG_URL:
        with scratch_pg_database("warroom_t") as url:
            engine = make_engine(url)
            upgrade_to_head(engine)
            engine.dispose()
            yield url
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    yield str(path)


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db_url(_migrated: str, tmp_path: Path) -> str:
    """URL of an empty database at head, private to this test."""
    if PG_URL:
        engine = make_engine(_migrated)
        _truncate_all(engine)
        engine.dispose()
        return _migrated
    target = tmp_path / "warroom.db"
    shutil.copyfile(_migrated, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@contextmanager
def scratch_pg_database(prefix: str) -> Iterator[str]:
    """Create a uniquely named database beside `TEST_DATABASE_URL`'s; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    base = make_url(PG_URL)
    admin = make_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin, name)
        admin.dispose()


def drop_database(admin: Engine, name: str, attempts: int = 40) -> None:
    """DROP DATABASE … WITH (FORCE), retried: FORCE cannot end an autovacuum worker that is
    analysing the freshly filled database (InsufficientPrivilege for a non-superuser role), so
    wait for it to finish."""
    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def _seed_demo(url: str, as_of: date) -> None:
    from seed.demo import generate_demo

    engine = make_engine(url)
    upgrade_to_head(engine)
    generate_demo(engine, size="demo", seed=42, as_of=as_of)
    engine.dispose()


@contextmanager
def seeded_demo_url(tmp_path_factory, name: str, as_of: date) -> Iterator[str]:
    """URL of a fresh database holding the demo seed (seed 42, as of `as_of`); on PostgreSQL a
    scratch database, dropped afterwards."""
    mp = pytest.MonkeyPatch()
    mp.setenv("WARROOM_BCRYPT_ROUNDS", "4")
    try:
        if PG_URL:
            with scratch_pg_database(f"warroom_{name}") as url:
                _seed_demo(url, as_of)
                yield url
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'demo.db'}"
            _seed_demo(url, as_of)
            yield url
    finally:
        mp.undo()


@contextmanager
def seeded_demo_engine(tmp_path_factory, name: str, as_of: date) -> Iterator[Engine]:
    """An engine on a fresh demo database (see `seeded_demo_url`), disposed afterwards."""
    with seeded_demo_url(tmp_path_factory, name, as_of) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory) -> Iterator[str]:
    """The demo seeded once per run as of today (as the pages' period presets are), shared by
    the page, benchmark-table and work-page tests."""
    from seed.demo import today_utc

    with seeded_demo_url(tmp_path_factory, "demo", today_utc()) as url:
        yield url


@pytest.fixture
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """URL of a database with no tables at all (for migration tests)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with scratch_pg_database("warroom_empty") as url:
        yield url
