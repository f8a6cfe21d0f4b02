"""Bulk writing of generated tables: raw DBAPI, one transaction, no ORM.

SQLite gets `executemany` in large chunks; PostgreSQL gets `COPY … FROM STDIN`. Values are
converted exactly as SQLAlchemy stores them (on SQLite: datetimes as
'YYYY-MM-DD HH:MM:SS.ffffff' text, dates as 'YYYY-MM-DD', money as REAL), so queries with bound
parameters compare correctly.

A converter thread pulls the tables from their source (for bulk loads: the generator itself,
so generation continues while the first tables are written) and turns numpy columns into row
tuples, while the calling thread talks to the database; SQLite and psycopg release the GIL while
they work, so on two cores most of the Python work hides behind inserts and index builds.

Bulk loads (the large and stress sizes) take shortcuts whose safety the demo-size tests
establish, since one generator makes every size:
- tables are written in the order they are generated, not in foreign-key order;
- secondary indexes of big tables are dropped and rebuilt right after the table's last row,
  inside the same transaction (a sorted build is several times faster than row-by-row upkeep),
  while the converter prepares the next table;
- on SQLite, foreign-key and CHECK enforcement are off for the load (an `IN (...)` check costs
  ~5 µs a row), the journal is kept in memory instead of WAL when no other connection is open
  (a fresh database has nothing to roll back to but its schema) and ANALYZE samples.
On PostgreSQL every id sequence is then moved past max(id); both databases are ANALYZEd.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress

import numpy as np
from sqlalchemy import Engine, Index
from sqlalchemy.schema import CreateIndex, DropIndex

from crm_core.models import Base
from seed.demo_common import Column, Table

CHUNK_ROWS = 50_000
QUEUE_CHUNKS = 80
REBUILD_INDEXES_ABOVE = 200_000
SQLITE_CACHE_KIB = 1_000_000
SQLITE_ANALYSIS_LIMIT = 2_000
SEED_LOCK_KEY = 4_242_001  # PostgreSQL advisory lock: one seeder at a time

Progress = Callable[[str], None]


class NotEmpty(Exception):
    """The database already holds rows (message names the first table found)."""


def python_values(column: Column, start: int, stop: int) -> list:
    """Database-ready Python values of rows [start, stop) of a column (None for NULL)."""
    values = column.values[start:stop]
    if column.kind == "time":
        values = np.datetime_as_string(values.astype("datetime64[s]").astype("datetime64[us]"), unit="us")
        if len(values):
            values.view(np.uint32).reshape(len(values), -1)[:, 10] = ord(" ")  # ISO 'T' -> ' '
    elif column.kind == "date":
        values = np.datetime_as_string(values.astype("datetime64[s]").astype("datetime64[D]"))
    elif column.kind == "money":
        values = values / 100
    if column.null is None:
        return values.tolist()
    nulls = column.null[start:stop]
    if not nulls.any():
        return values.tolist()
    out = values.astype(object)
    out[nulls] = None
    return out.tolist()


def _rows(table: Table, start: int, stop: int) -> list[tuple]:
    cols = [python_values(c, start, stop) for c in table.columns.values()]
    return list(zip(*cols, strict=True))


TableSource = Callable[[Progress], Iterable[Table]]


def _convert(source: TableSource, out: queue.Queue, stop: threading.Event) -> None:
    """Converter thread: pulls tables from `source` (which may generate them on the way) and
    puts ("rows", table, rows) chunks, ("end", table, None) and ("progress", message, None) on
    the queue; an exception is handed over for the writer to raise; None marks the end."""

    def relay(message: str) -> None:
        out.put(("progress", message, None))

    try:
        for table in source(relay):
            for start in range(0, len(table), CHUNK_ROWS):
                if stop.is_set():
                    return
                out.put(("rows", table, _rows(table, start, min(start + CHUNK_ROWS, len(table)))))
            out.put(("end", table, None))
    except BaseException as exc:  # handed to the writer, which re-raises it
        out.put(exc)
        return
    out.put(None)


def _stream(source: TableSource) -> Iterator[tuple]:
    """The converter thread's items, in order, on the calling thread."""
    items: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()
    worker = threading.Thread(target=_convert, args=(source, items, stop), name="demo-convert", daemon=True)
    worker.start()
    try:
        while (item := items.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a converter waiting on a full queue
            with suppress(queue.Empty):
                items.get(timeout=0.05)
        worker.join()


def _indexes_to_rebuild(table: Table, bulk: bool) -> list[Index]:
    if not bulk or len(table) <= REBUILD_INDEXES_ABOVE:
        return []
    return sorted(Base.metadata.tables[table.name].indexes, key=lambda ix: ix.name)


def _first_non_empty(cursor) -> str | None:
    for table in Base.metadata.sorted_tables:
        cursor.execute(f"SELECT 1 FROM {table.name} LIMIT 1")
        if cursor.fetchone() is not None:
            return table.name
    return None


def write_tables(engine: Engine, source: TableSource, *, bulk: bool, progress: Progress) -> dict[str, int]:
    """Insert every table `source(progress)` yields in one transaction; return rows per table.

    Raises NotEmpty if the database has rows. With `bulk`, tables may come in any order (the
    foreign keys are checked by the demo-size tests, not row by row) and the big-load shortcuts
    above apply; otherwise they must come in foreign-key order.
    """
    dbapi = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            return _write_sqlite(engine, dbapi.driver_connection, source, bulk, progress)
        return _write_postgresql(engine, dbapi.driver_connection, source, bulk, progress)
    finally:
        dbapi.invalidate()  # pragmas and session settings changed: never hand it back to the pool


def _ddl(engine: Engine, statement) -> str:
    return str(statement.compile(dialect=engine.dialect))


def _load(engine: Engine, cur, source: TableSource, bulk: bool, progress: Progress, insert) -> dict[str, int]:
    """Stream every table through `insert(cur, table, rows)`; with `bulk`, big tables lose their
    secondary indexes for the load and get them back right after their last row."""
    counts: dict[str, int] = {}
    for kind, table, rows in _stream(source):
        if kind == "progress":
            progress(table)
            continue
        if table.name not in counts:
            counts[table.name] = len(table)
            progress(f"Writing {table.name} ({len(table):,} rows)…")
            rebuild = _indexes_to_rebuild(table, bulk)
            for ix in rebuild:
                cur.execute(_ddl(engine, DropIndex(ix)))
        if kind == "rows":
            insert(cur, table, rows)
        elif rebuild:
            progress(f"Indexing {table.name}…")
            for ix in rebuild:
                cur.execute(_ddl(engine, CreateIndex(ix)))
    return counts


def _insert_sql(table: Table) -> str:
    names = ", ".join(table.columns)
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(['?'] * len(table.columns))})"


def _write_sqlite(
    engine: Engine, conn, source: TableSource, bulk: bool, progress: Progress
) -> dict[str, int]:
    conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
    cur = conn.cursor()
    journal = cur.execute("PRAGMA journal_mode").fetchone()[0]
    if bulk:
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("PRAGMA ignore_check_constraints=ON")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        if journal == "wal":
            cur.execute("PRAGMA journal_mode=MEMORY")  # stays WAL if another connection is open
    sql: dict[str, str] = {}

    def insert(c, table: Table, rows: list[tuple]) -> None:
        statement = sql.get(table.name) or sql.setdefault(table.name, _insert_sql(table))
        c.executemany(statement, rows)

    cur.execute("BEGIN IMMEDIATE")
    try:
        found = _first_non_empty(cur)
        if found:
            raise NotEmpty(found)
        counts = _load(engine, cur, source, bulk, progress, insert)
        progress("Committing…")
        cur.execute("COMMIT")
    except BaseException:
        with suppress(Exception):
            cur.execute("ROLLBACK")
        raise
    finally:
        if bulk and journal == "wal":
            cur.execute("PRAGMA journal_mode=WAL")
    progress("Analyzing…")
    if bulk:
        cur.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
    cur.execute("ANALYZE")
    return counts


def _copy_rows(cur, table: Table, rows: list[tuple]) -> None:
    with cur.copy(f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _write_postgresql(
    engine: Engine, conn, source: TableSource, bulk: bool, progress: Progress
) -> dict[str, int]:
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SEED_LOCK_KEY,))
            found = _first_non_empty(cur)
            if found:
                raise NotEmpty(found)
            counts = _load(engine, cur, source, bulk, progress, _copy_rows)
            for name in counts:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {name}"
                )
        progress("Committing…")
        conn.commit()
    except BaseException:
        with suppress(Exception):
            conn.rollback()
        raise
    progress("Analyzing…")
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in counts:
            cur.execute(f"ANALYZE {name}")
    return counts
