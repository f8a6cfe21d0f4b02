"""Screenshots of every page a manager and a rep have in their menu, reached by clicking the
sidebar, plus an open deal form; the README's pictures in `docs/screenshots/` are copied from
them, so they stay current."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from crm_core.actor import Actor
from crm_core.db import make_engine
from crm_core.models import Opportunity, User
from pages.components.navigation import menu_for
from tests.e2e.conftest import ROOT, SHOTS, settle, shot, sign_in
from tests.pages.conftest import DEMO_PASSWORDS

DOCS = ROOT / "docs" / "screenshots"
README_SHOTS = {
    "war-room.png": "manager-war-room",
    "funnel.png": "manager-pipeline",
    "leaderboard.png": "manager-leaderboard",
    "health.png": "manager-customer-health",
    "form.png": "form-deal",
}
HEADINGS = {"My Pipeline": {"manager": "Team Pipeline", "rep": "My Pipeline"}}
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def _actor(server, user_id: int) -> Actor:
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        user = conn.execute(select(User).where(User.id == user_id)).one()
    engine.dispose()
    return Actor(user_id=user.id, role=user.role, team_id=user.team_id, display_name=user.display_name)


def _charts_drawn(page) -> None:
    """Plotly draws after the run has finished: wait until every chart has its SVG."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                  .every(chart => chart.querySelector('.main-svg'))""",
        timeout=30_000,
    )
    page.wait_for_timeout(300)


def _visit_menu(page, role: str, actor: Actor) -> list[Path]:
    """Click every page of the actor's menu, check it rendered, and shoot it."""
    paths = []
    for entries in menu_for(actor).values():
        for path, title, _icon in entries:
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
            settle(page)
            _charts_drawn(page)
            heading = HEADINGS.get(title, {}).get(role, title)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            assert not page.locator(ERRORS).count(), f"{title}: {page.locator(ERRORS).all_inner_texts()}"
            paths.append(shot(page, f"{role}-{Path(path).stem.replace('_', '-')}"))
    return paths


def test_screenshots_of_every_menu_page_and_the_deal_form(server, browser):
    manager_id, manager_username, _ = server.users("manager")[0]
    rep_id, rep_username, _ = server.users("rep")[0]
    shots = []
    for role, user_id, username in (("manager", manager_id, manager_username), ("rep", rep_id, rep_username)):
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        sign_in(page, server.url, username, DEMO_PASSWORDS[role])
        shots += _visit_menu(page, role, _actor(server, user_id))
        if role == "rep":
            deal_id = _largest_open_deal(server, rep_id)
            page.goto(f"{server.url}/deals?deal={deal_id}")
            settle(page)
            expect(page.get_by_role("textbox", name="Deal name")).to_be_visible()
            expect(page.get_by_role("button", name="Save changes")).to_be_visible()
            shots.append(shot(page, "form-deal"))
        context.close()

    names = {p.stem for p in shots}
    assert {"manager-war-room", "manager-targets", "rep-deals", "rep-leaderboard", "form-deal"} <= names
    assert not any(n.endswith("admin") for n in names)  # neither role has the Admin page
    assert all(p.stat().st_size > 10_000 for p in shots)  # a real picture, not a blank page

    DOCS.mkdir(parents=True, exist_ok=True)
    for target, source in README_SHOTS.items():
        shutil.copyfile(SHOTS / f"{source}.png", DOCS / target)
    assert all((DOCS / target).stat().st_size > 10_000 for target in README_SHOTS)


def _largest_open_deal(server, owner_id: int) -> int:
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        deal_id = conn.execute(
            select(Opportunity.id)
            .where(Opportunity.owner_id == owner_id, Opportunity.stage.not_in(("won", "lost")))
            .order_by(Opportunity.amount.desc(), Opportunity.id)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return deal_id
