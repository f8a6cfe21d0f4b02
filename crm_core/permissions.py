"""Who may read and edit what. Pure rules plus two small look-ups for the read side.

- admin: everything;
- manager: records owned by members of their team (and their own);
- rep: their own records only, plus the unassigned lead pool (read and claim).

A record's owner is `owner_id` (leads, deals, accounts), `user_id` (activities, targets) or, for
tickets, the assignee or the account's owner. Children of an account follow the account.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.db import session_factory
from crm_core.errors import PermissionDenied
from crm_core.models import User

Action = Literal["read", "edit"]
READ: Action = "read"
EDIT: Action = "edit"


def can(actor: Actor, action: Action, record_owner_id: int | None, record_owner_team_id: int | None) -> bool:
    """Whether `actor` may `action` a record owned by `record_owner_id` (a member of
    `record_owner_team_id`). An unowned record is the admin's alone (see `can_lead` for the pool)."""
    if actor.is_admin:
        return True
    if record_owner_id is None:
        return False
    if record_owner_id == actor.user_id:
        return True
    return actor.is_manager and actor.team_id is not None and record_owner_team_id == actor.team_id


def can_lead(actor: Actor, action: Action, owner_id: int | None, owner_team_id: int | None) -> bool:
    """Leads add the pool: everyone may read an unassigned lead; editing it takes a manager or an
    admin (a rep claims it first)."""
    if owner_id is None:
        return action == READ or actor.is_admin or actor.is_manager
    return can(actor, action, owner_id, owner_team_id)


def can_manage_team(actor: Actor, team_id: int | None) -> bool:
    """Manager-only actions (assigning leads, setting targets) on members of `team_id`."""
    return actor.is_admin or (actor.is_manager and actor.team_id is not None and team_id == actor.team_id)


def visible_owner_ids(engine: Engine, actor: Actor) -> set[int] | None:
    """User ids whose records `actor` may read; None means everyone's (admin).

    A manager's set is their team's members, inactive ones included, plus themselves. For leads,
    every role also reads the unassigned pool (`owner_id IS NULL`)."""
    if actor.is_admin:
        return None
    if actor.is_manager and actor.team_id is not None:
        with session_factory(engine)() as session:
            members = set(session.scalars(select(User.id).where(User.team_id == actor.team_id)))
        return members | {actor.user_id}
    return {actor.user_id}


def team_of(session: Session, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return session.scalar(select(User.team_id).where(User.id == user_id))


def denied(entity: str, action: Action) -> PermissionDenied:
    verb = "view" if action == READ else "change"
    return PermissionDenied(f"You don't have access to {verb} this {entity}.")


def require(
    session: Session, actor: Actor, action: Action, entity: str, *owner_ids: int | None, pool: bool = False
) -> None:
    """Raise PermissionDenied unless one of `owner_ids` grants `actor` the `action`.

    `pool=True` applies the lead pool rule to an unowned lead."""
    if actor.is_admin:
        return
    rule = can_lead if pool else can
    for owner_id in owner_ids:
        owner_team_id = team_of(session, owner_id) if actor.is_manager else None
        if rule(actor, action, owner_id, owner_team_id):
            return
    raise denied(entity, action)
