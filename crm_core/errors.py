"""The errors the write side raises. Forms catch `CrmError` and show `str(error)` (or the per-field
messages of `ValidationFailed`); anything else escaping a service is a bug."""

from __future__ import annotations

from datetime import datetime


class CrmError(Exception):
    """Base of every error a service raises on purpose."""


class ValidationFailed(CrmError):
    """Bad input: one human message per field, keyed by the form field's name."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        self.field_errors = dict(field_errors)
        super().__init__(" ".join(self.field_errors.values()))


class PermissionDenied(CrmError):
    """The actor may not do this. The message never tells whose record it is."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotFound(CrmError):
    def __init__(self, entity: str, id: object) -> None:
        self.entity = entity
        self.id = id
        super().__init__(f"This {entity} does not exist (id {id}).")


class StaleRecord(CrmError):
    """Someone saved the record after the form showed it; nothing was written."""

    def __init__(
        self, entity: str, id: int | None, changed_by_name: str | None, changed_at: datetime | None
    ) -> None:
        self.entity = entity
        self.id = id
        self.changed_by_name = changed_by_name
        self.changed_at = changed_at
        who = changed_by_name or "someone else"
        when = f" at {changed_at:%Y-%m-%d %H:%M} UTC" if changed_at is not None else " since you opened it"
        super().__init__(f"changed by {who}{when} — reload")
