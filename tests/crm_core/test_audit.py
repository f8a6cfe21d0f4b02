from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_core import audit
from crm_core.audit import as_text, history
from crm_core.db import session_factory
from crm_core.models import AuditEntry, Lead, Opportunity
from crm_core.services import deals, leads
from tests.crm_core.factories import build_world, make_account, make_deal


@pytest.fixture
def world(engine):
    return build_world(engine)


class InjectedFault(RuntimeError):
    pass


def _audit_rows(engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_one_entry_per_changed_field_newest_first_with_names(engine, world):
    lead = leads.create(engine, world.rep_a, company="Initech")
    leads.update(
        engine, world.rep_a, lead_id=lead.id, expected_version=1, company="Initech AG", email="a@b.co"
    )
    leads.update(engine, world.manager_a, lead_id=lead.id, expected_version=2, phone="+44 20 7946 0000")
    entries = history(engine, "lead", lead.id)
    assert [(e["field"], e["actor_name"]) for e in entries] == [
        ("phone", "Dana Reyes"),
        ("email", "Sam East"),
        ("company", "Sam East"),
        ("created", "Sam East"),
    ]
    company = next(e for e in entries if e["field"] == "company")
    assert (company["old"], company["new"], company["actor_id"]) == (
        "Initech",
        "Initech AG",
        world.rep_a.user_id,
    )
    assert all(isinstance(e["at"], datetime) for e in entries)
    assert entries[0]["at"] >= entries[-1]["at"]


def test_history_of_another_record_is_separate(engine, world):
    first = leads.create(engine, world.rep_a, company="A")
    leads.create(engine, world.rep_a, company="B")
    assert [e["new"] for e in history(engine, "lead", first.id)] == ["A"]
    assert history(engine, "lead", 10**12) == []


def test_values_are_stored_as_plain_text():
    assert as_text(None) is None
    assert as_text(Decimal("1200.50")) == "1200.50"
    assert as_text(True) == "true"
    assert as_text(date(2026, 3, 1)) == "2026-03-01"
    assert as_text(datetime(2026, 3, 1, 9, 30, 15, 123)) == "2026-03-01 09:30:15"
    assert as_text(7) == "7"


def test_a_fault_after_the_update_before_commit_leaves_nothing(engine, world, monkeypatch):
    account_id = make_account(engine, world.rep_a.user_id)
    deal_id = make_deal(engine, world.rep_a.user_id, account_id, amount=1000)
    original = audit.record_changes

    def record_then_fail(session, *args, **kwargs):
        original(session, *args, **kwargs)
        session.flush()  # the UPDATE and the audit INSERTs have reached the database
        assert session.scalar(select(func.count()).select_from(AuditEntry)) >= 1
        raise InjectedFault("power cut")

    monkeypatch.setattr(audit, "record_changes", record_then_fail)
    before = _audit_rows(engine)
    with pytest.raises(InjectedFault):
        deals.mark_won(engine, world.rep_a, deal_id=deal_id, expected_version=1, amount=5000)
    monkeypatch.undo()

    with session_factory(engine)() as session:
        deal = session.get(Opportunity, deal_id)
    assert (deal.stage, deal.amount, deal.closed_at, deal.version) == (
        "prospecting",
        Decimal("1000.00"),
        None,
        1,
    )
    assert _audit_rows(engine) == before
    # and the deal is still editable at the version the form showed
    assert deals.mark_won(engine, world.rep_a, deal_id=deal_id, expected_version=1).stage == "won"


def test_a_fault_during_create_leaves_no_row_and_no_audit(engine, world, monkeypatch):
    def fail(*_args, **_kwargs):
        raise InjectedFault("disk full")

    monkeypatch.setattr(audit, "record_created", fail)
    with pytest.raises(InjectedFault):
        leads.create(engine, world.rep_a, company="Ghost")
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0
    assert _audit_rows(engine) == 0
