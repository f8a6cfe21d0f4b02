"""The per-dialect constructs give the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import literal, select

from crm_core.dialect import cents, folded, greatest, least, month_key, no_index, seconds_between
from crm_core.models import UTCDateTime


def _ts(value: datetime):
    return literal(value, UTCDateTime())


def test_month_key(engine):
    with engine.connect() as conn:
        key = conn.execute(select(month_key(_ts(datetime(2026, 3, 31, 23, 59, 59))))).scalar()
    assert key == "2026-03"


def test_seconds_between_is_exact_to_the_millisecond(engine):
    start = datetime(2026, 3, 1, 8, 0, 0)
    with engine.connect() as conn:
        exactly_4h = conn.execute(
            select(seconds_between(_ts(datetime(2026, 3, 1, 12, 0, 0)), _ts(start)))
        ).scalar()
        plus_1s = conn.execute(
            select(seconds_between(_ts(datetime(2026, 3, 1, 12, 0, 1)), _ts(start)))
        ).scalar()
        plus_half = conn.execute(
            select(seconds_between(_ts(datetime(2026, 3, 1, 8, 0, 0, 500_000)), _ts(start)))
        ).scalar()
        days = conn.execute(
            select(seconds_between(_ts(datetime(2026, 4, 1)), _ts(datetime(2026, 3, 1))))
        ).scalar()
    assert float(exactly_4h) == 4 * 3600
    assert float(plus_1s) == 4 * 3600 + 1
    assert float(plus_half) == 0.5
    assert float(days) == 31 * 86400


def test_cents_greatest_least(engine):
    with engine.connect() as conn:
        assert int(conn.execute(select(cents(literal(1234.56)))).scalar()) == 123456
        assert conn.execute(select(greatest(1, 5, 3))).scalar() == 5
        assert conn.execute(select(least(1, 5, 3))).scalar() == 1


def test_no_index_is_the_column_itself(engine, scenario):
    from crm_core.models import Account

    accounts = Account.__table__
    s = scenario()
    s.user(3).account(10, owner=3, region="North").account(20, owner=3, region="South")
    s.load(engine)
    with engine.connect() as conn:
        ids = (
            conn.execute(select(accounts.c.id).where(no_index(accounts.c.region) == "North")).scalars().all()
        )
    assert ids == [10]
    sql = str(select(accounts.c.id).where(no_index(accounts.c.id) > 1).compile(engine))
    assert ("+accounts.id" in sql) == (engine.dialect.name == "sqlite")


def test_folded_ignores_case_beyond_ascii(engine):
    with engine.connect() as conn:
        same = conn.execute(
            select(folded(literal("ÉCOLE Ünïcode")) == folded(literal("école ünïcode")))
        ).scalar()
        different = conn.execute(select(folded(literal("École")) == folded(literal("Ecole")))).scalar()
    assert bool(same) and not bool(different)
