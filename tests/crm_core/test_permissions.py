"""Who may read and edit what, checked at the service level, plus the read-side helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from crm_core.actor import Actor, load_actor
from crm_core.errors import NotFound, PermissionDenied
from crm_core.permissions import can, visible_owner_ids
from crm_core.services import activities, deals, leads, targets, tickets
from tests.crm_core.factories import (
    build_world,
    make_account,
    make_activity,
    make_deal,
    make_lead,
    make_target,
    make_ticket,
    make_user,
)

# Expected outcome per role and entity: read, edit — each for (own, same team, other team).
# "Y" = allowed, "-" = PermissionDenied.
MATRIX = {
    ("admin", "lead"): ("YYY", "YYY"),
    ("admin", "deal"): ("YYY", "YYY"),
    ("admin", "activity"): ("YYY", "YYY"),
    ("admin", "ticket"): ("YYY", "YYY"),
    ("admin", "target"): ("YYY", "YYY"),
    ("manager", "lead"): ("YY-", "YY-"),
    ("manager", "deal"): ("YY-", "YY-"),
    ("manager", "activity"): ("YY-", "YY-"),
    ("manager", "ticket"): ("YY-", "YY-"),
    ("manager", "target"): ("YY-", "-Y-"),  # a manager's own target is set by an admin
    ("rep", "lead"): ("Y--", "Y--"),
    ("rep", "deal"): ("Y--", "Y--"),
    ("rep", "activity"): ("Y--", "Y--"),
    ("rep", "ticket"): ("Y--", "Y--"),
    ("rep", "target"): ("Y--", "---"),  # reps read their target, never set one
}
OWNERSHIPS = ("own", "same team", "other team")
ACTORS = {"admin": "admin", "manager": "manager_a", "rep": "rep_a"}
# whose record is "own", "same team" and "other team" for each acting role
OWNERS = {
    "admin": ("admin", "rep_a", "rep_b"),
    "manager": ("manager_a", "rep_a", "rep_b"),
    "rep": ("rep_a", "rep_a2", "rep_b"),
}
MONTH = date(2026, 3, 1)


@dataclass(frozen=True)
class Entity:
    setup: Callable[[Any, Actor], dict[str, int]]
    read: Callable[[Any, Actor, dict[str, int]], Any]
    edit: Callable[[Any, Actor, dict[str, int]], Any]


def _deal_of(engine, owner: Actor) -> dict[str, int]:
    account = make_account(engine, owner.user_id)
    return {"account": account, "deal": make_deal(engine, owner.user_id, account)}


def _activity_of(engine, owner: Actor) -> dict[str, int]:
    ids = _deal_of(engine, owner)
    return ids | {"activity": make_activity(engine, owner.user_id, opportunity_id=ids["deal"])}


def _ticket_of(engine, owner: Actor) -> dict[str, int]:
    account = make_account(engine, owner.user_id)
    return {"ticket": make_ticket(engine, account, owner.user_id)}


ENTITIES = {
    "lead": Entity(
        setup=lambda e, o: {"lead": make_lead(e, o.user_id)},
        read=lambda e, a, ids: leads.get(e, a, ids["lead"]),
        edit=lambda e, a, ids: leads.update(e, a, lead_id=ids["lead"], expected_version=1, company="Renamed"),
    ),
    "deal": Entity(
        setup=_deal_of,
        read=lambda e, a, ids: deals.get(e, a, ids["deal"]),
        edit=lambda e, a, ids: deals.update(e, a, deal_id=ids["deal"], expected_version=1, amount=5),
    ),
    "activity": Entity(
        setup=_activity_of,
        read=lambda e, a, ids: activities.get(e, a, ids["activity"]),
        # editing here means logging one more activity on the owner's deal
        edit=lambda e, a, ids: activities.log(e, a, type="call", deal_id=ids["deal"]),
    ),
    "ticket": Entity(
        setup=_ticket_of,
        read=lambda e, a, ids: tickets.get(e, a, ids["ticket"]),
        edit=lambda e, a, ids: tickets.change_priority(
            e, a, ticket_id=ids["ticket"], expected_version=1, priority="high"
        ),
    ),
    "target": Entity(
        setup=lambda e, o: {"target": make_target(e, o.user_id, MONTH), "user": o.user_id},
        read=lambda e, a, ids: targets.get(e, a, user_id=ids["user"], month=MONTH),
        edit=lambda e, a, ids: targets.set_target(
            e, a, user_id=ids["user"], month=MONTH, amount=1, expected_version=1
        ),
    ),
}

CASES = [
    pytest.param(
        role,
        entity,
        action,
        ownership,
        MATRIX[role, entity][col][i] == "Y",
        id=f"{role}-{entity}-{action}-{ownership}",
    )
    for (role, entity) in MATRIX
    for col, action in enumerate(("read", "edit"))
    for i, ownership in enumerate(OWNERSHIPS)
]


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.mark.parametrize(("role", "entity", "action", "ownership", "allowed"), CASES)
def test_permission_matrix(engine, world, role, entity, action, ownership, allowed):
    actor = world.actor(ACTORS[role])
    owner = world.actor(OWNERS[role][OWNERSHIPS.index(ownership)])
    spec = ENTITIES[entity]
    ids = spec.setup(engine, owner)
    call = spec.read if action == "read" else spec.edit
    if allowed:
        assert call(engine, actor, ids) is not None
    else:
        with pytest.raises(PermissionDenied) as err:
            call(engine, actor, ids)
        assert owner.display_name not in str(err.value)


def test_the_lead_pool(engine, world):
    lead_id = make_lead(engine, None)
    for actor in (world.rep_a, world.rep_b, world.manager_b):
        assert leads.get(engine, actor, lead_id).id == lead_id
    with pytest.raises(PermissionDenied):
        leads.update(engine, world.rep_a, lead_id=lead_id, expected_version=1, company="Mine now")
    assert (
        leads.update(engine, world.manager_b, lead_id=lead_id, expected_version=1, company="Pooled").version
        == 2
    )
    assert (
        leads.claim(engine, world.rep_a, lead_id=lead_id, expected_version=2).owner_id == world.rep_a.user_id
    )
    with pytest.raises(PermissionDenied):
        leads.get(engine, world.rep_b, lead_id)


def test_tickets_follow_the_account_owner_and_the_assignee(engine, world):
    account = make_account(engine, world.rep_a.user_id)
    unassigned = make_ticket(engine, account, None)
    handled_elsewhere = make_ticket(engine, make_account(engine, world.rep_b.user_id), world.rep_a.user_id)
    assert tickets.get(engine, world.rep_a, unassigned).id == unassigned
    assert tickets.get(engine, world.rep_a, handled_elsewhere).id == handled_elsewhere
    assert tickets.get(engine, world.manager_b, handled_elsewhere).id == handled_elsewhere
    with pytest.raises(PermissionDenied):
        tickets.get(engine, world.rep_a2, unassigned)


def test_can_is_a_pure_rule():
    rep = Actor(user_id=1, role="rep", team_id=10, display_name="R")
    manager = Actor(user_id=2, role="manager", team_id=10, display_name="M")
    admin = Actor(user_id=3, role="admin", team_id=None, display_name="A")
    assert can(rep, "edit", 1, 10) and not can(rep, "read", 4, 10)
    assert can(manager, "edit", 4, 10) and not can(manager, "read", 5, 11)
    assert can(manager, "read", 2, None)  # their own records even outside a team
    assert not can(manager, "read", None, None) and not can(rep, "read", None, None)
    assert can(admin, "edit", None, None) and can(admin, "edit", 9, 99)
    teamless = Actor(user_id=6, role="manager", team_id=None, display_name="T")
    assert not can(teamless, "read", 4, None)


def test_visible_owner_ids(engine, world):
    assert visible_owner_ids(engine, world.admin) is None
    assert visible_owner_ids(engine, world.rep_a) == {world.rep_a.user_id}
    inactive = make_user(engine, "former.east", "rep", world.team_a, active=False)
    assert visible_owner_ids(engine, world.manager_a) == {
        world.manager_a.user_id,
        world.rep_a.user_id,
        world.rep_a2.user_id,
        inactive,
    }


def test_load_actor(engine, world):
    assert load_actor(engine, world.manager_a.user_id) == world.manager_a
    for unknown in (999, 2**40, "1", None):
        with pytest.raises(NotFound):
            load_actor(engine, unknown)
    gone = make_user(engine, "gone", "rep", world.team_a, active=False)
    with pytest.raises(PermissionDenied):
        load_actor(engine, gone)
