"""Database URLs: defaults, the psycopg mapping, and passwords never shown."""

from crm_core.config import DEFAULT_SQLITE_PATH, database_url, safe_url


def test_default_is_the_sqlite_file_under_data(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url().database == str(DEFAULT_SQLITE_PATH)


def test_plain_postgresql_urls_use_psycopg_3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/warroom")
    assert database_url().drivername == "postgresql+psycopg"


def test_safe_url_hides_the_password():
    shown = safe_url("postgresql+psycopg://warroom:s3cret-pw@db.example/warroom")
    assert "s3cret-pw" not in shown
    assert shown == "postgresql+psycopg://warroom:***@db.example/warroom"
