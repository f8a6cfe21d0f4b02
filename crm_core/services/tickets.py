"""Support tickets: create, assign, respond, change status or priority, record CSAT; SLA deadlines.

A ticket belongs to its assignee and to its account's owner: either one grants access.
`first_response_at` is stamped once, by `respond` or by the first status change away from open;
`resolved_at` is stamped on entering resolved/closed and cleared (with csat) on reopening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm_core import audit, enums
from crm_core.actor import Actor
from crm_core.errors import PermissionDenied, ValidationFailed
from crm_core.models import Account, Ticket, User
from crm_core.permissions import EDIT, READ, Action, require
from crm_core.services._common import apply, check_version, created, fetch, reading, writing
from crm_core.services._refs import require_account, require_active_user
from crm_core.validation import (
    TicketAssign,
    TicketCreate,
    TicketCsat,
    TicketPriority,
    TicketStatus,
    validate,
)

ENTITY = "ticket"


class _TicketLike(Protocol):
    priority: str
    created_at: datetime


@dataclass(frozen=True)
class SlaDue:
    first_response: datetime
    resolution: datetime


def sla_due_at(ticket: _TicketLike) -> SlaDue:
    """When the first response and the resolution are due, counted from created_at by priority."""
    return SlaDue(
        first_response=ticket.created_at + timedelta(hours=enums.FIRST_RESPONSE_SLA_HOURS[ticket.priority]),
        resolution=ticket.created_at + timedelta(hours=enums.RESOLUTION_SLA_HOURS[ticket.priority]),
    )


def get(engine: Engine, actor: Actor, ticket_id: int) -> Ticket:
    with reading(engine) as session:
        ticket = fetch(session, Ticket, ENTITY, ticket_id)
        _require_access(session, actor, READ, ticket)
    return ticket


def create(
    engine: Engine,
    actor: Actor,
    *,
    account_id: int,
    subject: str,
    priority: str = "normal",
    category: str | None = None,
    channel: str | None = None,
    assignee_id: int | None = None,
) -> Ticket:
    """An open ticket on an account the actor may edit."""
    data = validate(
        TicketCreate,
        dict(
            account_id=account_id,
            subject=subject,
            priority=priority,
            category=category,
            channel=channel,
            assignee_id=assignee_id,
        ),
    )
    at = audit.utcnow()
    with writing(engine) as session:
        account = require_account(session, data.account_id)
        require(session, actor, EDIT, "account", account.owner_id)
        if data.assignee_id is not None:
            _require_assignee(session, actor, data.assignee_id)
        ticket = Ticket(
            account_id=account.id,
            subject=data.subject,
            priority=data.priority,
            status="open",
            created_at=at,
            category=data.category,
            channel=data.channel,
            assignee_id=data.assignee_id,
        )
        return created(session, actor, ENTITY, ticket, data.subject, at=at)


def assign(
    engine: Engine, actor: Actor, *, ticket_id: int, expected_version: int, assignee_id: int | None
) -> Ticket:
    """Give the ticket to someone (a rep may only take it themselves); None unassigns it."""
    data = validate(TicketAssign, {"assignee_id": assignee_id})
    at = audit.utcnow()
    with writing(engine) as session:
        ticket = _for_edit(session, actor, ticket_id, expected_version)
        if data.assignee_id is None:
            if actor.is_rep:
                raise PermissionDenied("Only managers and admins can unassign tickets.")
        else:
            _require_assignee(session, actor, data.assignee_id)
        apply(session, actor, ENTITY, ticket, {"assignee_id": data.assignee_id}, at=at)
        return ticket


def respond(engine: Engine, actor: Actor, *, ticket_id: int, expected_version: int) -> Ticket:
    """Record the first response now (a no-op when one is recorded already)."""
    at = audit.utcnow()
    with writing(engine) as session:
        ticket = _for_edit(session, actor, ticket_id, expected_version)
        if ticket.first_response_at is None:
            apply(session, actor, ENTITY, ticket, {"first_response_at": at}, at=at)
        return ticket


def change_status(
    engine: Engine, actor: Actor, *, ticket_id: int, expected_version: int, status: str
) -> Ticket:
    data = validate(TicketStatus, {"status": status})
    at = audit.utcnow()
    with writing(engine) as session:
        ticket = _for_edit(session, actor, ticket_id, expected_version)
        apply(session, actor, ENTITY, ticket, _status_change(ticket, data.status, at), at=at)
        return ticket


def change_priority(
    engine: Engine, actor: Actor, *, ticket_id: int, expected_version: int, priority: str
) -> Ticket:
    data = validate(TicketPriority, {"priority": priority})
    at = audit.utcnow()
    with writing(engine) as session:
        ticket = _for_edit(session, actor, ticket_id, expected_version)
        apply(session, actor, ENTITY, ticket, {"priority": data.priority}, at=at)
        return ticket


def set_csat(engine: Engine, actor: Actor, *, ticket_id: int, expected_version: int, csat: int) -> Ticket:
    """The customer's satisfaction score, 1 to 5, on a resolved or closed ticket."""
    data = validate(TicketCsat, {"csat": csat})
    at = audit.utcnow()
    with writing(engine) as session:
        ticket = _for_edit(session, actor, ticket_id, expected_version)
        if ticket.status not in enums.TICKET_DONE_STATUSES:
            raise ValidationFailed({"csat": "CSAT can only be recorded on a resolved or closed ticket."})
        apply(session, actor, ENTITY, ticket, {"csat": data.csat}, at=at)
        return ticket


# -- helpers -------------------------------------------------------------------------------------


def _status_change(ticket: Ticket, status: str, at: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"status": status}
    if status != ticket.status and ticket.status == "open" and ticket.first_response_at is None:
        values["first_response_at"] = at
    was_done = ticket.status in enums.TICKET_DONE_STATUSES
    is_done = status in enums.TICKET_DONE_STATUSES
    if is_done and not was_done:
        values["resolved_at"] = at
    elif was_done and not is_done:
        values["resolved_at"] = None
        values["csat"] = None
    return values


def _require_access(session: Session, actor: Actor, action: Action, ticket: Ticket) -> None:
    account_owner = session.get(Account, ticket.account_id).owner_id
    require(session, actor, action, ENTITY, ticket.assignee_id, account_owner)


def _for_edit(session: Session, actor: Actor, ticket_id: int, expected_version: int) -> Ticket:
    ticket = fetch(session, Ticket, ENTITY, ticket_id)
    _require_access(session, actor, EDIT, ticket)
    check_version(session, ENTITY, ticket, expected_version)
    return ticket


def _require_assignee(session: Session, actor: Actor, assignee_id: int) -> User:
    """A rep may assign to themselves only; a manager to their team; an admin to anyone active."""
    if actor.is_rep and assignee_id != actor.user_id:
        raise PermissionDenied("Reps can only assign tickets to themselves.")
    where = " of your team" if actor.is_manager else ""
    user = require_active_user(session, assignee_id, "assignee_id", f"Choose an active member{where}.")
    if actor.is_manager and user.team_id != actor.team_id and user.id != actor.user_id:
        raise ValidationFailed({"assignee_id": f"Choose an active member{where}."})
    return user
