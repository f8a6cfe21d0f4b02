"""The rollups of `crm_core.rollups` stay equal to their SQL definitions on every write path:
services (ORM flush listener), bundle loads, the demo seed (numpy) and the migration backfill."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import Engine, select

from crm_core import rollups
from crm_core.db import session_factory
from crm_core.models import Account, Activity, ActivityDay, NpsResponse, Opportunity, Payment, Ticket
from crm_core.schema import alembic_config
from crm_core.services import activities, deals, tickets
from tests.conftest import seeded_demo_engine
from tests.crm_core.factories import build_world, make_account, make_deal

OPP = Opportunity.__table__
ACCOUNTS = Account.__table__
DAYS = ActivityDay.__table__
DEAL_COLUMNS = (OPP.c.history_to_stage, OPP.c.history_changed_at, OPP.c.furthest_stage_order)
PREVIOUS_COLUMNS = (OPP.c.history_prev_to_stage, OPP.c.history_prev_changed_at)
THIRD_COLUMNS = (OPP.c.history_prev2_to_stage, OPP.c.history_prev2_changed_at, OPP.c.cycle_seconds)
REGION_COLUMNS = (OPP.c.account_region,)
ACCOUNT_COLUMNS = (ACCOUNTS.c.first_won_at, ACCOUNTS.c.second_won_at, ACCOUNTS.c.won_cents)
NPS_COLUMNS = (ACCOUNTS.c.latest_nps_at, ACCOUNTS.c.latest_nps_score)
TICKETS = Ticket.__table__
PAYMENTS = Payment.__table__
TICKET_COLUMNS = (TICKETS.c.first_response_seconds, TICKETS.c.resolution_seconds)


def _rows(conn) -> tuple[list, ...]:
    deal_rows = conn.execute(
        select(OPP.c.id, *DEAL_COLUMNS, *PREVIOUS_COLUMNS, *THIRD_COLUMNS, *REGION_COLUMNS).order_by(OPP.c.id)
    ).all()
    account_rows = conn.execute(
        select(ACCOUNTS.c.id, *ACCOUNT_COLUMNS, *NPS_COLUMNS).order_by(ACCOUNTS.c.id)
    ).all()
    day_rows = conn.execute(select(DAYS).order_by(DAYS.c.user_id, DAYS.c.day)).all()
    ticket_rows = conn.execute(
        select(TICKETS.c.id, *TICKET_COLUMNS, TICKETS.c.account_region).order_by(TICKETS.c.id)
    ).all()
    payment_rows = conn.execute(
        select(PAYMENTS.c.id, PAYMENTS.c.account_region).order_by(PAYMENTS.c.id)
    ).all()
    return tuple(
        [tuple(r) for r in rows] for rows in (deal_rows, account_rows, day_rows, ticket_rows, payment_rows)
    )


def stored(engine: Engine) -> tuple[list, ...]:
    with engine.connect() as conn:
        return _rows(conn)


def recomputed(engine: Engine) -> tuple[list, ...]:
    """The rollups recomputed from scratch, in a transaction that is rolled back."""
    with engine.connect() as conn:
        rollups.refresh_opportunities(conn)
        rollups.refresh_accounts(conn)
        rollups.refresh_activity_days(conn)
        rollups.refresh_account_nps(conn)
        rollups.refresh_tickets(conn)
        rollups.refresh_payments(conn)
        rows = _rows(conn)
        conn.rollback()
    return rows


def down_and_up(engine: Engine, revision: str) -> None:
    """Downgrade to `revision`, then upgrade back to head (each in its own transaction)."""
    cfg = alembic_config()
    for step, target in ((command.downgrade, revision), (command.upgrade, "head")):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg, target)


def deal_rollup(engine: Engine, deal_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(*DEAL_COLUMNS).where(OPP.c.id == deal_id)).one())


def previous_row(engine: Engine, deal_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(*PREVIOUS_COLUMNS).where(OPP.c.id == deal_id)).one())


def latest_nps(engine: Engine, account_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(*NPS_COLUMNS).where(ACCOUNTS.c.id == account_id)).one())


def account_rollup(engine: Engine, account_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(*ACCOUNT_COLUMNS).where(ACCOUNTS.c.id == account_id)).one())


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    with seeded_demo_engine(tmp_path_factory, "rollups", date(2026, 11, 22)) as engine:
        yield engine


def test_demo_seed_writes_the_rollups_its_data_implies(demo_engine):
    deals_seeded, accounts_seeded, days_seeded, tickets_seeded, payments_seeded = stored(demo_engine)
    assert (deals_seeded, accounts_seeded, days_seeded, tickets_seeded, payments_seeded) == recomputed(
        demo_engine
    )
    assert len(payments_seeded) > 500 and None not in {r[1] for r in payments_seeded}
    assert sum(1 for r in tickets_seeded if r[2] is not None) > 1000  # resolved tickets
    assert sum(n for _, _, n in days_seeded) > 30_000  # every activity counted once
    assert sum(1 for r in deals_seeded if r[1] is not None) > 1000  # deals with history
    assert sum(1 for r in deals_seeded if r[4] is not None) > 500  # … with two rows or more
    assert sum(1 for r in deals_seeded if r[6] is not None) > 200  # … with three rows or more
    assert sum(1 for r in deals_seeded if r[8] is not None) > 1000  # closed deals: their cycle
    assert {r[3] for r in deals_seeded} == {1, 2, 3, 4, 5}
    assert sum(1 for r in accounts_seeded if r[2] is not None) > 50  # repeat customers
    assert sum(1 for r in accounts_seeded if r[1] is None and r[3] == 0) > 0  # prospects
    assert sum(1 for r in accounts_seeded if r[5] is not None) > 100  # with an NPS response
    assert len({r[9] for r in deals_seeded}) >= 4 and None not in {r[9] for r in deals_seeded}  # regions


def test_services_keep_the_rollups_through_a_deal_lifecycle(engine):
    world = build_world(engine)
    rep = world.rep_a
    account_id = make_account(engine, rep.user_id)
    deal_id = make_deal(engine, rep.user_id, account_id, amount=1000)
    assert deal_rollup(engine, deal_id) == (None, None, 1)
    assert previous_row(engine, deal_id) == (None, None)
    assert account_rollup(engine, account_id) == (None, None, 0)

    deal = deals.move_stage(engine, rep, deal_id=deal_id, expected_version=1, to_stage="proposal")
    assert deal_rollup(engine, deal_id)[::2] == ("proposal", 3)
    deal = deals.move_stage(
        engine, rep, deal_id=deal_id, expected_version=deal.version, to_stage="qualification"
    )
    assert deal_rollup(engine, deal_id)[::2] == ("qualification", 3)  # the furthest stage stays
    assert previous_row(engine, deal_id)[0] == "proposal"
    deal = deals.mark_won(engine, rep, deal_id=deal_id, expected_version=deal.version, amount="1234.56")
    to_stage, changed_at, furthest = deal_rollup(engine, deal_id)
    assert (to_stage, changed_at, furthest) == ("won", deal.closed_at, 5)
    assert account_rollup(engine, account_id) == (deal.closed_at, None, 123456)

    second = make_deal(engine, rep.user_id, account_id, amount=10)
    second_deal = deals.mark_won(engine, rep, deal_id=second, expected_version=1)
    assert account_rollup(engine, account_id) == (deal.closed_at, second_deal.closed_at, 123456 + 1000)
    deals.update(engine, rep, deal_id=second, expected_version=second_deal.version, amount="20")
    assert account_rollup(engine, account_id)[2] == 123456 + 2000

    deal = deals.reopen(engine, rep, deal_id=deal_id, expected_version=deal.version, to_stage="negotiation")
    assert deal_rollup(engine, deal_id)[::2] == ("negotiation", 4)
    assert account_rollup(engine, account_id) == (second_deal.closed_at, None, 2000)
    deals.mark_lost(engine, rep, deal_id=deal_id, expected_version=deal.version, lost_reason="Budget")
    assert deal_rollup(engine, deal_id)[::2] == ("lost", 4)
    assert previous_row(engine, deal_id)[0] == "negotiation"
    assert stored(engine) == recomputed(engine)


def test_a_bundle_load_writes_the_rollups(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3)
    s.opp(1, account=10, owner=3, amount="100.00", stage="won", created="2026-02-01", closed="2026-03-05")
    s.opp(2, account=10, owner=3, amount="50.25", stage="won", created="2026-02-01", closed="2026-03-01")
    s.opp(3, account=10, owner=3, amount="70.00", stage="lost", created="2026-02-01", closed="2026-03-02")
    s.history(1, "proposal", at="2026-02-10")
    s.history(1, "won", at="2026-03-05")
    s.history(3, "negotiation", at="2026-02-11")
    s.history(3, "qualification", at="2026-02-12")
    s.activity(1, 3, "2026-03-01T10:00:00", account=10).activity(2, 3, "2026-03-01T23:59:59", account=10)
    s.load(engine)
    assert activity_days(engine) == {(3, date(2026, 3, 1)): 2}
    assert deal_rollup(engine, 1) == ("won", datetime(2026, 3, 5), 5)
    assert deal_rollup(engine, 2) == (None, None, 5)
    assert deal_rollup(engine, 3) == ("qualification", datetime(2026, 2, 12), 4)
    assert previous_row(engine, 3) == ("negotiation", datetime(2026, 2, 11))
    assert previous_row(engine, 2) == (None, None)
    assert account_rollup(engine, 10) == (datetime(2026, 3, 1), datetime(2026, 3, 5), 15025)
    assert stored(engine) == recomputed(engine)


def test_the_migration_fills_the_rollups_of_existing_data(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3)
    s.opp(1, account=10, owner=3, amount="100.00", stage="won", created="2026-02-01", closed="2026-03-05")
    s.history(1, "proposal", at="2026-02-09")
    s.history(1, "negotiation", at="2026-02-10")
    s.activity(1, 3, "2026-03-01T10:00:00", account=10)
    s.load(engine)
    for revision in ("0003", "0002", "0001"):
        down_and_up(engine, revision)
        assert deal_rollup(engine, 1) == ("negotiation", datetime(2026, 2, 10), 5)
        assert previous_row(engine, 1) == ("proposal", datetime(2026, 2, 9))
        assert activity_days(engine) == {(3, date(2026, 3, 1)): 1}
    assert account_rollup(engine, 10) == (datetime(2026, 3, 5), None, 10000)


def regions_of(engine: Engine, table) -> dict[int, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(table.c.id, table.c.account_region)).all())


def test_deals_tickets_and_payments_carry_their_accounts_region_on_every_write_path(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3, region="North").account(11, owner=3, region="South")
    s.opp(1, account=10, owner=3, amount="100.00", stage="won", created="2026-02-01", closed="2026-03-05")
    s.opp(2, account=11, owner=3, amount="50.00", stage="proposal", created="2026-02-01")
    s.ticket(1, 10, "urgent", "2026-03-01")
    s.payment(1, 1, "60.00", "2026-03-10").payment(2, 1, "40.00", "2026-04-10")
    s.load(engine)
    assert regions_of(engine, OPP) == {1: "North", 2: "South"}  # bundle load
    assert regions_of(engine, TICKETS) == {1: "North"}
    assert regions_of(engine, PAYMENTS) == {1: "North", 2: "North"}

    rep = build_world(engine).rep_a
    account_id = make_account(engine, rep.user_id, region="East")
    created = make_deal(engine, rep.user_id, account_id, amount=10)  # services
    ticket = tickets.create(engine, rep, account_id=account_id, subject="Down")
    assert regions_of(engine, OPP)[created] == "East"
    assert regions_of(engine, TICKETS)[ticket.id] == "East"

    with session_factory(engine).begin() as session:  # the account moves region (ORM writer)
        session.get(Account, 10).region = "West"
    assert (regions_of(engine, OPP)[1], regions_of(engine, TICKETS)[1]) == ("West", "West")
    assert regions_of(engine, PAYMENTS) == {1: "West", 2: "West"}
    with session_factory(engine).begin() as session:  # a deal and a ticket move to another account
        session.get(Opportunity, 1).account_id = 11
        session.get(Ticket, ticket.id).account_id = 11
    assert (regions_of(engine, OPP)[1], regions_of(engine, TICKETS)[ticket.id]) == ("South", "South")
    assert regions_of(engine, PAYMENTS) == {1: "South", 2: "South"}  # the deal's payments follow it
    with session_factory(engine).begin() as session:  # a new payment, and one moved to another deal
        session.add(Payment(id=3, opportunity_id=created, amount=5, paid_at=datetime(2026, 5, 1)))
        session.get(Payment, 2).opportunity_id = created
    assert regions_of(engine, PAYMENTS) == {1: "South", 2: "East", 3: "East"}
    assert stored(engine) == recomputed(engine)

    down_and_up(engine, "0011")  # the migrations fill existing rows
    assert regions_of(engine, OPP) == {1: "South", 2: "South", created: "East"}
    assert regions_of(engine, TICKETS) == {1: "West", ticket.id: "South"}
    assert regions_of(engine, PAYMENTS) == {1: "South", 2: "East", 3: "East"}


def activity_days(engine: Engine) -> dict[tuple[int, date], int]:
    with engine.connect() as conn:
        return {(u, d): n for u, d, n in conn.execute(select(DAYS))}


def test_logging_moving_and_deleting_activities_keeps_the_day_counts(engine):
    world = build_world(engine)
    rep = world.rep_a
    account_id = make_account(engine, rep.user_id)
    berlin = timezone(timedelta(hours=1))
    first = activities.log(
        engine,
        rep,
        type="call",
        account_id=account_id,
        occurred_at=datetime(2026, 3, 2, 0, 30, tzinfo=berlin),
    )
    activities.log(engine, rep, type="email", account_id=account_id, occurred_at=datetime(2026, 3, 1, 9))
    activities.log(engine, rep, type="email", account_id=account_id, occurred_at=datetime(2026, 3, 2, 9))
    assert activity_days(engine) == {(rep.user_id, date(2026, 3, 1)): 2, (rep.user_id, date(2026, 3, 2)): 1}

    with session_factory(engine).begin() as session:  # any ORM writer, not only the services
        session.get(Activity, first.id).occurred_at = datetime(2026, 3, 5, 12)
    assert activity_days(engine) == {
        (rep.user_id, date(2026, 3, 1)): 1,
        (rep.user_id, date(2026, 3, 2)): 1,
        (rep.user_id, date(2026, 3, 5)): 1,
    }
    with session_factory(engine).begin() as session:
        session.delete(session.get(Activity, first.id))
    assert activity_days(engine) == {(rep.user_id, date(2026, 3, 1)): 1, (rep.user_id, date(2026, 3, 2)): 1}
    assert stored(engine) == recomputed(engine)


def test_a_bundle_load_writes_the_latest_nps_of_each_account(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3).account(11, owner=3).account(12, owner=3)
    s.nps(10, 3, "2026-03-01").nps(10, 9, "2026-03-05").nps(10, 6, "2026-03-05")  # tie: the later row
    s.nps(11, 10, "2026-02-01T08:00:00+02:00")
    s.load(engine)
    assert latest_nps(engine, 10) == (datetime(2026, 3, 5), 6)
    assert latest_nps(engine, 11) == (datetime(2026, 2, 1, 6), 10)
    assert latest_nps(engine, 12) == (None, None)
    assert stored(engine) == recomputed(engine)


def test_orm_writes_of_nps_responses_keep_the_latest(engine):
    world = build_world(engine)
    first, second = (make_account(engine, world.rep_a.user_id) for _ in range(2))
    sessions = session_factory(engine)
    with sessions.begin() as session:
        old = NpsResponse(account_id=first, score=4, responded_at=datetime(2026, 3, 1))
        new = NpsResponse(account_id=first, score=10, responded_at=datetime(2026, 3, 9))
        session.add_all([old, new])
    assert latest_nps(engine, first) == (datetime(2026, 3, 9), 10)
    with sessions.begin() as session:
        moved = session.get(NpsResponse, new.id)
        moved.account_id = second
    assert latest_nps(engine, first) == (datetime(2026, 3, 1), 4)
    assert latest_nps(engine, second) == (datetime(2026, 3, 9), 10)
    with sessions.begin() as session:
        session.delete(session.get(NpsResponse, old.id))
    assert latest_nps(engine, first) == (None, None)
    assert stored(engine) == recomputed(engine)


def test_the_migration_fills_the_latest_nps(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3)
    s.nps(10, 2, "2026-03-01").nps(10, 8, "2026-03-02")
    s.load(engine)
    down_and_up(engine, "0008")
    assert latest_nps(engine, 10) == (datetime(2026, 3, 2), 8)


def ticket_durations(engine: Engine, ticket_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(*TICKET_COLUMNS).where(TICKETS.c.id == ticket_id)).one())


def test_a_bundle_load_writes_the_ticket_durations(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3)
    s.ticket(
        1,
        10,
        "high",
        "2026-03-01",
        first_response="2026-03-01T01:30:00",
        resolved="2026-03-02T00:00:00+02:00",
    )
    s.ticket(2, 10, "low", "2026-03-01T12:00:00")
    s.load(engine)
    assert ticket_durations(engine, 1) == (5400.0, 79200.0)  # resolved 03-01 22:00 UTC
    assert ticket_durations(engine, 2) == (None, None)
    assert stored(engine) == recomputed(engine)


def test_ticket_services_keep_the_durations(engine):
    world = build_world(engine)
    rep = world.rep_a
    ticket = tickets.create(engine, rep, account_id=make_account(engine, rep.user_id), subject="Down")
    assert ticket_durations(engine, ticket.id) == (None, None)
    ticket = tickets.respond(engine, rep, ticket_id=ticket.id, expected_version=1)
    response, resolution = ticket_durations(engine, ticket.id)
    assert response == pytest.approx((ticket.first_response_at - ticket.created_at).total_seconds(), abs=1e-3)
    assert resolution is None
    ticket = tickets.change_status(engine, rep, ticket_id=ticket.id, expected_version=2, status="resolved")
    resolution = ticket_durations(engine, ticket.id)[1]
    assert resolution == pytest.approx((ticket.resolved_at - ticket.created_at).total_seconds(), abs=1e-3)
    ticket = tickets.change_status(engine, rep, ticket_id=ticket.id, expected_version=3, status="open")
    assert ticket_durations(engine, ticket.id)[1] is None
    assert stored(engine) == recomputed(engine)


def test_the_migration_fills_the_ticket_durations(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3)
    s.ticket(
        1, 10, "urgent", "2026-03-01", first_response="2026-03-01T00:10:00", resolved="2026-03-01T05:00:00"
    )
    s.load(engine)
    down_and_up(engine, "0009")
    assert ticket_durations(engine, 1) == (600.0, 18000.0)


def third_row_and_cycle(engine: Engine, deal_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(*THIRD_COLUMNS).where(OPP.c.id == deal_id)).one())


def test_services_keep_the_third_stage_row_and_the_cycle(engine):
    world = build_world(engine)
    rep = world.rep_a
    deal_id = make_deal(engine, rep.user_id, make_account(engine, rep.user_id), amount=500)
    deal = None
    for version, stage in enumerate(("qualification", "proposal"), start=1):
        deal = deals.move_stage(engine, rep, deal_id=deal_id, expected_version=version, to_stage=stage)
    assert third_row_and_cycle(engine, deal_id) == (None, None, None)  # two rows, open
    deal = deals.mark_won(engine, rep, deal_id=deal_id, expected_version=deal.version)
    third, _at, cycle = third_row_and_cycle(engine, deal_id)
    assert third == "qualification"
    assert cycle == pytest.approx((deal.closed_at - deal.created_at).total_seconds(), abs=1e-3)
    deals.reopen(engine, rep, deal_id=deal_id, expected_version=deal.version, to_stage="negotiation")
    assert third_row_and_cycle(engine, deal_id)[::2] == ("proposal", None)  # reopened: no cycle
    assert stored(engine) == recomputed(engine)


def test_a_bundle_load_and_the_migration_write_the_third_row_and_the_cycle(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(10, owner=3)
    s.opp(1, account=10, owner=3, amount="100.00", stage="won", created="2026-02-01", closed="2026-03-05")
    s.history(1, "qualification", at="2026-02-09").history(1, "proposal", at="2026-02-10")
    s.history(1, "won", at="2026-03-05")
    s.opp(2, account=10, owner=3, amount="100.00", stage="proposal", created="2026-02-01")
    s.load(engine)
    expected = ("qualification", datetime(2026, 2, 9), 32 * 86400.0)
    assert third_row_and_cycle(engine, 1) == expected
    assert third_row_and_cycle(engine, 2) == (None, None, None)
    down_and_up(engine, "0010")
    assert third_row_and_cycle(engine, 1) == expected
    assert stored(engine) == recomputed(engine)
