"""The work pages, driven through AppTest as people use them: sign in with the form, fill forms,
click buttons. On the shared demo database: the tests that write create their own records."""

from __future__ import annotations

import uuid
from datetime import date
from datetime import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from crm_core.actor import load_actor
from crm_core.errors import NotFound, PermissionDenied, StaleRecord, ValidationFailed
from crm_core.models import Account, Lead, Opportunity, Target, Team, Ticket, User
from crm_core.services import deals, leads, targets, users
from crm_core.validation import EMAIL_MESSAGE, PHONE_MESSAGE
from pages.components.forms import UNEXPECTED, ago, amount, attempt, occurred_at, plain
from pages.components.history import describe
from queries import worklists
from queries.registry import METRICS
from tests.pages.conftest import APP, DEMO_PASSWORDS, login

WORK_PAGES = {
    "rep": ["pages/my_pipeline.py", "pages/leads.py", "pages/deals.py", "pages/tickets.py"],
    "manager": [
        "pages/my_pipeline.py",
        "pages/leads.py",
        "pages/deals.py",
        "pages/tickets.py",
        "pages/targets.py",
    ],
    "admin": [
        "pages/my_pipeline.py",
        "pages/leads.py",
        "pages/deals.py",
        "pages/tickets.py",
        "pages/targets.py",
        "pages/admin.py",
    ],
}
BOOKINGS_LABEL = METRICS["bookings"].label


@pytest.fixture(autouse=True)
def _cookie_key(monkeypatch):
    monkeypatch.setenv("WARROOM_COOKIE_KEY", "x" * 40)


# -- helpers -------------------------------------------------------------------------------------


def _people(engine) -> dict[str, User]:
    """A rep of a team that has a manager, that manager, another rep of another team, the admin."""
    with engine.connect() as conn:
        users = conn.execute(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    managers = {u.team_id: u for u in users if u.role == "manager"}
    rep = next(u for u in users if u.role == "rep" and u.team_id in managers)
    other = next(u for u in users if u.role == "rep" and u.team_id != rep.team_id)
    admin = next(u for u in users if u.role == "admin")
    return {"rep": rep, "manager": managers[rep.team_id], "other_rep": other, "admin": admin}


def _signed_in(user: User, role: str, app: AppTest | None = None) -> AppTest:
    at = app or AppTest.from_file(str(APP), default_timeout=120)
    login(at, user.username, DEMO_PASSWORDS[role])
    assert not at.exception, [e.value for e in at.exception]
    return at


def _open(at: AppTest, page: str, **query: str) -> AppTest:
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page(page)
    at.run()
    _no_exception(at)
    return at


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "Something went wrong" in str(e.value)]
    assert not unexpected, unexpected


def _widget(at: AppTest, kind: str, key_suffix: str):
    found = [w for w in getattr(at, kind) if w.key and w.key.endswith(key_suffix)]
    assert found, f"no {kind} with a key ending in {key_suffix!r}"
    return found[0]


def _button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def _click(at: AppTest, label: str) -> AppTest:
    _button(at, label).click().run()
    _no_exception(at)
    return at


def _texts(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in ("title", "markdown", "caption", "error", "info", "success")
        for e in getattr(at, kind)
    ]
    return "\n".join(parts)


def _errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def _toasts(at: AppTest) -> list[str]:
    return [str(t.value) for t in at.toast]


def _bookings_shown(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == BOOKINGS_LABEL)


def _leaderboard_bookings(at: AppTest, name: str) -> float:
    board = next(df.value for df in at.dataframe if "display_name" in df.value.columns)
    row = board[board["display_name"] == name]
    return float(row["bookings"].iloc[0]) if not row.empty else 0.0


def _new_deal(engine, owner: User, name: str) -> int:
    """An open deal of `owner` on one of their accounts, made through the service."""
    actor = load_actor(engine, owner.id)
    with engine.connect() as conn:
        account_id = conn.execute(
            select(Account.id).where(Account.owner_id == owner.id).order_by(Account.id).limit(1)
        ).scalar_one()
    return deals.create(engine, actor, name=name, account_id=account_id, amount=Decimal("1000")).id


# -- every page renders for its roles ------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_each_work_page_renders_for_its_role(app, demo_engine, role):
    user = _people(demo_engine)[role]
    at = _signed_in(user, role, app)
    for page in WORK_PAGES[role]:
        _open(at, page)
        assert at.title, page
    deal_id = _new_deal(demo_engine, _people(demo_engine)["rep"], f"Render check {uuid.uuid4().hex[:6]}")
    _open(at, "pages/deals.py", deal=str(deal_id))
    assert at.title[0].value.startswith("Render check")
    assert any(t.label == "History" for t in at.tabs)


def test_a_rep_does_not_get_the_manager_pages(app, demo_engine):
    at = _signed_in(_people(demo_engine)["rep"], "rep", app)
    with pytest.raises(ValueError):
        at.switch_page("pages/targets.py")


# -- the rep's day moves the manager's numbers ---------------------------------------------------


def test_a_reps_lead_converted_and_won_moves_the_managers_war_room_and_leaderboard(app, demo_engine):
    people = _people(demo_engine)
    rep, manager = people["rep"], people["manager"]
    before_room = _signed_in(manager, "manager", app)
    bookings_before = _bookings_shown(before_room)
    _open(before_room, "pages/leaderboard.py")
    board_before = _leaderboard_bookings(before_room, rep.display_name)

    company = f"Walkthrough {uuid.uuid4().hex[:8]} GmbH"
    at = _signed_in(rep, "rep")
    _open(at, "pages/leads.py")
    _widget(at, "text_input", "new-lead:company").input(company)
    _widget(at, "text_input", "new-lead:email").input("buyer@walkthrough.example")
    _click(at, "Create lead")
    assert at.title[0].value == company  # the new lead opens
    assert any("created" in t for t in _toasts(at))
    lead_id = int(at.query_params["lead"])

    _widget(at, "number_input", "convert:amount").set_value(7_000_000)
    _click(at, "Convert to deal")
    assert any("Converted" in t for t in _toasts(at))
    _click(at, "Open the deal")  # switch_page to the Deals page with ?deal=
    deal_id = int(at.query_params["deal"])
    _open(at, "pages/deals.py", deal=str(deal_id))  # AppTest keeps the page it was switched to
    assert at.title[0].value == company
    for stage in ("qualification", "proposal", "negotiation"):
        _click(at, f"Advance to {stage}")
        assert f"Advanced to {stage}." in _toasts(at)
    _click(at, "Mark won")
    assert any(t.startswith("Won!") for t in _toasts(at))

    with demo_engine.connect() as conn:
        deal = conn.execute(select(Opportunity).where(Opportunity.id == deal_id)).one()
        lead = conn.execute(select(Lead).where(Lead.id == lead_id)).one()
    assert (deal.stage, deal.amount, deal.owner_id) == ("won", Decimal("7000000.00"), rep.id)
    assert (lead.status, lead.opportunity_id) == ("converted", deal_id)

    after_room = _signed_in(manager, "manager")
    assert _bookings_shown(after_room) != bookings_before
    _open(after_room, "pages/leaderboard.py")
    assert _leaderboard_bookings(after_room, rep.display_name) == pytest.approx(board_before + 7_000_000)


# -- conflicts, bad input, access ----------------------------------------------------------------


def test_a_stale_save_shows_the_conflict_and_changes_nothing(app, demo_engine):
    people = _people(demo_engine)
    rep, manager = people["rep"], people["manager"]
    deal_id = _new_deal(demo_engine, rep, f"Stale check {uuid.uuid4().hex[:6]}")
    at = _open(_signed_in(rep, "rep", app), "pages/deals.py", deal=str(deal_id))

    # The manager saves the deal while the rep's form is open.
    theirs = deals.update(
        demo_engine,
        load_actor(demo_engine, manager.id),
        deal_id=deal_id,
        expected_version=1,
        name="Renamed by manager",
    )
    assert theirs.version == 2

    _widget(at, "text_input", "edit:name").input("Renamed by rep")
    _click(at, "Save changes")
    conflict = [e for e in _errors(at) if e.startswith("Not saved")]
    assert conflict == [
        f"Not saved: this record was changed by {manager.display_name} at " + conflict[0].split(" at ", 1)[1]
    ]
    assert "— reload" in conflict[0]
    with demo_engine.connect() as conn:
        row = conn.execute(
            select(Opportunity.name, Opportunity.version).where(Opportunity.id == deal_id)
        ).one()
    assert tuple(row) == ("Renamed by manager", 2)

    _click(at, "Reload the latest version")
    assert _widget(at, "text_input", "edit:name").value == "Renamed by manager"
    _widget(at, "text_input", "edit:name").input("Renamed by rep")
    _click(at, "Save changes")
    assert "Deal saved." in _toasts(at)
    with demo_engine.connect() as conn:
        assert (
            conn.execute(select(Opportunity.name).where(Opportunity.id == deal_id)).scalar_one()
            == "Renamed by rep"
        )


def test_a_bad_field_shows_its_message_under_it_and_saves_nothing(app, demo_engine):
    rep = _people(demo_engine)["rep"]
    company = f"Typo {uuid.uuid4().hex[:8]} Ltd"
    at = _open(_signed_in(rep, "rep", app), "pages/leads.py")
    _widget(at, "text_input", "new-lead:company").input(company)
    _widget(at, "text_input", "new-lead:email").input("not-an-email")
    _widget(at, "text_input", "new-lead:phone").input("12")
    _click(at, "Create lead")
    assert EMAIL_MESSAGE in _errors(at) and PHONE_MESSAGE in _errors(at)
    assert _widget(at, "text_input", "new-lead:company").value == company  # what was typed stays
    with demo_engine.connect() as conn:
        assert conn.execute(select(Lead.id).where(Lead.company == company)).first() is None

    _widget(at, "text_input", "new-lead:email").input("")
    _widget(at, "text_input", "new-lead:phone").input("+1 555 010 2030")
    _widget(at, "text_input", "new-lead:company").input("")
    _click(at, "Create lead")
    assert _errors(at) == ["Enter the company name."]


def test_a_rep_cannot_open_another_reps_deal_by_url(app, demo_engine):
    people = _people(demo_engine)
    secret = f"Secret deal {uuid.uuid4().hex[:6]}"
    deal_id = _new_deal(demo_engine, people["other_rep"], secret)
    at = _signed_in(people["rep"], "rep", app)
    at.query_params["deal"] = str(deal_id)
    at.switch_page("pages/deals.py")
    at.run()
    _no_exception(at)
    assert any("You cannot open this deal" in e for e in _errors(at))
    assert secret not in _texts(at)
    assert not at.text_input and not at.tabs  # no form, no history
    at.query_params["deal"] = "not-a-number"
    at.run()
    assert any("You cannot open this deal" in e for e in _errors(at))

    manager = _open(_signed_in(people["manager"], "manager"), "pages/deals.py", deal=str(deal_id))
    assert any("You cannot open this deal" in e for e in _errors(manager))  # another team's deal
    admin = _open(_signed_in(people["admin"], "admin"), "pages/deals.py", deal=str(deal_id))
    assert admin.title[0].value == secret


# -- more of the workday -------------------------------------------------------------------------


def test_a_rep_claims_a_pool_lead(app, demo_engine):
    rep = _people(demo_engine)["rep"]
    company = f"Pool {uuid.uuid4().hex[:8]} Inc"
    admin = load_actor(demo_engine, _people(demo_engine)["admin"].id)
    lead = leads.create(demo_engine, admin, company=company, unassigned=True)
    at = _open(_signed_in(rep, "rep", app), "pages/leads.py", lead=str(lead.id))
    assert "Unassigned pool" in _texts(at)
    _click(at, "Claim this lead")
    assert "Lead claimed: it is yours now." in _toasts(at)
    with demo_engine.connect() as conn:
        assert conn.execute(select(Lead.owner_id).where(Lead.id == lead.id)).scalar_one() == rep.id
    _widget(at, "text_input", "activity:subject").input("Intro call")
    _click(at, "Log activity")
    assert "Call logged." in _toasts(at)
    assert "Intro call" in _texts(at)


def test_a_rep_works_a_ticket_to_a_happy_customer(app, demo_engine):
    rep = _people(demo_engine)["rep"]
    subject = f"Export broken {uuid.uuid4().hex[:6]}"
    at = _open(_signed_in(rep, "rep", app), "pages/tickets.py")
    _widget(at, "text_input", "new-ticket:subject").input(subject)
    _click(at, "Create ticket")
    assert at.title[0].value == subject
    ticket_id = int(at.query_params["ticket"])
    assert "First response" in _texts(at) and "due" in _texts(at)
    _click(at, "Record first response")
    _widget(at, "selectbox", "status:status").select("resolved")
    _click(at, "Update status")
    _widget(at, "radio", "csat:csat").set_value(5)
    _click(at, "Save CSAT")
    assert "CSAT saved." in _toasts(at)
    with demo_engine.connect() as conn:
        ticket = conn.execute(select(Ticket).where(Ticket.id == ticket_id)).one()
    assert ticket.status == "resolved" and ticket.csat == 5 and ticket.first_response_at is not None
    assert ticket.assignee_id == rep.id


def test_an_admin_creates_a_user_and_sees_password_rules(app, demo_engine):
    people = _people(demo_engine)
    at = _open(_signed_in(people["admin"], "admin", app), "pages/admin.py")
    username = f"new.rep.{uuid.uuid4().hex[:6]}"
    _widget(at, "text_input", "new-user:username").input(username)
    _widget(at, "text_input", "new-user:display_name").input("New Rep")
    _widget(at, "selectbox", "new-user:team_id").set_value(people["rep"].team_id)
    _widget(at, "text_input", "new-user:password").input("short")
    _widget(at, "text_input", "new-user:repeat").input("short")
    _click(at, "Create user")
    assert "Choose a password of at least 8 characters." in _errors(at)
    _widget(at, "text_input", "new-user:password").input("long-enough-1")
    _widget(at, "text_input", "new-user:repeat").input("long-enough-1")
    _click(at, "Create user")
    assert f"User {username} created." in _toasts(at)
    with demo_engine.connect() as conn:
        assert conn.execute(select(User.role).where(User.username == username)).scalar_one() == "rep"


def test_a_manager_saves_targets_row_by_row_and_a_conflicting_row_says_why(app, demo_engine):
    people = _people(demo_engine)
    manager = load_actor(demo_engine, people["manager"].id)
    admin = load_actor(demo_engine, people["admin"].id)
    today = date.today()
    month = date(today.year + 1, today.month, 1)  # a month the demo has no targets for
    reps = worklists.target_grid(demo_engine, manager, month)
    first, second = int(reps["user_id"].iloc[0]), int(reps["user_id"].iloc[1])
    targets.set_target(demo_engine, admin, user_id=second, month=month, amount=Decimal("1000"))

    at = _open(_signed_in(people["manager"], "manager", app), "pages/targets.py")
    _widget(at, "selectbox", "targets_month").set_value(month).run()
    _no_exception(at)
    shown = {u for u in worklists.target_grid(demo_engine, manager, month)["user_id"]}
    assert shown == set(reps["user_id"])  # the manager's own team only

    # Someone else saves the second rep's target after the grid was loaded.
    targets.set_target(
        demo_engine, admin, user_id=second, month=month, amount=Decimal("2000"), expected_version=1
    )
    editor = f"targets-{month:%Y-%m}#0/grid"
    at.session_state[editor] = {
        "edited_rows": {0: {"amount": 150000}, 1: {"amount": 175000}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    _click(at, "Save 2 changes")
    assert f"Saved 1 target for {month:%B %Y}." in _toasts(at)
    conflict = [e for e in _errors(at) if "Not saved" in e]
    assert len(conflict) == 1 and f"changed by {people['admin'].display_name}" in conflict[0]
    with demo_engine.connect() as conn:
        saved = dict(conn.execute(select(Target.user_id, Target.amount).where(Target.month == month)).all())
    assert saved[first] == Decimal("150000.00")
    assert saved[second] == Decimal("2000.00")  # the other save was not overwritten


# -- the pure helpers behind the pages -----------------------------------------------------------


def test_service_errors_become_messages_never_tracebacks():
    def raising(error):
        def action():
            raise error

        return action

    assert attempt(lambda: 42).ok and attempt(lambda: 42).result == 42
    invalid = attempt(raising(ValidationFailed({"email": EMAIL_MESSAGE})))
    assert (invalid.kind, invalid.field_errors) == ("invalid", {"email": EMAIL_MESSAGE})
    stale = attempt(raising(StaleRecord("opportunity", 1, "Ana", dt(2026, 3, 5, 14, 30))))
    assert stale.text == "Not saved: changed by Ana at 2026-03-05 14:30 UTC — reload."
    assert attempt(raising(PermissionDenied("You don't have access to change this deal."))).kind == "denied"
    assert "does not exist" in attempt(raising(NotFound("lead", 9))).message
    assert attempt(raising(RuntimeError("boom"))).message == UNEXPECTED


def test_display_helpers():
    assert plain("**Acme** [x](y) :red[z]") == "\\*\\*Acme\\*\\* \\[x\\](y) \\:red\\[z\\]"
    assert plain("# Big") == "\\# Big" and plain("1. First") == "1\\. First"
    assert amount(12500) == "$12,500" and amount(12500.5) == "$12,500.50" and amount(None) == "—"
    assert (ago(0.4), ago(1.2), ago(30)) == ("today", "yesterday", "30 days ago")
    assert occurred_at(date(2026, 3, 5), today=date(2026, 3, 5)) is None
    assert occurred_at(date(2026, 3, 1), today=date(2026, 3, 5)) == dt(2026, 3, 1, 12, 0)


def test_history_rows_read_like_sentences():
    entries = [
        {
            "at": dt(2026, 3, 5, 14, 30),
            "field": "owner_id",
            "old": None,
            "new": "7",
            "actor_name": "Dana",
            "actor_id": 2,
        },
        {
            "at": dt(2026, 3, 5, 14, 0),
            "field": "amount",
            "old": "1000.00",
            "new": "12500.50",
            "actor_name": "Sam",
        },
        {"at": dt(2026, 3, 5, 13, 0), "field": "stage", "old": "prospecting", "new": "qualification"},
        {"at": dt(2026, 3, 4, 9, 0), "field": "created", "old": None, "new": "Big deal", "actor_name": "Sam"},
    ]
    rows = describe(entries, {7: "Kim East"}).to_dict("records")
    assert rows[0] == {
        "When (UTC)": "2026-03-05 14:30",
        "Who": "Dana",
        "Field": "Owner",
        "From": "—",
        "To": "Kim East",
    }
    assert (rows[1]["From"], rows[1]["To"]) == ("$1,000.00", "$12,500.50")
    assert (rows[2]["Who"], rows[2]["From"], rows[2]["To"]) == ("system", "Prospecting", "Qualification")
    assert (rows[3]["Field"], rows[3]["From"], rows[3]["To"]) == ("Created", "", "Big deal")


def test_an_admin_renames_a_team_and_a_stale_team_form_is_refused(app, demo_engine):
    people = _people(demo_engine)
    admin = load_actor(demo_engine, people["admin"].id)
    team_id = people["rep"].team_id
    at = _open(_signed_in(people["admin"], "admin", app), "pages/admin.py")
    _widget(at, "selectbox", "admin_team").set_value(team_id).run()
    scope = f"team-{team_id}"
    with demo_engine.connect() as conn:
        name = conn.execute(select(Team.name).where(Team.id == team_id)).scalar_one()
    _widget(at, "text_input", f"{scope}/edit:name").input(f"{name} One")
    _click(at, "Save team")
    assert "Team saved." in _toasts(at)

    # another admin renames the team after this form was loaded again
    at.run()
    users.update_team(demo_engine, admin, team_id=team_id, expected_version=2, name=f"{name} Two")
    _widget(at, "text_input", f"{scope}/edit:name").input(f"{name} Three")
    _click(at, "Save team")
    assert any("Not saved" in e and f"changed by {people['admin'].display_name}" in e for e in _errors(at))
    with demo_engine.connect() as conn:
        assert conn.execute(select(Team.name).where(Team.id == team_id)).scalar_one() == f"{name} Two"
