"""The SQL a query function runs, captured at the cursor, and the same SQL run raw through the driver.

`capture(engine)` records every statement (with its DBAPI parameters) that SQLAlchemy sends to
the cursor (`before_cursor_execute`). `run_raw` executes those statements again on a plain DBAPI
cursor of a pooled connection and fetches every row: the engine's own time, without SQLAlchemy
compilation, result processing, pandas or Python post-processing. `explain` returns the plan of
one statement (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL) and `full_scans` picks the
lines that read all of opportunities or activities.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

BIG_TABLES = ("opportunities", "activities")


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Any


@contextmanager
def capture(engine: Engine) -> Iterator[list[Statement]]:
    """Statements sent to the driver while the block runs (executemany ones included)."""
    seen: list[Statement] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(Statement(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def run_raw(engine: Engine, statements: Sequence[Statement]) -> tuple[float, int]:
    """(seconds, rows fetched) to execute `statements` on one DBAPI cursor, fetching every row.

    The connection is checked out before the clock starts (the query functions check one out
    per call, which is part of their time, not the engine's).
    """
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        rows = 0
        start = time.perf_counter()
        for s in statements:
            cursor.execute(s.sql, s.params) if s.params else cursor.execute(s.sql)
            if cursor.description is not None:
                rows += len(cursor.fetchall())
        elapsed = time.perf_counter() - start
        cursor.close()
        conn.rollback()
    return elapsed, rows


def explain(engine: Engine, statement: Statement) -> list[str]:
    """The plan of a statement, one line per plan node."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, statement.params or ())
            return [row[3] for row in result]
        result = conn.exec_driver_sql("EXPLAIN " + statement.sql, statement.params or {})
        return [row[0] for row in result]


_SQLITE_SCAN = re.compile(r"^SCAN (\w+)(.*)$")
_PG_SEQ = re.compile(r"Seq Scan on (\w+)")
_ALIAS = re.compile(r"\b(\w+) AS (\w+)\b", re.IGNORECASE)


def aliases(sql: str) -> dict[str, str]:
    """{alias: table} of `table AS alias` in a statement (SQLite's plan names a table by its alias)."""
    return {alias: table for table, alias in _ALIAS.findall(sql)}


_PG_INDEX = re.compile(r"Index (?:Only )?Scan(?: Backward)? using (\w+) on (\w+)")


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def full_scans(
    dialect: str, plan: Sequence[str], sql: str = "", tables: Sequence[str] = BIG_TABLES
) -> list[str]:
    """Plan lines that read a whole big table.

    SQLite: `SCAN t` without an index (`SCAN t USING [COVERING] INDEX x`, a walk of a narrower
    index, is allowed). PostgreSQL: `Seq Scan on t`, and also a primary-key index scan with no
    `Index Cond` (what the planner falls back to for a whole-table read when sequential scans
    are disabled; SQLite's `SCAN t` is the same walk of the rowid tree).
    """
    names = aliases(sql)
    bad = []
    for i, line in enumerate(plan):
        text = line.strip().removeprefix("->").strip()
        if dialect == "sqlite":
            m = _SQLITE_SCAN.match(text)
            if m and names.get(m.group(1), m.group(1)) in tables and "INDEX" not in m.group(2):
                bad.append(text)
            continue
        m = _PG_SEQ.search(text)
        if m and m.group(1) in tables:
            bad.append(text)
            continue
        m = _PG_INDEX.search(text)
        if m and m.group(2) in tables and m.group(1).startswith("pk_"):
            depth, details = _depth(line), []
            for later in plan[i + 1 :]:
                if later.strip().startswith("->") and _depth(later) <= depth + 6:
                    break
                details.append(later.strip())
            if not any(d.startswith("Index Cond:") for d in details):
                bad.append(text)
    return bad
