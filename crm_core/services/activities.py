"""Activities: log a call, email, meeting, visit or note on a lead, a deal or an account.

Logging keeps the denormalised `last_activity_at` of the linked deal, account and lead (the
dashboards read those) at the latest `occurred_at`, in the same transaction. Those columns are
derived data, so they move with a conditional UPDATE that neither bumps the record's version (a
form open on the deal stays valid) nor loses a concurrent, later activity.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, update
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import ValidationFailed
from crm_core.models import Account, Activity, Lead, Opportunity
from crm_core.permissions import EDIT, READ, require
from crm_core.services._common import apply, created, fetch, reading, writing
from crm_core.validation import ActivityLog, validate

ENTITY = "activity"
CLOCK_SKEW = timedelta(minutes=5)


def get(engine: Engine, actor: Actor, activity_id: int) -> Activity:
    with reading(engine) as session:
        activity = fetch(session, Activity, ENTITY, activity_id)
        require(session, actor, READ, ENTITY, activity.user_id)
    return activity


def log(
    engine: Engine,
    actor: Actor,
    *,
    type: str,
    subject: str | None = None,
    occurred_at: datetime | None = None,
    lead_id: int | None = None,
    deal_id: int | None = None,
    account_id: int | None = None,
) -> Activity:
    """Log an activity by the actor on exactly one of a lead, a deal (its account is linked too) or
    an account the actor may edit. `occurred_at` defaults to now and cannot be in the future.
    A first activity on a new lead moves it to working."""
    data = validate(
        ActivityLog,
        dict(
            type=type,
            subject=subject,
            occurred_at=occurred_at,
            lead_id=lead_id,
            deal_id=deal_id,
            account_id=account_id,
        ),
    )
    targets = [ref for ref in (data.lead_id, data.deal_id, data.account_id) if ref is not None]
    if len(targets) != 1:
        raise ValidationFailed({"about": "Choose one lead, deal or account this activity is about."})
    at = audit.utcnow()
    when = data.occurred_at or at
    if when > at + CLOCK_SKEW:
        raise ValidationFailed({"occurred_at": "An activity can't be logged in the future."})
    with writing(engine) as session:
        links = _links(session, actor, data)
        activity = Activity(
            type=data.type, user_id=actor.user_id, occurred_at=when, subject=data.subject, **links
        )
        created(session, actor, ENTITY, activity, f"{data.type}: {data.subject or ''}".strip(" :"), at=at)
        _touch(session, Opportunity, links["opportunity_id"], when)
        _touch(session, Account, links["account_id"], when)
        _touch(session, Lead, links["lead_id"], when)
        if data.lead_id is not None:
            lead = session.get(Lead, data.lead_id)
            if lead is not None and lead.status == "new":
                apply(session, actor, "lead", lead, {"status": "working"}, at=at)
        return activity


def _links(session: Session, actor: Actor, data: ActivityLog) -> dict[str, Any]:
    """The ids to store on the activity, once the actor's right to edit the record is checked."""
    if data.deal_id is not None:
        deal = fetch(session, Opportunity, "opportunity", data.deal_id)
        require(session, actor, EDIT, "deal", deal.owner_id)
        return {"opportunity_id": deal.id, "account_id": deal.account_id, "lead_id": None}
    if data.lead_id is not None:
        lead = fetch(session, Lead, "lead", data.lead_id)
        require(session, actor, EDIT, "lead", lead.owner_id, pool=True)
        return {"opportunity_id": None, "account_id": None, "lead_id": lead.id}
    account = fetch(session, Account, "account", data.account_id)
    require(session, actor, EDIT, "account", account.owner_id)
    return {"opportunity_id": None, "account_id": account.id, "lead_id": None}


def _touch(session: Session, model: type[Any], record_id: int | None, when: datetime) -> None:
    """last_activity_at = max(last_activity_at, when), atomically and without a version bump."""
    if record_id is None:
        return
    column = model.last_activity_at
    session.execute(
        update(model)
        .where(model.id == record_id)
        .values(last_activity_at=case((column.is_(None) | (column < when), when), else_=column))
        .execution_options(synchronize_session=False)
    )
