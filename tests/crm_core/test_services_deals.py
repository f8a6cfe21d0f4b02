from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_core.audit import history
from crm_core.db import session_factory
from crm_core.errors import NotFound, PermissionDenied, StaleRecord, ValidationFailed
from crm_core.models import Opportunity, StageHistory
from crm_core.services import deals
from tests.crm_core.factories import build_world, make_account, make_deal, make_product


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def deal_id(engine, world):
    account_id = make_account(engine, world.rep_a.user_id)
    return make_deal(engine, world.rep_a.user_id, account_id, amount=1000)


def _history(engine, deal_id):
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(StageHistory).where(StageHistory.opportunity_id == deal_id).order_by(StageHistory.id)
        ).all()
    return [(r.from_stage, r.to_stage, r.changed_by) for r in rows]


def _deal(engine, deal_id) -> Opportunity:
    with session_factory(engine)() as session:
        return session.get(Opportunity, deal_id)


def test_create_on_an_own_account(engine, world):
    account_id = make_account(engine, world.rep_a.user_id)
    product_id = make_product(engine)
    deal = deals.create(
        engine,
        world.rep_a,
        name="Pilot",
        account_id=account_id,
        amount="2500",
        product_id=product_id,
        expected_close_date="2026-06-30",
    )
    assert (deal.stage, deal.owner_id, deal.amount, deal.version) == (
        "prospecting",
        world.rep_a.user_id,
        Decimal("2500.00"),
        1,
    )
    assert str(deal.expected_close_date) == "2026-06-30"
    assert history(engine, "opportunity", deal.id)[0]["field"] == "created"
    assert _history(engine, deal.id) == []  # the creation in prospecting needs no stage history row


def test_create_refuses_someone_elses_account_and_unknown_references(engine, world):
    other = make_account(engine, world.rep_b.user_id)
    with pytest.raises(PermissionDenied) as err:
        deals.create(engine, world.rep_a, name="Steal", account_id=other)
    assert str(err.value) == "You don't have access to change this account."
    with pytest.raises(ValidationFailed) as verr:
        deals.create(engine, world.rep_a, name="X", account_id=424242)
    assert verr.value.field_errors == {"account_id": "Choose an existing account."}
    own = make_account(engine, world.rep_a.user_id)
    with pytest.raises(ValidationFailed) as verr:
        deals.create(engine, world.rep_a, name="X", account_id=own, product_id=77)
    assert verr.value.field_errors == {"product_id": "Choose an existing product."}


def test_a_manager_creates_a_deal_for_a_team_member_only(engine, world):
    account_id = make_account(engine, world.rep_a.user_id)
    deal = deals.create(
        engine, world.manager_a, name="For Sam", account_id=account_id, owner_id=world.rep_a.user_id
    )
    assert deal.owner_id == world.rep_a.user_id
    with pytest.raises(ValidationFailed) as err:
        deals.create(engine, world.manager_a, name="X", account_id=account_id, owner_id=world.rep_b.user_id)
    assert err.value.field_errors == {"owner_id": "Choose an active member of your team."}
    with pytest.raises(PermissionDenied):
        deals.create(engine, world.rep_a, name="X", account_id=account_id, owner_id=world.rep_a2.user_id)


def test_update_amount_and_fields_with_audit(engine, world, deal_id):
    deal = deals.update(
        engine,
        world.rep_a,
        deal_id=deal_id,
        expected_version=1,
        amount=1500,
        expected_close_date="2026-05-01",
    )
    assert (deal.amount, deal.version) == (Decimal("1500.00"), 2)
    fields = {(e["field"], e["old"], e["new"]) for e in history(engine, "opportunity", deal_id)}
    assert fields == {("amount", "1000.00", "1500.00"), ("expected_close_date", None, "2026-05-01")}


def test_update_refuses_a_negative_amount(engine, world, deal_id):
    with pytest.raises(ValidationFailed) as err:
        deals.update(engine, world.rep_a, deal_id=deal_id, expected_version=1, amount=-5)
    assert err.value.field_errors == {"amount": "The amount can't be negative."}


def test_stale_update_writes_nothing(engine, world, deal_id):
    deals.update(engine, world.manager_a, deal_id=deal_id, expected_version=1, amount=2000)
    with pytest.raises(StaleRecord) as err:
        deals.update(engine, world.rep_a, deal_id=deal_id, expected_version=1, amount=3000)
    assert err.value.changed_by_name == "Dana Reyes"
    assert str(err.value).startswith("changed by Dana Reyes at ")
    assert str(err.value).endswith(" UTC — reload")
    assert _deal(engine, deal_id).amount == Decimal("2000.00")


def test_stale_record_without_audit_history_still_explains(engine, world, deal_id):
    with pytest.raises(StaleRecord) as err:
        deals.update(engine, world.rep_a, deal_id=deal_id, expected_version=7, amount=1)
    assert str(err.value) == "changed by someone else since you opened it — reload"


def test_unknown_deal_is_not_found(engine, world):
    with pytest.raises(NotFound):
        deals.update(engine, world.admin, deal_id=999, expected_version=1, amount=1)
    with pytest.raises(NotFound):
        deals.get(engine, world.admin, 2**40)


def test_move_stage_forward_and_back_writes_stage_history(engine, world, deal_id):
    deal = deals.move_stage(engine, world.rep_a, deal_id=deal_id, expected_version=1, to_stage="proposal")
    deal = deals.move_stage(
        engine, world.rep_a, deal_id=deal_id, expected_version=2, to_stage="Qualification"
    )
    assert (deal.stage, deal.version) == ("qualification", 3)
    me = world.rep_a.user_id
    assert _history(engine, deal_id) == [("prospecting", "proposal", me), ("proposal", "qualification", me)]
    with pytest.raises(ValidationFailed) as err:
        deals.move_stage(engine, world.rep_a, deal_id=deal_id, expected_version=3, to_stage="qualification")
    assert err.value.field_errors == {"to_stage": "The deal is already in qualification."}
    with pytest.raises(ValidationFailed) as err:
        deals.move_stage(engine, world.rep_a, deal_id=deal_id, expected_version=3, to_stage="won")
    assert err.value.field_errors == {
        "to_stage": "Choose an open stage: prospecting, qualification, proposal, negotiation."
    }


def test_mark_won_needs_a_positive_amount_and_sets_closed_at(engine, world):
    account_id = make_account(engine, world.rep_a.user_id)
    free = make_deal(engine, world.rep_a.user_id, account_id, amount=0)
    with pytest.raises(ValidationFailed) as err:
        deals.mark_won(engine, world.rep_a, deal_id=free, expected_version=1)
    assert err.value.field_errors == {"amount": "A won deal needs an amount greater than 0."}
    deal = deals.mark_won(engine, world.rep_a, deal_id=free, expected_version=1, amount=900)
    assert (deal.stage, deal.amount) == ("won", Decimal("900.00"))
    assert deal.closed_at is not None
    assert _history(engine, free) == [("prospecting", "won", world.rep_a.user_id)]
    with pytest.raises(ValidationFailed) as err:
        deals.update(engine, world.rep_a, deal_id=free, expected_version=2, amount=0)
    assert err.value.field_errors == {"amount": "A won deal needs an amount greater than 0."}
    with pytest.raises(ValidationFailed) as err:
        deals.mark_lost(engine, world.rep_a, deal_id=free, expected_version=2, lost_reason="x")
    assert err.value.field_errors == {"stage": "This deal is won: reopen it first."}


def test_mark_lost_needs_a_reason(engine, world, deal_id):
    with pytest.raises(ValidationFailed) as err:
        deals.mark_lost(engine, world.rep_a, deal_id=deal_id, expected_version=1, lost_reason="")
    assert err.value.field_errors == {"lost_reason": "Enter why this deal was lost."}
    deal = deals.mark_lost(engine, world.rep_a, deal_id=deal_id, expected_version=1, lost_reason="Price")
    assert (deal.stage, deal.lost_reason) == ("lost", "Price")
    assert deal.closed_at is not None


def test_reopen_clears_closed_at_and_writes_history(engine, world, deal_id):
    deals.mark_lost(engine, world.rep_a, deal_id=deal_id, expected_version=1, lost_reason="Price")
    deal = deals.reopen(engine, world.rep_a, deal_id=deal_id, expected_version=2, to_stage="proposal")
    assert (deal.stage, deal.closed_at, deal.lost_reason, deal.version) == ("proposal", None, None, 3)
    assert _history(engine, deal_id)[-1] == ("lost", "proposal", world.rep_a.user_id)
    with pytest.raises(ValidationFailed) as err:
        deals.reopen(engine, world.rep_a, deal_id=deal_id, expected_version=3)
    assert err.value.field_errors == {"stage": "Only won or lost deals can be reopened."}


def test_team_and_admin_access(engine, world, deal_id):
    assert deals.get(engine, world.manager_a, deal_id).id == deal_id
    for outsider in (world.rep_a2, world.manager_b, world.rep_b):
        with pytest.raises(PermissionDenied):
            deals.move_stage(engine, outsider, deal_id=deal_id, expected_version=1, to_stage="proposal")
    deal = deals.move_stage(engine, world.admin, deal_id=deal_id, expected_version=1, to_stage="proposal")
    assert deal.stage == "proposal"
