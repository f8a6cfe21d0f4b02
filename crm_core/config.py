"""Where the database lives: `DATABASE_URL`, else a SQLite file under `data/`."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "warroom.db"


def database_url(explicit: str | None = None) -> URL:
    """The URL to use: an explicit one, else `DATABASE_URL`, else `data/warroom.db`.

    A bare `postgresql://` URL is mapped to the psycopg 3 driver we ship.
    """
    raw = explicit or os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def safe_url(url: URL | str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
