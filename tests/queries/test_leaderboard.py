"""The rep leaderboard (ordering, ties by user_id, who is listed) and the team comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from queries.filters import Filters
from queries.leaderboard import (
    LEADERBOARD_COLUMNS,
    _board_rows,
    leaderboard,
    leaderboard_rows,
    members,
    standings,
    team_comparison,
    user_totals,
)
from tests.queries.conftest import MARCH, records


@pytest.fixture
def reps(engine, scenario):
    s = scenario()
    s.team(1, "North").team(2, "South")
    s.user(3, team=1, name="Cat").user(4, team=2, name="Dan").user(5, team=1, active=False, name="Old")
    s.user(6, role="manager", team=2, name="Max").user(7, team=1, name="New").user(8, team=2, name="Eve")
    s.account(10, owner=3, region="North").account(20, owner=4, region="South")
    s.opp(1, 10, 3, "500.00", "won", "2026-02-01", "2026-03-05")
    s.opp(2, 10, 3, "900.00", "lost", "2026-02-01", "2026-03-06")
    s.opp(3, 20, 4, "900.00", "won", "2026-02-01", "2026-03-07")
    s.opp(4, 10, 5, "2000.00", "won", "2026-02-01", "2026-03-08")  # inactive rep: not listed
    s.opp(5, 20, 6, "5000.00", "won", "2026-02-01", "2026-03-09")  # manager: not listed
    s.opp(6, 20, 8, "500.00", "won", "2026-02-01", "2026-03-10")  # ties with rep 3
    s.opp(7, 20, 8, "99.00", "won", "2026-02-01", "2026-04-01")  # April
    s.target(3, "2026-03", "1000").target(8, "2026-03", "250")
    s.activity(1, 3, "2026-03-02", account=10).activity(2, 3, "2026-03-03", account=20)
    s.activity(3, 7, "2026-03-04", account=10)
    s.load(engine)
    return engine


def test_leaderboard_order_and_values(reps):
    assert leaderboard_rows(reps, MARCH) == [
        {
            "rank": 1,
            "user_id": 4,
            "display_name": "Dan",
            "team_id": 2,
            "bookings": 900.0,
            "deals_won": 1,
            "deals_lost": 0,
            "win_rate": 1.0,
            "target": 0.0,
            "attainment": None,  # no target
            "activities": 0,
        },
        {
            "rank": 2,
            "user_id": 3,  # ties with 8 on bookings: lower user_id first
            "display_name": "Cat",
            "team_id": 1,
            "bookings": 500.0,
            "deals_won": 1,
            "deals_lost": 1,
            "win_rate": 1 / 2,
            "target": 1000.0,
            "attainment": 500 / 1000,
            "activities": 2,
        },
        {
            "rank": 3,
            "user_id": 8,
            "display_name": "Eve",
            "team_id": 2,
            "bookings": 500.0,
            "deals_won": 1,
            "deals_lost": 0,
            "win_rate": 1.0,
            "target": 250.0,
            "attainment": 500 / 250,
            "activities": 0,
        },
        {
            "rank": 4,
            "user_id": 7,
            "display_name": "New",
            "team_id": 1,
            "bookings": 0.0,
            "deals_won": 0,
            "deals_lost": 0,
            "win_rate": None,
            "target": 0.0,
            "attainment": None,
            "activities": 1,
        },
    ]


def test_leaderboard_inside_filters(reps):
    assert [r["user_id"] for r in leaderboard_rows(reps, MARCH, Filters(team_id=1))] == [3, 7]
    assert [r["user_id"] for r in leaderboard_rows(reps, MARCH, Filters(owner_id=8))] == [8]
    south = leaderboard_rows(reps, MARCH, Filters(region="South"))
    # every active rep is listed; deals and activities narrowed to South accounts
    assert [(r["user_id"], r["bookings"], r["activities"]) for r in south] == [
        (4, 900.0, 0),
        (8, 500.0, 0),
        (3, 0.0, 1),
        (7, 0.0, 0),
    ]
    assert {r["attainment"] for r in south} == {None}
    assert {r["target"] for r in south} == {None}


def test_leaderboard_frame(reps):
    df = leaderboard(reps, MARCH, limit=2)
    assert list(df["user_id"]) == [4, 3]
    assert records(df)[0]["attainment"] is None


def test_team_comparison(reps):
    df = team_comparison(reps, MARCH)
    rows = records(df)
    assert [(r["team_id"], r["team"]) for r in rows] == [(2, "South"), (1, "North")]
    south, north = rows
    assert south["bookings"] == 900.0 + 5000.0 + 500.0  # reps 4, 8 and the manager 6
    assert north["bookings"] == 500.0 + 2000.0  # includes inactive rep 5
    assert (north["deals_won"], north["deals_lost"], north["win_rate"]) == (2, 1, pytest.approx(2 / 3))
    assert north["target"] == 1000.0
    assert north["attainment"] == pytest.approx(2500 / 1000)
    assert north["activities"] == 3
    assert south["target"] == 250.0
    assert south["open_pipeline"] == 99.0  # deal 7 closes exactly at T: open as of T
    only_north = records(team_comparison(reps, MARCH, Filters(team_id=1)))
    assert [r["team_id"] for r in only_north] == [1]


@pytest.mark.parametrize(
    "filters", [Filters(), Filters(team_id=1), Filters(owner_id=8), Filters(region="South")], ids=str
)
def test_standings_equal_the_board_and_the_team_comparison(reps, filters):
    both = standings(reps, MARCH, filters)
    board = both["board"]
    pd.testing.assert_frame_equal(board[LEADERBOARD_COLUMNS], leaderboard(reps, MARCH, filters))
    pd.testing.assert_frame_equal(both["teams"], team_comparison(reps, MARCH, filters))
    before = leaderboard(reps, MARCH.previous(), filters)
    ranks = dict(zip(before["user_id"], before["rank"], strict=True))
    for row in records(board):
        assert row["previous_rank"] == ranks[row["user_id"]]
        assert row["movement"] == row["previous_rank"] - row["rank"]
    assert not both["teams"].empty


def test_activities_count_whole_utc_days_at_the_period_edges(engine, scenario):
    """Day boundaries of the per-day activity counts: the period is [03-01 00:00, 04-01 00:00)
    UTC, and an offset timestamp counts on its UTC day."""
    s = scenario()
    s.team(1, "North").team(2, "South")
    s.user(3, team=1, name="Cat").user(4, team=2, name="Dan")
    s.account(10, owner=3, region="North")
    s.activity(1, 3, "2026-02-28T23:59:59", account=10)  # before
    s.activity(2, 3, "2026-03-01T00:00:00", account=10)  # first instant: in
    s.activity(3, 3, "2026-03-31T23:59:59", account=10)  # last second: in
    s.activity(4, 3, "2026-04-01T00:00:00", account=10)  # first instant after: out
    s.activity(5, 4, "2026-04-01T00:30:00+01:00")  # 03-31 23:30 UTC: in (no account)
    s.activity(6, 4, "2026-03-01T00:30:00+01:00")  # 02-28 23:30 UTC: out
    s.load(engine)
    by_user = {r["user_id"]: r["activities"] for r in leaderboard_rows(engine, MARCH)}
    assert by_user == {3: 2, 4: 1}
    north = {r["user_id"]: r["activities"] for r in leaderboard_rows(engine, MARCH, Filters(team_id=1))}
    assert north == {3: 2}
    # region goes by the activity's account: the account-less one drops out
    in_region = leaderboard_rows(engine, MARCH, Filters(region="North"))
    assert {r["user_id"]: r["activities"] for r in in_region} == {3: 2, 4: 0}


def test_standings_split_both_periods_at_their_edges(engine, scenario):
    """March and the 31 days before it (01-29 … 02-28) read in one pass: each deal, activity and
    target month lands in its own period only."""
    s = scenario()
    s.team(1, "North")
    s.user(3, team=1, name="Cat").user(4, team=1, name="Dan")
    s.account(10, owner=3)
    s.opp(1, 10, 3, "100.00", "won", "2026-01-01", "2026-02-10")  # previous
    s.opp(2, 10, 3, "300.00", "won", "2026-01-01", "2026-03-01")  # first instant of March
    s.opp(3, 10, 3, "70.00", "lost", "2026-01-01", "2026-02-28T23:59:59")  # previous
    s.opp(4, 10, 4, "200.00", "won", "2026-01-01", "2026-02-28")  # previous
    s.opp(5, 10, 4, "50.00", "won", "2026-01-01", "2026-01-28T23:59:59")  # before both
    s.target(3, "2026-01", "310").target(3, "2026-02", "280").target(4, "2026-03", "620")
    s.activity(1, 3, "2026-02-15", account=10).activity(2, 4, "2026-03-31T23:00:00", account=10)
    s.load(engine)

    both = standings(engine, MARCH)
    picked = ["user_id", "bookings", "deals_won", "deals_lost", "target", "attainment", "activities"]
    now = [{k: r[k] for k in picked} for r in records(both["board"])]
    with engine.connect() as conn:
        (_, previous), _ = user_totals(conn, [MARCH, MARCH.previous()], Filters())
        before = [{k: r[k] for k in picked} for r in _board_rows(members(conn, Filters()), previous)]
    assert now == [
        {"user_id": 3, "bookings": 300.0, "deals_won": 1, "deals_lost": 0, "target": 0.0,
         "attainment": None, "activities": 0},
        {"user_id": 4, "bookings": 0.0, "deals_won": 0, "deals_lost": 0, "target": 620.0,
         "attainment": 0.0, "activities": 1},
    ]  # fmt: skip
    assert before == [
        {"user_id": 4, "bookings": 200.0, "deals_won": 1, "deals_lost": 0, "target": 0.0,
         "attainment": None, "activities": 0},
        {"user_id": 3, "bookings": 100.0, "deals_won": 1, "deals_lost": 1, "target": 310.0 * 3 / 31 + 280.0,
         "attainment": 100 / (310.0 * 3 / 31 + 280.0), "activities": 1},
    ]  # fmt: skip
    assert [(r["user_id"], r["previous_rank"], r["movement"]) for r in records(both["board"])] == [
        (3, 2, 1),  # up from second to first
        (4, 1, -1),
    ]
    team = records(both["teams"])[0]
    assert (team["bookings"], team["target"], team["activities"]) == (300.0, 620.0, 1)
