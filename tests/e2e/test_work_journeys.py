"""Work journeys through the real app in Chromium: a rep's day moving the manager's numbers, two
people saving the same deal, and a rep kept out of what is not theirs. Each test makes its own
records, so the order of the tests does not matter."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from benchmarks.app_server import running_app
from crm_core.actor import load_actor
from crm_core.db import make_engine
from crm_core.models import Account, Lead, Opportunity, User
from crm_core.services import deals
from tests.e2e.conftest import COOKIE_KEY, settle, shot, sign_in, submit_sign_in
from tests.pages.conftest import DEMO_PASSWORDS

TOAST = '[data-testid="stToast"]'
DENIED = "You cannot open this deal. It does not exist, or it is outside what you may see."
UNITS = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9}

# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def new_page(browser):
    """`new_page()`: a page in a browser context of its own (another person, another browser);
    every context is closed after the test, whether it passed or not."""
    opened = []

    def make():
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        opened.append(context)
        return context.new_page()

    yield make
    for context in opened:
        context.close()


def _display_name(server, user_id: int) -> str:
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        name = conn.execute(select(User.display_name).where(User.id == user_id)).scalar_one()
    engine.dispose()
    return name


def _toast(page, text: str) -> None:
    """The toast a person sees after a save (it shows shortly after the run, for ~4 s)."""
    expect(page.locator(TOAST, has_text=text).first).to_be_visible(timeout=15_000)


def _go(page, title: str) -> None:
    """Open a page of the menu by clicking its sidebar link."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    settle(page)


def _menu(page) -> list[str]:
    """The titles of the sidebar's page links, top to bottom (each link text starts with its icon)."""
    return [
        text.split("\n")[-1].strip()
        for text in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    ]


def _sidebar_filter_labels(page) -> list[str]:
    return page.locator(
        '[data-testid="stSidebar"] [data-testid="stSelectbox"] [data-testid="stWidgetLabel"]'
    ).all_inner_texts()


def _metric(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text()


def _money(text: str) -> float:
    """A KPI card's compact money ("$2.35M", "$950", "-$1.2K") as a number."""
    match = re.fullmatch(r"(-?)\$([\d,.]+)([KMB]?)", text.strip())
    assert match, f"not a money value: {text!r}"
    sign = -1 if match.group(1) else 1
    return sign * float(match.group(2).replace(",", "")) * UNITS[match.group(3)]


def _board_row(page, name: str) -> dict[str, str]:
    """The leaderboard row of `name`, {column header: cell text}, read from the grid's
    accessibility table (the grid itself is drawn on a canvas)."""
    board = page.locator('[data-testid="stDataFrame"]').first
    expect(board.locator('[data-testid="glide-cell-1-0"]')).to_be_attached(timeout=30_000)
    rows = board.evaluate(
        """(grid) => {
            const heads = [...grid.querySelectorAll('table[role="grid"] th')].map(th => th.textContent);
            return [...grid.querySelectorAll('table[role="grid"] tbody tr')].map(tr =>
                Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [heads[i], td.textContent])));
        }"""
    )
    found = [row for row in rows if row.get("Rep") == name]
    assert len(found) == 1, f"{name} is not on the leaderboard: {[r.get('Rep') for r in rows]}"
    return found[0]


def _board_numbers(page, name: str) -> tuple[float, int, int]:
    """(bookings, deals won, activities) of `name` on the Leaderboard page."""
    row = _board_row(page, name)
    return float(row["Bookings"]), int(row["Deals won"]), int(row["Activities"])


def _new_deal(server, owner_id: int, name: str, amount: str = "1000") -> int:
    """An open deal of `owner_id` on one of their accounts, made through the service."""
    engine = make_engine(server.db_url)
    actor = load_actor(engine, owner_id)
    with engine.connect() as conn:
        account_id = conn.execute(
            select(Account.id).where(Account.owner_id == owner_id).order_by(Account.id).limit(1)
        ).scalar_one()
    deal_id = deals.create(engine, actor, name=name, account_id=account_id, amount=Decimal(amount)).id
    engine.dispose()
    return deal_id


def _deal_row(server, deal_id: int):
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Opportunity.name,
                Opportunity.amount,
                Opportunity.stage,
                Opportunity.owner_id,
                Opportunity.version,
            ).where(Opportunity.id == deal_id)
        ).one()
    engine.dispose()
    return row


def _page_text(page) -> str:
    return page.locator('[data-testid="stApp"]').inner_text()


# -- journey 4: a rep's day moves the manager's War Room and Leaderboard -------------------------


def test_a_reps_lead_worked_to_a_won_deal_moves_the_managers_war_room_and_leaderboard(server, new_page):
    rep_id, rep_username, team_id = server.users("rep")[0]
    manager = next(m for m in server.users("manager") if m[2] == team_id)
    rep_name = _display_name(server, rep_id)
    won_amount = 250_000

    # The manager's view before the rep's work: the team's bookings and the rep's row.
    boss = new_page()
    sign_in(boss, server.url, manager[1], DEMO_PASSWORDS["manager"])
    expect(boss.get_by_role("heading", name="War Room")).to_be_visible()
    assert "Team" not in _sidebar_filter_labels(boss)  # pinned to their own team
    bookings_before = _money(_metric(boss, "Bookings"))
    _go(boss, "Leaderboard")
    board_before = _board_numbers(boss, rep_name)

    # The rep's day, in another browser.
    page = new_page()
    sign_in(page, server.url, rep_username, DEMO_PASSWORDS["rep"])
    _go(page, "Leads")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    company = f"Journey {uuid.uuid4().hex[:8]} GmbH"
    page.get_by_text("New lead", exact=True).click()
    page.get_by_role("textbox", name="Company *", exact=True).fill(company)
    page.get_by_role("textbox", name="Contact name", exact=True).fill("Ines Buyer")
    page.get_by_role("textbox", name="Email", exact=True).fill("ines@journey.example")
    page.get_by_role("button", name="Create lead").click()
    settle(page)
    _toast(page, f"Lead “{company}” created.")
    expect(page.get_by_role("heading", name=company)).to_be_visible()  # the new lead opens
    lead_id = int(re.search(r"[?&]lead=(\d+)", page.url).group(1))
    expect(page.get_by_text("Ines Buyer · ines@journey.example")).to_be_visible()

    page.get_by_role("tab", name="Qualify & convert").click()
    page.get_by_role("spinbutton", name="Amount ($)").fill("100000")
    page.get_by_role("button", name="Convert to deal").click()
    settle(page)
    _toast(page, "Converted: deal created on a new account.")
    expect(page.get_by_text(re.compile(r"^Converted into a deal on "))).to_be_visible()
    page.get_by_role("button", name="Open the deal").click()
    settle(page)
    expect(page).to_have_url(re.compile(r"/deals\?deal=\d+$"))  # switch_page sets the query first
    deal_id = int(page.url.rsplit("=", 1)[1])
    expect(page.get_by_role("heading", name=company)).to_be_visible()
    assert _metric(page, "Amount") == "$100,000"
    expect(page.get_by_text(f"#{deal_id} · {company} · owner {rep_name}")).to_be_visible()

    for stage in ("qualification", "proposal", "negotiation"):
        page.get_by_role("button", name=f"Advance to {stage}").click()
        settle(page)
        _toast(page, f"Advanced to {stage}.")
    expect(page.get_by_text("Last open stage: mark it won or lost in the Won / lost tab.")).to_be_visible()
    page.get_by_role("tab", name="Won / lost").click()
    page.get_by_role("spinbutton", name="Final amount ($)").fill(str(won_amount))
    page.get_by_role("button", name="Mark won").click()
    settle(page)
    _toast(page, "Won! $250,000 booked.")
    assert _metric(page, "Amount") == "$250,000"
    expect(page.locator('[data-testid="stMetric"]', has_text="Closed")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Advance to"))).to_have_count(0)

    page.get_by_role("tab", name="Activity").click()
    subject = f"Kickoff call {uuid.uuid4().hex[:6]}"
    page.get_by_role("textbox", name="Subject", exact=True).fill(subject)
    page.get_by_role("button", name="Log activity").click()
    settle(page)
    _toast(page, "Call logged.")
    page.get_by_role("tab", name="Activity").click()
    expect(page.get_by_text(subject)).to_be_visible()
    shot(page, "journey-deal-won")

    deal = _deal_row(server, deal_id)
    assert (deal.stage, deal.amount, deal.owner_id) == ("won", Decimal(won_amount), rep_id)
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        lead = conn.execute(select(Lead.status, Lead.opportunity_id).where(Lead.id == lead_id)).one()
    engine.dispose()
    assert tuple(lead) == ("converted", deal_id)

    # The manager, still signed in elsewhere, sees it on the next look (the saves cleared caches).
    _go(boss, "War Room")
    bookings_after = _money(_metric(boss, "Bookings"))
    # The card shows 3 significant digits ($2.35M): allow its rounding on both readings.
    assert abs(bookings_after - bookings_before - won_amount) <= 0.01 * max(bookings_after, 1_000)
    _go(boss, "Leaderboard")
    bookings, won, activities = _board_numbers(boss, rep_name)
    assert bookings == board_before[0] + won_amount
    assert won == board_before[1] + 1
    assert activities >= board_before[2] + 1
    shot(boss, "journey-manager-leaderboard")


# -- journey 5: two people save the same deal ----------------------------------------------------


def test_a_second_save_over_a_newer_version_shows_the_conflict_and_keeps_the_first(server, new_page):
    rep_id, rep_username, _ = server.users("rep")[1]
    rep_name = _display_name(server, rep_id)
    name = f"Conflict {uuid.uuid4().hex[:8]}"
    deal_id = _new_deal(server, rep_id, name)
    deal_url = f"{server.url}/deals?deal={deal_id}"

    first = new_page()
    sign_in(first, server.url, rep_username, DEMO_PASSWORDS["rep"])
    first.goto(deal_url)
    settle(first)
    second = new_page()
    sign_in(second, server.url, "admin", DEMO_PASSWORDS["admin"])
    second.goto(deal_url)
    settle(second)
    for page in (first, second):  # both have the deal open, at the same version
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        assert _metric(page, "Amount") == "$1,000"

    first.get_by_role("spinbutton", name="Amount ($)").fill("42000")
    first.get_by_role("button", name="Save changes").click()
    settle(first)
    _toast(first, "Deal saved.")
    assert _metric(first, "Amount") == "$42,000"

    second.get_by_role("textbox", name="Deal name", exact=True).fill(f"{name} (admin)")
    second.get_by_role("button", name="Save changes").click()
    settle(second)
    conflict = second.get_by_text(
        re.compile(rf"^Not saved: this record was changed by {re.escape(rep_name)} at .+ — reload\.$")
    )
    expect(conflict).to_be_visible()
    expect(second.get_by_role("button", name="Reload the latest version")).to_be_visible()
    expect(second.locator(TOAST, has_text="Deal saved.")).to_have_count(0)
    shot(second, "journey-conflict")

    row = _deal_row(server, deal_id)
    assert (row.name, row.amount, row.version) == (name, Decimal("42000.00"), 2)  # the first save survives
    first.reload()
    settle(first)
    expect(first.get_by_role("heading", name=name)).to_be_visible()
    assert _metric(first, "Amount") == "$42,000"
    expect(first.get_by_role("spinbutton", name="Amount ($)")).to_have_value("42000.00")

    # The second person reloads, sees the first change, and saves theirs on top of it.
    second.get_by_role("button", name="Reload the latest version").click()
    settle(second)
    expect(second.get_by_role("spinbutton", name="Amount ($)")).to_have_value("42000.00")
    expect(conflict).to_have_count(0)
    second.get_by_role("textbox", name="Deal name", exact=True).fill(f"{name} (admin)")
    second.get_by_role("button", name="Save changes").click()
    settle(second)
    _toast(second, "Deal saved.")
    row = _deal_row(server, deal_id)
    assert (row.name, row.amount, row.version) == (f"{name} (admin)", Decimal("42000.00"), 3)


# -- journey 6: a rep stays out of the Admin page and other reps' deals --------------------------


def test_a_rep_reaches_neither_the_admin_page_nor_another_reps_deal(server, context):
    rep_id, rep_username, team_id = server.users("rep")[2]
    teammate = next(r for r in server.users("rep") if r[2] == team_id and r[0] != rep_id)
    secret = f"Secret {uuid.uuid4().hex[:8]}"
    teammates_deal = _new_deal(server, teammate[0], secret, amount="7777")
    engine = make_engine(server.db_url)
    with engine.connect() as conn:
        foreign_id, foreign_name = conn.execute(
            select(Opportunity.id, Opportunity.name)
            .join(User, User.id == Opportunity.owner_id)
            .where(User.team_id != team_id, User.role == "rep")
            .order_by(Opportunity.id)
            .limit(1)
        ).one()
        # the people an Admin page would list ("first.last"; not "admin", a word found elsewhere)
        usernames = (
            conn.execute(select(User.username).where(User.id != rep_id, User.username.contains(".")))
            .scalars()
            .all()
        )
    engine.dispose()

    page = context.new_page()
    sign_in(page, server.url, rep_username, DEMO_PASSWORDS["rep"])
    menu = _menu(page)
    assert menu == ["War Room", "My Pipeline", "Leads", "Deals", "Tickets", "Leaderboard"]
    assert not page.get_by_role("link", name="Admin").count()

    for path in ("admin", "data_overview", "targets"):
        page.goto(f"{server.url}/{path}")
        settle(page)
        expect(page.get_by_text("Page not found")).to_be_visible()
        expect(page.get_by_role("heading", name="War Room")).to_be_visible()  # the default page instead
        assert not page.get_by_role("heading", name=re.compile("^(Admin|Data overview|Targets)$")).count()
        assert not page.get_by_role("button", name="Create user").count()
        text = _page_text(page)
        assert not [u for u in usernames if u in text], "no user list"
    shot(page, "journey-rep-admin-url")

    # By menu: the Deals list does not offer the teammate's deal.
    page.goto(server.url)
    settle(page)
    _go(page, "Deals")
    page.get_by_role("textbox", name="Search").fill(secret)
    page.get_by_role("textbox", name="Search").press("Enter")
    settle(page)
    expect(page.get_by_text(f"No deal matches “{secret}” in open deals.")).to_be_visible()

    # By URL: the refusal, and nothing of the deal.
    for deal_id, name in ((teammates_deal, secret), (foreign_id, foreign_name)):
        page.goto(f"{server.url}/deals?deal={deal_id}")
        settle(page)
        expect(page.get_by_text(DENIED)).to_be_visible()
        assert name not in _page_text(page)
        assert not page.get_by_role("tab").count()
        assert not page.get_by_role("textbox", name="Deal name", exact=True).count()
        assert not page.get_by_role("button", name=re.compile("^(Save changes|Mark won|Advance to)")).count()
        assert not page.locator('[data-testid="stMetric"]').count()
        assert "7,777" not in _page_text(page)
    shot(page, "journey-rep-denied-deal")


# -- a link opened before signing in -------------------------------------------------------------


def test_a_deal_link_opened_signed_out_opens_that_deal_after_sign_in(server, new_page):
    rep_id, rep_username, _ = server.users("rep")[3]
    name = f"Linked {uuid.uuid4().hex[:8]}"
    deal_id = _new_deal(server, rep_id, name)

    page = new_page()
    page.goto(server.url)  # a server that has served the app once (see session.route_through_app)
    settle(page)
    page.goto(f"{server.url}/deals?deal={deal_id}")
    settle(page)
    assert not page.get_by_text("Page not found").count()
    submit_sign_in(page, rep_username, DEMO_PASSWORDS["rep"])
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/deals\?deal={deal_id}$"))

    # a page this role does not have stays unreachable: the default page instead
    other = new_page()
    other.goto(f"{server.url}/admin")
    settle(other)
    submit_sign_in(other, rep_username, DEMO_PASSWORDS["rep"])
    expect(other.get_by_role("heading", name="War Room")).to_be_visible()
    assert not other.get_by_role("heading", name="Admin").count()


def test_the_first_link_after_a_restart_also_opens_its_deal_after_sign_in(server, new_page, tmp_path):
    """A freshly started server runs a page URL's script directly until some session reaches
    `st.navigation`; that first visitor must get the sign-in form, then the deal."""
    rep_id, rep_username, _ = server.users("rep")[4]
    name = f"Restart {uuid.uuid4().hex[:8]}"
    deal_id = _new_deal(server, rep_id, name)
    env = {"DATABASE_URL": server.db_url, "WARROOM_COOKIE_KEY": COOKIE_KEY, "WARROOM_BCRYPT_ROUNDS": "4"}
    with running_app(env, tmp_path / "fresh.log") as fresh_url:
        page = new_page()
        page.goto(f"{fresh_url}/deals?deal={deal_id}")  # the process's very first request
        settle(page)
        assert not page.get_by_role("link", name="admin").count()  # no page list before sign-in
        submit_sign_in(page, rep_username, DEMO_PASSWORDS["rep"])
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        expect(page).to_have_url(re.compile(rf"/deals\?deal={deal_id}$"))
