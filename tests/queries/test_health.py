"""Customer health: each deduction, the caps, the NPS bonus, the clamp, bands and reasons.

T = 2026-04-01 00:00 throughout (the end of MARCH), so T - 30 days = 2026-03-02,
T - 60 days = 2026-01-31, T - 90 days = 2026-01-01.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from crm_core.models import Account
from queries.filters import NO_FILTERS, Filters
from queries.health import health_accounts, health_bands, health_by_tier
from tests.queries.conftest import MARCH, Scenario, set_last_activity

ALL_BANDS = ("healthy", "at_risk", "critical")
RECENT = "2026-03-25"


def customer(
    s: Scenario, account_id: int, owner: int = 3, churned: str | None = None, region: str | None = None
):
    """An account with one won deal closed long before T: an active customer (unless churned)."""
    s.account(account_id, owner=owner, churned=churned, region=region)
    s.opp(1000 + account_id, account_id, owner, "100.00", "won", "2024-12-01", "2025-01-01")


def scores(engine, filters: Filters = NO_FILTERS) -> dict[int, int]:
    df = health_accounts(engine, MARCH, filters, bands=ALL_BANDS)
    return dict(zip(df["account_id"], df["score"], strict=True))


@pytest.fixture
def activity_book(engine, scenario):
    s = scenario()
    s.user(3)
    for account_id in range(1, 9):
        customer(s, account_id)
    s.activity(1, 3, RECENT, account=1)
    # account 2: no activity at all
    s.activity(3, 3, "2026-03-02T00:00:00", account=3)  # exactly 30 days: no deduction
    s.activity(4, 3, "2026-03-01T23:59:59", account=4)  # 30 days + 1 s: -10
    s.activity(5, 3, "2026-01-30T23:59:59", account=5)  # 60 days + 1 s: -25
    s.activity(6, 3, "2026-01-01T00:00:00", account=6)  # exactly 90 days: -25
    s.activity(7, 3, "2025-12-31T23:59:59", account=7)  # 90 days + 1 s: -40
    s.activity(8, 3, "2026-04-02", account=8)  # only after T: as none, -40
    s.load(engine)
    return engine


ACTIVITY_SCORES = {
    1: 100,
    2: 100 - 40,
    3: 100,
    4: 100 - 10,
    5: 100 - 25,
    6: 100 - 25,
    7: 100 - 40,
    8: 100 - 40,
}


def test_days_since_last_activity(activity_book):
    assert scores(activity_book) == ACTIVITY_SCORES


def test_the_denormalised_last_activity_gives_the_same_scores(activity_book):
    table = Account.__table__
    for account_id, moment in {
        1: datetime(2026, 3, 25),
        3: datetime(2026, 3, 2),
        4: datetime(2026, 3, 1, 23, 59, 59),
        5: datetime(2026, 1, 30, 23, 59, 59),
        6: datetime(2026, 1, 1),
        7: datetime(2025, 12, 31, 23, 59, 59),
        8: datetime(2026, 4, 2),  # after T: the activities index answers (none before T)
    }.items():
        set_last_activity(activity_book, table, account_id, moment)
    assert scores(activity_book) == ACTIVITY_SCORES


def test_open_high_and_urgent_tickets(engine, scenario):
    s = scenario()
    s.user(3)
    for account_id in (1, 2, 3):
        customer(s, account_id)
        s.activity(account_id, 3, RECENT, account=account_id)
    s.ticket(1, 1, "urgent", "2026-03-20")
    s.ticket(2, 1, "high", "2026-03-21")
    s.ticket(3, 1, "high", "2026-03-21", resolved="2026-04-01T00:00:00")  # resolved at T: open as of T
    s.ticket(4, 1, "high", "2026-04-01T00:00:00")  # created at T: not yet
    s.ticket(5, 1, "normal", "2026-03-21")  # other priorities do not count
    s.ticket(6, 1, "low", "2026-03-21")
    for ticket_id in range(10, 14):  # account 2: four urgent tickets, capped at -30
        s.ticket(ticket_id, 2, "urgent", "2026-03-20")
    s.ticket(20, 3, "high", "2026-03-20")
    s.ticket(21, 3, "high", "2026-03-24", resolved="2026-03-25")  # resolved before T, in 24 h: no effect
    s.load(engine)
    assert scores(engine) == {1: 100 - 3 * 10, 2: 100 - 30, 3: 100 - 10}


def test_tickets_that_missed_their_sla_in_the_last_90_days(engine, scenario):
    s = scenario()
    s.user(3)
    for account_id in (1, 2):
        customer(s, account_id)
        s.activity(account_id, 3, RECENT, account=account_id)
    s.ticket(1, 1, "urgent", "2026-03-01T00:00:00", resolved="2026-03-01T04:00:00")  # exactly 4 h: met
    s.ticket(2, 1, "urgent", "2026-03-02T00:00:00", resolved="2026-03-02T04:00:01")  # missed
    s.ticket(3, 1, "low", "2025-12-20", resolved="2026-01-01T00:00:00")  # missed, at T - 90 days: counts
    s.ticket(4, 1, "low", "2025-12-01", resolved="2025-12-31T23:59:59")  # missed, before the window
    for ticket_id in range(10, 15):  # account 2: five misses, capped at -20
        s.ticket(
            ticket_id, 2, "urgent", f"2026-03-{ticket_id:02d}", resolved=f"2026-03-{ticket_id:02d}T05:00:00"
        )
    s.load(engine)
    assert scores(engine) == {1: 100 - 2 * 5, 2: 100 - 20}


def test_latest_nps_before_t(engine, scenario):
    s = scenario()
    s.user(3)
    for account_id in range(1, 8):
        customer(s, account_id)
        if account_id != 6:
            s.activity(account_id, 3, RECENT, account=account_id)
    s.nps(1, 10, "2026-01-01").nps(1, 6, "2026-03-01")  # latest 6: -20
    s.nps(2, 9, "2026-03-01")  # +5, clamped to 100
    s.nps(3, 7, "2026-03-01").nps(3, 0, "2026-04-01T00:00:00")  # the 0 is at T: latest before T is 7
    s.nps(4, 8, "2026-03-01")
    s.nps(5, 0, "2026-03-01")
    s.nps(6, 9, "2026-03-01")  # no activity: 100 - 40 + 5
    s.nps(7, 0, "2026-04-02")  # only after T: no NPS as of T
    s.load(engine)
    assert scores(engine) == {1: 80, 2: 100, 3: 100, 4: 100, 5: 80, 6: 65, 7: 100}


@pytest.fixture
def bands_book(engine, scenario):
    s = scenario()
    s.user(3).user(5)
    customer(s, 1)  # no activity -40, 3 urgent open -30, 4 misses -20, NPS 3 -20: -10 -> 0
    for ticket_id in range(1, 4):
        s.ticket(ticket_id, 1, "urgent", "2026-03-20")
    for ticket_id in range(4, 8):
        s.ticket(ticket_id, 1, "high", f"2026-03-{ticket_id:02d}", resolved=f"2026-03-{ticket_id + 2:02d}")
    s.nps(1, 3, "2026-03-01")
    customer(s, 2)  # no activity -40, NPS 5 -20: 40, at_risk
    s.nps(2, 5, "2026-03-01")
    customer(s, 3)  # no activity -40, NPS 5 -20, one miss -5: 35, critical
    s.nps(3, 5, "2026-03-01")
    s.ticket(8, 3, "urgent", "2026-03-10", resolved="2026-03-11")
    customer(s, 4)  # activity 45 days ago -10, 2 urgent open -20: 70, healthy
    s.activity(1, 3, "2026-02-15", account=4)
    s.ticket(9, 4, "urgent", "2026-03-20").ticket(10, 4, "high", "2026-03-20")
    customer(s, 5)  # activity 45 days ago -10, 3 urgent open -30: 60, at_risk
    s.activity(2, 3, "2026-02-15", account=5)
    for ticket_id in range(11, 14):
        s.ticket(ticket_id, 5, "urgent", "2026-03-20")
    s.account(6, owner=3)  # never won: not a customer
    customer(s, 7, churned="2026-03-01")  # churned before T: not active
    s.account(8, owner=3)  # first win exactly at T: not a customer yet
    s.opp(8, 8, 3, "1.00", "won", "2026-03-01", "2026-04-01T00:00:00")
    customer(s, 9, owner=5, churned="2026-04-01T00:00:00")  # churns at T: active; healthy
    s.activity(3, 3, RECENT, account=9)  # logged by rep 3 on rep 5's account
    s.load(engine)
    return engine


def test_clamp_and_bands(bands_book):
    assert scores(bands_book) == {1: 0, 2: 40, 3: 35, 4: 70, 5: 60, 9: 100}
    assert health_bands(bands_book, MARCH) == {"healthy": 2, "at_risk": 2, "critical": 2}


def test_at_risk_list_with_reasons(bands_book):
    df = health_accounts(bands_book, MARCH)
    assert list(df["account_id"]) == [1, 3, 2, 5]  # weakest first
    assert list(df["band"]) == ["critical", "critical", "at_risk", "at_risk"]
    first = df.iloc[0]
    assert first["reasons"] == [
        "no activity before as-of (-40)",
        "3 open high/urgent ticket(s) (-30)",
        "4 ticket(s) missed SLA in 90 days (-20)",
        "latest NPS 3 (-20)",
    ]
    assert (first["activity_points"], first["ticket_points"], first["sla_points"], first["nps_points"]) == (
        40,
        30,
        20,
        -20,
    )
    fifth = df.iloc[3]
    assert fifth["days_since_activity"] == pytest.approx(45.0)  # 2026-02-15 -> 2026-04-01
    assert list(health_accounts(bands_book, MARCH, limit=1)["account_id"]) == [1]


def test_health_filters_act_on_the_account_and_count_anyones_activity(bands_book):
    assert scores(bands_book, Filters(owner_id=5)) == {9: 100}  # activity by rep 3 still counts
    assert health_bands(bands_book, MARCH, Filters(team_id=99)) == {"healthy": 0, "at_risk": 0, "critical": 0}
    assert health_bands(bands_book, MARCH, Filters(product_line="Widgets")) == health_bands(bands_book, MARCH)


def test_health_region_filter(engine, scenario):
    s = scenario()
    s.user(3)
    customer(s, 1, region="North")
    customer(s, 2, region="South")
    s.load(engine)
    assert health_bands(engine, MARCH, Filters(region="North")) == {"healthy": 0, "at_risk": 1, "critical": 0}
    assert health_bands(engine, MARCH) == {"healthy": 0, "at_risk": 2, "critical": 0}


def test_health_by_tier_counts_active_customers_per_tier_and_band(engine, scenario):
    s = scenario()
    s.user(3)
    s.account(1, owner=3, tier="A").opp(1001, 1, 3, "100.00", "won", "2024-12-01", "2025-01-01")
    s.activity(1, 3, RECENT, account=1)  # 100: healthy
    s.account(2, owner=3, tier="A").opp(1002, 2, 3, "100.00", "won", "2024-12-01", "2025-01-01")
    s.nps(2, 5, "2026-03-01")  # no activity -40, detractor -20: 40, at_risk
    s.account(3, owner=3, tier="C").opp(1003, 3, 3, "100.00", "won", "2024-12-01", "2025-01-01")
    s.nps(3, 0, "2026-03-01")
    s.ticket(1, 3, "urgent", "2026-03-20")  # -40 -20 -10: 30, critical
    s.account(4, owner=3).opp(1004, 4, 3, "100.00", "won", "2024-12-01", "2025-01-01")
    s.activity(2, 3, RECENT, account=4)  # no tier, healthy
    s.account(5, owner=3, tier="B")  # never won: not a customer, B listed with zeros
    s.load(engine)
    frame = health_by_tier(engine, MARCH)
    assert frame.to_dict("records") == [
        {"tier": "A", "healthy": 1, "at_risk": 1, "critical": 0, "customers": 2},
        {"tier": "B", "healthy": 0, "at_risk": 0, "critical": 0, "customers": 0},
        {"tier": "C", "healthy": 0, "at_risk": 0, "critical": 1, "customers": 1},
        {"tier": "(none)", "healthy": 1, "at_risk": 0, "critical": 0, "customers": 1},
    ]


def test_a_60_to_90_day_silence_is_at_risk_only_with_a_detractor_before_t(engine, scenario):
    """Silent since 2026-01-16 (75 days: -25). The latest NPS before T decides, whether the
    account rollup knows it (latest response before T) or a seek must find it (latest after T)."""
    s = scenario()
    s.user(3)
    for account_id in range(1, 6):
        customer(s, account_id)
        s.activity(account_id, 3, "2026-01-16", account=account_id)
    s.nps(1, 3, "2026-03-01")  # detractor: 55, at risk
    s.nps(2, 9, "2026-03-01")  # promoter: 80
    s.nps(3, 2, "2026-02-01").nps(3, 10, "2026-04-05")  # detractor before T: 55
    s.nps(4, 10, "2026-02-01").nps(4, 0, "2026-04-05")  # promoter before T: 80
    # 5: no response: 75
    s.load(engine)
    assert scores(engine) == {1: 55, 2: 80, 3: 55, 4: 80, 5: 75}
    weak = health_accounts(engine, MARCH)
    assert weak["account_id"].tolist() == [1, 3]
    assert health_bands(engine, MARCH) == {"healthy": 3, "at_risk": 2, "critical": 0}
