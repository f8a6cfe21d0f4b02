"""Open business as of T: open deals, pipeline, weighted pipeline by stage as of T, stale deals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from crm_core.models import Opportunity
from queries.filters import Filters, Period
from queries.pipeline import (
    open_deal_rows,
    open_deals,
    open_pipeline,
    pipeline_by_product_line,
    pipeline_by_stage,
    pipeline_summary,
    stage_as_of,
    stale_deal_rows,
    stale_deals,
    weighted_pipeline,
)
from tests.queries.conftest import MARCH, set_last_activity

EARLY_MARCH = Period(date(2026, 3, 1), date(2026, 3, 4))  # T = 2026-03-05 00:00


@pytest.fixture
def open_book(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.product(1, "Widgets").product(2, "Services")
    # 1: no history at all (imported): the current stage, negotiation
    s.opp(1, 10, 3, "1000.00", "negotiation", "2026-01-10", product=1)
    # 2: qualification on 03-05 00:00, proposal after T
    s.opp(2, 10, 3, "2000.00", "proposal", "2026-01-10", product=1)
    s.history(2, "qualification", "2026-03-05T00:00:00").history(2, "proposal", "2026-04-05")
    # 3: history exists but none before T: prospecting
    s.opp(3, 10, 3, "4000.00", "proposal", "2026-01-10", product=2)
    s.history(3, "proposal", "2026-04-02")
    # 4: backward move negotiation -> qualification
    s.opp(4, 10, 3, "8000.00", "qualification", "2026-01-10")
    s.history(4, "negotiation", "2026-03-10").history(4, "qualification", "2026-03-20")
    # 5: won after T, was in proposal at T
    s.opp(5, 10, 3, "10000.00", "won", "2026-01-10", "2026-04-10")
    s.history(5, "proposal", "2026-03-03").history(5, "won", "2026-04-10")
    # 6: lost one second before T: not open as of T; open on 2026-03-05 in qualification
    s.opp(6, 10, 3, "100.00", "lost", "2026-01-10", "2026-03-31T23:59:59")
    s.history(6, "qualification", "2026-02-01").history(6, "lost", "2026-03-31T23:59:59")
    # 7: created at T: not open as of T
    s.opp(7, 10, 3, "200.00", "prospecting", "2026-04-01T00:00:00")
    # 8: closed exactly at T: still open as of T
    s.opp(8, 10, 3, "300.00", "won", "2026-01-10", "2026-04-01T00:00:00")
    s.history(8, "qualification", "2026-03-02").history(8, "won", "2026-04-01T00:00:00")
    s.load(engine)
    return engine


def test_open_deals_and_pipeline_as_of_end_of_period(open_book):
    assert open_deals(open_book, MARCH) == 6  # deals 1, 2, 3, 4, 5, 8
    assert open_pipeline(open_book, MARCH) == 1000.0 + 2000.0 + 4000.0 + 8000.0 + 10000.0 + 300.0


def test_weighted_pipeline_uses_the_stage_as_of_t(open_book):
    expected = (
        1000 * 0.75  # 1 negotiation (no history: current stage)
        + 2000 * 0.25  # 2 qualification (proposal comes after T)
        + 4000 * 0.10  # 3 prospecting (history, none before T)
        + 8000 * 0.25  # 4 qualification (moved back)
        + 10000 * 0.50  # 5 proposal (won after T)
        + 300 * 0.25  # 8 qualification (won exactly at T)
    )
    assert weighted_pipeline(open_book, MARCH) == pytest.approx(expected)  # 8725


def test_pipeline_earlier_as_of(open_book):
    # T = 2026-03-05 00:00: deal 2's change at exactly T is not before T
    summary = pipeline_summary(open_book, EARLY_MARCH)
    assert summary["open_deals"] == 7  # 1, 2, 3, 4, 5, 6, 8
    assert summary["open_pipeline"] == 25400.0
    expected = 1000 * 0.75 + 2000 * 0.10 + 4000 * 0.10 + 8000 * 0.10 + 10000 * 0.50 + 100 * 0.25 + 300 * 0.25
    assert summary["weighted_pipeline"] == pytest.approx(expected)  # 7250
    # an explicit as-of overrides the period end: the same T through `as_of`
    assert pipeline_summary(open_book, MARCH, as_of=datetime(2026, 3, 5)) == summary


def test_a_history_less_deal_closed_after_t_weighs_zero(engine, scenario):
    """p is defined for open stages only: a deal open at T whose only known stage is `won` adds
    its amount to the open pipeline but nothing to the weighted pipeline (documented choice)."""
    s = scenario()
    s.user(3).account(10, owner=3)
    s.opp(1, 10, 3, "1000.00", "won", "2026-01-10", "2026-04-10")
    s.load(engine)
    assert pipeline_summary(engine, MARCH) == {
        "open_deals": 1,
        "open_pipeline": 1000.0,
        "weighted_pipeline": 0.0,
    }


def test_pipeline_by_stage_and_product_line(open_book):
    by_stage = pipeline_by_stage(open_book, MARCH)
    assert by_stage.to_dict("records") == [
        {"stage": "prospecting", "deals": 1, "amount": 4000.0, "weighted": pytest.approx(400.0)},
        {"stage": "qualification", "deals": 3, "amount": 10300.0, "weighted": pytest.approx(2575.0)},
        {"stage": "proposal", "deals": 1, "amount": 10000.0, "weighted": pytest.approx(5000.0)},
        {"stage": "negotiation", "deals": 1, "amount": 1000.0, "weighted": pytest.approx(750.0)},
    ]
    by_line = pipeline_by_product_line(open_book, MARCH)
    assert by_line.to_dict("records") == [
        {
            "product_line": "(none)",
            "deals": 3,
            "amount": 18300.0,
            "weighted": pytest.approx(2000 + 5000 + 75),
        },
        {"product_line": "Services", "deals": 1, "amount": 4000.0, "weighted": pytest.approx(400.0)},
        {"product_line": "Widgets", "deals": 2, "amount": 3000.0, "weighted": pytest.approx(750 + 500)},
    ]
    widgets = pipeline_summary(open_book, MARCH, Filters(product_line="Widgets"))
    assert widgets == {"open_deals": 2, "open_pipeline": 3000.0, "weighted_pipeline": pytest.approx(1250.0)}


def test_open_deal_rows_carry_stage_as_of_and_probability(open_book):
    rows = open_deal_rows(open_book, MARCH, limit=2)
    assert list(rows["opportunity_id"]) == [5, 4]  # largest first, capped at 2
    assert list(rows["stage_as_of"]) == ["proposal", "qualification"]
    assert list(rows["probability"]) == [0.5, 0.25]
    assert list(open_deal_rows(open_book, MARCH, limit=2, offset=5)["opportunity_id"]) == [8]
    # the drill-down of one bar of pipeline_by_stage: qualification as of T is 4, 2 and 8
    assert list(open_deal_rows(open_book, MARCH, stage="qualification")["opportunity_id"]) == [4, 2, 8]
    assert open_deal_rows(open_book, MARCH, stage="negotiation")["opportunity_id"].tolist() == [1]


@pytest.fixture
def touches(engine, scenario):
    """T = 2026-04-01, so the stale cutoff is T - 14 days = 2026-03-18 00:00."""
    s = scenario()
    s.user(3).user(5).account(10, owner=3)
    s.opp(1, 10, 3, "1.00", "proposal", "2026-01-01")  # A: never touched: created_at -> stale
    s.opp(2, 10, 3, "1.00", "proposal", "2026-01-01")  # B: touched exactly at the cutoff
    s.activity(1, 3, "2026-03-18T00:00:00", opp=2)
    s.opp(3, 10, 3, "1.00", "proposal", "2026-01-01")  # C: one second before the cutoff -> stale
    s.activity(2, 3, "2026-03-17T23:59:59", opp=3)
    s.opp(4, 10, 3, "1.00", "proposal", "2026-03-20")  # D: new, untouched, not stale
    s.opp(5, 10, 3, "1.00", "proposal", "2026-01-01")  # E: only an old touch before T -> stale
    s.activity(3, 3, "2026-03-01", opp=5).activity(4, 3, "2026-04-02", opp=5)
    s.opp(6, 10, 3, "1.00", "proposal", "2026-01-01")  # F: touched by another user -> not stale
    s.activity(5, 5, "2026-03-25", opp=6)
    s.opp(7, 10, 3, "1.00", "won", "2026-01-01", "2026-03-01")  # G: closed, not open
    s.load(engine)
    return engine


def test_stale_deals(touches):
    assert stale_deals(touches, MARCH) == 3  # A, C, E
    assert stale_deals(touches, MARCH, Filters(owner_id=3)) == 3  # F's touch by user 5 still counts
    assert stale_deals(touches, MARCH, Filters(owner_id=5)) == 0


def test_stale_deals_use_the_denormalised_last_activity_when_before_t(touches):
    table = Opportunity.__table__
    set_last_activity(touches, table, 2, datetime(2026, 3, 18))
    set_last_activity(touches, table, 3, datetime(2026, 3, 17, 23, 59, 59))
    set_last_activity(touches, table, 5, datetime(2026, 4, 2))  # after T: the index answers
    set_last_activity(touches, table, 6, datetime(2026, 3, 25))
    assert stale_deals(touches, MARCH) == 3


def test_stale_deal_rows(touches):
    rows = stale_deal_rows(touches, MARCH)
    assert list(rows["opportunity_id"]) == [1, 5, 3]  # longest untouched first
    assert list(rows["last_touch"]) == [
        datetime(2026, 1, 1),
        datetime(2026, 3, 1),
        datetime(2026, 3, 17, 23, 59, 59),
    ]
    assert list(rows["days_since_touch"]) == pytest.approx([90.0, 31.0, 14 + 1 / 86400])


def test_stage_as_of_from_the_rollups_equals_the_history_seek_at_every_boundary(engine, scenario):
    """The rollup branches of `stage_as_of` (latest, second- and third-latest row, one or two rows
    all after T) and the history seek (earlier rows) give the spec's answer — the latest history
    row before T, by changed_at then id — for every T around each change, ties included."""
    changes = [
        ("2026-03-01", "qualification"),
        ("2026-03-05", "proposal"),
        ("2026-03-09", "negotiation"),
        ("2026-03-09", "qualification"),  # same instant: the later row (higher id) wins
        ("2026-03-12", "negotiation"),
    ]
    s = scenario()
    s.user(3).account(10, owner=3)
    s.opp(1, 10, 3, "100.00", "negotiation", "2026-01-10")
    s.opp(2, 10, 3, "100.00", "proposal", "2026-01-10")
    s.history(2, "proposal", "2026-03-05")
    two = [("2026-03-04", "qualification"), ("2026-03-08", "proposal")]
    three = [("2026-03-02", "qualification"), ("2026-03-06", "proposal"), ("2026-03-10", "negotiation")]
    s.opp(3, 10, 3, "100.00", "proposal", "2026-01-10").opp(4, 10, 3, "100.00", "negotiation", "2026-01-10")
    for deal_id, history in ((3, two), (4, three)):
        for at, stage in history:
            s.history(deal_id, stage, at)
    for at, stage in changes:
        s.history(1, stage, at)
    s.load(engine)

    def expected(history: list[tuple[str, str]], moment: datetime) -> str:
        before = [stage for at, stage in history if datetime.fromisoformat(at) < moment]
        return before[-1] if before else "prospecting"

    moments = [datetime(2026, 3, day, hour) for day in range(1, 14) for hour in (0, 12)]
    with engine.connect() as conn:
        for moment in moments:
            got = dict(conn.execute(select(Opportunity.__table__.c.id, stage_as_of(moment))).all())
            assert got == {
                1: expected(changes, moment),
                2: expected([("2026-03-05", "proposal")], moment),
                3: expected(two, moment),
                4: expected(three, moment),
            }, moment


@pytest.mark.parametrize(
    "filters", [Filters(), Filters(product_line="Widgets"), Filters(owner_id=3)], ids=str
)
def test_the_breakdown_statement_built_once_per_filters_answers_every_t(open_book, filters):
    """`pipeline_breakdown` reuses one statement per filters with T as a parameter: for each day
    around March its stage rows add up to `pipeline_summary` (built for each call) of that T."""
    for day in range(0, 40, 3):
        at = datetime(2026, 2, 25) + timedelta(days=day)
        by_stage = pipeline_by_stage(open_book, MARCH, filters, as_of=at)
        summary = pipeline_summary(open_book, MARCH, filters, as_of=at)
        assert int(by_stage["deals"].sum()) == summary["open_deals"], at
        assert by_stage["amount"].sum() == pytest.approx(summary["open_pipeline"]), at
        assert by_stage["weighted"].sum() == pytest.approx(summary["weighted_pipeline"]), at
