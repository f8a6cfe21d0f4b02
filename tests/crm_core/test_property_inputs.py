"""Random values thrown at every service input: a service either succeeds and stores only valid
data, or raises a CrmError and stores nothing. Anything else escaping is a bug.

Each example gives every argument a plausible value, except up to two arguments chosen at random
that get anything at all (text with control characters, huge integers, NaN, bytes, dates of year
1, …), so both the refusals and the saves are exercised. One engine and one world per test (not
per example): data accumulates across examples, and each call is checked against a snapshot of
every table taken just before it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm_core import enums
from crm_core.audit import utcnow
from crm_core.auth import AuthResult, authenticate
from crm_core.db import session_factory
from crm_core.errors import CrmError
from crm_core.models import Activity, AuditEntry, Base, Lead, Opportunity, Target, Ticket, User
from crm_core.services import activities, deals, leads, targets, tickets, users
from crm_core.validation import ActivityLog, DealCreate, LeadCreate, TicketCreate, UserCreate, validate
from tests.crm_core.factories import (
    build_world,
    make_account,
    make_deal,
    make_lead,
    make_product,
    make_ticket,
)

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ANYTHING = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.text(max_size=400),
    st.integers(),
    st.integers(min_value=-3, max_value=40),
    st.floats(),
    st.decimals(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.builds(timezone, st.timedeltas(timedelta(hours=-23), timedelta(hours=23)))),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=2),
)
WORDS = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40)
MAYBE_WORDS = st.one_of(st.none(), WORDS)
EMAILS = st.one_of(st.none(), st.emails())
PHONES = st.one_of(st.none(), st.from_regex(r"\+?[0-9]{3} [0-9]{4,9}", fullmatch=True))
MONEY = st.one_of(st.decimals(min_value=0, max_value=10**7, places=2), st.integers(0, 10**6))
DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
PAST = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1))
CURRENT = object()  # stands for "the version the form showed": the row's current version


def one_of_values(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values) | st.sampled_from(values).map(str.upper)


def inputs(data: st.DataObject, **plausible: st.SearchStrategy[Any]) -> dict[str, Any]:
    """A value for every argument: plausible ones, except up to two arguments that get ANYTHING."""
    fuzzed = data.draw(st.sets(st.sampled_from(sorted(plausible)), max_size=2), label="fuzzed")
    return {name: data.draw(ANYTHING if name in fuzzed else s, label=name) for name, s in plausible.items()}


def with_version(values: dict[str, Any], engine, model, record_id: int) -> dict[str, Any]:
    if values.get("expected_version") is CURRENT:
        with session_factory(engine)() as session:
            values["expected_version"] = session.get(model, record_id).version
    return values


@pytest.fixture
def world(engine):
    return build_world(engine)


def _snapshot(engine) -> dict[str, list[tuple]]:
    with session_factory(engine)() as session:
        return {
            table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }


def _attempt(engine, call) -> Any:
    """Run `call`; a CrmError must leave every table exactly as it was."""
    before = _snapshot(engine)
    try:
        result = call()
    except CrmError as exc:
        event(f"refused: {type(exc).__name__}")
        assert _snapshot(engine) == before
        return None
    event("saved")
    return result


def _all(engine, model) -> list[Any]:
    with session_factory(engine)() as session:
        return session.scalars(select(model)).all()


# -- invariants: what is stored passes the same validation as the input ---------------------------


def _leads_are_valid(engine) -> None:
    for lead in _all(engine, Lead):
        fields = ("company", "contact_name", "email", "phone", "source", "region")
        validate(LeadCreate, {f: getattr(lead, f) for f in fields})
        assert lead.region in (None, "EMEA", "NA")
        assert lead.status != "disqualified" or lead.disqualify_reason
        assert (lead.status == "converted") == (lead.opportunity_id is not None)


def _deals_are_valid(engine) -> None:
    for deal in _all(engine, Opportunity):
        fields = ("name", "account_id", "amount", "product_id", "expected_close_date")
        validate(DealCreate, {f: getattr(deal, f) for f in fields})
        assert (deal.stage in enums.CLOSED_STAGES) == (deal.closed_at is not None)
        assert deal.stage != "won" or deal.amount > 0
        assert deal.stage != "lost" or deal.lost_reason


# -- the tests -----------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_lead_create_and_update(engine, world, data):
    actor = data.draw(st.sampled_from([world.rep_a, world.manager_a, world.admin]))
    people = st.sampled_from([None, world.rep_a.user_id, world.rep_a2.user_id, world.rep_b.user_id])
    created = _attempt(
        engine,
        lambda: leads.create(
            engine,
            actor,
            **inputs(
                data,
                company=WORDS,
                contact_name=MAYBE_WORDS,
                email=EMAILS,
                phone=PHONES,
                source=st.none() | one_of_values(enums.LEAD_SOURCES),
                region=st.sampled_from([None, "emea", "NA"]),
                owner_id=people,
                unassigned=st.booleans(),
            ),
        ),
    )
    lead_id = created.id if created else make_lead(engine, world.rep_a.user_id)
    values = inputs(
        data,
        lead_id=st.just(lead_id),
        expected_version=st.just(CURRENT),
        company=WORDS,
        email=EMAILS,
        phone=PHONES,
        source=st.none() | one_of_values(enums.LEAD_SOURCES),
    )
    _attempt(engine, lambda: leads.update(engine, world.rep_a, **with_version(values, engine, Lead, lead_id)))
    _leads_are_valid(engine)


@FUZZ
@given(data=st.data())
def test_lead_pool_and_lifecycle(engine, world, data):
    lead_id = make_lead(engine, data.draw(st.sampled_from([None, world.rep_a.user_id])))
    common = {"lead_id": st.just(lead_id), "expected_version": st.just(CURRENT)}
    step = data.draw(st.sampled_from(["claim", "assign", "qualify", "disqualify", "convert"]))
    if step == "claim":
        call = leads.claim, world.rep_a, inputs(data, **common)
    elif step == "assign":
        rep = st.sampled_from([world.rep_a.user_id, world.rep_b.user_id])
        call = leads.assign, world.manager_a, inputs(data, **common, owner_id=rep)
    elif step == "qualify":
        call = leads.qualify, world.rep_a, inputs(data, **common)
    elif step == "disqualify":
        call = leads.disqualify, world.rep_a, inputs(data, **common, reason=WORDS)
    else:
        values = inputs(
            data,
            **common,
            deal_name=MAYBE_WORDS,
            amount=MONEY,
            expected_close_date=st.none() | DAYS,
            product_id=st.none(),
        )
        call = leads.convert, world.rep_a, values
    service, actor, values = call
    _attempt(engine, lambda: service(engine, actor, **with_version(values, engine, Lead, lead_id)))
    _leads_are_valid(engine)
    _deals_are_valid(engine)


@FUZZ
@given(data=st.data())
def test_deal_create_and_edit(engine, world, data):
    account = make_account(engine, world.rep_a.user_id)
    product = make_product(engine)
    values = inputs(
        data,
        name=WORDS,
        account_id=st.just(account),
        amount=MONEY,
        product_id=st.sampled_from([None, product]),
        expected_close_date=st.none() | DAYS,
        owner_id=st.sampled_from([None, world.rep_a.user_id, world.rep_b.user_id]),
    )
    _attempt(
        engine,
        lambda: deals.create(engine, data.draw(st.sampled_from([world.rep_a, world.manager_a])), **values),
    )

    deal_id = make_deal(engine, world.rep_a.user_id, account, stage=data.draw(st.sampled_from(enums.STAGES)))
    common = {"deal_id": st.just(deal_id), "expected_version": st.just(CURRENT)}
    step = data.draw(st.sampled_from(["update", "move", "won", "lost", "reopen"]))
    service, values = {
        "update": (
            deals.update,
            lambda: inputs(data, **common, name=WORDS, amount=MONEY, expected_close_date=st.none() | DAYS),
        ),
        "move": (deals.move_stage, lambda: inputs(data, **common, to_stage=one_of_values(enums.STAGES))),
        "won": (deals.mark_won, lambda: inputs(data, **common, amount=st.none() | MONEY)),
        "lost": (deals.mark_lost, lambda: inputs(data, **common, lost_reason=WORDS)),
        "reopen": (deals.reopen, lambda: inputs(data, **common, to_stage=one_of_values(enums.OPEN_STAGES))),
    }[step]
    arguments = with_version(values(), engine, Opportunity, deal_id)
    _attempt(engine, lambda: service(engine, world.rep_a, **arguments))
    _deals_are_valid(engine)


@FUZZ
@given(data=st.data())
def test_activity_log(engine, world, data):
    account = make_account(engine, world.rep_a.user_id)
    deal = make_deal(engine, world.rep_a.user_id, account)
    lead = make_lead(engine, world.rep_a.user_id)
    about = data.draw(st.sampled_from(["lead_id", "deal_id", "account_id"]))
    values = inputs(
        data,
        type=one_of_values(enums.ACTIVITY_TYPES),
        subject=MAYBE_WORDS,
        occurred_at=st.none() | PAST,
        lead_id=st.just(lead) if about == "lead_id" else st.none(),
        deal_id=st.just(deal) if about == "deal_id" else st.none(),
        account_id=st.just(account) if about == "account_id" else st.none(),
    )
    _attempt(engine, lambda: activities.log(engine, world.rep_a, **values))
    latest = utcnow() + timedelta(minutes=5)
    for activity in _all(engine, Activity):
        validate(
            ActivityLog,
            {"type": activity.type, "subject": activity.subject, "occurred_at": activity.occurred_at},
        )
        assert activity.occurred_at <= latest
        assert (activity.lead_id is None) != (activity.account_id is None)
    # the denormalised last_activity_at moves without bumping the deal's version
    assert {deal.version for deal in _all(engine, Opportunity)} == {1}


@FUZZ
@given(data=st.data())
def test_tickets(engine, world, data):
    account = make_account(engine, world.rep_a.user_id)
    values = inputs(
        data,
        account_id=st.just(account),
        subject=WORDS,
        priority=one_of_values(enums.TICKET_PRIORITIES),
        category=MAYBE_WORDS,
        channel=st.none() | st.sampled_from(["email", "phone", "chat"]),
        assignee_id=st.sampled_from([None, world.rep_a.user_id, world.rep_b.user_id]),
    )
    _attempt(engine, lambda: tickets.create(engine, world.rep_a, **values))

    status = data.draw(st.sampled_from(enums.TICKET_STATUSES))
    ticket_id = make_ticket(engine, account, world.rep_a.user_id, status=status)
    common = {"ticket_id": st.just(ticket_id), "expected_version": st.just(CURRENT)}
    step = data.draw(st.sampled_from(["status", "priority", "csat", "assign", "respond"]))
    service, actor, values = {
        "status": (
            tickets.change_status,
            world.rep_a,
            lambda: inputs(data, **common, status=one_of_values(enums.TICKET_STATUSES)),
        ),
        "priority": (
            tickets.change_priority,
            world.rep_a,
            lambda: inputs(data, **common, priority=one_of_values(enums.TICKET_PRIORITIES)),
        ),
        "csat": (tickets.set_csat, world.rep_a, lambda: inputs(data, **common, csat=st.integers(0, 6))),
        "assign": (
            tickets.assign,
            world.manager_a,
            lambda: inputs(data, **common, assignee_id=st.sampled_from([None, world.rep_a2.user_id])),
        ),
        "respond": (tickets.respond, world.rep_a, lambda: inputs(data, **common)),
    }[step]
    arguments = with_version(values(), engine, Ticket, ticket_id)
    _attempt(engine, lambda: service(engine, actor, **arguments))
    for ticket in _all(engine, Ticket):
        fields = ("account_id", "subject", "priority", "category", "channel", "assignee_id")
        validate(TicketCreate, {f: getattr(ticket, f) for f in fields})
        done = ticket.status in enums.TICKET_DONE_STATUSES
        assert done == (ticket.resolved_at is not None)
        assert ticket.csat is None or (done and 1 <= ticket.csat <= 5)


@FUZZ
@given(data=st.data())
def test_targets(engine, world, data):
    existing = targets.get(engine, world.admin, user_id=world.rep_a.user_id, month="2026-04")
    values = inputs(
        data,
        user_id=st.sampled_from([world.rep_a.user_id, world.rep_b.user_id, world.manager_a.user_id]),
        month=st.sampled_from(["2026-04", "2026-04-15", date(2026, 4, 30)]),
        amount=MONEY,
        expected_version=st.just(existing.version if existing else None),
    )
    actor = data.draw(st.sampled_from([world.manager_a, world.admin, world.rep_a]))
    _attempt(engine, lambda: targets.set_target(engine, actor, **values))
    for target in _all(engine, Target):
        assert target.month.day == 1
        assert Decimal(0) <= target.amount == target.amount.quantize(Decimal("0.01"))


@FUZZ
@given(data=st.data())
def test_user_admin(engine, world, data, monkeypatch):
    monkeypatch.setenv("WARROOM_BCRYPT_ROUNDS", "4")
    values = inputs(
        data,
        username=st.from_regex(r"[a-z][a-z0-9.]{2,12}", fullmatch=True),
        display_name=WORDS,
        role=one_of_values(enums.ROLES),
        password=st.text(st.characters(exclude_categories=("Cs",)), min_size=8, max_size=30),
        team_id=st.sampled_from([None, world.team_a]),
        email=EMAILS,
    )
    actor = data.draw(st.sampled_from([world.admin, world.admin, world.manager_a]))
    _attempt(engine, lambda: users.create_user(engine, actor, **values))
    values = inputs(
        data,
        user_id=st.just(world.rep_b.user_id),
        expected_version=st.just(CURRENT),
        display_name=WORDS,
        role=one_of_values(enums.ROLES),
        team_id=st.sampled_from([None, world.team_b]),
    )
    _attempt(
        engine,
        lambda: users.update_user(
            engine, world.admin, **with_version(values, engine, User, world.rep_b.user_id)
        ),
    )
    for user in _all(engine, User):
        fields = {"username": user.username, "display_name": user.display_name, "role": user.role}
        validate(
            UserCreate, fields | {"password": "placeholder", "email": user.email, "team_id": user.team_id}
        )
        assert user.role == "admin" or user.team_id is not None


@FUZZ
@given(username=ANYTHING, password=ANYTHING)
def test_authenticate_never_raises(engine, world, username, password, monkeypatch):
    monkeypatch.setenv("WARROOM_BCRYPT_ROUNDS", "4")
    result = authenticate(engine, username, password)
    assert isinstance(result, AuthResult) and not result.ok and result.message
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
