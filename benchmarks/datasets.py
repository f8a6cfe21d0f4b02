"""The benchmark's databases: seeded once with `python -m seed demo --size S`, then reused.

SQLite files live in `--data-dir` (default `data/bench/`, git-ignored) as `<size>.db`, each with
a `<size>.json` beside it (as_of, seed time, row counts). PostgreSQL databases are named
`warroom_bench_<size>` on the server of `--pg-url`. A reused database gets the indexes of
`crm_core.models` (missing ones created, stale ones dropped, then ANALYZE), so an index change
is measured without a new seed. `--reseed` throws the databases away and seeds again (timed).

On PostgreSQL the stress seed failed on this branch while the demo writer's bulk path was being
reworked (a foreign-key violation on stage_history during COPY; "cannot CREATE INDEX … pending
trigger events" was reported before): when `python -m seed` fails there, the error is recorded
and the database is loaded from the SQLite file of the same size instead
(`copy_sqlite_to_postgresql`: COPY per table, foreign keys and secondary indexes added after the
rows), so both engines hold the same rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, ForeignKeyConstraint, Index, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint

from crm_core.db import make_engine
from crm_core.models import Base
from crm_core.schema import current_revision, upgrade_to_head
from seed.demo_writer import sequence_reset_sql

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT / "data" / "bench"
DEFAULT_PG_URL = "postgresql+psycopg://warroom:warroom@localhost/warroom_test"
PG_PREFIX = "warroom_bench_"
COPY_BATCH = 20_000


@dataclass
class Dataset:
    size: str
    db: str  # "sqlite" | "postgresql"
    url: str
    as_of: str  # the seed's anchor day (ISO)
    seed_seconds: float | None = None  # wall time of `python -m seed … demo` (None: not seeded here)
    seed_note: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    seeded_at: str = ""
    seed_load: str = ""  # 1-minute load average before → after the seed (the machine is shared)

    @property
    def as_of_date(self) -> date:
        return date.fromisoformat(self.as_of)

    @property
    def label(self) -> str:
        return f"{self.size}/{self.db}"


def _meta_path(data_dir: Path, size: str, db: str) -> Path:
    return data_dir / f"{size}.{db}.json"


def _save(data_dir: Path, ds: Dataset) -> None:
    _meta_path(data_dir, ds.size, ds.db).write_text(json.dumps(asdict(ds), indent=2))


def _load_meta(data_dir: Path, size: str, db: str) -> Dataset | None:
    path = _meta_path(data_dir, size, db)
    if not path.exists():
        return None
    return Dataset(**json.loads(path.read_text()))


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.exec_driver_sql(f"SELECT count(*) FROM {t.name}").scalar_one()
            for t in Base.metadata.sorted_tables
        }


def load_average() -> float:
    return round(os.getloadavg()[0], 1)


def run_seed(url: str, size: str, as_of: date) -> tuple[float, str, str]:
    """`python -m seed --db URL demo --size SIZE --as-of D` in a fresh interpreter, timed from
    the command to its exit: (seconds, error or "", "load before → after")."""
    command = [sys.executable, "-m", "seed", "--db", url, "demo", "--size", size, "--as-of", as_of.isoformat()]  # fmt: skip
    before = load_average()
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    load = f"{before} → {load_average()}"
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return elapsed, lines[-1] if lines else f"exit code {proc.returncode}", load
    return elapsed, "", load


# --- indexes ----------------------------------------------------------------------------------


def _present_columns(ix: dict) -> tuple[str, ...]:
    """An index's key columns, then its INCLUDE columns (PostgreSQL) after a '+'."""
    # SQLAlchemy 2.1 reflects INCLUDE under dialect_options; older versions as include_columns.
    options = ix.get("dialect_options") or {}
    included = tuple(options.get("postgresql_include") or ix.get("include_columns") or ())
    return tuple(ix["column_names"]) + (("+", *included) if included else ())


def _wanted_columns(ix: Index, dialect: str) -> tuple[str, ...]:
    included = tuple(ix.dialect_options["postgresql"]["include"] or ()) if dialect == "postgresql" else ()
    return tuple(c.name for c in ix.columns) + (("+", *included) if included else ())


def sync_indexes(engine: Engine, log=print) -> list[str]:
    """Make the database's secondary indexes those of the models (by name and columns)."""
    insp = inspect(engine)
    changes: list[str] = []
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            present = {ix["name"]: _present_columns(ix) for ix in insp.get_indexes(table.name)}
            wanted = {ix.name: _wanted_columns(ix, engine.dialect.name) for ix in table.indexes}
            for name, columns in present.items():
                if name.startswith("ix_") and wanted.get(name) != columns:
                    conn.exec_driver_sql(f"DROP INDEX {name}")
                    changes.append(f"dropped {name}{columns}")
            for ix in sorted(table.indexes, key=lambda i: str(i.name)):
                if present.get(ix.name) != wanted[ix.name]:
                    start = time.perf_counter()
                    conn.execute(CreateIndex(ix))
                    changes.append(
                        f"created {ix.name}{wanted[ix.name]} in {time.perf_counter() - start:.1f} s"
                    )
    if changes:
        for line in changes:
            log(f"    index: {line}")
        analyze(engine)
    return changes


def analyze(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=2000")
            conn.exec_driver_sql("ANALYZE")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")  # also sets the visibility map for index-only scans


# --- SQLite -----------------------------------------------------------------------------------


def _bring_up_to_date(url: str, log=print) -> None:
    """A reused data set at the schema's head with the models' indexes. A migration that ran is
    followed by ANALYZE (VACUUM ANALYZE on PostgreSQL): the rollup migrations rewrite every deal,
    and until the visibility map is set again PostgreSQL's index-only scans read the table too."""
    engine = make_engine(url)
    before = current_revision(engine)
    upgrade_to_head(engine)
    if current_revision(engine) != before:
        log(f"    migrated {before} -> {current_revision(engine)}: analysing")
        analyze(engine)
    sync_indexes(engine, log)
    engine.dispose()


def sqlite_dataset(size: str, data_dir: Path, as_of: date, reseed: bool, log=print) -> Dataset:
    path = data_dir / f"{size}.db"
    url = f"sqlite:///{path}"
    meta = _load_meta(data_dir, size, "sqlite")
    if not reseed and path.exists() and meta is not None:
        log(f"  reusing {path} (as of {meta.as_of}, seeded {meta.seeded_at})")
        _bring_up_to_date(url, log)
        return meta
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    log(f"  seeding {path} (size {size}, as of {as_of})…")
    seconds, error, load = run_seed(url, size, as_of)
    if error:
        raise RuntimeError(f"SQLite {size} seed failed after {seconds:.0f} s: {error}")
    engine = make_engine(url)
    ds = Dataset(size, "sqlite", url, as_of.isoformat(), seconds, "python -m seed demo", table_counts(engine),
                 datetime.now().isoformat(timespec="seconds"), load)  # fmt: skip
    engine.dispose()
    _save(data_dir, ds)
    log(f"  seeded in {seconds:.1f} s")
    return ds


# --- PostgreSQL -------------------------------------------------------------------------------


def _admin(pg_url: str) -> Engine:
    return make_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _pg_exists(pg_url: str, name: str) -> bool:
    admin = _admin(pg_url)
    with admin.connect() as conn:
        found = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first()
    admin.dispose()
    return found is not None


def _pg_recreate(pg_url: str, name: str) -> None:
    admin = _admin(pg_url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def postgresql_dataset(
    size: str, data_dir: Path, pg_url: str, as_of: date, reseed: bool, source: Dataset | None, log=print
) -> Dataset:
    name = f"{PG_PREFIX}{size}"
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    meta = _load_meta(data_dir, size, "postgresql")
    if not reseed and meta is not None and _pg_exists(pg_url, name):
        log(f"  reusing PostgreSQL database {name} (as of {meta.as_of})")
        _bring_up_to_date(url, log)
        return meta
    _pg_recreate(pg_url, name)
    log(f"  seeding PostgreSQL {name} (size {size}, as of {as_of})…")
    seconds, error, load = run_seed(url, size, as_of)
    note = "python -m seed demo"
    if error:
        log(f"  python -m seed failed on PostgreSQL after {seconds:.0f} s: {error}")
        if source is None:
            raise RuntimeError(f"PostgreSQL {size} seed failed and there is no SQLite copy to load: {error}")
        _pg_recreate(pg_url, name)
        copy_seconds = copy_sqlite_to_postgresql(source.url, url, log)
        note = (f"`python -m seed demo` failed after {seconds:.0f} s ({error}); loaded from the SQLite "
                f"{size} database by COPY in {copy_seconds:.0f} s")  # fmt: skip
        seconds = None
        as_of = source.as_of_date
    engine = make_engine(url)
    analyze(engine)
    ds = Dataset(size, "postgresql", url, as_of.isoformat(), seconds, note, table_counts(engine),
                 datetime.now().isoformat(timespec="seconds"), load)  # fmt: skip
    engine.dispose()
    _save(data_dir, ds)
    return ds


def _postgres_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    return value


def copy_sqlite_to_postgresql(sqlite_url: str, pg_url: str, log=print) -> float:
    """Copy every bundle table from SQLite into an empty PostgreSQL database: schema by Alembic,
    rows by COPY with the foreign keys and secondary indexes dropped, then both re-created."""
    start = time.perf_counter()
    target = make_engine(pg_url)
    upgrade_to_head(target)
    source = make_engine(sqlite_url)
    tables = [t for t in Base.metadata.sorted_tables]
    fks: list[ForeignKeyConstraint] = [fk for t in tables for fk in t.foreign_key_constraints]
    raw = target.raw_connection()
    try:
        pg = raw.driver_connection
        with pg.cursor() as cur:
            for fk in fks:
                cur.execute(str(DropConstraint(fk).compile(dialect=target.dialect)))
            for t in tables:
                for ix in t.indexes:
                    cur.execute(f"DROP INDEX IF EXISTS {ix.name}")
        pg.commit()
        with source.connect() as sconn:
            lite = sconn.connection.driver_connection
            for t in tables:
                names = [c.name for c in t.columns]
                kinds = ["bool" if c.type.python_type is bool else "" for c in t.columns]
                t0 = time.perf_counter()
                rows = lite.execute(f"SELECT {', '.join(names)} FROM {t.name}")
                n = 0
                with pg.cursor() as cur, cur.copy(f"COPY {t.name} ({', '.join(names)}) FROM STDIN") as copy:
                    while batch := rows.fetchmany(COPY_BATCH):
                        for row in batch:
                            copy.write_row([_postgres_value(v, k) for v, k in zip(row, kinds, strict=True)])
                        n += len(batch)
                pg.commit()
                log(f"    copied {t.name}: {n:,} rows in {time.perf_counter() - t0:.1f} s")
        with pg.cursor() as cur:
            for t in tables:
                if (reset := sequence_reset_sql(t.name)) is not None:
                    cur.execute(reset)
                for ix in sorted(t.indexes, key=lambda i: str(i.name)):
                    cur.execute(str(CreateIndex(ix).compile(dialect=target.dialect)))
            pg.commit()
            log("    indexes built")
            for fk in fks:
                cur.execute(str(AddConstraint(fk).compile(dialect=target.dialect)))
            pg.commit()
            log("    foreign keys validated")
    finally:
        raw.close()
        source.dispose()
        target.dispose()
    return time.perf_counter() - start
