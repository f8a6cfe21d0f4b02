"""First-run preparation shared by the app: migrate, then seed the demo into an empty database."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select

from crm_core.models import User
from crm_core.schema import upgrade_to_head


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(User)).scalar_one() == 0


def ensure_ready(engine: Engine, progress: Callable[[str], None] | None = None) -> bool:
    """Upgrade the schema to head and seed the demo if there are no users. True if it seeded."""
    upgrade_to_head(engine)
    if not database_is_empty(engine):
        return False
    from seed.demo import generate_demo, today_utc

    generate_demo(engine, size="demo", seed=42, as_of=today_utc(), progress=progress)
    return True
