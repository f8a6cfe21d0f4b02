"""Period arithmetic, as-of, and the filter helpers' semantics (per entity, per the spec)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from queries.filters import Filters, Period
from queries.leads import activities, new_leads
from queries.sales import bookings, collections, target
from tests.queries.conftest import MARCH


def test_period_bounds_are_start_midnight_and_the_day_after_end():
    assert MARCH.start_ts == datetime(2026, 3, 1, 0, 0)
    assert MARCH.end_ts == datetime(2026, 4, 1, 0, 0)  # exclusive
    assert MARCH.days == 31


def test_previous_period_has_equal_length_and_ends_the_day_before():
    # 31 days ending 2026-02-28: Feb has 28 days, so it starts 3 days into January (Jan 29).
    assert MARCH.previous() == Period(date(2026, 1, 29), date(2026, 2, 28))
    one_day = Period(date(2026, 3, 1), date(2026, 3, 1))
    assert one_day.previous() == Period(date(2026, 2, 28), date(2026, 2, 28))


def test_as_of_defaults_to_end_of_period_and_a_day_means_its_end():
    assert MARCH.as_of() == datetime(2026, 4, 1)
    assert MARCH.as_of(date(2026, 3, 15)) == datetime(2026, 3, 16)  # end of day D = D+1 00:00
    aware = datetime(2026, 3, 15, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert MARCH.as_of(aware) == datetime(2026, 3, 15, 10, 0)  # converted to naive UTC
    assert MARCH.as_of(datetime(2026, 3, 15, 10, 0, tzinfo=UTC)) == datetime(2026, 3, 15, 10, 0)


def test_period_rejects_end_before_start_and_datetimes():
    with pytest.raises(ValueError, match="before its start"):
        Period(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(TypeError):
        Period(datetime(2026, 3, 1), date(2026, 3, 2))


def test_filters_describe_themselves():
    assert Filters().is_empty and Filters().targets_apply
    assert not Filters(region="North").targets_apply
    assert not Filters(product_line="Widgets").targets_apply
    assert Filters(team_id=1).targets_apply
    assert Filters(2, 3, "North", "Widgets").as_dict() == {
        "team": 2,
        "owner": 3,
        "region": "North",
        "product_line": "Widgets",
    }


@pytest.fixture
def two_teams(engine, scenario):
    """Team 1: reps 3 (active) and 4 (inactive). Team 2: rep 5. Accounts: 10 North/3, 20 South/5."""
    s = scenario()
    s.team(1).team(2)
    s.user(3, team=1).user(4, team=1, active=False).user(5, team=2)
    s.product(1, "Widgets").product(2, "Services")
    s.account(10, owner=3, region="North").account(20, owner=5, region="South")
    # Won in March: 100 (rep 3, North, Widgets), 200 (inactive rep 4, South account, Services),
    # 400 (rep 5, South, Widgets)
    s.opp(1, 10, 3, "100.00", "won", "2026-02-01", "2026-03-05", product=1)
    s.opp(2, 20, 4, "200.00", "won", "2026-02-01", "2026-03-06", product=2)
    s.opp(3, 20, 5, "400.00", "won", "2026-02-01", "2026-03-07", product=1)
    s.payment(1, 1, "10.00", "2026-03-10").payment(2, 2, "20.00", "2026-03-10").payment(
        3, 3, "40.00", "2026-03-10"
    )
    # Leads: by owner and by their own region
    s.lead(1, "2026-03-02", owner=3, region="South")
    s.lead(2, "2026-03-02", owner=None, region="North")
    s.lead(3, "2026-03-02", owner=5, region="North")
    # Activities: one without account (drops out under region)
    s.activity(1, 3, "2026-03-03", account=10)
    s.activity(2, 4, "2026-03-03", account=20)
    s.activity(3, 3, "2026-03-04")
    s.target(3, "2026-03", "1000").target(4, "2026-03", "2000").target(5, "2026-03", "4000")
    s.load(engine)
    return engine


def test_team_filter_keeps_inactive_members(two_teams):
    team1 = Filters(team_id=1)
    assert bookings(two_teams, MARCH, team1) == 100.0 + 200.0  # rep 3 + inactive rep 4
    assert collections(two_teams, MARCH, team1) == 10.0 + 20.0
    assert target(two_teams, MARCH, team1) == 1000.0 + 2000.0
    assert activities(two_teams, MARCH, team1) == 3  # activities 1, 2, 3
    assert new_leads(two_teams, MARCH, team1) == 1  # lead 1 only; unassigned lead 2 drops out


def test_owner_filter_picks_one_user(two_teams):
    rep5 = Filters(owner_id=5)
    assert bookings(two_teams, MARCH, rep5) == 400.0
    assert new_leads(two_teams, MARCH, rep5) == 1
    assert activities(two_teams, MARCH, rep5) == 0
    assert target(two_teams, MARCH, rep5) == 4000.0


def test_region_filter_uses_the_account_region_but_leads_their_own(two_teams):
    south = Filters(region="South")
    assert bookings(two_teams, MARCH, south) == 200.0 + 400.0  # by account 20's region
    assert collections(two_teams, MARCH, south) == 20.0 + 40.0
    assert new_leads(two_teams, MARCH, south) == 1  # lead 1 (region South, owner 3 of North)
    assert activities(two_teams, MARCH, Filters(region="North")) == 1  # activity 3 has no account
    assert target(two_teams, MARCH, south) is None


def test_product_line_acts_on_opportunities_and_payments_only(two_teams):
    widgets = Filters(product_line="Widgets")
    assert bookings(two_teams, MARCH, widgets) == 100.0 + 400.0
    assert collections(two_teams, MARCH, widgets) == 10.0 + 40.0
    assert new_leads(two_teams, MARCH, widgets) == 3
    assert activities(two_teams, MARCH, widgets) == 3
    assert target(two_teams, MARCH, widgets) is None


def test_filters_combine_as_an_intersection(two_teams):
    assert bookings(two_teams, MARCH, Filters(team_id=1, region="South")) == 200.0
    assert bookings(two_teams, MARCH, Filters(team_id=1, product_line="Widgets")) == 100.0
    assert bookings(two_teams, MARCH, Filters(team_id=1, owner_id=5)) == 0.0  # rep 5 is not in team 1
    assert new_leads(two_teams, MARCH, Filters(team_id=2, region="North")) == 1  # lead 3
    assert bookings(two_teams, MARCH, Filters(region="Nowhere")) == 0.0
    # a region with a deal filter: the payment's region and its deal's team / product line
    assert collections(two_teams, MARCH, Filters(team_id=1, region="South")) == 20.0  # deal 2
    assert collections(two_teams, MARCH, Filters(region="South", product_line="Widgets")) == 40.0  # deal 3
    assert collections(two_teams, MARCH, Filters(region="North", product_line="Services")) == 0.0


def test_spanning_runs_from_the_first_start_to_the_last_end():
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert Period.spanning([march, march.previous()]) == Period(date(2026, 1, 29), date(2026, 3, 31))
    assert Period.spanning(iter([march])) == march
