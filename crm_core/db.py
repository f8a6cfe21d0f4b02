"""Engine and session setup. SQLite gets WAL, foreign keys, a busy timeout, a memory map and a
larger page cache on every connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from crm_core.config import database_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Reads through a memory map skip a read() call and a copy per page, and a 32 MiB page cache
# (default 2 MiB) keeps the hot index pages of a dashboard in the connection; see
# benchmarks/findings.md for what they changed at a million deals. The map is asked for 8 GiB
# and SQLite caps it at its build's limit (2 GiB for Python's): the 1M-deal file is 2.6 GB, and
# with a 1 GiB map the pages beyond it were read and copied again whenever the cache had let
# them go (a War Room with filters took 107 ms instead of 88).
SQLITE_MMAP_BYTES = 1 << 33
SQLITE_CACHE_KIB = 32 * 1024


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # SQLite's own lower() folds ASCII only: `casefold()` (crm_core.dialect.folded) is Python's.
    dbapi_conn.create_function("casefold", 1, _casefold, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.close()


def make_engine(url: str | URL | None = None, **kwargs) -> Engine:
    """Create an engine for `url` (default: `DATABASE_URL` or the SQLite file under data/)."""
    resolved = url if isinstance(url, URL) else database_url(url)
    if resolved.get_backend_name() == "sqlite":
        if resolved.database and resolved.database != ":memory:":
            Path(resolved.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if resolved.get_backend_name() == "postgresql":
        # JIT compilation costs ~1 s per dashboard query with correlated subqueries and saves nothing.
        kwargs.setdefault("connect_args", {"options": "-c jit=off"})
    return create_engine(resolved, pool_pre_ping=True, **kwargs)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session, one transaction: committed on success, rolled back on any error."""
    with session_factory(engine).begin() as session:
        yield session
