"""Exporting the database as a bundle: every spec file, canonical values, deterministic order."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from seed.bundle_spec import FILES, FileSpec
from seed.bundle_values import format_value

FETCH_BATCH = 2_000


def export_bundle(engine: Engine, directory: Path) -> dict[str, int]:
    """Write every bundle file (header even when empty) into `directory`; return rows per table.

    Only the spec's columns are written (no passwords, versions or derived columns). On
    PostgreSQL all files are read from one REPEATABLE READ snapshot so they agree with each other.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    counts: dict[str, int] = {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        for spec in FILES:
            counts[spec.table_name] = _export_file(conn, spec, directory / spec.name)
    return counts


def _export_file(conn: Connection, spec: FileSpec, path: Path) -> int:
    table = spec.table
    query = select(*(table.c[column.db_name] for column in spec.columns)).order_by(
        *(table.c[name] for name in spec.export_order)
    )
    count = 0
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([column.name for column in spec.columns])
            result = conn.execution_options(yield_per=FETCH_BATCH).execute(query)
            for record in result:
                writer.writerow([format_value(c.kind, v) for c, v in zip(spec.columns, record, strict=True)])
                count += 1
        partial.replace(path)  # a reader never sees a half-written file
    finally:
        partial.unlink(missing_ok=True)
    return count
