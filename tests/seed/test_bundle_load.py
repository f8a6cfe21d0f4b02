"""Loading CRM bundles: values, every kind of bad input, all-or-nothing, non-empty databases, CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from crm_core import models
from crm_core.config import PROJECT_ROOT
from seed import bundle_load
from seed.bundle import BundleError, Problem, load_bundle
from tests.seed.bundles import SMALL_BUNDLE, SMALL_BUNDLE_COUNTS, write_bundle

TABLES = {table.__tablename__: table for table in models.BUNDLE_TABLES}
EMPTY = dict.fromkeys(SMALL_BUNDLE_COUNTS, 0)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(m.__table__)).scalar_one()
            for name, m in TABLES.items()
        }


def fetch(engine: Engine, model, ident: int):
    with engine.connect() as conn:
        return conn.execute(select(model.__table__).where(model.__table__.c.id == ident)).one()


def load_error(engine: Engine, directory: Path) -> BundleError:
    with pytest.raises(BundleError) as caught:
        load_bundle(engine, directory)
    return caught.value


def located(error: BundleError) -> set[tuple[str, int | None, str | None]]:
    return {(p.file, p.line, p.column) for p in error.problems}


# --- a good bundle ---------------------------------------------------------------------------


def test_good_bundle_loads_every_row(engine, tmp_path):
    counts = load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))

    assert counts == SMALL_BUNDLE_COUNTS
    assert row_counts(engine) == SMALL_BUNDLE_COUNTS


def test_good_bundle_values_are_stored_exactly(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))

    # 2026-03-01T09:30:00+02:00 is 07:30 UTC, stored naive.
    assert fetch(engine, models.Lead, 2).created_at == datetime(2026, 3, 1, 7, 30)
    # the space separator form, and fractional seconds
    assert fetch(engine, models.Account, 2).created_at == datetime(2025, 7, 15, 10, 0)
    assert fetch(engine, models.Opportunity, 3).created_at == datetime(2026, 1, 20, 8, 15, 30, 250000)
    assert fetch(engine, models.Account, 2).name == "Globex, Inc."
    won = fetch(engine, models.Opportunity, 1)
    assert (won.amount, won.stage, won.closed_at) == (
        Decimal("12000.50"),
        "won",
        datetime(2026, 2, 20, 15, 45),
    )
    assert won.expected_close_date == date(2026, 2, 28)
    assert fetch(engine, models.Opportunity, 3).amount == Decimal("800.50")
    # the leads <-> opportunities cycle
    assert won.lead_id == 1
    assert fetch(engine, models.Lead, 1).opportunity_id == 1
    assert fetch(engine, models.Lead, 2).owner_id is None
    assert fetch(engine, models.Product, 2).list_price is None
    sue = fetch(engine, models.User, 4)
    assert (sue.role, sue.team_id, sue.active, sue.password_hash) == ("rep", 2, False, None)
    assert fetch(engine, models.Ticket, 1).csat == 4
    with engine.connect() as conn:
        targets = conn.execute(
            select(models.Target.user_id, models.Target.month, models.Target.amount).order_by(
                models.Target.id
            )
        ).all()
        history = conn.execute(
            select(
                models.StageHistory.from_stage, models.StageHistory.to_stage, models.StageHistory.changed_by
            )
            .where(models.StageHistory.opportunity_id == 1)
            .order_by(models.StageHistory.changed_at)
        ).all()
    assert targets == [
        (3, date(2026, 1, 1), Decimal("10000.00")),
        (3, date(2026, 2, 1), Decimal("10000.00")),
        (4, date(2026, 1, 1), Decimal("8000.50")),
    ]
    assert history == [("prospecting", "proposal", 3), ("proposal", "won", 3)]


def test_column_order_is_free_and_bom_blank_lines_and_missing_optional_columns_are_fine(engine, tmp_path):
    bundle = write_bundle(
        tmp_path / "b",
        {
            "users.csv": b"\xef\xbb\xbfrole,username,user_id,display_name\nrep,rex,7,Rex\n\n",
            "targets.csv": "amount,month,user_id\n12.5,2026-05,7\n",
        },
    )

    assert load_bundle(engine, bundle) == {**EMPTY, "users": 1, "targets": 1}
    rex = fetch(engine, models.User, 7)
    assert (rex.username, rex.active, rex.team_id, rex.email) == ("rex", True, None, None)
    assert fetch(engine, models.Target, 1).amount == Decimal("12.50")


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("2026-03-01T09:30:00", datetime(2026, 3, 1, 9, 30)),
        ("2026-03-01 09:30:00", datetime(2026, 3, 1, 9, 30)),
        ("2026-03-01T09:30", datetime(2026, 3, 1, 9, 30)),
        ("2026-03-01T09:30:00Z", datetime(2026, 3, 1, 9, 30)),
        ("2026-03-01T09:30:00.5", datetime(2026, 3, 1, 9, 30, 0, 500000)),
        ("2026-03-01T09:30:00+02:00", datetime(2026, 3, 1, 7, 30)),
        ("2026-03-01 09:30:00-05:00", datetime(2026, 3, 1, 14, 30)),
        ("2026-03-01T23:30:00-02:00", datetime(2026, 3, 2, 1, 30)),
        ("2026-03-01T00:15:00+0100", datetime(2026, 2, 28, 23, 15)),
    ],
)
def test_timestamp_forms_are_stored_as_naive_utc(engine, tmp_path, cell, stored):
    users = "user_id,username,display_name,role\n1,ada,Ada,admin\n"
    accounts = f"account_id,name,created_at\n1,Acme,{cell}\n"

    load_bundle(engine, write_bundle(tmp_path / "b", {"users.csv": users, "accounts.csv": accounts}))

    assert fetch(engine, models.Account, 1).created_at == stored


def test_header_only_files_load_no_rows(engine, tmp_path):
    bundle = write_bundle(tmp_path / "b", {"users.csv": "user_id,username,display_name,role\n"})

    assert load_bundle(engine, bundle) == EMPTY


# --- every kind of bad input -----------------------------------------------------------------

USERS_HEADER = "user_id,username,display_name,role,team_id,email,active\n"
OPP_HEADER = "opportunity_id,name,account_id,owner_id,amount,stage,created_at,closed_at,expected_close_date\n"
OTHER_OPPS = (
    "2,B,2,4,10,proposal,2026-02-01T09:00:00,,\n3,C,1,3,1,lost,2026-01-20T08:00:00,2026-03-01T17:00:00,\n"
)


def opportunities(first_row: str) -> str:
    """opportunities.csv with `first_row` on line 2 and valid opportunities 2 and 3 after it."""
    return OPP_HEADER + first_row + "\n" + OTHER_OPPS


TICKET_HEADER = "ticket_id,account_id,subject,priority,status,created_at,resolved_at,csat\n"

BAD_INPUTS = {
    # case: (files replacing SMALL_BUNDLE's, file, line, column, words of the reason)
    "unknown column": (
        {"teams.csv": "team_id,name,region,nickname\n1,North,North,N\n2,South,South,S\n"},
        "teams.csv",
        1,
        "nickname",
        "unknown column",
    ),
    "bad role": (
        {
            "users.csv": USERS_HEADER
            + "1,ada,Ada,admin,,,\n2,mia,Mia,manager,1,,\n3,rex,Rex,boss,1,,\n4,sue,Sue,rep,2,,\n"
        },
        "users.csv",
        4,
        "role",
        "'boss' is not one of: admin, manager, rep",
    ),
    "bad stage": (
        {"opportunities.csv": opportunities("1,A,1,3,10,closing,2026-01-10T12:00:00,,")},
        "opportunities.csv",
        2,
        "stage",
        "'closing' is not one of",
    ),
    "bad tier": (
        {"accounts.csv": "account_id,name,tier\n1,Acme,A\n2,Globex,D\n"},
        "accounts.csv",
        3,
        "tier",
        "'D' is not one of: A, B, C",
    ),
    "bad lead source": (
        {
            "leads.csv": "lead_id,company,status,created_at,source\n1,A,new,2026-01-01T00:00:00,tv\n"
            "2,B,new,2026-01-01T00:00:00,web\n3,C,new,2026-01-01T00:00:00,\n"
        },
        "leads.csv",
        2,
        "source",
        "'tv' is not one of",
    ),
    "bad lead status": (
        {
            "leads.csv": "lead_id,company,status,created_at\n1,A,won,2026-01-01T00:00:00\n"
            "2,B,new,2026-01-01T00:00:00\n3,C,new,2026-01-01T00:00:00\n"
        },
        "leads.csv",
        2,
        "status",
        "'won' is not one of",
    ),
    "bad activity type": (
        {
            "activities.csv": "activity_id,type,user_id,occurred_at\n1,call,3,2026-01-06T09:00:00\n"
            "2,lunch,3,2026-01-06T09:00:00\n"
        },
        "activities.csv",
        3,
        "type",
        "'lunch' is not one of",
    ),
    "bad priority": (
        {"tickets.csv": TICKET_HEADER + "1,1,S,critical,open,2026-03-02T08:00:00,,\n"},
        "tickets.csv",
        2,
        "priority",
        "'critical' is not one of",
    ),
    "bad ticket status": (
        {"tickets.csv": TICKET_HEADER + "1,1,S,low,done,2026-03-02T08:00:00,,\n"},
        "tickets.csv",
        2,
        "status",
        "'done' is not one of",
    ),
    "bad date": (
        {"opportunities.csv": opportunities("1,A,1,3,10,proposal,2026-01-10T12:00:00,,2026-02-30")},
        "opportunities.csv",
        2,
        "expected_close_date",
        "'2026-02-30' is not a valid calendar date",
    ),
    "date in the wrong form": (
        {"opportunities.csv": opportunities("1,A,1,3,10,proposal,2026-01-10T12:00:00,,28/02/2026")},
        "opportunities.csv",
        2,
        "expected_close_date",
        "is not a date in YYYY-MM-DD form",
    ),
    "bad timestamp": (
        {
            "payments.csv": "payment_id,opportunity_id,amount,paid_at\n1,1,5.00,2026-03-05T10:00:00\n"
            "2,1,5.00,05.03.2026 10:00\n"
        },
        "payments.csv",
        3,
        "paid_at",
        "'05.03.2026 10:00' is not an ISO 8601 timestamp",
    ),
    "date where a timestamp belongs": (
        {"nps_responses.csv": "account_id,score,responded_at\n1,9,2026-03-10\n"},
        "nps_responses.csv",
        2,
        "responded_at",
        "is not an ISO 8601 timestamp",
    ),
    "impossible timestamp": (
        {"nps_responses.csv": "account_id,score,responded_at\n1,9,2026-03-10T25:00:00\n"},
        "nps_responses.csv",
        2,
        "responded_at",
        "is not a valid date and time",
    ),
    "bad month": (
        {"targets.csv": "user_id,month,amount\n3,2026-13,10\n"},
        "targets.csv",
        2,
        "month",
        "'2026-13' is not a valid month",
    ),
    "month given as a date": (
        {"targets.csv": "user_id,month,amount\n3,2026-01-01,10\n"},
        "targets.csv",
        2,
        "month",
        "is not a month in YYYY-MM form",
    ),
    "dangling reference": (
        {"opportunities.csv": opportunities("1,A,1,99,10,proposal,2026-01-10T12:00:00,,")},
        "opportunities.csv",
        2,
        "owner_id",
        "refers to user_id 99, which is neither in users.csv nor in the database",
    ),
    "dangling team": (
        {"teams.csv": "team_id,name\n1,North\n"},
        "users.csv",
        5,
        "team_id",
        "refers to team_id 2",
    ),
    "closed_at missing on a won deal": (
        {"opportunities.csv": opportunities("1,A,1,3,10,won,2026-01-10T12:00:00,,")},
        "opportunities.csv",
        2,
        "closed_at",
        "is required when stage is won",
    ),
    "closed_at on an open deal": (
        {"opportunities.csv": opportunities("1,A,1,3,10,proposal,2026-01-10T12:00:00,2026-01-11T00:00:00,")},
        "opportunities.csv",
        2,
        "closed_at",
        "must be empty while stage is proposal",
    ),
    "resolved_at missing on a closed ticket": (
        {"tickets.csv": TICKET_HEADER + "1,1,S,low,closed,2026-03-02T08:00:00,,\n"},
        "tickets.csv",
        2,
        "resolved_at",
        "is required when status is closed",
    ),
    "negative amount": (
        {"payments.csv": "payment_id,opportunity_id,amount,paid_at\n1,1,-5.00,2026-03-05T10:00:00\n"},
        "payments.csv",
        2,
        "amount",
        "'-5.00' is negative",
    ),
    "currency symbol": (
        {"payments.csv": "payment_id,opportunity_id,amount,paid_at\n1,1,$5.00,2026-03-05T10:00:00\n"},
        "payments.csv",
        2,
        "amount",
        "no currency symbols or thousands separators",
    ),
    "thousands separator": (
        {"targets.csv": 'user_id,month,amount\n3,2026-01,"10,000"\n'},
        "targets.csv",
        2,
        "amount",
        "no currency symbols or thousands separators",
    ),
    "three decimal places": (
        {"products.csv": "product_id,name,product_line,list_price\n1,W,Widgets,9.999\n2,S,Services,\n"},
        "products.csv",
        2,
        "list_price",
        "more than 2 decimal places",
    ),
    "amount too large": (
        {"payments.csv": "payment_id,opportunity_id,amount,paid_at\n1,1,1000000000000,2026-03-05T10:00:00\n"},
        "payments.csv",
        2,
        "amount",
        "is too large (at most 12 digits before the '.')",
    ),
    "bad integer id": (
        {"teams.csv": "team_id,name\n1,North\n2,South\nx3,East\n"},
        "teams.csv",
        4,
        "team_id",
        "'x3' is not a positive integer id",
    ),
    "zero id": (
        {"teams.csv": "team_id,name\n1,North\n2,South\n0,East\n"},
        "teams.csv",
        4,
        "team_id",
        "'0' is not a positive integer id",
    ),
    "duplicate id": (
        {"accounts.csv": "account_id,name\n1,Acme\n2,Globex\n1,Acme again\n"},
        "accounts.csv",
        4,
        "account_id",
        "duplicate account_id 1 (first on line 2)",
    ),
    "duplicate username": (
        {
            "users.csv": USERS_HEADER
            + "1,ada,Ada,admin,,,\n2,mia,Mia,manager,1,,\n3,rex,Rex,rep,1,,\n4,rex,Sue,rep,2,,\n"
        },
        "users.csv",
        5,
        "username",
        "duplicate username rex (first on line 4)",
    ),
    "username differing only by case": (
        {
            "users.csv": USERS_HEADER
            + "1,ada,Ada,admin,,,\n2,mia,Mia,manager,1,,\n3,rex,Rex,rep,1,,\n4,Rex,Sue,rep,2,,\n"
        },
        "users.csv",
        5,
        "username",
        "duplicate username Rex as rex, ignoring case (first on line 4)",
    ),
    "duplicate target": (
        {"targets.csv": "user_id,month,amount\n3,2026-01,10\n4,2026-01,10\n3,2026-01,20\n"},
        "targets.csv",
        4,
        "month",
        "duplicate user_id 3, month 2026-01 (first on line 2)",
    ),
    "bad boolean": (
        {
            "users.csv": USERS_HEADER
            + "1,ada,Ada,admin,,,yes\n2,mia,Mia,manager,1,,\n3,rex,Rex,rep,1,,\n4,sue,Sue,rep,2,,\n"
        },
        "users.csv",
        2,
        "active",
        "'yes' is not a boolean",
    ),
    "score out of range": (
        {"nps_responses.csv": "account_id,score,responded_at\n1,11,2026-03-10T12:00:00\n"},
        "nps_responses.csv",
        2,
        "score",
        "11 is out of range (0 to 10)",
    ),
    "csat out of range": (
        {"tickets.csv": TICKET_HEADER + "1,1,S,low,resolved,2026-03-02T08:00:00,2026-03-02T09:00:00,0\n"},
        "tickets.csv",
        2,
        "csat",
        "0 is out of range (1 to 5)",
    ),
    "not a number": (
        {"nps_responses.csv": "account_id,score,responded_at\n1,nine,2026-03-10T12:00:00\n"},
        "nps_responses.csv",
        2,
        "score",
        "'nine' is not a whole number",
    ),
    "bad UTF-8": (
        {"teams.csv": b"team_id,name,region\n1,North,North\n2,S\xfcd,South\n"},
        "teams.csv",
        3,
        "name",
        "is not valid UTF-8",
    ),
    "missing required column": (
        {"products.csv": "product_id,name,list_price\n1,W,1.00\n2,S,\n"},
        "products.csv",
        1,
        "product_line",
        "required column is missing",
    ),
    "missing required value": (
        {
            "users.csv": USERS_HEADER
            + "1,ada,,admin,,,\n2,mia,Mia,manager,1,,\n3,rex,Rex,rep,1,,\n4,sue,Sue,rep,2,,\n"
        },
        "users.csv",
        2,
        "display_name",
        "required value is missing",
    ),
    "text too long": (
        {"teams.csv": "team_id,name\n1," + "N" * 121 + "\n2,South\n"},
        "teams.csv",
        2,
        "name",
        "is 121 characters long, at most 120 allowed",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_reported_with_file_line_and_column(engine, tmp_path, case):
    files, file, line, column, reason = BAD_INPUTS[case]

    error = load_error(engine, write_bundle(tmp_path / "b", {**SMALL_BUNDLE, **files}))

    assert located(error) == {(file, line, column)}, error.report()
    assert reason in error.problems[0].reason
    report = error.report()
    assert f"{file}:{line}: column '{column}': " in report
    assert report.endswith("1 problem found.")
    assert row_counts(engine) == EMPTY


def test_missing_users_file_is_reported(engine, tmp_path):
    error = load_error(engine, write_bundle(tmp_path / "b", {**SMALL_BUNDLE, "users.csv": None}))

    assert Problem("users.csv", None, None, "required file is missing") in error.problems
    assert "  users.csv: required file is missing" in error.report().splitlines()


def test_unknown_file_is_reported(engine, tmp_path):
    bundle = write_bundle(tmp_path / "b", {**SMALL_BUNDLE, "oportunities.csv": "opportunity_id\n"})

    error = load_error(engine, bundle)

    assert located(error) == {("oportunities.csv", None, None)}
    assert "unknown bundle file" in error.problems[0].reason


def test_a_row_with_the_wrong_number_of_fields_is_reported_once(engine, tmp_path):
    bundle = write_bundle(
        tmp_path / "b", {**SMALL_BUNDLE, "teams.csv": "team_id,name,region\n1,North\n2,South,S\n"}
    )

    error = load_error(engine, bundle)

    assert located(error) == {("teams.csv", 2, None)}
    assert error.problems[0].reason == "has 2 fields but the header has 3"


def test_line_numbers_are_physical_lines_across_quoted_line_breaks(engine, tmp_path):
    """A problem names the first physical line of its record, counting line breaks inside quotes."""
    teams = 'team_id,name,region\n1,"North\nand more\nlines",N\nx2,"South\nside",S\n3,East,\n3,Again,\n'

    error = load_error(engine, write_bundle(tmp_path / "b", {**SMALL_BUNDLE, "teams.csv": teams}))

    # users.csv:5 (sue) refers to team 2, whose id on teams.csv:5 is unreadable
    assert located(error) == {
        ("teams.csv", 5, "team_id"),
        ("teams.csv", 8, "team_id"),
        ("users.csv", 5, "team_id"),
    }
    assert error.problems[1].reason == "duplicate team_id 3 (first on line 7)"


def test_malformed_csv_is_reported_and_the_rest_still_checked(engine, tmp_path):
    teams = 'team_id,name,region\n1,"North"x,N\n2,South,S\n0,East,E\n'

    error = load_error(engine, write_bundle(tmp_path / "b", {**SMALL_BUNDLE, "teams.csv": teams}))

    # 1 is unreadable, so mia and rex (team 1) refer to a team that is not there
    assert located(error) == {
        ("teams.csv", 2, None),
        ("teams.csv", 4, "team_id"),
        ("users.csv", 3, "team_id"),
        ("users.csv", 4, "team_id"),
    }
    assert "is not well-formed CSV" in error.problems[0].reason


def test_an_unclosed_quote_does_not_silently_swallow_rows(engine, tmp_path):
    teams = 'team_id,name,region\n1,North,N\n2,South,"S\n3,East,E\n'

    error = load_error(engine, write_bundle(tmp_path / "b", {**SMALL_BUNDLE, "teams.csv": teams}))

    assert located(error) == {("teams.csv", 3, None), ("users.csv", 5, "team_id")}
    assert "never closed" in error.problems[0].reason


def test_an_empty_file_needs_a_header(engine, tmp_path):
    error = load_error(engine, write_bundle(tmp_path / "b", {**SMALL_BUNDLE, "products.csv": b""}))

    assert error.problems[0] == Problem("products.csv", 1, None, "is empty; a header row is required")
    # the products the opportunities refer to are gone with it
    assert located(error) == {
        ("products.csv", 1, None),
        ("opportunities.csv", 2, "product_id"),
        ("opportunities.csv", 3, "product_id"),
    }


def test_bad_utf8_in_the_header_names_the_line(engine, tmp_path):
    bundle = write_bundle(
        tmp_path / "b", {**SMALL_BUNDLE, "teams.csv": b"team_id,name,re\xffgion\n1,N,N\n2,S,S\n"}
    )

    error = load_error(engine, bundle)

    assert ("teams.csv", 1, None) in located(error)
    assert Problem("teams.csv", 1, None, "is not valid UTF-8") in error.problems


def test_not_a_directory(engine, tmp_path):
    error = load_error(engine, tmp_path / "nowhere")

    assert error.problems == [Problem(str(tmp_path / "nowhere"), None, None, "is not a directory")]


def test_every_bad_row_in_every_file_is_reported(engine, tmp_path):
    files = {
        **SMALL_BUNDLE,
        "users.csv": USERS_HEADER
        + "1,ada,Ada,admin,,,\n2,mia,Mia,chief,1,,\n3,rex,Rex,rep,9,,\n4,sue,,rep,2,,\n",
        "opportunities.csv": OPP_HEADER
        + "1,A,1,3,-1,proposal,2026-01-10T12:00:00,,\n"
        + "2,B,2,4,10,won,2026-01-10T12:00:00,,\n"
        + "3,C,1,3,10,lost,2026-01-10,2026-01-11T00:00:00,\n",
        "nps_responses.csv": "account_id,score,responded_at,comment\n"
        + "1,9,2026-03-10T12:00:00,ok\n"
        + "7,12,2026-03-10T12:00:00,\n",
    }

    error = load_error(engine, write_bundle(tmp_path / "b", files))

    assert located(error) == {
        ("users.csv", 3, "role"),
        ("users.csv", 4, "team_id"),
        ("users.csv", 5, "display_name"),
        ("opportunities.csv", 2, "amount"),
        ("opportunities.csv", 3, "closed_at"),
        ("opportunities.csv", 4, "created_at"),
        ("nps_responses.csv", 1, "comment"),
        ("nps_responses.csv", 3, "account_id"),
        ("nps_responses.csv", 3, "score"),
    }
    report = error.report().splitlines()
    assert report[-1] == "9 problems found."
    assert len(report) == 1 + 9 + 1
    # file order of the spec, then line order
    assert [line.split(":")[0].strip() for line in report[1:-1]] == ["users.csv"] * 3 + [
        "opportunities.csv"
    ] * 3 + ["nps_responses.csv"] * 3
    assert row_counts(engine) == EMPTY


# --- all-or-nothing --------------------------------------------------------------------------


def test_failed_load_into_a_non_empty_database_changes_nothing(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "first", SMALL_BUNDLE))
    before = row_counts(engine)
    second = {
        "teams.csv": "team_id,name\n3,East\n",
        "users.csv": USERS_HEADER + "5,eve,Eve,rep,3,,\n",
        "accounts.csv": "account_id,name,owner_id\n3,Hooli,5\n",
        "nps_responses.csv": "account_id,score,responded_at\n3,7,2026-04-01T00:00:00\n3,7,yesterday\n",
    }

    error = load_error(engine, write_bundle(tmp_path / "second", second))

    assert located(error) == {("nps_responses.csv", 3, "responded_at")}
    assert row_counts(engine) == before
    assert fetch(engine, models.Team, 2).name == "South"


@pytest.mark.parametrize(
    "files",
    [
        # an immediate foreign key, in the last file inserted
        {
            "nps_responses.csv": "account_id,score,responded_at\n"
            + "1,9,2026-03-10T12:00:00\n"
            + "42,9,2026-03-10T12:00:00\n"
        },
        # a deferred foreign key (leads.opportunity_id), only checked at the end of the transaction
        {
            "leads.csv": "lead_id,company,status,created_at,opportunity_id\n"
            + "1,A,converted,2026-01-05T09:00:00,42\n"
        },
    ],
    ids=["immediate-fk", "deferred-fk"],
)
def test_a_database_rejection_becomes_a_bundle_error_and_rolls_back(engine, tmp_path, monkeypatch, files):
    """Disable the loader's own reference checks so the database itself must refuse the rows."""
    load_bundle(engine, write_bundle(tmp_path / "first", {"users.csv": USERS_HEADER + "9,zed,Zed,rep,,,\n"}))
    before = row_counts(engine)
    monkeypatch.setattr(bundle_load, "_check_references", lambda *_args: None)

    error = load_error(engine, write_bundle(tmp_path / "b", {**SMALL_BUNDLE, **files}))

    assert len(error.problems) == 1
    assert "the database rejected the rows" in error.problems[0].reason
    assert row_counts(engine) == before


# --- non-empty databases ---------------------------------------------------------------------


def test_references_to_rows_already_in_the_database_are_accepted(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "first", SMALL_BUNDLE))
    second = {
        "users.csv": USERS_HEADER + "5,eve,Eve,rep,1,,\n",
        "opportunities.csv": OPP_HEADER + "10,Acme renewal,1,5,99.99,proposal,2026-04-01T00:00:00,,\n",
        "payments.csv": "payment_id,opportunity_id,amount,paid_at\n3,1,1.00,2026-04-02T00:00:00\n",
        "targets.csv": "user_id,month,amount\n3,2026-03,500\n5,2026-03,400\n",
        "stage_history.csv": "opportunity_id,to_stage,changed_at,changed_by\n"
        + "2,negotiation,2026-04-01T00:00:00,4\n",
    }

    counts = load_bundle(engine, write_bundle(tmp_path / "second", second))

    assert counts == {
        **EMPTY,
        "users": 1,
        "opportunities": 1,
        "payments": 1,
        "targets": 2,
        "stage_history": 1,
    }
    expected = dict(SMALL_BUNDLE_COUNTS)
    for table, n in counts.items():
        expected[table] += n
    assert row_counts(engine) == expected
    renewal = fetch(engine, models.Opportunity, 10)
    assert (renewal.account_id, renewal.owner_id, renewal.amount) == (1, 5, Decimal("99.99"))


def test_references_missing_from_both_bundle_and_database_are_rejected(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "first", SMALL_BUNDLE))
    second = {
        "users.csv": USERS_HEADER + "5,eve,Eve,rep,1,,\n",
        "opportunities.csv": OPP_HEADER + "10,X,8,5,1,proposal,2026-04-01T00:00:00,,\n",
    }

    error = load_error(engine, write_bundle(tmp_path / "second", second))

    assert located(error) == {("opportunities.csv", 2, "account_id")}
    assert "account_id 8, which is neither in accounts.csv nor in the database" in error.report()


def test_rows_colliding_with_the_database_are_rejected(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "first", SMALL_BUNDLE))
    before = row_counts(engine)
    second = {
        "users.csv": USERS_HEADER + "2,eve,Eve,rep,,,\n6,rex,Rex Two,rep,,,\n7,REX,Rex Three,rep,,,\n",
        "targets.csv": "user_id,month,amount\n4,2026-01,1\n4,2026-02,1\n",
    }

    error = load_error(engine, write_bundle(tmp_path / "second", second))

    assert located(error) == {
        ("users.csv", 2, "user_id"),
        ("users.csv", 3, "username"),
        ("users.csv", 4, "username"),
        ("targets.csv", 2, "month"),
    }
    assert "user_id 2 already exists in the database" in error.report()
    assert "username rex already exists in the database" in error.report()
    assert "username REX already exists in the database (as rex, ignoring case)" in error.report()
    assert "the database already has a target for user_id 4 in 2026-01" in error.report()
    assert row_counts(engine) == before


def test_id_sequences_continue_after_the_loaded_ids(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))

    with engine.begin() as conn:
        team_id = conn.execute(insert(models.Team.__table__).values(name="East")).inserted_primary_key[0]
        payment_id = conn.execute(
            insert(models.Payment.__table__).values(opportunity_id=1, amount=1, paid_at=datetime(2026, 5, 1))
        ).inserted_primary_key[0]
        target_id = conn.execute(
            insert(models.Target.__table__).values(user_id=4, month=date(2026, 2, 1), amount=1)
        ).inserted_primary_key[0]

    assert (team_id, payment_id, target_id) == (3, 3, 4)


# --- command line ----------------------------------------------------------------------------


def run_cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seed", "--db", db_url, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_load_failure_exits_non_zero_and_prints_the_report(engine, db_url, tmp_path):
    bundle = write_bundle(
        tmp_path / "b",
        {**SMALL_BUNDLE, "payments.csv": "payment_id,opportunity_id,amount,paid_at\n1,1,-5,2026-03-05\n"},
    )

    result = run_cli(db_url, "load", str(bundle))

    assert result.returncode == 1
    assert "payments.csv:2: column 'amount': '-5' is negative" in result.stderr
    assert "payments.csv:2: column 'paid_at': '2026-03-05' is not an ISO 8601 timestamp" in result.stderr
    assert "2 problems found." in result.stderr
    assert row_counts(engine) == EMPTY


def test_cli_load_success(engine, db_url, tmp_path):
    result = run_cli(db_url, "load", str(write_bundle(tmp_path / "b", SMALL_BUNDLE)))

    assert result.returncode == 0, result.stderr
    assert "bundle loaded" in result.stdout
    assert row_counts(engine) == SMALL_BUNDLE_COUNTS


def test_loading_activities_sets_last_activity_at_of_deals_accounts_and_leads(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))
    opp, acc, lead = models.Opportunity.__table__, models.Account.__table__, models.Lead.__table__
    with engine.connect() as conn:
        deals = dict(conn.execute(select(opp.c.id, opp.c.last_activity_at)).all())
        accounts = dict(conn.execute(select(acc.c.id, acc.c.last_activity_at)).all())
        leads = dict(conn.execute(select(lead.c.id, lead.c.last_activity_at)).all())
    # activities: #1 on lead 1 at 01-06 09:00, #2 on account 1 / deal 1 at 01-15 14:00, #3 on account 2 / deal 2
    assert deals[1] == datetime(2026, 1, 15, 14, 0)
    assert deals[2] == datetime(2026, 2, 2, 8, 0)
    assert accounts[1] == datetime(2026, 1, 15, 14, 0)
    assert accounts[2] == datetime(2026, 2, 2, 8, 0)
    assert leads[1] == datetime(2026, 1, 6, 9, 0)
    assert all(v is None for k, v in deals.items() if k not in (1, 2))
