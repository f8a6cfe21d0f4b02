"""Closed business: bookings, deals, win rate, deal size, cycle, targets, attainment, collections."""

from __future__ import annotations

from datetime import date

import pytest

from queries.filters import Filters, Period
from queries.sales import (
    attainment,
    avg_deal_size,
    bookings,
    bookings_by_month,
    collections,
    collections_summaries,
    deals_lost,
    deals_won,
    lost_reasons,
    sales_cycle_days,
    sales_summary,
    target,
    win_rate,
)
from tests.queries.conftest import MARCH, records

EMPTY_PERIOD = Period(date(2025, 1, 1), date(2025, 1, 31))


@pytest.fixture
def closed_deals(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    # won at start 00:00: included; cycle Feb 1 -> Mar 1 = 28 days
    s.opp(1, 10, 3, "1000.00", "won", "2026-02-01", "2026-03-01T00:00:00")
    # cycle 10.5 days
    s.opp(2, 10, 3, "2000.00", "won", "2026-03-01", "2026-03-11T12:00:00")
    # won at end + 1 day 00:00: excluded
    s.opp(3, 10, 3, "4000.00", "won", "2026-03-01", "2026-04-01T00:00:00")
    # closed 2026-04-01 01:30 +02:00 = 2026-03-31 23:30 UTC: included; cycle 23.5 h
    s.opp(4, 10, 3, "8000.00", "won", "2026-03-31T00:00:00", "2026-04-01T01:30:00+02:00")
    # closed 2026-03-01 00:30 +01:00 = 2026-02-28 23:30 UTC: excluded
    s.opp(5, 10, 3, "16000.00", "won", "2026-02-01", "2026-03-01T00:30:00+01:00")
    s.opp(6, 10, 3, "500.00", "lost", "2026-03-01", "2026-03-15", lost_reason="price")
    s.opp(7, 10, 3, "300.00", "lost", "2026-02-01", "2026-02-28T23:59:59", lost_reason="price")
    s.opp(8, 10, 3, "700.00", "prospecting", "2026-03-02")
    s.load(engine)
    return engine


def test_bookings_and_deal_counts_respect_period_bounds_and_offsets(closed_deals):
    assert bookings(closed_deals, MARCH) == 1000.0 + 2000.0 + 8000.0
    assert deals_won(closed_deals, MARCH) == 3  # deals 1, 2, 4
    assert deals_lost(closed_deals, MARCH) == 1  # deal 6 (deal 7 closed a second before March)


def test_ratios_and_cycle(closed_deals):
    assert win_rate(closed_deals, MARCH) == 3 / (3 + 1)
    assert avg_deal_size(closed_deals, MARCH) == pytest.approx(11000.0 / 3)
    # (28 days + 10.5 days + 23.5 hours) / 3
    assert sales_cycle_days(closed_deals, MARCH) == pytest.approx((28 + 10.5 + 23.5 / 24) / 3)


def test_summary_holds_every_closed_metric(closed_deals):
    summary = sales_summary(closed_deals, MARCH)
    assert set(summary) == {
        "bookings",
        "deals_won",
        "deals_lost",
        "win_rate",
        "avg_deal_size",
        "sales_cycle_days",
    }
    assert isinstance(summary["bookings"], float)
    assert isinstance(summary["deals_won"], int)


def test_empty_period_has_zero_sums_and_no_ratios(closed_deals):
    assert sales_summary(closed_deals, EMPTY_PERIOD) == {
        "bookings": 0.0,
        "deals_won": 0,
        "deals_lost": 0,
        "win_rate": None,
        "avg_deal_size": None,
        "sales_cycle_days": None,
    }


def test_only_lost_deals_give_a_zero_win_rate_and_no_deal_size(closed_deals):
    feb = Period(date(2026, 2, 28), date(2026, 2, 28))  # deal 7 lost; deal 5 won at 23:30 that day
    assert win_rate(closed_deals, feb) == 1 / 2
    only_lost = Period(date(2026, 3, 15), date(2026, 3, 15))
    assert win_rate(closed_deals, only_lost) == 0.0
    assert avg_deal_size(closed_deals, only_lost) is None
    assert sales_cycle_days(closed_deals, only_lost) is None


def test_money_sums_are_exact(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.opp(1, 10, 3, "0.10", "won", "2026-03-01", "2026-03-02")
    s.opp(2, 10, 3, "0.20", "won", "2026-03-01", "2026-03-02")
    s.payment(1, 1, "0.10", "2026-03-03").payment(2, 2, "0.20", "2026-03-03")
    s.load(engine)
    assert bookings(engine, MARCH) == 0.3  # not 0.30000000000000004
    assert collections(engine, MARCH) == 0.3


@pytest.fixture
def targets(engine, scenario):
    s = scenario()
    s.user(3).user(4).account(10, owner=3)
    s.target(3, "2026-02", "2800").target(3, "2026-03", "3100").target(3, "2026-04", "3000")
    s.target(3, "2026-05", "9999").target(4, "2026-04", "600")
    s.opp(1, 10, 3, "250.00", "won", "2026-03-01", "2026-04-05")
    s.load(engine)
    return engine


def test_target_prorates_a_partial_month(targets):
    first_ten_days_of_april = Period(date(2026, 4, 1), date(2026, 4, 10))  # April has 30 days
    assert target(targets, first_ten_days_of_april) == pytest.approx((3000 + 600) * 10 / 30)  # 1200
    assert target(targets, first_ten_days_of_april, Filters(owner_id=3)) == pytest.approx(3000 * 10 / 30)


def test_target_prorates_across_months(targets):
    # March 22..31 is 10 of 31 days, April 1..10 is 10 of 30 days (user 3 only)
    period = Period(date(2026, 3, 22), date(2026, 4, 10))
    assert target(targets, period, Filters(owner_id=3)) == pytest.approx(
        3100 * 10 / 31 + 3000 * 10 / 30
    )  # 2000
    feb_first_half = Period(date(2026, 2, 1), date(2026, 2, 14))  # 14 of 28 days
    assert target(targets, feb_first_half) == pytest.approx(2800 * 14 / 28)
    whole_march = MARCH
    assert target(targets, whole_march) == 3100.0


def test_attainment_is_bookings_over_target(targets):
    period = Period(date(2026, 4, 1), date(2026, 4, 10))
    assert attainment(targets, period, Filters(owner_id=3)) == pytest.approx(250 / 1000)


def test_no_target_rows_mean_target_zero_and_no_attainment(targets):
    assert target(targets, EMPTY_PERIOD) == 0.0
    assert attainment(targets, EMPTY_PERIOD) is None


def test_target_and_attainment_have_no_value_with_region_or_product_line(targets):
    period = Period(date(2026, 4, 1), date(2026, 4, 10))
    for filters in (
        Filters(region="North"),
        Filters(product_line="Widgets"),
        Filters(owner_id=3, region="X"),
    ):
        assert target(targets, period, filters) is None
        assert attainment(targets, period, filters) is None


def test_collections_by_paid_at(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.opp(1, 10, 3, "1000.00", "won", "2026-01-01", "2026-02-01")
    s.payment(1, 1, "100.00", "2026-03-01T00:00:00")  # start: included
    s.payment(2, 1, "200.00", "2026-04-01T00:00:00")  # end + 1 day: excluded
    s.payment(3, 1, "400.00", "2026-04-01T01:00:00+02:00")  # 2026-03-31 23:00 UTC: included
    s.payment(4, 1, "800.00", "2026-02-28T23:59:59")  # excluded
    s.load(engine)
    assert collections(engine, MARCH) == 100.0 + 400.0
    assert collections(engine, EMPTY_PERIOD) == 0.0
    both = [(MARCH, None), (MARCH.previous(), None)]  # the previous: 01-29 … 02-28
    assert collections_summaries(engine, both) == [{"collections": 500.0}, {"collections": 800.0}]
    assert collections_summaries(engine, both, Filters(owner_id=3)) == [
        {"collections": 500.0},
        {"collections": 800.0},
    ]
    assert collections_summaries(engine, both, Filters(owner_id=4)) == [
        {"collections": 0.0},
        {"collections": 0.0},
    ]


def test_bookings_by_month_against_prorated_target(targets):
    period = Period(date(2026, 3, 22), date(2026, 4, 10))
    df = bookings_by_month(targets, period, Filters(owner_id=3))
    assert list(df["month"]) == [date(2026, 3, 1), date(2026, 4, 1)]
    assert list(df["bookings"]) == [0.0, 250.0]
    assert list(df["deals_won"]) == [0, 1]
    assert list(df["target"]) == pytest.approx([3100 * 10 / 31, 3000 * 10 / 30])
    assert df["attainment"].iloc[1] == pytest.approx(250 / 1000)
    assert records(bookings_by_month(targets, period, Filters(region="North")))[0]["target"] is None


def test_lost_reasons(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.opp(1, 10, 3, "100.00", "lost", "2026-03-01", "2026-03-02", lost_reason="price")
    s.opp(2, 10, 3, "200.00", "lost", "2026-03-01", "2026-03-03", lost_reason="price")
    s.opp(3, 10, 3, "400.00", "lost", "2026-03-01", "2026-03-04")
    s.opp(4, 10, 3, "800.00", "lost", "2026-02-01", "2026-02-04", lost_reason="timing")  # February
    s.load(engine)
    df = lost_reasons(engine, MARCH)
    assert df.to_dict("records") == [
        {"lost_reason": "price", "deals": 2, "amount": 300.0, "share": pytest.approx(2 / 3)},
        {"lost_reason": "(not given)", "deals": 1, "amount": 400.0, "share": pytest.approx(1 / 3)},
    ]


def test_bookings_by_month_puts_each_win_in_its_utc_month_inside_the_period(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.opp(1, 10, 3, "1.00", "won", "2026-03-01", "2026-03-21T23:59:59")  # before the period
    s.opp(2, 10, 3, "2.00", "won", "2026-03-01", "2026-03-22T00:00:00")  # first instant: March
    s.opp(3, 10, 3, "4.00", "won", "2026-03-01", "2026-03-31T23:59:59")  # March
    s.opp(4, 10, 3, "8.00", "won", "2026-03-01", "2026-04-01T00:00:00")  # April
    s.opp(5, 10, 3, "16.00", "won", "2026-03-01", "2026-04-01T01:30:00+02:00")  # 03-31 23:30 UTC: March
    s.opp(6, 10, 3, "32.00", "won", "2026-03-01", "2026-04-10T23:59:59")  # last second: April
    s.opp(7, 10, 3, "64.00", "won", "2026-03-01", "2026-04-11T00:00:00")  # after the period
    s.opp(8, 10, 3, "128.00", "lost", "2026-03-01", "2026-03-25")  # lost: not booked
    s.load(engine)
    df = bookings_by_month(engine, Period(date(2026, 3, 22), date(2026, 4, 10)))
    assert list(df["bookings"]) == [2.0 + 4.0 + 16.0, 8.0 + 32.0]
    assert list(df["deals_won"]) == [3, 2]
    empty = bookings_by_month(engine, Period(date(2026, 5, 1), date(2026, 6, 30)))
    assert list(empty["bookings"]) == [0.0, 0.0] and list(empty["deals_won"]) == [0, 0]
