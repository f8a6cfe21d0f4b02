"""Row counts per CRM table: the home page's proof that the data is there."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select

from crm_core.models import BUNDLE_TABLES


def table_counts(engine: Engine) -> pd.DataFrame:
    """One row per bundle table: columns `table`, `rows`."""
    with engine.connect() as conn:
        rows = [
            (model.__tablename__, conn.execute(select(func.count()).select_from(model)).scalar_one())
            for model in BUNDLE_TABLES
        ]
    return pd.DataFrame(rows, columns=["table", "rows"])
