"""Concurrent editors through the services, on whichever database the run uses (SQLite file or
PostgreSQL): no lost update, every refused save is a StaleRecord, and never "database is locked"."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_core import audit
from crm_core.db import session_factory
from crm_core.errors import StaleRecord
from crm_core.models import AuditEntry, Opportunity, Target
from crm_core.services import deals, targets
from tests.crm_core.factories import build_world, make_account, make_deal

THREADS = 8
EDITS = 25


@pytest.fixture
def world(engine):
    return build_world(engine)


def _run_together(worker, count: int) -> list[BaseException]:
    """Start `count` threads at once on `worker(index)`; return the unexpected errors."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            worker(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_eight_editors_lose_no_update(engine, world):
    account_id = make_account(engine, world.rep_a.user_id)
    deal_id = make_deal(engine, world.rep_a.user_id, account_id, amount=1000)
    editors = [world.rep_a, world.manager_a, world.admin]
    saved = [0] * THREADS
    stale = [0] * THREADS

    def edit(index: int) -> None:
        actor = editors[index % len(editors)]
        for _ in range(EDITS):
            shown = deals.get(engine, actor, deal_id)  # what the form showed
            try:
                deals.update(
                    engine, actor, deal_id=deal_id, expected_version=shown.version, amount=shown.amount + 1
                )
            except StaleRecord as exc:
                assert str(exc).startswith("changed by ") and str(exc).endswith(" — reload")
                stale[index] += 1
            else:
                saved[index] += 1

    errors = _run_together(edit, THREADS)

    assert errors == []  # in particular no OperationalError "database is locked"
    successes = sum(saved)
    assert successes + sum(stale) == THREADS * EDITS
    assert successes >= EDITS  # progress: at least one save per round on average
    with session_factory(engine)() as session:
        deal = session.get(Opportunity, deal_id)
        amount_entries = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.entity == "opportunity",
                AuditEntry.entity_id == deal_id,
                AuditEntry.field == "amount",
            )
        )
    assert deal.version == 1 + successes
    assert deal.amount == Decimal(1000 + successes)
    assert amount_entries == successes


def test_a_save_committed_between_read_and_write_is_detected_at_flush(engine, world, monkeypatch):
    """The race the version check cannot see: someone commits after our row was loaded and checked.
    The UPDATE ... WHERE version = ? then matches no row, and nothing of ours is written."""
    account_id = make_account(engine, world.rep_a.user_id)
    deal_id = make_deal(engine, world.rep_a.user_id, account_id, amount=1000)
    original = audit.record_changes
    raced = []

    def commit_a_rival_save_first(session, *args, **kwargs):
        if not raced:
            raced.append(True)
            monkeypatch.setattr(audit, "record_changes", original)
            deals.update(engine, world.manager_a, deal_id=deal_id, expected_version=1, amount=2000)
        original(session, *args, **kwargs)

    monkeypatch.setattr(audit, "record_changes", commit_a_rival_save_first)
    with pytest.raises(StaleRecord) as err:
        deals.update(engine, world.rep_a, deal_id=deal_id, expected_version=1, amount=3000)

    assert (err.value.entity, err.value.id, err.value.changed_by_name) == (
        "opportunity",
        deal_id,
        "Dana Reyes",
    )
    with session_factory(engine)() as session:
        deal = session.get(Opportunity, deal_id)
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == deal_id)).all()
    assert (deal.amount, deal.version) == (Decimal("2000.00"), 2)
    assert [(e.field, e.new_value, e.actor_id) for e in entries] == [
        ("amount", "2000.00", world.manager_a.user_id)
    ]


def test_simultaneous_first_targets_one_wins_the_rest_are_stale(engine, world):
    outcomes: list[str] = []

    def set_once(index: int) -> None:
        try:
            targets.set_target(
                engine, world.manager_a, user_id=world.rep_a.user_id, month="2026-05", amount=index
            )
        except StaleRecord:
            outcomes.append("stale")
        else:
            outcomes.append("saved")

    errors = _run_together(set_once, THREADS)

    assert errors == []
    assert sorted(outcomes) == ["saved"] + ["stale"] * (THREADS - 1)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Target)) == 1
