from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm_core.audit import history
from crm_core.errors import PermissionDenied, StaleRecord, ValidationFailed
from crm_core.services import targets
from tests.crm_core.factories import build_world, make_target, make_user


@pytest.fixture
def world(engine):
    return build_world(engine)


def test_a_manager_sets_then_replaces_a_team_reps_target(engine, world):
    rep = world.rep_a.user_id
    target = targets.set_target(engine, world.manager_a, user_id=rep, month="2026-04", amount="60000")
    assert (target.month, target.amount, target.version) == (date(2026, 4, 1), Decimal("60000.00"), 1)
    assert history(engine, "target", target.id)[0]["new"] == "2026-04: 60000.00"
    target = targets.set_target(
        engine, world.manager_a, user_id=rep, month=date(2026, 4, 17), amount=65000, expected_version=1
    )
    assert (target.amount, target.version) == (Decimal("65000.00"), 2)
    assert history(engine, "target", target.id)[0]["old"] == "60000.00"
    assert targets.get(engine, world.rep_a, user_id=rep, month="2026-04").amount == Decimal("65000.00")
    assert targets.get(engine, world.rep_a, user_id=rep, month="2026-05") is None


def test_overwriting_a_target_the_form_did_not_show_is_stale(engine, world):
    rep = world.rep_a.user_id
    targets.set_target(engine, world.manager_a, user_id=rep, month="2026-04", amount=1)
    with pytest.raises(StaleRecord) as err:
        targets.set_target(engine, world.admin, user_id=rep, month="2026-04", amount=2)
    assert err.value.changed_by_name == "Dana Reyes"
    with pytest.raises(StaleRecord):
        targets.set_target(engine, world.admin, user_id=rep, month="2026-04", amount=2, expected_version=5)


def test_who_may_set_targets(engine, world):
    with pytest.raises(PermissionDenied) as err:
        targets.set_target(engine, world.rep_a, user_id=world.rep_a.user_id, month="2026-04", amount=1)
    assert str(err.value) == "Only managers and admins can set targets."
    with pytest.raises(PermissionDenied) as err:
        targets.set_target(engine, world.manager_a, user_id=world.rep_b.user_id, month="2026-04", amount=1)
    assert str(err.value) == "Managers set targets for the reps of their own team only."
    co_manager = make_user(engine, "co.manager", "manager", world.team_a)
    with pytest.raises(ValidationFailed) as verr:
        targets.set_target(engine, world.manager_a, user_id=co_manager, month="2026-04", amount=1)
    assert verr.value.field_errors == {"user_id": "Choose a rep."}
    with pytest.raises(ValidationFailed) as verr:
        targets.set_target(engine, world.admin, user_id=424242, month="2026-04", amount=1)
    assert verr.value.field_errors == {"user_id": "Choose a rep."}
    assert targets.set_target(engine, world.admin, user_id=world.rep_b.user_id, month="2026-04", amount=1).id


def test_bad_month_and_amount(engine, world):
    with pytest.raises(ValidationFailed) as err:
        targets.set_target(engine, world.admin, user_id=world.rep_a.user_id, month="April", amount="-3")
    assert err.value.field_errors == {
        "month": "Enter the month as YYYY-MM between 2000 and 2099, like 2026-03.",
        "amount": "The target amount can't be negative.",
    }


def test_reading_targets_follows_ownership(engine, world):
    make_target(engine, world.rep_b.user_id)
    with pytest.raises(PermissionDenied):
        targets.get(engine, world.rep_a, user_id=world.rep_b.user_id, month="2026-03")
    assert targets.get(engine, world.manager_b, user_id=world.rep_b.user_id, month="2026-03") is not None
