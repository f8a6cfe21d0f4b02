from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crm_core.audit import history, utcnow
from crm_core.db import session_factory
from crm_core.errors import PermissionDenied, ValidationFailed
from crm_core.models import Account, Lead, Opportunity
from crm_core.services import activities
from tests.crm_core.factories import build_world, make_account, make_deal, make_lead


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def deal(engine, world):
    account_id = make_account(engine, world.rep_a.user_id)
    return make_deal(engine, world.rep_a.user_id, account_id), account_id


def _get(engine, model, record_id):
    with session_factory(engine)() as session:
        return session.get(model, record_id)


def test_a_call_on_a_deal_links_its_account_and_touches_both(engine, world, deal):
    deal_id, account_id = deal
    when = datetime(2026, 3, 10, 15, 30)
    activity = activities.log(
        engine, world.rep_a, type="Call", subject="Intro", occurred_at=when, deal_id=deal_id
    )
    assert (activity.type, activity.user_id, activity.opportunity_id, activity.account_id) == (
        "call",
        world.rep_a.user_id,
        deal_id,
        account_id,
    )
    opportunity = _get(engine, Opportunity, deal_id)
    assert opportunity.last_activity_at == when
    assert opportunity.version == 1  # derived column: an open form on the deal stays valid
    assert _get(engine, Account, account_id).last_activity_at == when
    assert history(engine, "activity", activity.id)[0]["field"] == "created"


def test_an_older_activity_does_not_move_last_activity_back(engine, world, deal):
    deal_id, _ = deal
    recent, older = datetime(2026, 3, 10), datetime(2026, 3, 1)
    activities.log(engine, world.rep_a, type="email", occurred_at=recent, deal_id=deal_id)
    activities.log(engine, world.rep_a, type="note", occurred_at=older, deal_id=deal_id)
    assert _get(engine, Opportunity, deal_id).last_activity_at == recent


def test_occurred_at_defaults_to_now_and_aware_times_become_utc(engine, world, deal):
    deal_id, _ = deal
    before = utcnow()
    activity = activities.log(engine, world.rep_a, type="call", deal_id=deal_id)
    assert before <= activity.occurred_at <= utcnow()
    cet = timezone(timedelta(hours=1))
    activity = activities.log(
        engine, world.rep_a, type="call", deal_id=deal_id, occurred_at=datetime(2026, 3, 1, 10, 0, tzinfo=cet)
    )
    assert activity.occurred_at == datetime(2026, 3, 1, 9, 0)


def test_an_activity_on_a_new_lead_moves_it_to_working(engine, world):
    lead_id = make_lead(engine, world.rep_a.user_id)
    activities.log(engine, world.rep_a, type="email", lead_id=lead_id, occurred_at=datetime(2026, 3, 5))
    lead = _get(engine, Lead, lead_id)
    assert (lead.status, lead.version, lead.last_activity_at) == ("working", 2, datetime(2026, 3, 5))
    assert history(engine, "lead", lead_id)[0]["new"] == "working"


def test_an_activity_on_an_account(engine, world):
    account_id = make_account(engine, world.rep_a.user_id)
    activity = activities.log(engine, world.rep_a, type="visit", account_id=account_id)
    assert activity.account_id == account_id
    assert _get(engine, Account, account_id).last_activity_at == activity.occurred_at


def test_exactly_one_subject_record_is_required(engine, world, deal):
    deal_id, account_id = deal
    message = {"about": "Choose one lead, deal or account this activity is about."}
    with pytest.raises(ValidationFailed) as err:
        activities.log(engine, world.rep_a, type="call")
    assert err.value.field_errors == message
    with pytest.raises(ValidationFailed) as err:
        activities.log(engine, world.rep_a, type="call", deal_id=deal_id, account_id=account_id)
    assert err.value.field_errors == message


def test_future_and_bad_input_is_refused(engine, world, deal):
    deal_id, _ = deal
    with pytest.raises(ValidationFailed) as err:
        activities.log(
            engine,
            world.rep_a,
            type="call",
            deal_id=deal_id,
            occurred_at=datetime.now(UTC) + timedelta(days=1),
        )
    assert err.value.field_errors == {"occurred_at": "An activity can't be logged in the future."}
    with pytest.raises(ValidationFailed) as err:
        activities.log(engine, world.rep_a, type="fax", deal_id=deal_id)
    assert err.value.field_errors == {"type": "Choose an activity type: call, email, meeting, visit, note."}


def test_access_follows_the_record(engine, world, deal):
    deal_id, _ = deal
    with pytest.raises(PermissionDenied):
        activities.log(engine, world.rep_b, type="call", deal_id=deal_id)
    with pytest.raises(PermissionDenied):
        activities.log(engine, world.rep_a, type="call", lead_id=make_lead(engine, None))
    activity = activities.log(engine, world.manager_a, type="meeting", deal_id=deal_id)
    assert activity.user_id == world.manager_a.user_id
    assert activities.get(engine, world.manager_a, activity.id).id == activity.id
    with pytest.raises(PermissionDenied):
        activities.get(engine, world.rep_a, activity.id)
