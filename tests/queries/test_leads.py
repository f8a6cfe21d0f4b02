"""Leads (new, conversion, by source, the unassigned pool) and activities."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from queries.filters import Filters, Period
from queries.leads import (
    activities,
    activities_by_type,
    lead_conversion_rate,
    lead_source_conversion,
    lead_summary,
    new_leads,
    unassigned_leads,
)
from tests.queries.conftest import MARCH


@pytest.fixture
def lead_book(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.lead(1, "2026-03-10", status="converted", owner=3, source="web")
    s.lead(2, "2026-03-11", status="new", source="web")
    s.lead(3, "2026-03-01T00:00:00", status="converted", owner=3, source="referral")  # start: included
    s.lead(4, "2026-04-01T00:00:00", status="new")  # end + 1 day: excluded
    s.lead(5, "2026-03-01T00:30:00+01:00", status="working")  # 2026-02-28 23:30 UTC: excluded
    s.lead(6, "2026-04-01T00:30:00+01:00", status="disqualified")  # 2026-03-31 23:30 UTC: included
    s.lead(7, "2026-03-20", status="qualified")  # unassigned, open
    s.load(engine)
    return engine


def test_new_leads_and_conversion(lead_book):
    assert new_leads(lead_book, MARCH) == 5  # leads 1, 2, 3, 6, 7
    assert lead_conversion_rate(lead_book, MARCH) == 2 / 5  # leads 1 and 3


def test_no_leads_means_no_conversion_rate(lead_book):
    assert lead_summary(lead_book, Period(date(2025, 1, 1), date(2025, 1, 1))) == {
        "new_leads": 0,
        "lead_conversion_rate": None,
    }


def test_lead_source_conversion(lead_book):
    df = lead_source_conversion(lead_book, MARCH)
    assert df.to_dict("records") == [
        {"source": "(unknown)", "leads": 2, "converted": 0, "conversion_rate": 0.0},  # leads 6, 7
        {"source": "web", "leads": 2, "converted": 1, "conversion_rate": 0.5},
        {"source": "referral", "leads": 1, "converted": 1, "conversion_rate": 1.0},
    ]


def test_unassigned_leads_pool(lead_book):
    df = unassigned_leads(lead_book, MARCH)
    # open and without owner, created before T: 5 (working), 2 (new), 7 (qualified); 6 is disqualified
    assert list(df["lead_id"]) == [5, 2, 7]
    assert df["age_days"].iloc[0] == pytest.approx(
        (datetime(2026, 4, 1) - datetime(2026, 2, 28, 23, 30)).days + 0.5 / 24
    )
    assert unassigned_leads(lead_book, MARCH, Filters(owner_id=3)).empty  # unassigned drop out
    assert list(unassigned_leads(lead_book, MARCH, limit=1)["lead_id"]) == [5]


def test_activities_by_occurred_at(engine, scenario):
    s = scenario()
    s.user(3).account(10, owner=3)
    s.activity(1, 3, "2026-03-01T00:00:00", kind="call")  # start: included
    s.activity(2, 3, "2026-04-01T00:00:00")  # excluded
    s.activity(3, 3, "2026-04-01T00:59:59+01:00", kind="email")  # 2026-03-31 23:59:59 UTC: included
    s.activity(4, 3, "2026-02-28T23:59:59")  # excluded
    s.activity(5, 3, "2026-03-15", kind="call")
    s.load(engine)
    assert activities(engine, MARCH) == 3
    assert activities(engine, Period(date(2025, 1, 1), date(2025, 1, 1))) == 0
    assert activities_by_type(engine, MARCH).to_dict("records") == [
        {"type": "call", "activities": 2},
        {"type": "email", "activities": 1},
    ]
