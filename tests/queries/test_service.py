"""Service: tickets opened/resolved/backlog, SLA met rate, first response, CSAT, charts, breaches."""

from __future__ import annotations

from datetime import date

import pytest

from queries.filters import Filters, Period
from queries.service import (
    avg_first_response_hours,
    breaching_tickets,
    csat,
    first_response_by_priority,
    service_summaries,
    service_summary,
    sla_by_priority,
    sla_met_rate,
    ticket_backlog,
    tickets_by_month,
    tickets_opened,
    tickets_resolved,
)
from tests.queries.conftest import MARCH, records


@pytest.fixture
def desk(engine, scenario):
    s = scenario()
    s.user(3).user(5).account(10, owner=3, region="North").account(20, owner=5, region="South")
    # 1: resolved exactly at the 4 h SLA: met
    s.ticket(1, 10, "urgent", "2026-03-01T00:00:00", "2026-03-01T04:00:00", "2026-03-01T00:30:00", csat=5)
    # 2: resolved one second after the SLA: missed
    s.ticket(2, 10, "urgent", "2026-03-02T00:00:00", "2026-03-02T04:00:01", "2026-03-02T02:00:00", csat=2)
    # 3: opened in February, resolved in March after 13 days (> 24 h): missed
    s.ticket(3, 10, "high", "2026-02-20", "2026-03-05")
    # 4: resolved exactly at T: not resolved in P, still in the backlog at T
    s.ticket(4, 20, "normal", "2026-03-10", "2026-04-01T00:00:00")
    # 5: opened one second before T, answered 1 h later
    s.ticket(5, 20, "low", "2026-03-31T23:59:59", first_response="2026-04-01T00:59:59")
    # 6: opened at T: in nothing
    s.ticket(6, 20, "low", "2026-04-01T00:00:00")
    # 7: offsets: created 2026-02-28 23:30 UTC, resolved 2026-03-03 22:30 UTC = 71 h <= 72 h: met
    s.ticket(7, 20, "normal", "2026-03-01T00:30:00+01:00", "2026-03-03T23:30:00+01:00", csat=4)
    # 8: old and never resolved
    s.ticket(8, 10, "high", "2026-01-10")
    s.load(engine)
    return engine


def test_service_metrics(desk):
    assert service_summary(desk, MARCH) == {
        "tickets_opened": 4,  # 1, 2, 4, 5
        "tickets_resolved": 4,  # 1, 2, 3, 7
        "ticket_backlog": 3,  # 4 (resolved at T), 5, 8
        "sla_met_rate": 2 / 4,  # 1 and 7
        "avg_first_response_hours": pytest.approx((0.5 + 2 + 1) / 3),  # 1, 2, 5
        "csat": pytest.approx((5 + 2 + 4) / 3),  # 1, 2, 7
    }


def test_per_id_accessors(desk):
    assert tickets_opened(desk, MARCH) == 4
    assert tickets_resolved(desk, MARCH) == 4
    assert ticket_backlog(desk, MARCH) == 3
    assert sla_met_rate(desk, MARCH) == 0.5
    assert avg_first_response_hours(desk, MARCH) == pytest.approx(3.5 / 3)
    assert csat(desk, MARCH) == pytest.approx(11 / 3)


def test_empty_period(desk):
    assert service_summary(desk, Period(date(2025, 1, 1), date(2025, 1, 31))) == {
        "tickets_opened": 0,
        "tickets_resolved": 0,
        "ticket_backlog": 0,
        "sla_met_rate": None,
        "avg_first_response_hours": None,
        "csat": None,
    }


def test_service_filters_act_on_the_account(desk):
    north = service_summary(desk, MARCH, Filters(region="North"))
    assert (north["tickets_opened"], north["tickets_resolved"], north["ticket_backlog"]) == (2, 3, 1)
    assert north["sla_met_rate"] == pytest.approx(1 / 3)
    rep5 = service_summary(desk, MARCH, Filters(owner_id=5))
    assert (rep5["tickets_opened"], rep5["tickets_resolved"], rep5["ticket_backlog"]) == (2, 1, 2)
    assert service_summary(desk, MARCH, Filters(product_line="Widgets")) == service_summary(desk, MARCH)


def test_two_periods_of_a_rep_in_one_pass_equal_the_ranges_of_the_same_accounts(desk):
    """Rep 3 owns account 10, the only North account: the rep filter takes the one-pass path,
    the region filter the index ranges; both give the hand-worked figures of each period."""
    periods = [(MARCH, None), (MARCH.previous(), None)]  # the previous: 01-29 … 02-28, T = 03-01
    march = {
        "tickets_opened": 2,  # 1, 2
        "tickets_resolved": 3,  # 1, 2, 3
        "ticket_backlog": 1,  # 8
        "sla_met_rate": 1 / 3,  # 1
        "avg_first_response_hours": pytest.approx((0.5 + 2) / 2),
        "csat": pytest.approx((5 + 2) / 2),
    }
    february = {
        "tickets_opened": 1,  # 3
        "tickets_resolved": 0,
        "ticket_backlog": 2,  # 3 (resolved 03-05, after T) and 8
        "sla_met_rate": None,
        "avg_first_response_hours": None,
        "csat": None,
    }
    assert service_summaries(desk, periods, Filters(owner_id=3)) == [march, february]
    assert service_summaries(desk, periods, Filters(region="North")) == [march, february]


def test_sla_and_first_response_by_priority(desk):
    assert records(sla_by_priority(desk, MARCH)) == [
        {"priority": "urgent", "sla_hours": 4, "resolved": 2, "met": 1, "sla_met_rate": 0.5},
        {"priority": "high", "sla_hours": 24, "resolved": 1, "met": 0, "sla_met_rate": 0.0},
        {"priority": "normal", "sla_hours": 72, "resolved": 1, "met": 1, "sla_met_rate": 1.0},
        {"priority": "low", "sla_hours": 120, "resolved": 0, "met": 0, "sla_met_rate": None},
    ]
    assert records(first_response_by_priority(desk, MARCH)) == [
        {
            "priority": "urgent",
            "sla_hours": 1,
            "responded": 2,
            "avg_first_response_hours": (0.5 + 2) / 2,
            "within_sla_rate": 0.5,  # 30 min yes, 2 h no
        },
        {
            "priority": "high",
            "sla_hours": 4,
            "responded": 0,
            "avg_first_response_hours": None,
            "within_sla_rate": None,
        },
        {
            "priority": "normal",
            "sla_hours": 8,
            "responded": 0,
            "avg_first_response_hours": None,
            "within_sla_rate": None,
        },
        {
            "priority": "low",
            "sla_hours": 24,
            "responded": 1,
            "avg_first_response_hours": 1.0,
            "within_sla_rate": 1.0,
        },
    ]


def test_tickets_by_month(desk):
    period = Period(date(2026, 2, 15), date(2026, 3, 31))
    assert records(tickets_by_month(desk, period)) == [
        # Feb: opened 3 (02-20) and 7 (02-28 23:30 UTC); backlog at 03-01 00:00: 3, 7, 8
        {"month": date(2026, 2, 1), "opened": 2, "resolved": 0, "backlog": 3},
        # Mar: opened 1, 2, 4, 5; resolved 1, 2, 3, 7; backlog at 04-01 00:00: 4, 5, 8
        {"month": date(2026, 3, 1), "opened": 4, "resolved": 4, "backlog": 3},
    ]


def test_breaching_tickets(desk):
    df = breaching_tickets(desk, MARCH)
    assert list(df["ticket_id"]) == [8, 4]  # most overdue first; 5 is within its 120 h
    # 8: high, open 2026-01-10 -> 2026-04-01 = 81 days; 4: normal, 22 days
    assert list(df["hours_open"]) == pytest.approx([81 * 24, 22 * 24])
    assert list(df["hours_overdue"]) == pytest.approx([81 * 24 - 24, 22 * 24 - 72])
    assert list(df["sla_hours"]) == [24, 72]
