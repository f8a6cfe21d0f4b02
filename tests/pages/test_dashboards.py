"""Every dashboard renders on the demo; its KPIs are the report's numbers for the same filters."""

from __future__ import annotations

from datetime import date

import pytest

from pages.components.formatting import NO_VALUE, format_value
from pages.components.period_presets import DEFAULT_PRESET, preset_range
from queries.filters import Filters, Period
from queries.registry import METRICS
from queries.report import build_report
from seed.demo import today_utc

DASHBOARDS = [
    "pages/war_room.py",
    "pages/pipeline.py",
    "pages/leaderboard.py",
    "pages/customer_health.py",
    "pages/service.py",
    "pages/data_overview.py",
]
LABEL_TO_ID = {m.label: m.id for m in METRICS.values()}


def _open(app, page: str):
    if page != DASHBOARDS[0]:
        app.switch_page(page)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _shown_kpis(app) -> dict[str, str]:
    return {LABEL_TO_ID[m.label]: m.value for m in app.metric if m.label in LABEL_TO_ID}


def _expected(engine, period: Period, filters: Filters) -> dict[str, str]:
    report = build_report(engine, period, filters, period.as_of())
    return {mid: format_value(METRICS[mid].kind, v) for mid, v in report["metrics"].items()}


@pytest.mark.parametrize("page", DASHBOARDS)
def test_page_renders_without_exception(admin_app, page):
    _open(admin_app, page)
    assert admin_app.title[0].value


@pytest.mark.parametrize("page", ["pages/war_room.py", "pages/customer_health.py", "pages/service.py"])
def test_kpis_shown_equal_the_report(admin_app, demo_engine, page):
    _open(admin_app, page)
    shown = _shown_kpis(admin_app)
    assert len(shown) >= 6
    period = Period(*preset_range(DEFAULT_PRESET, today_utc()))
    expected = _expected(demo_engine, period, Filters())
    assert shown == {mid: expected[mid] for mid in shown}


def test_changing_the_team_filter_changes_the_numbers_and_matches_the_report(admin_app, demo_engine):
    app = admin_app
    _open(app, "pages/war_room.py")
    before = _shown_kpis(app)
    app.sidebar.selectbox(key="team").select_index(1).run()  # the first team after "All"
    after = _shown_kpis(app)
    assert after != before
    team = app.sidebar.selectbox(key="team").value
    assert isinstance(team, int)
    period = Period(*preset_range(DEFAULT_PRESET, today_utc()))
    expected = _expected(demo_engine, period, Filters(team_id=team))
    assert after == {mid: expected[mid] for mid in after}


def test_an_empty_period_shows_dashes_not_errors(admin_app):
    app = admin_app
    _open(app, "pages/war_room.py")
    app.sidebar.selectbox(key="period").select("Custom range").run()
    app.sidebar.date_input(key="from").set_value(date(2001, 1, 1)).run()
    app.sidebar.date_input(key="to").set_value(date(2001, 1, 31)).run()
    assert not app.exception
    shown = _shown_kpis(app)
    for ratio_id in (
        "win_rate",
        "avg_deal_size",
        "sales_cycle_days",
        "lead_conversion_rate",
        "churn_rate",
        "nps",
    ):
        assert shown[ratio_id] == NO_VALUE, ratio_id
    assert shown["bookings"] == "$0"


def test_the_target_line_sits_on_the_same_months_as_the_bookings_bars(admin_app):
    import json

    _open(admin_app, "pages/pipeline.py")
    specs = [json.loads(e.proto.spec) for e in admin_app.get("plotly_chart")]
    trend = next(s for s in specs if {t.get("name") for t in s["data"]} >= {"Bookings", "Target"})
    bars, line = (next(t for t in trend["data"] if t["name"] == n) for n in ("Bookings", "Target"))
    assert line["x"] == bars["x"]


def test_war_room_reads_only_the_open_alert_tab(admin_app, demo_engine):
    """The alert lists are lazy tabs bound to the URL: the first is open and filled, the others
    stay empty until opened (their queries do not run); opening one fills it."""
    from queries.service import breaching_tickets

    app = _open(admin_app, "pages/war_room.py")
    assert [t.label for t in app.tabs] == [
        "Stale deals",
        "SLA breaches",
        "Critical accounts",
        "Unassigned leads",
    ]
    assert len(app.tabs[0].dataframe) == 1
    assert all(not tab.children for tab in app.tabs[1:])

    app.session_state["alerts"] = "SLA breaches"
    app.run()
    assert not app.exception
    assert not app.tabs[0].children
    period = Period(*preset_range(DEFAULT_PRESET, today_utc()))
    breaches = breaching_tickets(demo_engine, period, Filters(), limit=500)
    assert app.tabs[1].caption[0].value.startswith(f"**{len(breaches):,}")


@pytest.mark.parametrize(
    ("value", "opened"),
    [("Unassigned leads", [False, False, False, True]), ("No such tab", [True, False, False, False])],
)
def test_a_link_opens_its_alert_tab_or_the_first_one(admin_app, value, opened):
    app = admin_app
    app.switch_page("pages/war_room.py")
    app.query_params["alerts"] = value
    app.run()
    assert not app.exception
    assert [bool(t.children) for t in app.tabs] == opened


def test_leaderboard_shows_each_reps_rank_change_and_the_movers(admin_app, demo_engine):
    from queries.leaderboard import standings

    app = _open(admin_app, "pages/leaderboard.py")
    period = Period(*preset_range(DEFAULT_PRESET, today_utc()))
    board = standings(demo_engine, period)["board"]
    shown = next(df.value for df in app.dataframe if "display_name" in df.value.columns)
    expected = [f"▲ {m}" if m > 0 else f"▼ {-m}" if m < 0 else "—" for m in board["movement"]]
    assert list(shown["change"]) == expected
    assert {"▲", "▼"} <= {c[0] for c in expected}  # the demo has both, so both metrics show
    metrics = {m.label: m for m in app.metric}
    climber = board.sort_values("movement", ascending=False).iloc[0]
    assert metrics["Biggest climber"].value == climber["display_name"]
    assert metrics["Biggest climber"].delta == f"+{climber['movement']} places"
    assert metrics["Biggest drop"].delta == f"{board['movement'].min()} places"
