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
  (a fresh database has nothing to roll back to but its schema) and ANALYZE samples;
- on PostgreSQL, foreign keys are dropped for the load and re-added (validated) at the end.
On PostgreSQL every id sequence is then moved past max(id); both databases are ANALYZEd.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from functools import cache

import numpy as np
from sqlalchemy import Engine, ForeignKeyConstraint, Index
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from crm_core.models import Base
from seed.demo_common import DAY, Column, Table

CHUNK_ROWS = 50_000
ROWS_PER_INSERT = 50  # x 14 columns at most: far below SQLite's 32,766 parameters
QUEUE_CHUNKS = 80
REBUILD_INDEXES_ABOVE = 200_000
SQLITE_CACHE_KIB = 1_000_000
SQLITE_ANALYSIS_LIMIT = 2_000
SEED_LOCK_KEY = 4_242_001  # PostgreSQL advisory lock: one seeder at a time

Progress = Callable[[str], None]


class NotEmpty(Exception):
    """The database already holds rows (message names the first table found)."""


@cache
def _clock() -> np.ndarray:
    """' HH:MM:SS.000000' as bytes for every second of a day (86,400 x 16)."""
    second = np.arange(DAY)
    out = np.frombuffer(b" 00:00:00.000000" * DAY, dtype=np.uint8).reshape(DAY, 16).copy()
    for col, part in ((1, second // 3600), (4, second // 60 % 60), (7, second % 60)):
        out[:, col], out[:, col + 1] = 48 + part // 10, 48 + part % 10
    return out


def _timestamps(values: np.ndarray) -> np.ndarray:
    """Epoch seconds as 'YYYY-MM-DD HH:MM:SS.000000' (SQLAlchemy's SQLite format), assembled
    from a per-day and a per-second table: ~2.5x faster than numpy's datetime_as_string."""
    if not len(values):
        return np.array([], dtype="U26")
    days, second = np.divmod(values, DAY)
    first = int(days.min())
    calendar = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
    day_text = np.datetime_as_string(calendar).astype("S10").view(np.uint8).reshape(len(calendar), 10)
    out = np.empty((len(values), 26), dtype=np.uint8)
    out[:, :10] = day_text[days - first]
    out[:, 10:] = _clock()[second]
    return out.view("S26").ravel().astype("U26")


def python_values(column: Column, start: int, stop: int) -> np.ndarray:
    """Database-ready Python values of rows [start, stop) of a column, as an object array."""
    values = column.values[start:stop]
    if column.kind == "time":
        values = _timestamps(
            np.where(column.null[start:stop], 0, values) if column.null is not None else values
        )
    elif column.kind == "date":
        values = np.datetime_as_string(values.astype("datetime64[s]").astype("datetime64[D]"))
    elif column.kind == "money":
        values = values / 100
    out = values.astype(object)
    if column.null is not None:
        out[column.null[start:stop]] = None
    return out


def _matrix(table: Table, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) as a (rows x columns) object array."""
    out = np.empty((stop - start, len(table.columns)), dtype=object)
    for j, column in enumerate(table.columns.values()):
        out[:, j] = python_values(column, start, stop)
    return out


def _rows(table: Table, start: int, stop: int) -> list[list]:
    """Rows [start, stop), one parameter list each (COPY takes one row at a time)."""
    return _matrix(table, start, stop).tolist()


def _row_batches(table: Table, start: int, stop: int) -> tuple[list[list], list[list]]:
    """Rows [start, stop) as parameter lists of ROWS_PER_INSERT rows each (for a multi-row
    INSERT, ~20 % cheaper per row than one row per statement), plus the leftover rows."""
    matrix = _matrix(table, start, stop)
    full = len(matrix) - len(matrix) % ROWS_PER_INSERT
    return matrix[:full].reshape(-1, ROWS_PER_INSERT * matrix.shape[1]).tolist(), matrix[full:].tolist()


TableSource = Callable[[Progress], Iterable[Table]]
Shape = Callable[[Table, int, int], object]


def _convert(source: TableSource, shape: Shape, out: queue.Queue, stop: threading.Event) -> None:
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
                out.put(("rows", table, shape(table, start, min(start + CHUNK_ROWS, len(table)))))
            out.put(("end", table, None))
    except BaseException as exc:  # handed to the writer, which re-raises it
        out.put(exc)
        return
    out.put(None)


def _stream(source: TableSource, shape: Shape) -> Iterator[tuple]:
    """The converter thread's items, in order, on the calling thread; `shape` makes the rows."""
    items: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()
    worker = threading.Thread(
        target=_convert, args=(source, shape, items, stop), name="demo-convert", daemon=True
    )
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


def sequence_reset_sql(table_name: str) -> str | None:
    """PostgreSQL: move the table's id sequence past its highest id (None for a table without a
    serial id, such as activity_days), after rows were written with explicit ids."""
    if "id" not in Base.metadata.tables[table_name].c:
        return None
    return (
        f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
        f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table_name}"
    )


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
        if bulk:
            dbapi.invalidate()  # pragmas changed: never hand it back to the pool
        else:
            dbapi.close()  # back to the pool as it came (an in-memory SQLite database lives in it)


def _ddl(engine: Engine, statement) -> str:
    return str(statement.compile(dialect=engine.dialect))


def _load(
    engine: Engine, cur, source: TableSource, bulk: bool, progress: Progress, shape: Shape, insert
) -> dict[str, int]:
    """Stream every table through `insert(cur, table, shape(table, start, stop))`; with `bulk`,
    big tables lose their secondary indexes for the load and get them back after their last row."""
    counts: dict[str, int] = {}
    for kind, table, rows in _stream(source, shape):
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


def _insert_sql(table: Table, rows: int) -> str:
    names = ", ".join(table.columns)
    row = f"({', '.join(['?'] * len(table.columns))})"
    return f"INSERT INTO {table.name} ({names}) VALUES {', '.join([row] * rows)}"


def _write_sqlite(
    engine: Engine, conn, source: TableSource, bulk: bool, progress: Progress
) -> dict[str, int]:
    isolation_level = conn.isolation_level
    conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
    try:
        return _write_sqlite_unmanaged(engine, conn.cursor(), source, bulk, progress)
    finally:
        conn.isolation_level = isolation_level


def _write_sqlite_unmanaged(
    engine: Engine, cur, source: TableSource, bulk: bool, progress: Progress
) -> dict[str, int]:
    journal = cur.execute("PRAGMA journal_mode").fetchone()[0]
    if bulk:
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("PRAGMA ignore_check_constraints=ON")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        if journal == "wal":
            cur.execute("PRAGMA journal_mode=MEMORY")  # stays WAL if another connection is open
    sql: dict[str, tuple[str, str]] = {}

    def insert(c, table: Table, rows: tuple[list[list], list[list]]) -> None:
        if table.name not in sql:
            sql[table.name] = (_insert_sql(table, ROWS_PER_INSERT), _insert_sql(table, 1))
        batches, rest = rows
        c.executemany(sql[table.name][0], batches)
        c.executemany(sql[table.name][1], rest)

    cur.execute("BEGIN IMMEDIATE")
    try:
        found = _first_non_empty(cur)
        if found:
            raise NotEmpty(found)
        counts = _load(engine, cur, source, bulk, progress, _row_batches, insert)
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


def _foreign_keys() -> list[ForeignKeyConstraint]:
    """Every foreign key between our tables: a bulk load on PostgreSQL drops and re-adds them,
    so that tables can be copied in any order and without a trigger call per row."""
    return [
        fk
        for table in Base.metadata.sorted_tables
        for fk in sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name))
    ]


def _copy_rows(cur, table: Table, rows: list[list]) -> None:
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
            foreign_keys = _foreign_keys() if bulk else []
            for fk in foreign_keys:
                cur.execute(_ddl(engine, DropConstraint(fk)))
            counts = _load(engine, cur, source, bulk, progress, _rows, _copy_rows)
            if foreign_keys:
                progress("Checking references…")
            for fk in foreign_keys:  # re-adding validates every row in one pass per constraint
                cur.execute(_ddl(engine, AddConstraint(fk)))
            for name in counts:
                if (reset := sequence_reset_sql(name)) is not None:
                    cur.execute(reset)
        progress("Committing…")
        conn.commit()
    except BaseException:
        with suppress(Exception):
            conn.rollback()
        raise
    progress("Analyzing…")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in (n for n in counts if "id" in Base.metadata.tables[n].c):  # serial ids only
                cur.execute(f"ANALYZE {name}")
    finally:
        conn.autocommit = False
    return counts
