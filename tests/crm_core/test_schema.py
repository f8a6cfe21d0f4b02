from sqlalchemy import inspect

from crm_core.db import SQLITE_CACHE_KIB, SQLITE_MMAP_BYTES, make_engine
from crm_core.models import Base
from crm_core.schema import current_revision, head_revision, upgrade_to_head


def test_upgrade_from_empty_to_head_creates_every_table(empty_db_url):
    engine = make_engine(empty_db_url)
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_upgrade_is_idempotent(engine):
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()


def test_models_and_migrations_agree(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_sqlite_connections_use_wal_foreign_keys_busy_timeout_mmap_and_cache(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        # the map SQLite grants: what was asked, capped at the build's limit (2 GiB here)
        assert (
            min(SQLITE_MMAP_BYTES, 2**31)
            >= conn.exec_driver_sql("PRAGMA mmap_size").scalar()
            >= 2**31 - 2**16
        )
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
    engine.dispose()


def test_postgresql_sessions_run_without_jit(engine):
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
