"""The audit trail: one append-only `AuditEntry` per changed field, written in the transaction of the
change it describes (a rolled-back write leaves no audit row, and no change goes unaudited)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crm_core.actor import Actor
from crm_core.db import session_factory
from crm_core.models import AuditEntry, User
from crm_core.validation import is_valid_id

CREATED = "created"


def utcnow() -> datetime:
    """Now as naive UTC, the way every timestamp is stored."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_text(value: Any) -> str | None:
    """A value as the audit log stores it: ISO dates, plain decimals, true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def record_created(
    session: Session, actor: Actor | None, entity: str, entity_id: int, summary: str | None, *, at: datetime
) -> None:
    """One entry with field "created" (new value: a short description of the record)."""
    session.add(
        AuditEntry(
            entity=entity,
            entity_id=entity_id,
            field=CREATED,
            old_value=None,
            new_value=summary,
            actor_id=actor.user_id if actor else None,
            at=at,
        )
    )


def record_changes(
    session: Session,
    actor: Actor | None,
    entity: str,
    entity_id: int,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    at: datetime,
) -> None:
    """One entry per changed field: `changes` maps field → (old, new)."""
    session.add_all(
        AuditEntry(
            entity=entity,
            entity_id=entity_id,
            field=field,
            old_value=as_text(old),
            new_value=as_text(new),
            actor_id=actor.user_id if actor else None,
            at=at,
        )
        for field, (old, new) in changes.items()
    )


def last_change(session: Session, entity: str, entity_id: int) -> tuple[str | None, datetime | None]:
    """Who last changed the record and when, from the audit log: (display name, at).

    Entries are ordered by id, i.e. by write: writers of one row are serialised by its lock."""
    row = session.execute(
        select(User.display_name, AuditEntry.at)
        .select_from(AuditEntry)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    return (row.display_name, row.at) if row else (None, None)


def history(engine: Engine, entity: str, entity_id: int) -> list[dict[str, Any]]:
    """The record's audit entries, newest first (in the order they were written), with the actor's
    display name."""
    if not is_valid_id(entity_id):
        return []
    with session_factory(engine)() as session:
        rows = session.execute(
            select(
                AuditEntry.id,
                AuditEntry.at,
                AuditEntry.field,
                AuditEntry.old_value,
                AuditEntry.new_value,
                AuditEntry.actor_id,
                User.display_name.label("actor_name"),
            )
            .select_from(AuditEntry)
            .outerjoin(User, User.id == AuditEntry.actor_id)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.id.desc())
        ).all()
    return [
        {
            "id": row.id,
            "at": row.at,
            "field": row.field,
            "old": row.old_value,
            "new": row.new_value,
            "actor_id": row.actor_id,
            "actor_name": row.actor_name,
        }
        for row in rows
    ]
