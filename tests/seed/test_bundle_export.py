"""Exporting bundles: every file, canonical values, deterministic order, byte-identical round trips."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update

from crm_core import models
from crm_core.config import PROJECT_ROOT
from crm_core.db import make_engine
from crm_core.schema import upgrade_to_head
from seed.bundle import BUNDLE_FILES, export_bundle, load_bundle
from tests.seed.bundles import SMALL_BUNDLE, SMALL_BUNDLE_COUNTS, write_bundle

HEADERS = {
    "teams.csv": "team_id,name,region",
    "users.csv": "user_id,username,display_name,role,team_id,email,active",
    "products.csv": "product_id,name,product_line,list_price",
    "accounts.csv": "account_id,name,owner_id,industry,region,tier,created_at,churned_at",
    "leads.csv": "lead_id,company,status,created_at,contact_name,email,phone,source,region,owner_id,"
    "converted_at,opportunity_id,disqualify_reason",
    "opportunities.csv": "opportunity_id,name,account_id,owner_id,amount,stage,created_at,product_id,"
    "expected_close_date,closed_at,lost_reason,lead_id",
    "stage_history.csv": "opportunity_id,to_stage,changed_at,from_stage,changed_by",
    "payments.csv": "payment_id,opportunity_id,amount,paid_at",
    "activities.csv": "activity_id,type,user_id,occurred_at,account_id,opportunity_id,lead_id,subject",
    "tickets.csv": "ticket_id,account_id,subject,priority,status,created_at,category,channel,assignee_id,"
    "first_response_at,resolved_at,csat",
    "targets.csv": "user_id,month,amount",
    "nps_responses.csv": "account_id,score,responded_at",
}


def csv_text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def read(directory: Path, name: str) -> str:
    return (directory / name).read_bytes().decode("utf-8")


@pytest.fixture
def fresh_engine(empty_db_url: str) -> Iterator[Engine]:
    """A second, empty database at head (the round trip loads into a fresh database)."""
    engine = make_engine(empty_db_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def test_empty_database_exports_every_file_with_only_its_header(engine, tmp_path):
    counts = export_bundle(engine, tmp_path / "out")

    assert counts == dict.fromkeys(SMALL_BUNDLE_COUNTS, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(HEADERS)
    assert set(BUNDLE_FILES) == set(HEADERS)
    for name, header in HEADERS.items():
        assert read(tmp_path / "out", name) == header + "\n"


def test_export_writes_canonical_values_and_only_the_bundle_columns(engine, tmp_path):
    with engine.begin() as conn:
        conn.execute(insert(models.Team.__table__), [{"id": 1, "name": 'North "N", East', "region": None}])
        conn.execute(
            insert(models.User.__table__),
            [
                {"id": 2, "username": "rex", "display_name": "Rex\nRep", "role": "rep", "team_id": 1,
                 "email": None, "active": False, "password_hash": "$argon2id$secret", "version": 7},
            ],
        )  # fmt: skip
        conn.execute(insert(models.Account.__table__), [{"id": 5, "name": "Acme", "created_at": None}])
        conn.execute(
            insert(models.Opportunity.__table__),
            [
                {"id": 9, "name": "Deal", "account_id": 5, "owner_id": 2, "amount": Decimal("5"),
                 "stage": "won", "created_at": datetime(2026, 1, 2, 3, 4, 5, 600),
                 "expected_close_date": date(2026, 2, 1), "closed_at": datetime(2026, 2, 3, 4, 5, 6),
                 "last_activity_at": datetime(2026, 2, 3)},
            ],
        )  # fmt: skip
        conn.execute(
            insert(models.Target.__table__), [{"user_id": 2, "month": date(2026, 3, 1), "amount": 7}]
        )

    counts = export_bundle(engine, tmp_path / "out")

    assert counts["users"] == counts["teams"] == counts["opportunities"] == counts["targets"] == 1
    out = tmp_path / "out"
    assert read(out, "teams.csv") == HEADERS["teams.csv"] + '\n1,"North ""N"", East",\n'
    assert read(out, "users.csv") == HEADERS["users.csv"] + '\n2,rex,"Rex\nRep",rep,1,,false\n'
    assert read(out, "accounts.csv") == HEADERS["accounts.csv"] + "\n5,Acme,,,,,,\n"
    assert read(out, "opportunities.csv") == (
        HEADERS["opportunities.csv"]
        + "\n9,Deal,5,2,5.00,won,2026-01-02T03:04:05.000600,,2026-02-01,2026-02-03T04:05:06,,\n"
    )
    assert read(out, "targets.csv") == "user_id,month,amount\n2,2026-03,7.00\n"


def test_export_order_is_deterministic(engine, tmp_path):
    """Rows go in scrambled; they come out by id, or by the documented keys where there is no id."""
    with engine.begin() as conn:
        conn.execute(
            insert(models.User.__table__),
            [{"id": i, "username": f"u{i}", "display_name": f"U{i}", "role": "rep"} for i in (3, 1, 2)],
        )
        conn.execute(insert(models.Account.__table__), [{"id": i, "name": f"A{i}"} for i in (2, 1)])
        conn.execute(
            insert(models.Opportunity.__table__),
            [
                {"id": i, "name": f"O{i}", "account_id": 1, "owner_id": 1, "amount": 1, "stage": "proposal",
                 "created_at": datetime(2026, 1, 1)}
                for i in (2, 1)
            ],
        )  # fmt: skip
        t1, t2 = datetime(2026, 1, 5), datetime(2026, 1, 9)
        conn.execute(
            insert(models.StageHistory.__table__),
            [
                {"opportunity_id": 2, "to_stage": "qualification", "changed_at": t1},  # id 1
                {"opportunity_id": 1, "to_stage": "proposal", "changed_at": t2},  # id 2
                {"opportunity_id": 1, "to_stage": "negotiation", "changed_at": t2},  # id 3, same time
                {"opportunity_id": 1, "to_stage": "qualification", "changed_at": t1},  # id 4
            ],
        )
        conn.execute(
            insert(models.Target.__table__),
            [
                {"user_id": 2, "month": date(2026, 2, 1), "amount": 1},
                {"user_id": 1, "month": date(2026, 3, 1), "amount": 2},
                {"user_id": 1, "month": date(2026, 1, 1), "amount": 3},
            ],
        )
        conn.execute(
            insert(models.NpsResponse.__table__),
            [
                {"account_id": 2, "score": 1, "responded_at": t1},
                {"account_id": 1, "score": 2, "responded_at": t2},
                {"account_id": 1, "score": 3, "responded_at": t1},
                {"account_id": 1, "score": 4, "responded_at": t1},
            ],
        )

    out = tmp_path / "out"
    export_bundle(engine, out)

    assert [line.split(",")[0] for line in read(out, "users.csv").splitlines()[1:]] == ["1", "2", "3"]
    assert [line.split(",")[0] for line in read(out, "opportunities.csv").splitlines()[1:]] == ["1", "2"]
    assert read(out, "stage_history.csv") == csv_text("""
        opportunity_id,to_stage,changed_at,from_stage,changed_by
        1,qualification,2026-01-05T00:00:00,,
        1,proposal,2026-01-09T00:00:00,,
        1,negotiation,2026-01-09T00:00:00,,
        2,qualification,2026-01-05T00:00:00,,
    """)
    assert read(out, "targets.csv") == csv_text("""
        user_id,month,amount
        1,2026-01,3.00
        1,2026-03,2.00
        2,2026-02,1.00
    """)
    assert read(out, "nps_responses.csv") == csv_text("""
        account_id,score,responded_at
        1,3,2026-01-05T00:00:00
        1,4,2026-01-05T00:00:00
        1,2,2026-01-09T00:00:00
        2,1,2026-01-05T00:00:00
    """)


def test_small_bundle_exports_in_canonical_form(engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))

    out = tmp_path / "out"
    assert export_bundle(engine, out) == SMALL_BUNDLE_COUNTS

    assert read(out, "opportunities.csv") == csv_text("""
        opportunity_id,name,account_id,owner_id,amount,stage,created_at,product_id,expected_close_date,closed_at,lost_reason,lead_id
        1,Acme widgets,1,3,12000.50,won,2026-01-10T12:00:00,1,2026-02-28,2026-02-20T15:45:00,,1
        2,Globex service,2,4,5000.00,proposal,2026-02-01T09:00:00,2,2026-04-30,,,
        3,Acme expansion,1,3,800.50,lost,2026-01-20T08:15:30.250000,,,2026-03-01T17:00:00,price,
    """)
    leads = read(out, "leads.csv").splitlines()
    assert leads[2] == "2,Initech,new,2026-03-01T07:30:00,,,,referral,South,,,,"
    accounts = read(out, "accounts.csv").splitlines()
    assert accounts[2] == '2,"Globex, Inc.",4,Retail,South,B,2025-07-15T10:00:00,2026-02-01T00:00:00'
    assert read(out, "users.csv").splitlines()[4] == "4,sue,Sue Seller,rep,2,,false"
    assert (
        read(out, "targets.csv")
        == "user_id,month,amount\n3,2026-01,10000.00\n3,2026-02,10000.00\n4,2026-01,8000.50\n"
    )


def bundle_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every bundle table's rows (all model columns but the surrogate ids of id-less files)."""
    rows = {}
    with engine.connect() as conn:
        for model in models.BUNDLE_TABLES:
            table = model.__table__
            columns = [c for c in table.c if c.name != "id" or model in _WITH_IDS]
            rows[table.name] = conn.execute(select(*columns).order_by(*columns)).all()
    return rows


_WITH_IDS = set(models.BUNDLE_TABLES) - {models.StageHistory, models.Target, models.NpsResponse}


def test_round_trip_is_byte_identical_and_values_survive(engine, fresh_engine, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))
    first, second = tmp_path / "first", tmp_path / "second"

    export_bundle(engine, first)
    assert load_bundle(fresh_engine, first) == SMALL_BUNDLE_COUNTS
    export_bundle(fresh_engine, second)

    for name in HEADERS:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert bundle_rows(fresh_engine) == bundle_rows(engine)


def test_export_overwrites_an_existing_bundle(engine, tmp_path):
    out = write_bundle(tmp_path / "out", {"teams.csv": "team_id,name\n1,Stale\n"})
    load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))

    export_bundle(engine, out)

    assert read(out, "teams.csv") == "team_id,name,region\n1,North,North\n2,South,South\n"


@pytest.mark.slow
def test_demo_data_round_trips(engine, fresh_engine, tmp_path):
    """The generated demo data set survives export -> load -> export unchanged."""
    demo = pytest.importorskip("seed.demo")
    demo.generate_demo(engine, size="demo", seed=7, as_of=date(2026, 3, 15))
    first, second = tmp_path / "first", tmp_path / "second"

    counts = export_bundle(engine, first)
    assert load_bundle(fresh_engine, first) == counts
    export_bundle(fresh_engine, second)

    for name in HEADERS:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_cli_export(engine, db_url, tmp_path):
    load_bundle(engine, write_bundle(tmp_path / "b", SMALL_BUNDLE))
    with engine.begin() as conn:
        conn.execute(update(models.User.__table__).values(password_hash="$argon2id$secret"))

    result = subprocess.run(
        [sys.executable, "-m", "seed", "--db", db_url, "export", str(tmp_path / "out")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "bundle written to" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(HEADERS)
    users = read(tmp_path / "out", "users.csv")
    assert users.splitlines()[0] == HEADERS["users.csv"]
    assert "argon2" not in users
