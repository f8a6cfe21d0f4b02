"""Customers (active, new, churned, churn rate, repeat purchase, lifetime value) and NPS."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from queries.customers import (
    active_customers,
    churn_rate,
    churned_customers,
    customer_lifetime_value,
    customer_summary,
    new_customers,
    new_vs_churned_by_month,
    nps,
    nps_summary,
    nps_trend,
    repeat_purchase_rate,
)
from queries.filters import Filters, Period
from tests.queries.conftest import MARCH, records

EMPTY_PERIOD = Period(date(2025, 1, 1), date(2025, 1, 31))


@pytest.fixture
def customer_book(engine, scenario):
    """P = March 2026, T = 2026-04-01 00:00, start of P = 2026-03-01 00:00."""
    s = scenario()
    s.user(3).user(5)
    s.product(1, "Widgets")
    s.account(1, owner=3, region="North")  # A1: customer since 2025, buys again in March
    s.opp(1, 1, 3, "1000.00", "won", "2025-05-01", "2025-06-01")
    s.opp(2, 1, 5, "2000.00", "won", "2026-02-01", "2026-03-10", product=1)  # owned by rep 5
    s.account(2, owner=3, region="South")  # A2: first win at the start of P: new
    s.opp(3, 2, 3, "500.00", "won", "2026-02-01", "2026-03-01T00:00:00")
    s.account(3, owner=3, churned="2026-03-20")  # A3: churns in P
    s.opp(4, 3, 3, "300.00", "won", "2026-01-01", "2026-01-15")
    s.account(4, owner=3)  # A4: first win exactly at T: not a customer yet, not new in P
    s.opp(5, 4, 3, "700.00", "won", "2026-03-01", "2026-04-01T00:00:00")
    s.account(5, owner=3)  # A5: only lost
    s.opp(6, 5, 3, "900.00", "lost", "2026-03-01", "2026-03-05")
    s.account(6, owner=3, churned="2026-02-01")  # A6: churned before P
    s.opp(7, 6, 3, "100.00", "won", "2025-11-01", "2025-12-01")
    s.account(7, owner=3, churned="2026-03-05")  # A7: churned in P, never won (spec: accounts)
    s.account(8, owner=5)  # A8: first win 2026-04-01 00:30 +01:00 = 2026-03-31 23:30 UTC: new
    s.opp(8, 8, 5, "50.00", "won", "2026-03-01", "2026-04-01T00:30:00+01:00")
    s.account(9, owner=5, churned="2026-04-01T00:00:00")  # A9: churns exactly at T: still active
    s.opp(9, 9, 5, "80.00", "won", "2026-01-01", "2026-02-10")
    s.load(engine)
    return engine


def test_customer_metrics(customer_book):
    # customers as of T: A1, A2, A3, A6, A8, A9 (A4's first win is at T, not before)
    assert customer_summary(customer_book, MARCH) == {
        "active_customers": 4,  # A1, A2, A8, A9 (A3 and A6 churned before T)
        "new_customers": 2,  # A2 (start 00:00), A8 (23:30 UTC on the last day)
        "churned_customers": 2,  # A3, A7; A9 churned at end + 1 day 00:00: outside P
        # active at the start of P: first win before 03-01 and not churned by then: A1, A3, A9
        "churn_rate": pytest.approx(2 / 3),
        "repeat_purchase_rate": pytest.approx(1 / 6),  # A1 only
        # won before T: 1000 + 2000 + 500 + 300 + 100 + 50 + 80 over 6 customers
        "customer_lifetime_value": pytest.approx(4030 / 6),
    }


def test_per_id_accessors(customer_book):
    assert active_customers(customer_book, MARCH) == 4
    assert new_customers(customer_book, MARCH) == 2
    assert churned_customers(customer_book, MARCH) == 2
    assert churn_rate(customer_book, MARCH) == pytest.approx(2 / 3)
    assert repeat_purchase_rate(customer_book, MARCH) == pytest.approx(1 / 6)
    assert customer_lifetime_value(customer_book, MARCH) == pytest.approx(4030 / 6)


def test_customer_metrics_at_an_earlier_as_of(customer_book):
    # T = 2026-03-16 00:00: customers A1 (2 wins), A2, A3, A6, A9; active A1, A2, A3, A9
    summary = customer_summary(customer_book, MARCH, as_of=datetime(2026, 3, 16))
    assert summary["active_customers"] == 4
    assert summary["repeat_purchase_rate"] == pytest.approx(1 / 5)
    assert summary["customer_lifetime_value"] == pytest.approx((1000 + 2000 + 500 + 300 + 100 + 80) / 5)
    assert summary["new_customers"] == 2  # P-based, not T-based


def test_customer_filters_act_on_the_account(customer_book):
    # owner: the account's owner; A1's March deal is rep 5's but A1 belongs to rep 3
    rep5 = customer_summary(customer_book, MARCH, Filters(owner_id=5))
    assert rep5["active_customers"] == 2  # A8, A9
    assert rep5["customer_lifetime_value"] == pytest.approx((50 + 80) / 2)
    north = customer_summary(customer_book, MARCH, Filters(region="North"))
    assert north["active_customers"] == 1
    assert north["customer_lifetime_value"] == 3000.0
    # product_line does not act on customers
    assert customer_summary(customer_book, MARCH, Filters(product_line="Widgets")) == customer_summary(
        customer_book, MARCH
    )


def test_no_customers_means_no_rates(engine, scenario):
    scenario().load(engine)
    assert customer_summary(engine, MARCH) == {
        "active_customers": 0,
        "new_customers": 0,
        "churned_customers": 0,
        "churn_rate": None,
        "repeat_purchase_rate": None,
        "customer_lifetime_value": None,
    }


def test_new_vs_churned_by_month(customer_book):
    period = Period(date(2026, 2, 1), date(2026, 3, 31))
    df = new_vs_churned_by_month(customer_book, period)
    assert df.to_dict("records") == [
        # Feb: A9 first win 02-10 (A1/A3/A6 won earlier); A6 churned 02-01
        {"month": date(2026, 2, 1), "new_customers": 1, "churned_customers": 1},
        {"month": date(2026, 3, 1), "new_customers": 2, "churned_customers": 2},
    ]


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([6, 7, 8, 9], 100 * (1 - 1) / 4),  # 6 detractor, 7 and 8 passive, 9 promoter
        ([9, 8], 100 * (1 - 0) / 2),
        ([6, 7], 100 * (0 - 1) / 2),
        ([10, 0, 5], 100 * (1 - 2) / 3),
    ],
)
def test_nps(engine, scenario, scores, expected):
    s = scenario()
    s.user(3).account(10, owner=3)
    for day, score in enumerate(scores, start=2):
        s.nps(10, score, f"2026-03-{day:02d}")
    s.load(engine)
    assert nps(engine, MARCH) == pytest.approx(expected)


def test_nps_bounds_filters_and_no_responses(engine, scenario):
    s = scenario()
    s.user(3).user(5).account(10, owner=3, region="North").account(20, owner=5, region="South")
    s.nps(10, 9, "2026-03-01T00:00:00")  # start: in
    s.nps(10, 0, "2026-04-01T00:00:00")  # end + 1 day: out
    s.nps(20, 3, "2026-04-01T00:30:00+01:00")  # 2026-03-31 23:30 UTC: in
    s.nps(20, 8, "2026-03-15")
    s.load(engine)
    assert nps_summary(engine, MARCH) == {
        "responses": 3,
        "promoters": 1,
        "passives": 1,
        "detractors": 1,
        "nps": 0.0,
    }
    assert nps(engine, MARCH, Filters(region="North")) == 100.0
    assert nps(engine, MARCH, Filters(owner_id=5)) == pytest.approx(100 * (0 - 1) / 2)
    assert nps(engine, MARCH, Filters(product_line="Widgets")) == 0.0  # does not act on NPS
    assert nps(engine, EMPTY_PERIOD) is None
    trend = nps_trend(engine, Period(date(2026, 2, 1), date(2026, 3, 31)))
    assert records(trend) == [
        {"month": date(2026, 2, 1), "responses": 0, "promoters": 0, "detractors": 0, "nps": None},
        {"month": date(2026, 3, 1), "responses": 3, "promoters": 1, "detractors": 1, "nps": 0.0},
    ]
