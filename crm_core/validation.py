"""Input models of the write side (pydantic v2): one clear, human message per bad field.

Every field type parses the raw value itself (`BeforeValidator`) so that the message is ours, not
pydantic's. `validate(Model, data)` turns a pydantic `ValidationError` into `ValidationFailed`
keyed by field name. Update models are built from the provided fields only (see `provided`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from crm_core import enums
from crm_core.errors import ValidationFailed
from crm_core.passwords import MAX_PASSWORD_BYTES
from crm_core.utc import naive_utc

MAX_ID = 2_147_483_647
MAX_MONEY = Decimal("999999999999.99")
CENT = Decimal("0.01")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099
MIN_PASSWORD_CHARS = 8


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Default of update arguments: the caller did not pass it (None means "clear it")."""


def provided(**values: Any) -> dict[str, Any]:
    """The keyword arguments the caller actually passed (drops UNSET)."""
    return {name: value for name, value in values.items() if value is not UNSET}


def is_valid_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("crm", message)


def _sentence(label: str) -> str:
    return label[:1].upper() + label[1:]


# -- field parsers -------------------------------------------------------------------------------


def text(label: str, *, max_len: int, required: bool) -> BeforeValidator:
    """Single-line text, stripped; blank is None (or "Enter …" when required)."""

    def parse(value: object) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise _fail(f"Enter {label}.")
            return None
        if not isinstance(value, str):
            raise _fail(f"Enter {label} as text.")
        cleaned = value.strip()
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in cleaned):
            raise _fail(f"Remove line breaks and control characters from {label}.")
        if len(cleaned) > max_len:
            raise _fail(f"{_sentence(label)} can be at most {max_len} characters long.")
        return cleaned

    return BeforeValidator(parse)


EMAIL_MESSAGE = "Enter a valid email address, like name@company.com."
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
)


def _parse_email(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _fail(EMAIL_MESSAGE)
    cleaned = value.strip()
    if len(cleaned) > 254 or not _EMAIL.fullmatch(cleaned):
        raise _fail(EMAIL_MESSAGE)
    return cleaned


PHONE_MESSAGE = "Enter a valid phone number of 7 to 15 digits, like +1 555 010 2030."
_PHONE = re.compile(r"\+?[0-9 ()./-]+", re.ASCII)


def _parse_phone(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _fail(PHONE_MESSAGE)
    cleaned = value.strip()
    digits = sum(ch.isdigit() for ch in cleaned)
    if len(cleaned) > 40 or not _PHONE.fullmatch(cleaned) or not 7 <= digits <= 15:
        raise _fail(PHONE_MESSAGE)
    return cleaned


def choice(label: str, values: tuple[str, ...], *, required: bool) -> BeforeValidator:
    """One of `values`, matched case-insensitively and returned in its canonical spelling."""
    message = f"Choose {label}: {', '.join(values)}."
    by_key = {v.lower(): v for v in values}

    def parse(value: object) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise _fail(message)
            return None
        if not isinstance(value, str) or value.strip().lower() not in by_key:
            raise _fail(message)
        return by_key[value.strip().lower()]

    return BeforeValidator(parse)


def money(label: str, *, required: bool = True) -> BeforeValidator:
    """A decimal amount >= 0 with at most 2 decimals; ints, Decimals, finite floats and numeric text."""
    example = "like 12500 or 12500.50"

    def parse(value: object) -> Decimal | None:
        if value is None and not required:
            return None
        amount = _to_decimal(value)
        if amount is None:
            raise _fail(f"Enter {label} as a number without symbols or separators, {example}.")
        if amount < 0:
            raise _fail(f"{_sentence(label)} can't be negative.")
        if amount > MAX_MONEY:
            raise _fail(f"{_sentence(label)} is too large: at most 999,999,999,999.99.")
        if amount != amount.quantize(CENT):
            raise _fail(f"Use at most 2 decimal places for {label}.")
        return amount.quantize(CENT) + 0  # + 0 turns -0.00 into 0.00

    return BeforeValidator(parse)


def _to_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = repr(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        if len(value) > 40:
            return None
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            return None
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


def reference(label: str, *, required: bool) -> BeforeValidator:
    """The id of a row another table holds (existence is checked by the service)."""

    def parse(value: object) -> int | None:
        if value is None and not required:
            return None
        if not is_valid_id(value):
            raise _fail(f"Choose {label}.")
        return value  # type: ignore[return-value]

    return BeforeValidator(parse)


def _in_range(year: int) -> bool:
    return EARLIEST_YEAR <= year <= LATEST_YEAR


def day(label: str, *, required: bool) -> BeforeValidator:
    message = f"Enter {label} as a date between {EARLIEST_YEAR} and {LATEST_YEAR}, like 2026-03-31."

    def parse(value: object) -> date | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise _fail(message)
            return None
        if isinstance(value, datetime):
            value = value.date()
        elif isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise _fail(message) from None
        if not isinstance(value, date) or not _in_range(value.year):
            raise _fail(message)
        return value

    return BeforeValidator(parse)


def moment(label: str, *, required: bool) -> BeforeValidator:
    """A point in time, returned as naive UTC; naive input is taken as UTC, aware input converted."""
    message = (
        f"Enter {label} as a date and time between {EARLIEST_YEAR} and {LATEST_YEAR}, like 2026-03-31 14:30."
    )

    def parse(value: object) -> datetime | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise _fail(message)
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise _fail(message) from None
        if not isinstance(value, datetime):
            raise _fail(message)
        if value.tzinfo is not None:
            try:
                value = naive_utc(value)
            except OverflowError:
                raise _fail(message) from None
        if not _in_range(value.year):
            raise _fail(message)
        return value

    return BeforeValidator(parse)


MONTH_MESSAGE = f"Enter the month as YYYY-MM between {EARLIEST_YEAR} and {LATEST_YEAR}, like 2026-03."


def _parse_month(value: object) -> date:
    """The first day of a calendar month, from a date or 'YYYY-MM' / 'YYYY-MM-DD' text."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        raw = value.strip()
        try:
            value = date.fromisoformat(raw + "-01" if len(raw) == 7 else raw)
        except ValueError:
            raise _fail(MONTH_MESSAGE) from None
    if not isinstance(value, date) or not _in_range(value.year):
        raise _fail(MONTH_MESSAGE)
    return value.replace(day=1)


CSAT_MESSAGE = "Enter a CSAT score from 1 (very unhappy) to 5 (very happy)."


def _parse_csat(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise _fail(CSAT_MESSAGE)
    return value


USERNAME_MESSAGE = "Use 3 to 60 characters: lowercase letters, digits, dots, dashes or underscores."
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,59}", re.ASCII)


def _parse_username(value: object) -> str:
    if not isinstance(value, str) or not _USERNAME.fullmatch(value.strip().lower()):
        raise _fail(USERNAME_MESSAGE)
    return value.strip().lower()


PASSWORD_TOO_LONG = (
    f"Passwords can be at most {MAX_PASSWORD_BYTES} bytes long "
    "(accented letters and emoji take 2 to 4 bytes each)."
)


def _parse_password(value: object) -> str:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD_CHARS:
        raise _fail(f"Choose a password of at least {MIN_PASSWORD_CHARS} characters.")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail("The password contains characters that cannot be stored.") from None
    if b"\x00" in raw:
        raise _fail("The password contains characters that cannot be stored.")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise _fail(PASSWORD_TOO_LONG)
    return value


# -- input models --------------------------------------------------------------------------------


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=Input)


def validate(model: type[M], data: Mapping[str, Any]) -> M:
    """Parse `data` with `model`, or raise ValidationFailed with one message per bad field."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "form"
            message = {"crm": err["msg"], "missing": "This field is required."}.get(
                err["type"], "This value is not valid."
            )
            errors.setdefault(field, message)
        raise ValidationFailed(errors) from None


def changes_of(model: Input) -> dict[str, Any]:
    """The fields the caller passed, parsed, in the model's field order."""
    return {name: getattr(model, name) for name in type(model).model_fields if name in model.model_fields_set}


Company = Annotated[str, text("the company name", max_len=200, required=True)]
PersonName = Annotated[str | None, text("the contact's name", max_len=120, required=False)]
Email = Annotated[str | None, BeforeValidator(_parse_email)]
Phone = Annotated[str | None, BeforeValidator(_parse_phone)]
Source = Annotated[str | None, choice("a source", enums.LEAD_SOURCES, required=False)]
Region = Annotated[str | None, text("the region", max_len=60, required=False)]
Amount = Annotated[Decimal, money("the amount")]
OpenStage = Annotated[str, choice("an open stage", enums.OPEN_STAGES, required=True)]
DealName = Annotated[str, text("the deal name", max_len=200, required=True)]
ProductRef = Annotated[int | None, reference("a product", required=False)]
CloseDate = Annotated[date | None, day("the expected close date", required=False)]


class LeadCreate(Input):
    company: Company
    contact_name: PersonName = None
    email: Email = None
    phone: Phone = None
    source: Source = None
    region: Region = None
    owner_id: Annotated[int | None, reference("an owner", required=False)] = None


class LeadUpdate(Input):
    company: Company = None  # type: ignore[assignment]  # only validated when passed
    contact_name: PersonName = None
    email: Email = None
    phone: Phone = None
    source: Source = None
    region: Region = None


class LeadAssign(Input):
    owner_id: Annotated[int, reference("a rep", required=True)]


class LeadDisqualify(Input):
    reason: Annotated[str, text("why this lead is disqualified", max_len=200, required=True)]


class LeadConvert(Input):
    deal_name: Annotated[str | None, text("the deal name", max_len=200, required=False)] = None
    amount: Amount = Decimal("0.00")
    expected_close_date: CloseDate = None
    product_id: ProductRef = None


class DealCreate(Input):
    name: DealName
    account_id: Annotated[int, reference("an account", required=True)]
    amount: Amount = Decimal("0.00")
    product_id: ProductRef = None
    expected_close_date: CloseDate = None
    owner_id: Annotated[int | None, reference("an owner", required=False)] = None


class DealUpdate(Input):
    name: DealName = None  # type: ignore[assignment]  # only validated when passed
    amount: Amount = None  # type: ignore[assignment]
    product_id: ProductRef = None
    expected_close_date: CloseDate = None


class StageMove(Input):
    to_stage: OpenStage


class DealWon(Input):
    amount: Annotated[Decimal | None, money("the amount", required=False)] = None


class DealLost(Input):
    lost_reason: Annotated[str, text("why this deal was lost", max_len=200, required=True)]


class ActivityLog(Input):
    type: Annotated[str, choice("an activity type", enums.ACTIVITY_TYPES, required=True)]
    subject: Annotated[str | None, text("the subject", max_len=300, required=False)] = None
    occurred_at: Annotated[datetime | None, moment("when it happened", required=False)] = None
    lead_id: Annotated[int | None, reference("a lead", required=False)] = None
    deal_id: Annotated[int | None, reference("a deal", required=False)] = None
    account_id: Annotated[int | None, reference("an account", required=False)] = None


Priority = Annotated[str, choice("a priority", enums.TICKET_PRIORITIES, required=True)]


class TicketCreate(Input):
    account_id: Annotated[int, reference("an account", required=True)]
    subject: Annotated[str, text("the subject", max_len=300, required=True)]
    priority: Priority = "normal"
    category: Annotated[str | None, text("the category", max_len=60, required=False)] = None
    channel: Annotated[str | None, text("the channel", max_len=30, required=False)] = None
    assignee_id: Annotated[int | None, reference("an assignee", required=False)] = None


class TicketAssign(Input):
    assignee_id: Annotated[int | None, reference("an assignee", required=False)] = None


class TicketStatus(Input):
    status: Annotated[str, choice("a status", enums.TICKET_STATUSES, required=True)]


class TicketPriority(Input):
    priority: Priority


class TicketCsat(Input):
    csat: Annotated[int, BeforeValidator(_parse_csat)]


class TargetKey(Input):
    user_id: Annotated[int, reference("a rep", required=True)]
    month: Annotated[date, BeforeValidator(_parse_month)]


class TargetSet(TargetKey):
    amount: Annotated[Decimal, money("the target amount")]


DisplayName = Annotated[str, text("the display name", max_len=120, required=True)]
Role = Annotated[str, choice("a role", enums.ROLES, required=True)]
TeamRef = Annotated[int | None, reference("a team", required=False)]


class UserCreate(Input):
    username: Annotated[str, BeforeValidator(_parse_username)]
    display_name: DisplayName
    role: Role
    password: Annotated[str, BeforeValidator(_parse_password)]
    team_id: TeamRef = None
    email: Email = None


class UserUpdate(Input):
    display_name: DisplayName = None  # type: ignore[assignment]
    email: Email = None
    role: Role = None  # type: ignore[assignment]
    team_id: TeamRef = None


class PasswordReset(Input):
    new_password: Annotated[str, BeforeValidator(_parse_password)]


TeamName = Annotated[str, text("the team name", max_len=120, required=True)]


class TeamCreate(Input):
    name: TeamName
    region: Region = None


class TeamUpdate(Input):
    name: TeamName = None  # type: ignore[assignment]
    region: Region = None
