"""The metric registry: every catalog id, shared scans, previous-period deltas, display formats."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from queries.filters import Filters, Period
from queries.registry import (
    CHARTS,
    METRIC_IDS,
    METRICS,
    compute_metrics,
    format_value,
    get,
    kpis_with_delta,
    previous_as_of,
)
from tests.queries.conftest import MARCH

SPEC_IDS = (
    # Sales
    "bookings",
    "deals_won",
    "deals_lost",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "target",
    "attainment",
    "collections",
    "open_deals",
    "open_pipeline",
    "weighted_pipeline",
    "stale_deals",
    "new_leads",
    "lead_conversion_rate",
    "activities",
    # Customers
    "active_customers",
    "new_customers",
    "churned_customers",
    "churn_rate",
    "repeat_purchase_rate",
    "customer_lifetime_value",
    "nps",
    # Service
    "tickets_opened",
    "tickets_resolved",
    "ticket_backlog",
    "sla_met_rate",
    "avg_first_response_hours",
    "csat",
)


def test_every_catalog_id_is_registered_in_order():
    assert METRIC_IDS == SPEC_IDS


def test_every_metric_has_a_label_kind_and_definition():
    for metric in METRICS.values():
        assert metric.label and metric.definition.endswith(".")
        assert metric.kind in {"money", "count", "percent", "days", "hours", "score"}
        assert metric.section in {"sales", "customers", "service"}
    assert get("win_rate").kind == "percent"
    with pytest.raises(KeyError, match="unknown metric 'nope'"):
        get("nope")


@pytest.fixture
def book(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.opp(1, 10, 3, "1000.00", "won", "2026-02-01", "2026-03-10")  # cycle 37 days
    s.opp(2, 10, 3, "500.00", "lost", "2026-03-02", "2026-03-12")
    s.opp(3, 10, 3, "300.00", "won", "2026-01-01", "2026-02-10")  # in the previous period
    s.opp(4, 10, 3, "2000.00", "proposal", "2026-03-05")
    s.history(4, "proposal", "2026-03-06")
    s.target(3, "2026-03", "3100")
    s.ticket(1, 10, "urgent", "2026-03-01", "2026-03-01T02:00:00", csat=3)
    s.load(engine)
    return engine


def test_compute_metrics_matches_each_metric_function(book):
    values = compute_metrics(book, MARCH)
    assert list(values) == list(SPEC_IDS)
    for metric_id, metric in METRICS.items():
        assert metric(book, MARCH) == values[metric_id], metric_id
    assert values["bookings"] == 1000.0
    assert values["sales_cycle_days"] == 37.0  # 2026-02-01 -> 2026-03-10
    assert values["attainment"] == pytest.approx(1000 / 3100)
    assert values["weighted_pipeline"] == pytest.approx(2000 * 0.5)
    assert values["csat"] == 3.0


def test_compute_metrics_subset_keeps_the_order_asked(book):
    assert compute_metrics(book, MARCH, Filters(region="X"), ids=["target", "deals_lost"]) == {
        "target": None,
        "deals_lost": 0,
    }


def test_kpis_with_delta_compare_with_the_previous_period(book):
    kpis = kpis_with_delta(book, MARCH, Filters(), ["bookings", "win_rate", "open_deals"])
    # previous period: 2026-01-29 .. 2026-02-28 (31 days), T = 2026-03-01
    assert kpis["bookings"] == {"current": 1000.0, "previous": 300.0, "delta": 700.0}
    assert kpis["win_rate"] == {"current": 0.5, "previous": 1.0, "delta": -0.5}
    # open as of 2026-03-01: deal 1 (created 02-01); as of 04-01: deal 4
    assert kpis["open_deals"] == {"current": 1, "previous": 1, "delta": 0}
    empty = kpis_with_delta(book, Period(date(2025, 1, 1), date(2025, 1, 31)), ids=["win_rate"])
    assert empty["win_rate"] == {"current": None, "previous": None, "delta": None}


def test_previous_as_of_moves_back_one_period_length():
    assert previous_as_of(MARCH, None) is None
    assert previous_as_of(MARCH, datetime(2026, 3, 16)) == datetime(2026, 2, 13)  # 31 days earlier


def test_format_value():
    assert format_value("bookings", 1234.5) == "1,234.50"
    assert format_value("deals_won", 1234) == "1,234"
    assert format_value("win_rate", 0.5) == "50.0 %"
    assert format_value("sales_cycle_days", 12.345) == "12.3 d"
    assert format_value("avg_first_response_hours", 1.25) == "1.2 h"
    assert format_value("nps", -12.5) == "-12.5"
    assert format_value("win_rate", None) == "—"


def test_every_chart_runs_on_an_empty_database(engine, scenario):
    scenario().load(engine)
    for name, chart in CHARTS.items():
        result = chart(engine, MARCH)
        assert result is not None, name


def test_kpis_are_the_same_computed_at_once_or_in_turn(book, monkeypatch):
    periods = [
        MARCH,
        Period(date(2026, 2, 1), date(2026, 2, 28)),
        Period(date(2025, 1, 1), date(2025, 1, 31)),
    ]
    for period in periods:
        monkeypatch.setenv("WARROOM_QUERY_WORKERS", "1")
        in_turn = kpis_with_delta(book, period)
        monkeypatch.setenv("WARROOM_QUERY_WORKERS", "4")
        assert kpis_with_delta(book, period) == in_turn


def test_one_owners_kpis_run_in_turn(book, monkeypatch):
    """One rep's scans are mostly Python: two threads would only contend (queries.concurrent)."""
    import queries.registry as registry

    asked: list[bool] = []

    def spy(engine, jobs, at_once=True):
        asked.append(at_once)
        return [job() for job in jobs]

    monkeypatch.setattr(registry, "run_all", spy)
    kpis_with_delta(book, MARCH, Filters(owner_id=3))
    kpis_with_delta(book, MARCH, Filters(team_id=1))
    assert asked == [False, True]
