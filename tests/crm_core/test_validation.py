"""Each bad input of each field gets its own clear message under the form field's name."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from crm_core.errors import ValidationFailed
from crm_core.validation import (
    UNSET,
    ActivityLog,
    DealCreate,
    DealUpdate,
    LeadCreate,
    LeadDisqualify,
    LeadUpdate,
    TargetSet,
    TeamCreate,
    TicketCreate,
    TicketCsat,
    UserCreate,
    changes_of,
    provided,
    validate,
)

EMAIL = "Enter a valid email address, like name@company.com."
PHONE = "Enter a valid phone number of 7 to 15 digits, like +1 555 010 2030."
AMOUNT_NUMBER = "Enter the amount as a number without symbols or separators, like 12500 or 12500.50."
LEAD = {"company": "Acme"}
DEAL = {"name": "Pilot", "account_id": 1}
ACTIVITY = {"type": "call", "deal_id": 1}
TICKET = {"account_id": 1, "subject": "Down"}
TARGET = {"user_id": 1, "month": "2026-03", "amount": 1}
USER = {"username": "sam", "display_name": "Sam", "role": "rep", "password": "12345678"}

CASES = [
    # model, base input, field, bad value, message
    (LeadCreate, LEAD, "company", None, "Enter the company name."),
    (LeadCreate, LEAD, "company", "   ", "Enter the company name."),
    (LeadCreate, LEAD, "company", 42, "Enter the company name as text."),
    (LeadCreate, LEAD, "company", "x" * 201, "The company name can be at most 200 characters long."),
    (
        LeadCreate,
        LEAD,
        "company",
        "Acme\x00",
        "Remove line breaks and control characters from the company name.",
    ),
    (
        LeadCreate,
        LEAD,
        "company",
        "Ac\nme",
        "Remove line breaks and control characters from the company name.",
    ),
    (LeadCreate, LEAD, "contact_name", "y" * 121, "The contact's name can be at most 120 characters long."),
    (LeadCreate, LEAD, "email", "bill", EMAIL),
    (LeadCreate, LEAD, "email", "bill@initech", EMAIL),
    (LeadCreate, LEAD, "email", "bill@@initech.com", EMAIL),
    (LeadCreate, LEAD, "email", "bill smith@initech.com", EMAIL),
    (LeadCreate, LEAD, "email", "a" * 250 + "@x.com", EMAIL),
    (LeadCreate, LEAD, "email", 12, EMAIL),
    (LeadCreate, LEAD, "phone", "12345", PHONE),
    (LeadCreate, LEAD, "phone", "call me maybe", PHONE),
    (LeadCreate, LEAD, "phone", "+1 (555) 010-2030-4444-5555", PHONE),
    (LeadCreate, LEAD, "phone", 5550102030, PHONE),
    (
        LeadCreate,
        LEAD,
        "source",
        "tv",
        "Choose a source: web, referral, event, outbound, partner, ads, other.",
    ),
    (LeadCreate, LEAD, "region", "r" * 61, "The region can be at most 60 characters long."),
    (LeadCreate, LEAD, "owner_id", 0, "Choose an owner."),
    (LeadCreate, LEAD, "owner_id", "7", "Choose an owner."),
    (LeadUpdate, {}, "company", None, "Enter the company name."),
    (LeadDisqualify, {}, "reason", "", "Enter why this lead is disqualified."),
    (DealCreate, DEAL, "name", "", "Enter the deal name."),
    (DealCreate, DEAL, "account_id", None, "Choose an account."),
    (DealCreate, DEAL, "account_id", True, "Choose an account."),
    (DealCreate, DEAL, "account_id", 2**31, "Choose an account."),
    (DealCreate, DEAL, "amount", "12,500", AMOUNT_NUMBER),
    (DealCreate, DEAL, "amount", "$100", AMOUNT_NUMBER),
    (DealCreate, DEAL, "amount", float("nan"), AMOUNT_NUMBER),
    (DealCreate, DEAL, "amount", "Infinity", AMOUNT_NUMBER),
    (DealCreate, DEAL, "amount", True, AMOUNT_NUMBER),
    (DealCreate, DEAL, "amount", None, AMOUNT_NUMBER),
    (DealCreate, DEAL, "amount", -1, "The amount can't be negative."),
    (DealCreate, DEAL, "amount", "10.005", "Use at most 2 decimal places for the amount."),
    (DealCreate, DEAL, "amount", 10**12, "The amount is too large: at most 999,999,999,999.99."),
    (DealCreate, DEAL, "product_id", -3, "Choose a product."),
    (
        DealCreate,
        DEAL,
        "expected_close_date",
        "31/03/2026",
        "Enter the expected close date as a date between 2000 and 2099, like 2026-03-31.",
    ),
    (
        DealCreate,
        DEAL,
        "expected_close_date",
        date(1999, 12, 31),
        "Enter the expected close date as a date between 2000 and 2099, like 2026-03-31.",
    ),
    (DealUpdate, {}, "amount", "abc", AMOUNT_NUMBER),
    (ActivityLog, ACTIVITY, "type", "fax", "Choose an activity type: call, email, meeting, visit, note."),
    (ActivityLog, ACTIVITY, "subject", "s" * 301, "The subject can be at most 300 characters long."),
    (
        ActivityLog,
        ACTIVITY,
        "occurred_at",
        "yesterday",
        "Enter when it happened as a date and time between 2000 and 2099, like 2026-03-31 14:30.",
    ),
    (ActivityLog, ACTIVITY, "lead_id", 1.5, "Choose a lead."),
    (TicketCreate, TICKET, "subject", None, "Enter the subject."),
    (TicketCreate, TICKET, "priority", "asap", "Choose a priority: low, normal, high, urgent."),
    (TicketCreate, TICKET, "channel", "c" * 31, "The channel can be at most 30 characters long."),
    (TicketCreate, TICKET, "category", "c" * 61, "The category can be at most 60 characters long."),
    (TicketCsat, {}, "csat", 0, "Enter a CSAT score from 1 (very unhappy) to 5 (very happy)."),
    (TicketCsat, {}, "csat", 6, "Enter a CSAT score from 1 (very unhappy) to 5 (very happy)."),
    (TicketCsat, {}, "csat", "5", "Enter a CSAT score from 1 (very unhappy) to 5 (very happy)."),
    (
        TargetSet,
        TARGET,
        "month",
        "2026-13",
        "Enter the month as YYYY-MM between 2000 and 2099, like 2026-03.",
    ),
    (TargetSet, TARGET, "month", None, "Enter the month as YYYY-MM between 2000 and 2099, like 2026-03."),
    (TargetSet, TARGET, "amount", -5, "The target amount can't be negative."),
    (TargetSet, TARGET, "user_id", None, "Choose a rep."),
    (
        UserCreate,
        USER,
        "username",
        "Sam Smith",
        "Use 3 to 60 characters: lowercase letters, digits, dots, dashes or underscores.",
    ),
    (UserCreate, USER, "role", "owner", "Choose a role: admin, manager, rep."),
    (UserCreate, USER, "password", "short", "Choose a password of at least 8 characters."),
    (UserCreate, USER, "password", "pass\x00word", "The password contains characters that cannot be stored."),
    (UserCreate, USER, "team_id", "A", "Choose a team."),
    (TeamCreate, {"name": "East"}, "name", "", "Enter the team name."),
]


@pytest.mark.parametrize(
    ("model", "base", "field", "value", "message"),
    CASES,
    ids=[f"{case[0].__name__}.{case[2]}={case[3]!r:.20}" for case in CASES],
)
def test_each_bad_value_gets_its_field_message(model, base, field, value, message):
    with pytest.raises(ValidationFailed) as err:
        validate(model, base | {field: value})
    assert err.value.field_errors == {field: message}


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ValidationFailed) as err:
        validate(LeadCreate, {"company": "", "email": "x", "phone": "1", "source": "tv"})
    assert set(err.value.field_errors) == {"company", "email", "phone", "source"}
    assert str(err.value).startswith("Enter the company name.")


@pytest.mark.parametrize(
    ("model", "data", "field", "parsed"),
    [
        (LeadCreate, LEAD | {"email": " Bill@Initech.com "}, "email", "Bill@Initech.com"),
        (LeadCreate, LEAD | {"email": ""}, "email", None),
        (LeadCreate, LEAD | {"phone": "+44 (20) 7946-0000"}, "phone", "+44 (20) 7946-0000"),
        (LeadCreate, LEAD | {"source": " Referral "}, "source", "referral"),
        (DealCreate, DEAL | {"amount": "12500.5"}, "amount", Decimal("12500.50")),
        (DealCreate, DEAL | {"amount": 0.1}, "amount", Decimal("0.10")),
        (DealCreate, DEAL | {"amount": "1e3"}, "amount", Decimal("1000.00")),
        (DealCreate, DEAL | {"expected_close_date": "2026-03-31"}, "expected_close_date", date(2026, 3, 31)),
        (TargetSet, TARGET | {"month": date(2026, 7, 19)}, "month", date(2026, 7, 1)),
        (TargetSet, TARGET | {"month": "2026-07"}, "month", date(2026, 7, 1)),
        (UserCreate, USER | {"username": " Sam.Smith "}, "username", "sam.smith"),
        (
            ActivityLog,
            ACTIVITY | {"occurred_at": datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))},
            "occurred_at",
            datetime(2026, 3, 1, 17, 0),
        ),
        (
            ActivityLog,
            ACTIVITY | {"occurred_at": "2026-03-01T09:30:00"},
            "occurred_at",
            datetime(2026, 3, 1, 9, 30),
        ),
    ],
)
def test_good_values_are_normalised(model, data, field, parsed):
    assert getattr(validate(model, data), field) == parsed


def test_update_models_see_only_the_fields_passed():
    values = changes_of(validate(LeadUpdate, provided(company=UNSET, email=None, phone="555 010 2030")))
    assert values == {"email": None, "phone": "555 010 2030"}


def test_field_errors_are_a_plain_copy():
    errors = {"email": EMAIL}
    exc = ValidationFailed(errors)
    errors["x"] = "y"
    assert exc.field_errors == {"email": EMAIL}


def test_negative_zero_is_stored_as_zero():
    assert str(validate(DealCreate, DEAL | {"amount": "-0"}).amount) == "0.00"


def test_a_missing_required_field_is_named():
    with pytest.raises(ValidationFailed) as err:
        validate(DealCreate, {"name": "Pilot"})
    assert err.value.field_errors == {"account_id": "This field is required."}
