"""Cell values of a bundle: parsing (strict, with a reason on failure) and canonical formatting.

Parsing and formatting live side by side so that `format_value(parse_value(x))` is the canonical
spelling of `x`, which is what makes load -> export -> load -> export byte-identical.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

from crm_core.utc import naive_utc

MAX_INT = 2**31 - 1
"""The largest value of an SQL INTEGER (ids, references, scores)."""

MONEY_INTEGER_DIGITS = 12
"""Numeric(14, 2) leaves 12 digits before the decimal point."""


class Kind(Enum):
    ID = "id"
    REF = "ref"
    TEXT = "text"
    ENUM = "enum"
    INT = "int"
    MONEY = "money"
    DATE = "date"
    MONTH = "month"
    TIMESTAMP = "timestamp"
    BOOL = "bool"


class CellError(ValueError):
    """A cell's text is not a valid value of its column; the message is the reason."""


_UNSIGNED = re.compile(r"\d+")
_SIGNED = re.compile(r"[+-]?\d+")
_MONEY = re.compile(r"(\d+)(?:\.(\d+))?")
_NEGATIVE_MONEY = re.compile(r"-\d+(?:\.\d+)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?"
)
_TIMESTAMP_EXAMPLE = "2026-03-01T09:30:00, 2026-03-01 09:30:00 or 2026-03-01T09:30:00+02:00"


def shown(raw: str, limit: int = 40) -> str:
    """The raw cell as quoted in a message, shortened when long."""
    text = raw if len(raw) <= limit else raw[: limit - 1] + "…"
    return repr(text)


def parse_id(raw: str) -> int:
    """A positive integer (ids and references)."""
    text = raw.strip()
    if not _UNSIGNED.fullmatch(text) or int(text) == 0:
        raise CellError(f"{shown(raw)} is not a positive integer id")
    value = int(text)
    if value > MAX_INT:
        raise CellError(f"{shown(raw)} is too large for an id (at most {MAX_INT})")
    return value


def parse_int(raw: str, low: int | None = None, high: int | None = None) -> int:
    text = raw.strip()
    if not _SIGNED.fullmatch(text):
        raise CellError(f"{shown(raw)} is not a whole number")
    value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        raise CellError(f"{value} is out of range ({low} to {high})")
    if abs(value) > MAX_INT:
        raise CellError(f"{shown(raw)} is too large")
    return value


def parse_money(raw: str) -> Decimal:
    """A plain decimal >= 0 with at most 2 decimal places: `1200`, `1200.5`, `1200.50`."""
    text = raw.strip()
    match = _MONEY.fullmatch(text)
    if match is None:
        if _NEGATIVE_MONEY.fullmatch(text):
            raise CellError(f"{shown(raw)} is negative; amounts must be >= 0")
        raise CellError(
            f"{shown(raw)} is not a plain decimal amount (digits with an optional '.', "
            "no currency symbols or thousands separators)"
        )
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > 2:
        raise CellError(f"{shown(raw)} has more than 2 decimal places")
    if len(whole.lstrip("0")) > MONEY_INTEGER_DIGITS:
        raise CellError(f"{shown(raw)} is too large (at most {MONEY_INTEGER_DIGITS} digits before the '.')")
    return Decimal(text)


def parse_date(raw: str) -> date:
    text = raw.strip()
    match = _DATE.fullmatch(text)
    if match is None:
        raise CellError(f"{shown(raw)} is not a date in YYYY-MM-DD form")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise CellError(f"{shown(raw)} is not a valid calendar date") from None


def parse_month(raw: str) -> date:
    """`YYYY-MM`, stored as the first day of that month."""
    text = raw.strip()
    match = _MONTH.fullmatch(text)
    if match is None:
        raise CellError(f"{shown(raw)} is not a month in YYYY-MM form")
    year, month = (int(part) for part in match.groups())
    if not 1 <= month <= 12 or year < 1:
        raise CellError(f"{shown(raw)} is not a valid month")
    return date(year, month, 1)


def parse_timestamp(raw: str) -> datetime:
    """ISO 8601 with 'T' or a space; an offset is converted to UTC. Returns naive UTC."""
    text = raw.strip()
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise CellError(f"{shown(raw)} is not an ISO 8601 timestamp (like {_TIMESTAMP_EXAMPLE})")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        tz = _offset(sign, off_h, off_m) if sign else (UTC if zulu else None)
        value = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=tz,
        )
        value = naive_utc(value)
    except (ValueError, OverflowError):
        raise CellError(f"{shown(raw)} is not a valid date and time") from None
    return value


def _offset(sign: str, hours: str, minutes: str | None) -> timezone:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=24) or int(minutes or 0) >= 60:
        raise ValueError("offset out of range")
    return timezone(-delta if sign == "-" else delta)


def parse_bool(raw: str) -> bool:
    text = raw.strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    raise CellError(f"{shown(raw)} is not a boolean (use true or false)")


def parse_enum(raw: str, choices: tuple[str, ...]) -> str:
    text = raw.strip()
    if text not in choices:
        raise CellError(f"{shown(raw)} is not one of: {', '.join(choices)}")
    return text


def parse_text(raw: str, max_length: int | None) -> str:
    if "\x00" in raw:
        raise CellError("contains a NUL character")
    if max_length is not None and len(raw) > max_length:
        raise CellError(f"is {len(raw)} characters long, at most {max_length} allowed")
    return raw


def format_value(kind: Kind, value: Any) -> str:
    """The canonical cell text of a database value (NULL -> empty cell)."""
    if value is None:
        return ""
    if kind is Kind.MONEY:
        return f"{Decimal(value):.2f}"
    if kind is Kind.TIMESTAMP:
        return format_timestamp(value)
    if kind is Kind.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    if kind is Kind.DATE:
        return value.isoformat()
    if kind is Kind.BOOL:
        return "true" if value else "false"
    return str(value)


def format_timestamp(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS`, with `.ffffff` only when there are microseconds."""
    value = naive_utc(value)
    return value.isoformat(sep="T", timespec="microseconds" if value.microsecond else "seconds")
