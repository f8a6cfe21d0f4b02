"""Monthly sales targets: a manager sets them for the reps of their team, an admin for anyone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from crm_core import audit
from crm_core.actor import Actor
from crm_core.errors import PermissionDenied, StaleRecord, ValidationFailed
from crm_core.models import Target, User
from crm_core.permissions import READ, can_manage_team, require
from crm_core.services._common import apply, check_version, created, reading, writing
from crm_core.validation import TargetKey, TargetSet, validate

ENTITY = "target"


def get(engine: Engine, actor: Actor, *, user_id: int, month: date | str) -> Target | None:
    """The target of `user_id` for `month` (any day of it, or 'YYYY-MM'), or None."""
    data = validate(TargetKey, {"user_id": user_id, "month": month})
    with reading(engine) as session:
        require(session, actor, READ, ENTITY, data.user_id)
        return session.scalars(
            select(Target).where(Target.user_id == data.user_id, Target.month == data.month)
        ).one_or_none()


def set_target(
    engine: Engine,
    actor: Actor,
    *,
    user_id: int,
    month: date | str,
    amount: Decimal | int | str,
    expected_version: int | None = None,
) -> Target:
    """Create or replace the target of a rep for a month.

    `expected_version` is the version of the target the form showed, or None when it showed none:
    a target saved by someone else meanwhile raises StaleRecord instead of being overwritten."""
    data = validate(TargetSet, {"user_id": user_id, "month": month, "amount": amount})
    if not (actor.is_admin or actor.is_manager):
        raise PermissionDenied("Only managers and admins can set targets.")
    at = audit.utcnow()
    try:
        with writing(engine) as session:
            rep = session.get(User, data.user_id)
            if rep is None:
                raise ValidationFailed({"user_id": "Choose a rep."})
            if not can_manage_team(actor, rep.team_id) or (actor.is_manager and rep.id == actor.user_id):
                raise PermissionDenied("Managers set targets for the reps of their own team only.")
            if not actor.is_admin and rep.role != "rep":
                raise ValidationFailed({"user_id": "Choose a rep."})
            target = session.scalars(
                select(Target).where(Target.user_id == rep.id, Target.month == data.month)
            ).one_or_none()
            if target is None:
                if expected_version is not None:
                    raise StaleRecord(ENTITY, None, None, None)
                target = Target(user_id=rep.id, month=data.month, amount=data.amount)
                return created(session, actor, ENTITY, target, f"{data.month:%Y-%m}: {data.amount}", at=at)
            if expected_version is None:
                changed_by, changed_at = audit.last_change(session, ENTITY, target.id)
                raise StaleRecord(ENTITY, target.id, changed_by, changed_at)
            check_version(session, ENTITY, target, expected_version)
            apply(session, actor, ENTITY, target, {"amount": data.amount}, at=at)
            return target
    except IntegrityError:
        # Someone created the same rep-month target between our read and our insert.
        with reading(engine) as session:
            target = session.scalars(
                select(Target).where(Target.user_id == data.user_id, Target.month == data.month)
            ).one_or_none()
            changed_by, changed_at = audit.last_change(session, ENTITY, target.id) if target else (None, None)
        raise StaleRecord(ENTITY, target.id if target else None, changed_by, changed_at) from None
