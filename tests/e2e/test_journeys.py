"""Journeys through the real app in Chromium, each asserting what a person would see."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from crm_core.db import make_engine
from pages.components.period_presets import preset_range
from queries.filters import Filters, Period
from queries.funnel import funnel_table
from seed.demo import today_utc
from tests.e2e.conftest import settle, shot, sign_in, submit_sign_in
from tests.pages.conftest import DEMO_PASSWORDS


def _metric(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text()


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the sidebar selectbox labelled `label`."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]', has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def test_wrong_password_then_lockout_then_right_password(server, context):
    page = context.new_page()
    locked_user = server.users("rep")[-1][1]
    sign_in(page, server.url, "admin", "not-the-password", expect_success=False)
    assert page.get_by_text("Wrong username or password.").is_visible()
    for _ in range(5):
        submit_sign_in(page, locked_user, "wrong")
    assert page.get_by_text(re.compile(r"Too many failed attempts")).is_visible()
    shot(page, "login-locked")
    submit_sign_in(page, "admin", DEMO_PASSWORDS["admin"])
    # expect() waits: under load the War Room may still be drawing its cards right after sign-in.
    expect(page.get_by_role("heading", name="War Room")).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]').nth(11)).to_be_visible()


def test_filters_change_numbers_live_in_the_url_and_reopen_the_same_view(server, browser):
    first = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = first.new_page()
    sign_in(page, server.url, "admin", DEMO_PASSWORDS["admin"])
    before = _metric(page, "Bookings")
    _choose(page, "Period", "Last quarter")
    team_name = _first_team(server)
    _choose(page, "Team", team_name)
    after = _metric(page, "Bookings")
    assert after != before
    query = parse_qs(urlparse(page.url).query)
    assert query["period"] == ["Last quarter"]
    assert query["team"] == [team_name]  # the URL carries readable labels
    shared_url = page.url
    first.close()

    second = browser.new_context(viewport={"width": 1440, "height": 1000})
    other = second.new_page()
    sign_in(other, server.url, "admin", DEMO_PASSWORDS["admin"])
    other.goto(shared_url)
    settle(other)
    shot(other, "shared-view")
    assert _metric(other, "Bookings") == after
    second.close()


def test_an_alert_tab_opens_lazily_lives_in_the_url_and_reopens_from_a_link(server, context):
    """Only the open alert tab draws its list; opening another puts it in the link, and that link
    opens the same tab in a new page."""
    page = context.new_page()
    sign_in(page, server.url, "admin", DEMO_PASSWORDS["admin"])
    alerts = page.get_by_role("tablist")
    expect(alerts.get_by_role("tab", name="Stale deals")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("button", name="Download CSV")).to_have_count(1)  # one list drawn
    alerts.get_by_role("tab", name="Unassigned leads").click()
    settle(page)
    assert parse_qs(urlparse(page.url).query)["alerts"] == ["Unassigned leads"]
    expect(page.get_by_text(re.compile(r"leads nobody owns yet"))).to_be_visible()
    link = page.url

    other = context.new_page()
    other.goto(link)
    settle(other)
    expect(other.get_by_role("tab", name="Unassigned leads")).to_have_attribute("aria-selected", "true")
    expect(other.get_by_role("button", name="Download CSV")).to_have_count(1)
    other.close()
    page.close()


def _first_team(server):
    from sqlalchemy import select

    from crm_core.models import Team

    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        name = conn.execute(select(Team.name).order_by(Team.name).limit(1)).scalar_one()
    engine.dispose()
    return name


def test_clicking_a_funnel_stage_lists_its_deals_and_exports_them(server, context):
    page = context.new_page()
    sign_in(page, server.url, "admin", DEMO_PASSWORDS["admin"])
    page.goto(f"{server.url}/pipeline")
    settle(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    click_bar(page, chart, 2)  # bars top-down: prospecting, qualification, proposal
    heading = page.get_by_role("heading", name=re.compile("reached proposal"))
    assert heading.is_visible()
    shot(page, "funnel-drilldown")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"), newline="")))
    engine = make_engine(server.db_url)
    funnel = funnel_table(engine, Period(*preset_range("This quarter", today_utc())), Filters())
    engine.dispose()
    reached = int(funnel.set_index("stage").loc["proposal", "reached"])
    assert len(rows) == reached
    assert all(row["furthest_stage"] in ("proposal", "negotiation", "won") for row in rows)


def click_bar(page, chart, index: int) -> None:
    """Click a plotly bar as a mouse would: plotly's drag layer sits on top of the bars."""
    box = chart.locator("g.point").nth(index).locator("path").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    page.wait_for_timeout(1000)
    settle(page)


def test_sign_out_revokes_the_cookie_even_when_replayed(server, browser):
    first = browser.new_context()
    page = first.new_page()
    sign_in(page, server.url, "admin", DEMO_PASSWORDS["admin"])
    page.reload()
    settle(page)
    assert page.get_by_role("heading", name="War Room").is_visible()
    saved = [c for c in first.cookies() if c["name"] == "warroom_session"]
    assert saved, "the session cookie was set"
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    assert page.get_by_role("button", name="Sign in").is_visible()
    first.close()

    replay = browser.new_context()
    replay.add_cookies(saved)
    other = replay.new_page()
    other.goto(server.url)
    settle(other)
    assert other.get_by_role("button", name="Sign in").is_visible()
    assert not other.get_by_role("heading", name="War Room", exact=True).is_visible()
    replay.close()
