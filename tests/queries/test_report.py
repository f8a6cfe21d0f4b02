"""`python -m queries.report`: the JSON object of the spec, as-of and filter flags, bad flags."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from queries.report import main
from tests.queries.conftest import Scenario

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "queries.report", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def loaded(engine, db_url, scenario) -> str:
    s: Scenario = scenario()
    s.team(1, "North")
    s.user(1, role="admin").user(3, team=1, name="Rex")
    s.product(1, "Widgets")
    s.account(10, owner=3, region="North")
    s.opp(1, 10, 3, "1000.00", "won", "2026-02-01", "2026-03-10", product=1)  # cycle 37 days
    s.opp(2, 10, 3, "500.00", "lost", "2026-03-02", "2026-03-12")
    s.opp(3, 10, 3, "2000.00", "proposal", "2026-03-05")
    s.history(3, "proposal", "2026-03-06")
    s.target(3, "2026-03", "3100")
    s.lead(1, "2026-03-03", status="converted", owner=3)
    s.activity(1, 3, "2026-03-20", account=10, opp=3)
    s.load(engine)
    return db_url


def test_json_report(loaded):
    result = run_report("--db", loaded, "--start", "2026-03-01", "--end", "2026-03-31", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == ["period", "as_of", "filters", "metrics", "funnel", "health_bands", "leaderboard"]
    assert report["period"] == {"start": "2026-03-01", "end": "2026-03-31"}
    assert report["as_of"] == "2026-04-01T00:00:00"
    assert report["filters"] == {"team": None, "owner": None, "region": None, "product_line": None}
    assert report["metrics"] == {
        "bookings": 1000.0,
        "deals_won": 1,
        "deals_lost": 1,
        "win_rate": 0.5,
        "avg_deal_size": 1000.0,
        "sales_cycle_days": 37.0,
        "target": 3100.0,
        "attainment": 1000 / 3100,  # unrounded
        "collections": 0.0,
        "open_deals": 1,
        "open_pipeline": 2000.0,
        "weighted_pipeline": 1000.0,  # proposal 0.5
        "stale_deals": 0,  # touched 2026-03-20, after the cutoff 03-18
        "new_leads": 1,
        "lead_conversion_rate": 1.0,
        "activities": 1,
        "active_customers": 1,
        "new_customers": 1,
        "churned_customers": 0,
        "churn_rate": None,  # no active customer at the start of March
        "repeat_purchase_rate": 0.0,
        "customer_lifetime_value": 1000.0,
        "nps": None,
        "tickets_opened": 0,
        "tickets_resolved": 0,
        "ticket_backlog": 0,
        "sla_met_rate": None,
        "avg_first_response_hours": None,
        "csat": None,
    }
    # cohort: deal 2 (lost, no history: prospecting) and deal 3 (proposal)
    assert report["funnel"] == [
        {"stage": "prospecting", "reached": 2, "conversion": None},
        {"stage": "qualification", "reached": 1, "conversion": 0.5},
        {"stage": "proposal", "reached": 1, "conversion": 1.0},
        {"stage": "negotiation", "reached": 0, "conversion": 0.0},
        {"stage": "won", "reached": 0, "conversion": None},
    ]
    assert report["health_bands"] == {"healthy": 1, "at_risk": 0, "critical": 0}
    assert report["leaderboard"] == [
        {
            "user_id": 3,
            "display_name": "Rex",
            "bookings": 1000.0,
            "deals_won": 1,
            "win_rate": 0.5,
            "attainment": 1000 / 3100,
            "activities": 1,
        }
    ]


def test_as_of_and_filter_flags(loaded):
    result = run_report(
        "--db", loaded, "--start", "2026-03-01", "--end", "2026-03-31", "--as-of", "2026-03-11",
        "--team", "1", "--region", "North", "--product-line", "Widgets", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["as_of"] == "2026-03-12T00:00:00"  # end of day 2026-03-11
    assert report["filters"] == {"team": 1, "owner": None, "region": "North", "product_line": "Widgets"}
    metrics = report["metrics"]
    assert metrics["bookings"] == 1000.0  # deal 1 is a Widgets deal
    assert metrics["deals_lost"] == 0  # deal 2 has no product
    assert metrics["target"] is None and metrics["attainment"] is None
    assert metrics["open_deals"] == 0  # deal 3 has no product
    assert report["leaderboard"][0]["attainment"] is None


def test_text_report(loaded):
    result = run_report("--db", loaded, "--start", "2026-03-01", "--end", "2026-03-31")
    assert result.returncode == 0, result.stderr
    assert "Bookings" in result.stdout and "1,000.00" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-13-01", "--end", "2026-03-31"], "not a date"),
        (["--start", "2026-03-31", "--end", "2026-03-01"], "before --start"),
        (["--start", "2026-03-01", "--end", "2026-03-31", "--as-of", "yesterday"], "not a date"),
        (["--start", "2026-03-01", "--end", "2026-03-31", "--team", "x"], "not a positive integer"),
        (["--start", "2026-03-01", "--end", "2026-03-31", "--team", "99"], "no team with id 99"),
        (["--start", "2026-03-01", "--end", "2026-03-31", "--owner", "99"], "no user with id 99"),
    ],
)
def test_bad_flags_exit_2_with_a_message(loaded, capsys, args, message):
    try:
        code = main(["--db", loaded, *args, "--json"])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert captured.out == ""


def test_bad_flags_in_a_subprocess_print_no_traceback(loaded):
    result = run_report(
        "--db", loaded, "--start", "2026-03-01", "--end", "2026-03-31", "--team", "99", "--json"
    )
    assert result.returncode == 2
    assert "no team with id 99" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
