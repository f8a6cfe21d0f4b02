"""The funnel: furthest stage per deal of the cohort, skipped and backward moves, drill-down."""

from __future__ import annotations

from datetime import date

import pytest

from queries.filters import Filters, Period
from queries.funnel import funnel, funnel_stage_deals, funnel_table
from tests.queries.conftest import MARCH


@pytest.fixture
def cohort(engine, scenario):
    s = scenario()
    s.user(3).user(5).account(10, owner=3)
    s.opp(1, 10, 3, "1.00", "prospecting", "2026-03-01T00:00:00")  # start: in; furthest 1
    # skipped proposal: qualification -> negotiation: furthest 4
    s.opp(2, 10, 3, "1.00", "negotiation", "2026-03-02")
    s.history(2, "qualification", "2026-03-03").history(2, "negotiation", "2026-03-05")
    # backward: proposal -> qualification: furthest 3
    s.opp(3, 10, 3, "1.00", "qualification", "2026-03-02")
    s.history(3, "proposal", "2026-03-03").history(3, "qualification", "2026-03-06")
    # lost after proposal: furthest 3
    s.opp(4, 10, 3, "1.00", "lost", "2026-03-02", "2026-03-10")
    s.history(4, "qualification", "2026-03-03").history(4, "proposal", "2026-03-04").history(
        4, "lost", "2026-03-10"
    )
    # won through proposal: 5
    s.opp(5, 10, 5, "1.00", "won", "2026-03-02", "2026-03-20")
    s.history(5, "proposal", "2026-03-03").history(5, "won", "2026-03-20")
    # won without history: 5
    s.opp(6, 10, 3, "1.00", "won", "2026-03-02", "2026-03-21")
    # won, then reopened into negotiation: a `won` history row does not count: 4
    s.opp(7, 10, 3, "1.00", "negotiation", "2026-03-02")
    s.history(7, "won", "2026-03-05").history(7, "negotiation", "2026-03-08")
    # lost without history: 1
    s.opp(8, 10, 3, "1.00", "lost", "2026-03-02", "2026-03-03")
    s.opp(9, 10, 3, "1.00", "won", "2026-04-01T00:00:00", "2026-04-02")  # created at end + 1: out
    s.opp(10, 10, 3, "1.00", "won", "2026-02-28T23:59:59", "2026-03-02")  # created before: out
    s.opp(11, 10, 3, "1.00", "prospecting", "2026-04-01T00:30:00+01:00")  # 03-31 23:30 UTC: in; 1
    s.load(engine)
    return engine


def test_funnel_counts_furthest_stages(cohort):
    # furthest stages: 1:1, 2:4, 3:3, 4:3, 5:5, 6:5, 7:4, 8:1, 11:1
    assert funnel(cohort, MARCH) == [
        {"stage": "prospecting", "reached": 9, "conversion": None},
        {"stage": "qualification", "reached": 6, "conversion": 6 / 9},
        {"stage": "proposal", "reached": 6, "conversion": 6 / 6},
        {"stage": "negotiation", "reached": 4, "conversion": 4 / 6},
        {"stage": "won", "reached": 2, "conversion": 2 / 4},
    ]


def test_funnel_table_adds_conversion_from_first(cohort):
    df = funnel_table(cohort, MARCH)
    assert list(df["conversion_from_first"]) == pytest.approx([1.0, 6 / 9, 6 / 9, 4 / 9, 2 / 9])


def test_funnel_filters_act_on_the_cohort_but_history_is_anyones(cohort):
    only_rep5 = funnel(cohort, MARCH, Filters(owner_id=5))
    assert [row["reached"] for row in only_rep5] == [1, 1, 1, 1, 1]  # deal 5 alone, it reached won


def test_empty_cohort_has_no_conversions(cohort):
    rows = funnel(cohort, Period(date(2025, 1, 1), date(2025, 1, 31)))
    assert [row["reached"] for row in rows] == [0, 0, 0, 0, 0]
    assert [row["conversion"] for row in rows] == [None] * 5


def test_funnel_stage_deals_drill_down(cohort):
    df = funnel_stage_deals(cohort, MARCH, Filters(), "proposal")
    assert sorted(df["opportunity_id"]) == [2, 3, 4, 5, 6, 7]
    assert dict(zip(df["opportunity_id"], df["furthest_stage"], strict=True)) == {
        2: "negotiation",
        3: "proposal",
        4: "proposal",
        5: "won",
        6: "won",
        7: "negotiation",
    }
    assert sorted(funnel_stage_deals(cohort, MARCH, Filters(), "won")["opportunity_id"]) == [5, 6]
    assert len(funnel_stage_deals(cohort, MARCH, Filters(), "prospecting", limit=3)) == 3
    with pytest.raises(ValueError, match="unknown funnel stage"):
        funnel_stage_deals(cohort, MARCH, Filters(), "lost")
