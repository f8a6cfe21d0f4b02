"""Drill-down rows list exactly what the KPI counted."""

from __future__ import annotations

import pytest

from queries.drilldown import accounts_for, deals_for, has_rows, leads_for, rows_for, tickets_for
from queries.filters import Filters
from queries.registry import METRIC_IDS
from tests.queries.conftest import MARCH


@pytest.fixture
def book(engine, scenario):
    s = scenario()
    s.user(3).user(5).account(10, owner=3, region="North").account(20, owner=5, churned="2026-03-15")
    s.opp(1, 10, 3, "1000.00", "won", "2026-02-01", "2026-03-10")  # cycle 37 days
    s.opp(2, 10, 3, "3000.00", "won", "2026-03-01", "2026-03-11T12:00:00")  # cycle 10.5 days
    s.opp(3, 20, 5, "500.00", "lost", "2026-03-02", "2026-03-12")
    s.opp(4, 20, 5, "2000.00", "proposal", "2026-01-05")  # open, untouched: stale
    s.opp(5, 20, 5, "100.00", "won", "2025-01-01", "2025-02-01")  # account 20 became a customer in 2025
    s.lead(1, "2026-03-03", status="converted", owner=3).lead(2, "2026-02-03")
    s.ticket(1, 10, "urgent", "2026-03-01T00:00:00", "2026-03-01T04:00:00")  # met
    s.ticket(2, 20, "urgent", "2026-03-02T00:00:00", "2026-03-02T04:00:01")  # missed
    s.ticket(3, 20, "low", "2026-03-20")  # backlog
    s.load(engine)
    return engine


def test_deals_for(book):
    won = deals_for(book, MARCH, Filters(), "bookings")
    assert list(won["opportunity_id"]) == [2, 1]  # largest first
    assert list(won["cycle_days"]) == pytest.approx([10.5, 37.0])
    assert list(deals_for(book, MARCH, Filters(), "win_rate")["opportunity_id"]) == [2, 1, 3]
    assert list(deals_for(book, MARCH, Filters(), "deals_lost")["opportunity_id"]) == [3]
    assert list(deals_for(book, MARCH, Filters(owner_id=3), "deals_won")["opportunity_id"]) == [2, 1]
    assert list(deals_for(book, MARCH, Filters(), "open_pipeline")["opportunity_id"]) == [4]
    assert list(deals_for(book, MARCH, Filters(), "stale_deals")["opportunity_id"]) == [4]
    assert list(deals_for(book, MARCH, Filters(), "bookings", limit=1, offset=1)["opportunity_id"]) == [1]
    with pytest.raises(ValueError, match="no deal drill-down"):
        deals_for(book, MARCH, Filters(), "nps")


def test_leads_accounts_tickets_for(book):
    assert list(leads_for(book, MARCH)["lead_id"]) == [1]
    assert list(accounts_for(book, MARCH, Filters(), "active_customers")["account_id"]) == [10]
    assert list(accounts_for(book, MARCH, Filters(), "new_customers")["account_id"]) == [10]
    churned = accounts_for(book, MARCH, Filters(), "churned_customers")
    assert list(churned["account_id"]) == [20]
    assert list(churned["won_amount"]) == [100.0]
    assert list(accounts_for(book, MARCH, Filters(), "customer_lifetime_value")["account_id"]) == [10, 20]
    active = accounts_for(book, MARCH, Filters(), "active_customers")
    assert (active["won_deals"].iloc[0], active["won_amount"].iloc[0]) == (2, 4000.0)
    resolved = tickets_for(book, MARCH, Filters(), "sla_met_rate")
    assert dict(zip(resolved["ticket_id"], resolved["sla_met"], strict=True)) == {1: True, 2: False}
    backlog = tickets_for(book, MARCH, Filters(), "ticket_backlog")
    assert list(backlog["ticket_id"]) == [3]
    assert backlog["sla_met"].iloc[0] is None
    assert list(tickets_for(book, MARCH, Filters(region="North"), "tickets_opened")["ticket_id"]) == [1]


def test_rows_for_dispatches_on_the_metric_id(book):
    assert list(rows_for(book, "deals_lost", MARCH)["opportunity_id"]) == [3]
    assert list(rows_for(book, "csat", MARCH)["ticket_id"]) == [2, 1]
    without_rows = [m for m in METRIC_IDS if not has_rows(m)]
    assert without_rows == ["target", "collections", "activities", "nps"]
    with pytest.raises(ValueError, match="no drill-down rows"):
        rows_for(book, "nps", MARCH)
