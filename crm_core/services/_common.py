"""Plumbing every service shares: load for write, version check, change + audit, stale mapping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crm_core import audit  # rollups: registers the flush listener that keeps them
from crm_core.actor import Actor
from crm_core.db import session_factory, transaction
from crm_core.errors import NotFound, StaleRecord, ValidationFailed
from crm_core.validation import is_valid_id

T = TypeVar("T")

_GUARDED = "crm_guarded_record"
VERSION_MESSAGE = "Reload this record before saving: the form lost track of its version."


def fetch(session: Session, model: type[T], entity: str, record_id: object) -> T:
    """The row `record_id` of `model`, or NotFound (also for ids that cannot exist)."""
    record = session.get(model, record_id) if is_valid_id(record_id) else None
    if record is None:
        raise NotFound(entity, record_id)
    return record


def check_version(session: Session, entity: str, record: Any, expected_version: object) -> None:
    """Refuse to write unless the row is still at the version the form showed.

    The ORM's version_id_col then makes the UPDATE itself conditional on that version, so a save
    committed by someone else in between surfaces as StaleDataError, mapped in `writing`."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ValidationFailed({"expected_version": VERSION_MESSAGE})
    session.info[_GUARDED] = (entity, record.id)
    if record.version != expected_version:
        changed_by, changed_at = audit.last_change(session, entity, record.id)
        raise StaleRecord(entity, record.id, changed_by, changed_at)


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """One transaction; a concurrent save detected at flush becomes StaleRecord (nothing written)."""
    session: Session | None = None
    try:
        with transaction(engine) as session:
            yield session
    except StaleDataError:
        entity, record_id = session.info.get(_GUARDED, ("record", None)) if session else ("record", None)
        changed_by, changed_at = None, None
        if record_id is not None:
            with session_factory(engine)() as fresh:
                changed_by, changed_at = audit.last_change(fresh, entity, record_id)
        raise StaleRecord(entity, record_id, changed_by, changed_at) from None


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def apply(
    session: Session,
    actor: Actor | None,
    entity: str,
    record: Any,
    values: Mapping[str, Any],
    *,
    at: datetime,
) -> dict[str, tuple[Any, Any]]:
    """Set the fields that differ, audit each one, and return field → (old, new)."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field, new in values.items():
        old = getattr(record, field)
        if old != new:
            setattr(record, field, new)
            changes[field] = (old, new)
    if changes:
        audit.record_changes(session, actor, entity, record.id, changes, at=at)
    return changes


def created(
    session: Session, actor: Actor | None, entity: str, record: T, summary: str | None, *, at: datetime
) -> T:
    """Insert `record` and write its "created" audit entry; returns the record (with its id)."""
    session.add(record)
    session.flush()
    audit.record_created(session, actor, entity, record.id, summary, at=at)
    return record
