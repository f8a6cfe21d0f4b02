"""Every timestamp is stored and compared as naive UTC: this is the one conversion to it."""

from __future__ import annotations

from datetime import UTC, datetime


def naive_utc(moment: datetime) -> datetime:
    """Aware datetimes converted to naive UTC; naive ones are taken as UTC already."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment
