"""The demo data generator: determinism, sizes, consistency of every record, logins, and the stories.

The demo is generated once per module into a private database (a SQLite file, or a scratch
PostgreSQL database) and checked with SQL. Tests that need a fresh database use `engine`.
Large and stress sizes run only with WARROOM_SLOW_TESTS=1.
"""

from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Date, DateTime, Engine, bindparam, insert, select, text

from crm_core.db import make_engine
from crm_core.enums import LEAD_SOURCES, RESOLUTION_SLA_HOURS
from crm_core.models import Base, Team
from crm_core.passwords import verify_password
from crm_core.schema import upgrade_to_head
from seed.demo import (
    DEMO_PASSWORDS,
    STAR_REP_USERNAME,
    STRUGGLING_REP_USERNAME,
    DemoError,
    demo_logins,
    generate_demo,
    today_utc,
)
from tests.conftest import scratch_pg_database

PG_URL = os.environ.get("TEST_DATABASE_URL")
AS_OF = date(2026, 11, 20)
T = datetime(2026, 11, 21)  # the end of as_of day
SLOW = pytest.mark.skipif(not os.environ.get("WARROOM_SLOW_TESTS"), reason="set WARROOM_SLOW_TESTS=1")


def month_start(offset: int) -> datetime:
    """First instant of the month `offset` months from as_of's month."""
    index = AS_OF.year * 12 + AS_OF.month - 1 + offset
    return datetime(index // 12, index % 12 + 1, 1)


@contextmanager
def private_database(tmp_path_factory) -> Iterator[str]:
    """A URL of a new, empty database that no other test (or test run) touches."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
        return
    with scratch_pg_database("warroom_demo") as url:
        yield url


class Demo:
    def __init__(self, engine: Engine, counts: dict[str, int], messages: list[str], seconds: float) -> None:
        self.engine, self.counts, self.messages, self.seconds = engine, counts, messages, seconds

    def rows(self, sql: str, *, types: dict | None = None, **params) -> list:
        return query(self.engine, sql, types=types, **params)

    def scalar(self, sql: str, *, types: dict | None = None, **params):
        return self.rows(sql, types=types, **params)[0][0]


def query(engine: Engine, sql: str, *, types: dict | None = None, **params) -> list:
    """Run SQL with datetime/date parameters bound through SQLAlchemy's types (as the app does);
    result columns named in `types` are typed (SQLite returns dates and times as text otherwise)."""
    stmt = text(sql)
    if types:
        stmt = stmt.columns(**types)
    for name, value in params.items():
        kind = DateTime() if isinstance(value, datetime) else Date() if isinstance(value, date) else None
        stmt = stmt.bindparams(bindparam(name, value, type_=kind))
    with engine.connect() as conn:
        return conn.execute(stmt).all()


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch) -> None:
    monkeypatch.setenv("WARROOM_BCRYPT_ROUNDS", "4")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    with pytest.MonkeyPatch.context() as mp, private_database(tmp_path_factory) as url:
        mp.setenv("WARROOM_BCRYPT_ROUNDS", "4")
        engine = make_engine(url)
        upgrade_to_head(engine)
        messages: list[str] = []
        started = time.perf_counter()
        counts = generate_demo(engine, as_of=AS_OF, seed=42, progress=messages.append)
        yield Demo(engine, counts, messages, time.perf_counter() - started)
        engine.dispose()


def snapshot(engine: Engine) -> dict[str, list]:
    """Every row of every table, except the bcrypt hashes (their salt is random by design)."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.c if (table.name, c.name) != ("users", "password_hash")]
            out[table.name] = conn.execute(select(*cols).order_by(*table.primary_key.columns)).all()
    return out


# -- API, determinism, sizes -------------------------------------------------------------------


def test_demo_size_is_quick_and_reports_progress(demo):
    assert demo.seconds < 30
    assert "Generating opportunities…" in demo.messages
    assert all(isinstance(m, str) and len(m) < 80 for m in demo.messages)


def test_counts_are_the_rows_written_and_roughly_the_demo_size(demo):
    actual = {t: demo.scalar(f"SELECT count(*) FROM {t}") for t in demo.counts}
    assert actual == demo.counts
    c = demo.counts
    assert c["teams"] == 4
    assert c["accounts"] == 1500
    assert c["opportunities"] == 6000
    assert 36_000 <= c["activities"] <= 44_000
    assert 2_700 <= c["tickets"] <= 3_600
    assert c["products"] == 12
    assert c["stage_history"] > c["opportunities"]
    assert c["payments"] > 1000 and c["nps_responses"] > 500 and c["leads"] > 5000
    roles = dict(demo.rows("SELECT role, count(*) FROM users GROUP BY role"))
    assert roles == {"admin": 1, "manager": 4, "rep": 25}
    assert demo.rows("SELECT count(DISTINCT region) FROM teams") == [(4,)]
    assert demo.scalar("SELECT count(DISTINCT product_line) FROM products") == 4


def test_same_seed_and_as_of_give_identical_data(demo, engine):
    generate_demo(engine, as_of=AS_OF, seed=42)
    assert snapshot(engine) == snapshot(demo.engine)


def test_a_different_seed_gives_different_data(demo, engine):
    generate_demo(engine, as_of=AS_OF, seed=7)
    ours, theirs = snapshot(engine), snapshot(demo.engine)
    assert ours["users"] == theirs["users"]  # the roster (and the README's logins) never change
    for table in ("opportunities", "activities", "tickets", "leads", "nps_responses"):
        assert ours[table] != theirs[table], table


def test_refuses_a_non_empty_database(engine):
    with engine.begin() as conn:
        conn.execute(insert(Team).values(id=1, name="Existing", region="EMEA"))
    with pytest.raises(DemoError, match=r"not empty.*teams"):
        generate_demo(engine, as_of=AS_OF)
    assert query(engine, "SELECT count(*) FROM teams") == [(1,)]


def test_refuses_to_seed_twice(demo):
    before = demo.counts["opportunities"]
    with pytest.raises(DemoError, match="not empty"):
        generate_demo(demo.engine, as_of=AS_OF)
    assert demo.scalar("SELECT count(*) FROM opportunities") == before


def test_unknown_size_is_refused(engine):
    with pytest.raises(DemoError, match="unknown size 'huge'"):
        generate_demo(engine, size="huge", as_of=AS_OF)


def test_today_utc_is_a_date():
    assert type(today_utc()) is date


# -- logins ----------------------------------------------------------------------------------


def test_passwords_are_stored_as_bcrypt_hashes_that_verify(demo):
    users = demo.rows("SELECT username, role, password_hash FROM users ORDER BY id")
    for username, role, password_hash in users:
        assert password_hash.startswith("$2"), username
        assert DEMO_PASSWORDS[role] not in password_hash
    checked = {role: h for _, role, h in users}  # one hash per role is reused by design
    assert len({h for *_, h in users}) == 3
    for role, password_hash in checked.items():
        assert verify_password(DEMO_PASSWORDS[role], password_hash)
        assert not verify_password(DEMO_PASSWORDS[role] + "x", password_hash)
    assert not verify_password(DEMO_PASSWORDS["rep"], checked["admin"])


def test_usernames_are_easy_to_type(demo):
    users = demo.rows("SELECT username, role, display_name, email FROM users")
    assert ("admin", "admin") in [(u, r) for u, r, *_ in users]
    for username, role, display_name, email in users:
        if role != "admin":
            assert re.fullmatch(r"[a-z]+\.[a-z]+", username), username
            assert display_name.lower().replace(" ", ".") == username
        assert email == f"{username}@warroom.example"
    assert (STAR_REP_USERNAME, "rep") in [(u, r) for u, r, *_ in users]
    assert (STRUGGLING_REP_USERNAME, "rep") in [(u, r) for u, r, *_ in users]


def test_demo_logins_lists_admin_then_managers_then_reps(demo):
    logins = demo_logins(demo.engine)
    assert logins[0] == ("admin", "admin", None)
    assert [login.role for login in logins[1:5]] == ["manager"] * 4
    assert {login.team_name for login in logins[1:5]} == set(dict(demo.rows("SELECT name, id FROM teams")))
    assert len(logins) == 30 and {login.role for login in logins[5:]} == {"rep"}


# -- consistency -----------------------------------------------------------------------------


def test_foreign_keys_hold(demo):
    if demo.engine.dialect.name == "sqlite":
        assert demo.rows("PRAGMA foreign_key_check") == []
    orphans = demo.scalar(
        "SELECT count(*) FROM activities a LEFT JOIN opportunities o ON o.id = a.opportunity_id "
        "WHERE a.opportunity_id IS NOT NULL AND o.id IS NULL"
    )
    assert orphans == 0


def test_stage_history_is_a_chronological_chain_from_prospecting(demo):
    bad = demo.scalar(
        """
        SELECT count(*) FROM (
            SELECT from_stage, changed_at,
                   LAG(to_stage) OVER (PARTITION BY opportunity_id ORDER BY changed_at, id) AS prev_to,
                   LAG(changed_at) OVER (PARTITION BY opportunity_id ORDER BY changed_at, id) AS prev_at
            FROM stage_history
        ) h
        WHERE (prev_to IS NULL AND from_stage <> 'prospecting')
           OR (prev_to IS NOT NULL AND (from_stage IS NULL OR from_stage <> prev_to))
           OR prev_at >= changed_at
        """
    )
    assert bad == 0
    before_creation = demo.scalar(
        "SELECT count(*) FROM stage_history h JOIN opportunities o ON o.id = h.opportunity_id "
        "WHERE h.changed_at <= o.created_at OR h.changed_by <> o.owner_id"
    )
    assert before_creation == 0
    after_close = demo.scalar(
        "SELECT count(*) FROM stage_history h JOIN opportunities o ON o.id = h.opportunity_id "
        "WHERE o.closed_at IS NOT NULL AND h.changed_at > o.closed_at"
    )
    assert after_close == 0


def test_the_last_change_is_the_current_stage_and_the_close(demo):
    last = """
        SELECT o.id, o.stage, o.closed_at, h.to_stage, h.changed_at
        FROM opportunities o JOIN stage_history h ON h.opportunity_id = o.id
        WHERE h.changed_at = (SELECT max(changed_at) FROM stage_history x WHERE x.opportunity_id = o.id)
    """
    rows = demo.rows(last)
    assert rows
    assert [r for r in rows if r.to_stage != r.stage] == []
    assert [r for r in rows if r.closed_at is not None and r.closed_at != r.changed_at] == []
    no_history = demo.rows(
        "SELECT stage, count(*) FROM opportunities o "
        "WHERE NOT EXISTS (SELECT 1 FROM stage_history h WHERE h.opportunity_id = o.id) GROUP BY stage"
    )
    assert dict(no_history).keys() <= {"prospecting"}


def test_closed_at_is_set_exactly_for_closed_deals_and_after_creation(demo):
    assert (
        demo.scalar(
            "SELECT count(*) FROM opportunities WHERE (stage IN ('won', 'lost')) <> (closed_at IS NOT NULL)"
        )
        == 0
    )
    assert demo.scalar("SELECT count(*) FROM opportunities WHERE closed_at <= created_at") == 0
    assert (
        demo.scalar("SELECT count(*) FROM opportunities WHERE (stage = 'lost') <> (lost_reason IS NOT NULL)")
        == 0
    )
    stages = dict(demo.rows("SELECT stage, count(*) FROM opportunities GROUP BY stage"))
    assert set(stages) == {"prospecting", "qualification", "proposal", "negotiation", "won", "lost"}


def test_some_open_deals_expect_to_close_in_the_future(demo):
    future, overdue, total = demo.rows(
        "SELECT sum(CASE WHEN expected_close_date > :d THEN 1 ELSE 0 END), "
        "sum(CASE WHEN expected_close_date <= :d THEN 1 ELSE 0 END), count(*) "
        "FROM opportunities WHERE closed_at IS NULL",
        d=AS_OF,
    )[0]
    assert future > total / 2 and overdue > 0


def test_payments_only_on_won_deals_after_the_close_and_never_above_the_amount(demo):
    assert (
        demo.scalar(
            "SELECT count(*) FROM payments p JOIN opportunities o ON o.id = p.opportunity_id "
            "WHERE o.stage <> 'won' OR p.paid_at <= o.closed_at OR p.amount <= 0"
        )
        == 0
    )
    over = demo.rows(
        "SELECT o.id FROM payments p JOIN opportunities o ON o.id = p.opportunity_id "
        "GROUP BY o.id, o.amount HAVING sum(p.amount) > o.amount + 0.001"
    )
    assert over == []
    paid_in_full = demo.scalar(
        "SELECT count(*) FROM (SELECT o.id FROM payments p JOIN opportunities o ON o.id = p.opportunity_id "
        "GROUP BY o.id, o.amount HAVING sum(p.amount) > o.amount - 0.001) x"
    )
    assert paid_in_full > 100


def test_tickets_respond_then_resolve_and_rate_only_when_done(demo):
    assert demo.scalar("SELECT count(*) FROM tickets WHERE first_response_at < created_at") == 0
    assert demo.scalar("SELECT count(*) FROM tickets WHERE resolved_at < first_response_at") == 0
    assert (
        demo.scalar(
            "SELECT count(*) FROM tickets WHERE resolved_at IS NOT NULL AND first_response_at IS NULL"
        )
        == 0
    )
    assert (
        demo.scalar(
            "SELECT count(*) FROM tickets WHERE (status IN ('resolved', 'closed')) <> (resolved_at IS NOT NULL)"
        )
        == 0
    )
    assert (
        demo.scalar(
            "SELECT count(*) FROM tickets WHERE csat IS NOT NULL AND status NOT IN ('resolved', 'closed')"
        )
        == 0
    )
    statuses = dict(demo.rows("SELECT status, count(*) FROM tickets GROUP BY status"))
    assert {"resolved", "closed", "in_progress", "waiting"} <= set(statuses)


def test_tickets_and_surveys_come_from_customers(demo):
    for table, column in (("tickets", "created_at"), ("nps_responses", "responded_at")):
        assert (
            demo.scalar(
                f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM opportunities o "
                f"WHERE o.account_id = t.account_id AND o.stage = 'won' AND o.closed_at <= t.{column})"
            )
            == 0
        ), table


def test_deal_activities_belong_to_the_deal_and_its_people(demo):
    bad = demo.scalar(
        """
        SELECT count(*) FROM activities a
        JOIN opportunities o ON o.id = a.opportunity_id
        JOIN users owner ON owner.id = o.owner_id
        JOIN users u ON u.id = a.user_id
        WHERE NOT (a.user_id = o.owner_id OR (u.role = 'manager' AND u.team_id = owner.team_id))
           OR a.account_id IS NULL OR a.account_id <> o.account_id OR a.lead_id IS NOT NULL
           OR a.occurred_at < o.created_at OR a.occurred_at > o.closed_at
        """
    )
    assert bad == 0


def test_lead_and_account_activities_belong_to_their_owner_and_lifetime(demo):
    lead_bad = demo.scalar(
        """
        SELECT count(*) FROM activities a JOIN leads l ON l.id = a.lead_id
        WHERE l.owner_id IS NULL OR a.user_id <> l.owner_id OR a.account_id IS NOT NULL
           OR a.opportunity_id IS NOT NULL OR a.occurred_at < l.created_at OR a.occurred_at > l.converted_at
        """
    )
    assert lead_bad == 0
    account_bad = demo.scalar(
        """
        SELECT count(*) FROM activities a JOIN accounts c ON c.id = a.account_id
        WHERE a.opportunity_id IS NULL AND a.lead_id IS NULL
          AND (a.user_id <> c.owner_id OR a.occurred_at < c.created_at OR a.occurred_at >= c.churned_at)
        """
    )
    assert account_bad == 0
    unlinked = demo.scalar(
        "SELECT count(*) FROM activities WHERE account_id IS NULL AND opportunity_id IS NULL AND lead_id IS NULL"
    )
    assert unlinked == 0


@pytest.mark.parametrize(
    ("table", "link"), [("accounts", "account_id"), ("opportunities", "opportunity_id"), ("leads", "lead_id")]
)
def test_last_activity_at_is_the_latest_activity(demo, table, link):
    bad = demo.rows(
        f"""
        SELECT t.id FROM {table} t LEFT JOIN (
            SELECT {link} AS ref, max(occurred_at) AS latest FROM activities
            WHERE {link} IS NOT NULL GROUP BY {link}
        ) a ON a.ref = t.id
        WHERE (a.latest IS NULL AND t.last_activity_at IS NOT NULL)
           OR (a.latest IS NOT NULL AND (t.last_activity_at IS NULL OR t.last_activity_at <> a.latest))
        """
    )
    assert bad == []


def test_converted_leads_and_their_deals_point_at_each_other(demo):
    assert (
        demo.scalar(
            """
        SELECT count(*) FROM leads l LEFT JOIN opportunities o ON o.id = l.opportunity_id
        WHERE (l.status = 'converted') <> (l.opportunity_id IS NOT NULL)
           OR (l.status = 'converted') <> (l.converted_at IS NOT NULL)
           OR (l.opportunity_id IS NOT NULL AND (o.lead_id IS NULL OR o.lead_id <> l.id))
           OR l.converted_at < l.created_at OR l.converted_at <> o.created_at
        """
        )
        == 0
    )
    assert (
        demo.scalar(
            "SELECT count(*) FROM opportunities o LEFT JOIN leads l ON l.id = o.lead_id "
            "WHERE o.lead_id IS NOT NULL AND (l.opportunity_id IS NULL OR l.opportunity_id <> o.id)"
        )
        == 0
    )
    assert demo.scalar("SELECT count(*) FROM leads WHERE status = 'converted'") > 500
    assert (
        demo.scalar(
            "SELECT count(*) FROM leads WHERE (status = 'disqualified') <> (disqualify_reason IS NOT NULL)"
        )
        == 0
    )


def test_accounts_exist_before_their_deals_and_churned_ones_go_quiet(demo):
    assert (
        demo.scalar(
            "SELECT count(*) FROM opportunities o JOIN accounts a ON a.id = o.account_id WHERE a.created_at > o.created_at"
        )
        == 0
    )
    after_churn = {
        "open or late deals": "SELECT count(*) FROM opportunities o JOIN accounts a ON a.id = o.account_id "
        "WHERE a.churned_at IS NOT NULL AND (o.closed_at IS NULL OR o.closed_at >= a.churned_at)",
        "activities": "SELECT count(*) FROM activities x JOIN accounts a ON a.id = x.account_id "
        "WHERE x.occurred_at >= a.churned_at",
        "tickets": "SELECT count(*) FROM tickets x JOIN accounts a ON a.id = x.account_id WHERE x.created_at >= a.churned_at",
        "nps": "SELECT count(*) FROM nps_responses x JOIN accounts a ON a.id = x.account_id "
        "WHERE x.responded_at >= a.churned_at",
        "not customers": "SELECT count(*) FROM accounts a WHERE a.churned_at IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM opportunities o WHERE o.account_id = a.id AND o.stage = 'won' AND o.closed_at < a.churned_at)",
    }
    assert {what: demo.scalar(sql) for what, sql in after_churn.items()} == dict.fromkeys(after_churn, 0)


def test_owners_work_in_their_own_region(demo):
    assert (
        demo.scalar(
            "SELECT count(*) FROM accounts a JOIN users u ON u.id = a.owner_id JOIN teams t ON t.id = u.team_id "
            "WHERE u.role <> 'rep' OR t.region <> a.region"
        )
        == 0
    )
    assert (
        demo.scalar(
            "SELECT count(*) FROM opportunities o JOIN accounts a ON a.id = o.account_id WHERE o.owner_id <> a.owner_id"
        )
        == 0
    )


def timestamp_columns() -> list[tuple[str, str]]:
    return [
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.c
        if isinstance(column.type, DateTime) or isinstance(getattr(column.type, "impl", None), DateTime)
    ]


def test_nothing_is_dated_after_the_end_of_as_of_day(demo):
    columns = timestamp_columns()
    assert ("activities", "occurred_at") in columns and len(columns) > 15
    late = {f"{t}.{c}": demo.scalar(f"SELECT count(*) FROM {t} WHERE {c} >= :t", t=T) for t, c in columns}
    assert late == dict.fromkeys(late, 0)
    latest = demo.scalar("SELECT max(occurred_at) AS latest FROM activities", types={"latest": DateTime()})
    assert T - latest < timedelta(days=1)  # and the history runs right up to as_of


def test_history_covers_24_months(demo):
    earliest = demo.scalar(
        "SELECT min(closed_at) AS earliest FROM opportunities", types={"earliest": DateTime()}
    )
    assert month_start(-23) <= earliest < month_start(-22)
    months = demo.rows(
        "SELECT DISTINCT closed_at FROM opportunities WHERE stage = 'won'", types={"closed_at": DateTime()}
    )
    with_wins = {(c.year, c.month) for (c,) in months}
    full_months = {(m.year, m.month) for m in map(month_start, range(-23, 0))}
    assert full_months <= with_wins and len(with_wins) <= 24


def test_targets_for_every_rep_and_month_through_the_quarter(demo):
    reps = demo.scalar("SELECT count(*) FROM users WHERE role = 'rep'")
    per_rep = demo.rows(
        "SELECT user_id, count(*) AS n, min(month) AS lo, max(month) AS hi FROM targets GROUP BY user_id",
        types={"lo": Date(), "hi": Date()},
    )
    assert len(per_rep) == reps
    assert {(n, lo, hi) for _, n, lo, hi in per_rep} == {(25, date(2024, 12, 1), date(2026, 12, 1))}
    assert (
        demo.scalar("SELECT count(*) FROM targets t JOIN users u ON u.id = t.user_id WHERE u.role <> 'rep'")
        == 0
    )
    assert demo.scalar("SELECT min(amount) FROM targets") > 0


@pytest.mark.parametrize("as_of", [date(2028, 2, 29), date(2025, 12, 31)])
def test_other_as_of_dates_stay_consistent(engine, as_of):
    generate_demo(engine, as_of=as_of, seed=3)
    end = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    late = {
        f"{t}.{c}": query(engine, f"SELECT count(*) FROM {t} WHERE {c} >= :t", t=end)[0][0]
        for t, c in timestamp_columns()
    }
    assert late == dict.fromkeys(late, 0)
    mismatched = query(
        engine,
        "SELECT count(*) FROM opportunities o JOIN stage_history h ON h.opportunity_id = o.id "
        "WHERE h.changed_at = (SELECT max(changed_at) FROM stage_history x WHERE x.opportunity_id = o.id) "
        "AND (h.to_stage <> o.stage OR h.changed_at <> coalesce(o.closed_at, h.changed_at))",
    )
    assert mismatched == [(0,)]
    quarter_end = date(as_of.year, (as_of.month - 1) // 3 * 3 + 3, 1)
    assert query(engine, "SELECT max(month) AS m FROM targets", types={"m": Date()}) == [(quarter_end,)]


# -- the stories -----------------------------------------------------------------------------


def bookings_by_rep(demo: Demo, start: datetime, end: datetime) -> dict[str, float]:
    rows = demo.rows(
        "SELECT u.username, sum(o.amount) FROM opportunities o JOIN users u ON u.id = o.owner_id "
        "WHERE o.stage = 'won' AND o.closed_at >= :a AND o.closed_at < :b GROUP BY u.username",
        a=start,
        b=end,
    )
    return {rep: float(total) for rep, total in rows}


def targets_by_rep(demo: Demo, start: datetime, end: datetime) -> dict[str, float]:
    rows = demo.rows(
        "SELECT u.username, sum(t.amount) FROM targets t JOIN users u ON u.id = t.user_id "
        "WHERE t.month >= :a AND t.month < :b GROUP BY u.username",
        a=start.date(),
        b=end.date(),
    )
    return {rep: float(total) for rep, total in rows}


def attainment_last_12_full_months(demo: Demo) -> dict[str, float]:
    start, end = month_start(-12), month_start(0)
    booked, target = bookings_by_rep(demo, start, end), targets_by_rep(demo, start, end)
    return {rep: booked.get(rep, 0) / target[rep] for rep in target}


def test_star_rep_clearly_tops_bookings_and_attainment(demo):
    booked = bookings_by_rep(demo, T - timedelta(days=365), T)
    star = booked.pop(STAR_REP_USERNAME)
    assert star > 1.3 * max(booked.values())
    attainment = attainment_last_12_full_months(demo)
    assert max(attainment, key=attainment.get) == STAR_REP_USERNAME
    assert attainment[STAR_REP_USERNAME] > 2
    quarters = [bookings_by_rep(demo, month_start(-3 * k - 3), month_start(-3 * k)) for k in range(4)]
    assert sum(max(q, key=q.get) == STAR_REP_USERNAME for q in quarters) >= 2  # and most quarters


def test_struggling_rep_is_far_below_target_and_typical_reps_near_it(demo):
    attainment = attainment_last_12_full_months(demo)
    assert attainment[STRUGGLING_REP_USERNAME] < 0.5
    assert min(attainment, key=attainment.get) == STRUGGLING_REP_USERNAME
    typical = sorted(
        v for rep, v in attainment.items() if rep not in (STAR_REP_USERNAME, STRUGGLING_REP_USERNAME)
    )
    assert 0.8 < typical[len(typical) // 2] < 1.25


def test_bookings_spike_in_q4(demo):
    year = AS_OF.year - 1  # the last calendar year fully inside the 24 months
    by_quarter = defaultdict(float)
    for amount, closed_at in demo.rows(
        "SELECT amount, closed_at FROM opportunities WHERE stage = 'won' AND closed_at >= :a AND closed_at < :b",
        types={"closed_at": DateTime()},
        a=datetime(year, 1, 1),
        b=datetime(year + 1, 1, 1),
    ):
        by_quarter[(closed_at.month - 1) // 3] += float(amount)
    others = (by_quarter[0] + by_quarter[1] + by_quarter[2]) / 3
    assert by_quarter[3] > 1.5 * others


def test_churn_wave_in_emea(demo):
    churned = dict(
        demo.rows(
            "SELECT region, count(*) FROM accounts WHERE churned_at >= :a AND churned_at < :b GROUP BY region",
            a=month_start(-3),
            b=month_start(0),
        )
    )
    emea = churned.pop("EMEA")
    assert emea >= 25
    assert emea >= 4 * max(churned.values(), default=1)
    before = dict(
        demo.rows(
            "SELECT region, count(*) FROM accounts WHERE churned_at >= :a AND churned_at < :b GROUP BY region",
            a=month_start(-9),
            b=month_start(-3),
        )
    )
    assert before.get("EMEA", 0) < emea / 3  # a wave, not a steady state
    recent_losses = dict(
        demo.rows(
            "SELECT o.lost_reason, count(*) FROM opportunities o JOIN accounts a ON a.id = o.account_id "
            "WHERE o.stage = 'lost' AND a.region = 'EMEA' AND o.closed_at >= :a GROUP BY o.lost_reason",
            a=month_start(-6),
        )
    )
    assert max(recent_losses, key=recent_losses.get) == "Competitor"


def test_one_recent_month_breaches_the_resolution_sla(demo):
    met, total = defaultdict(int), defaultdict(int)
    for priority, created_at, resolved_at in demo.rows(
        "SELECT priority, created_at, resolved_at FROM tickets WHERE resolved_at >= :a AND resolved_at < :b",
        types={"created_at": DateTime(), "resolved_at": DateTime()},
        a=month_start(-22),
        b=month_start(0),
    ):
        month = (resolved_at.year, resolved_at.month)
        total[month] += 1
        met[month] += resolved_at - created_at <= timedelta(hours=RESOLUTION_SLA_HOURS[priority])
    rate = {m: met[m] / total[m] for m in total if total[m] >= 40}
    breach = month_start(-4)
    assert rate.pop((breach.year, breach.month)) < 0.35
    assert min(rate.values()) > 0.7


def test_a_visible_share_of_open_deals_is_stale_most_of_them_the_strugglers(demo):
    rows = demo.rows(
        """
        SELECT u.username, count(*), sum(CASE WHEN coalesce(last_touch, o.created_at) < :cutoff THEN 1 ELSE 0 END)
        FROM opportunities o JOIN users u ON u.id = o.owner_id LEFT JOIN (
            SELECT opportunity_id, max(occurred_at) AS last_touch FROM activities
            WHERE opportunity_id IS NOT NULL GROUP BY opportunity_id
        ) a ON a.opportunity_id = o.id
        WHERE o.closed_at IS NULL
        GROUP BY u.username
        """,
        cutoff=T - timedelta(days=14),
    )
    open_deals, stale = sum(r[1] for r in rows), sum(r[2] for r in rows)
    assert open_deals > 200
    assert 0.1 < stale / open_deals < 0.4
    stale_by_rep = {username: n for username, _, n in rows}
    assert max(stale_by_rep, key=stale_by_rep.get) == STRUGGLING_REP_USERNAME


def test_unassigned_lead_pool_of_fresh_leads(demo):
    count, oldest, statuses = demo.rows(
        "SELECT count(*), min(created_at) AS oldest, count(DISTINCT status) FROM leads WHERE owner_id IS NULL",
        types={"oldest": DateTime()},
    )[0]
    assert count >= 24
    assert oldest >= T - timedelta(days=30)
    assert statuses == 1 and demo.scalar("SELECT min(status) FROM leads WHERE owner_id IS NULL") == "new"


def test_deals_are_lost_for_the_usual_reasons(demo):
    reasons = dict(
        demo.rows("SELECT lost_reason, count(*) FROM opportunities WHERE stage = 'lost' GROUP BY lost_reason")
    )
    assert set(reasons) == {"Price", "Competitor", "No budget", "Timing", "No decision"}
    assert min(reasons.values()) > 100


def test_lead_sources_convert_at_different_rates(demo):
    rate = {
        source: converted / total
        for source, total, converted in demo.rows(
            "SELECT source, count(*), sum(CASE WHEN status = 'converted' THEN 1 ELSE 0 END) FROM leads "
            "WHERE created_at < :a GROUP BY source",
            a=month_start(-2),
        )
    }
    assert set(rate) == set(LEAD_SOURCES)
    assert rate["referral"] > 2 * rate["web"] > 4 * rate["ads"]
    assert max(rate.values()) > 5 * min(rate.values())


def test_nps_has_every_kind_of_answer_and_emea_scores_low(demo):
    kinds = demo.rows(
        "SELECT sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END), sum(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END) FROM nps_responses"
    )[0]
    assert min(kinds) > 100
    nps = {
        region: 100 * (promoters - detractors) / n
        for region, n, promoters, detractors in demo.rows(
            "SELECT a.region, count(*), sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END), "
            "sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END) FROM nps_responses r JOIN accounts a ON a.id = r.account_id "
            "WHERE r.responded_at >= :a GROUP BY a.region",
            a=month_start(-6),
        )
    }
    emea = nps.pop("EMEA")
    assert emea < -20
    assert emea < min(nps.values()) - 30


# -- the big sizes (by hand or in CI with WARROOM_SLOW_TESTS=1) -------------------------------


@pytest.mark.slow
@SLOW
@pytest.mark.parametrize(
    ("size", "opportunities", "activities", "reps"),
    [("large", 100_000, 2_500_000, 200), ("stress", 1_000_000, 5_000_000, 500)],
)
def test_big_sizes(engine, size, opportunities, activities, reps):
    started = time.perf_counter()
    counts = generate_demo(engine, size=size, as_of=AS_OF)
    elapsed = time.perf_counter() - started
    print(f"{size}: {elapsed:.1f} s {counts}")
    assert counts["opportunities"] == opportunities
    assert 0.9 * activities < counts["activities"] < 1.1 * activities
    assert query(engine, "SELECT count(*) FROM users WHERE role = 'rep'") == [(reps,)]
    late = {
        f"{t}.{c}": query(engine, f"SELECT count(*) FROM {t} WHERE {c} >= :t", t=T)[0][0]
        for t, c in timestamp_columns()
    }
    assert late == dict.fromkeys(late, 0)
    if engine.dialect.name == "sqlite":
        assert query(engine, "PRAGMA foreign_key_check") == []
        assert query(engine, "PRAGMA quick_check") == [("ok",)]
