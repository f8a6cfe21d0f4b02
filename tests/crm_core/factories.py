"""Compact test data: rows inserted directly (no services, no audit), each helper returns the id.

`build_world(engine)` makes two teams (East/EMEA, West/NA), an admin, a manager per team, two reps
in East and one in West, and returns their actors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from crm_core.actor import Actor
from crm_core.db import transaction
from crm_core.models import Account, Activity, Lead, Opportunity, Product, Target, Team, Ticket, User

T0 = datetime(2026, 3, 2, 9, 0, 0)


def _insert(engine: Engine, record: Any) -> int:
    with transaction(engine) as session:
        session.add(record)
        session.flush()
        return record.id


def make_team(engine: Engine, name: str = "East", region: str | None = "EMEA") -> int:
    return _insert(engine, Team(name=name, region=region))


def make_user(
    engine: Engine,
    username: str,
    role: str = "rep",
    team_id: int | None = None,
    *,
    display_name: str | None = None,
    active: bool = True,
    password_hash: str | None = None,
    email: str | None = None,
) -> int:
    return _insert(
        engine,
        User(
            username=username,
            display_name=display_name or username.replace(".", " ").title(),
            role=role,
            team_id=team_id,
            active=active,
            password_hash=password_hash,
            email=email,
        ),
    )


def make_product(engine: Engine, name: str = "Widget", product_line: str = "Hardware") -> int:
    return _insert(engine, Product(name=name, product_line=product_line, list_price=Decimal("100.00")))


def make_account(
    engine: Engine, owner_id: int | None, name: str = "Acme Corp", region: str | None = "EMEA"
) -> int:
    return _insert(engine, Account(name=name, owner_id=owner_id, region=region, created_at=T0))


def make_lead(
    engine: Engine,
    owner_id: int | None,
    company: str = "Globex",
    *,
    status: str = "new",
    region: str | None = "EMEA",
    created_at: datetime = T0,
) -> int:
    return _insert(
        engine, Lead(company=company, status=status, created_at=created_at, owner_id=owner_id, region=region)
    )


def make_deal(
    engine: Engine,
    owner_id: int,
    account_id: int,
    *,
    name: str = "Big deal",
    amount: Decimal | int = 1000,
    stage: str = "prospecting",
    closed_at: datetime | None = None,
) -> int:
    if stage in ("won", "lost") and closed_at is None:
        closed_at = T0
    return _insert(
        engine,
        Opportunity(
            name=name,
            account_id=account_id,
            owner_id=owner_id,
            amount=Decimal(amount),
            stage=stage,
            created_at=T0,
            closed_at=closed_at,
            lost_reason="Price" if stage == "lost" else None,
        ),
    )


def make_ticket(
    engine: Engine,
    account_id: int,
    assignee_id: int | None,
    *,
    priority: str = "normal",
    status: str = "open",
    subject: str = "Printer on fire",
) -> int:
    resolved_at = T0 if status in ("resolved", "closed") else None
    return _insert(
        engine,
        Ticket(
            account_id=account_id,
            subject=subject,
            priority=priority,
            status=status,
            created_at=T0,
            assignee_id=assignee_id,
            resolved_at=resolved_at,
        ),
    )


def make_activity(
    engine: Engine, user_id: int, *, opportunity_id: int | None = None, type: str = "call"
) -> int:
    return _insert(
        engine, Activity(type=type, user_id=user_id, occurred_at=T0, opportunity_id=opportunity_id)
    )


def make_target(engine: Engine, user_id: int, month: date = date(2026, 3, 1), amount: int = 50_000) -> int:
    return _insert(engine, Target(user_id=user_id, month=month, amount=Decimal(amount)))


@dataclass(frozen=True)
class World:
    team_a: int
    team_b: int
    admin: Actor
    manager_a: Actor
    rep_a: Actor
    rep_a2: Actor
    manager_b: Actor
    rep_b: Actor

    def actor(self, name: str) -> Actor:
        return getattr(self, name)


def _actor(engine: Engine, username: str, role: str, team_id: int | None, display_name: str) -> Actor:
    user_id = make_user(engine, username, role, team_id, display_name=display_name)
    return Actor(user_id=user_id, role=role, team_id=team_id, display_name=display_name)


def build_world(engine: Engine) -> World:
    team_a = make_team(engine, "East", "EMEA")
    team_b = make_team(engine, "West", "NA")
    return World(
        team_a=team_a,
        team_b=team_b,
        admin=_actor(engine, "ada.admin", "admin", None, "Ada Admin"),
        manager_a=_actor(engine, "dana.reyes", "manager", team_a, "Dana Reyes"),
        rep_a=_actor(engine, "sam.east", "rep", team_a, "Sam East"),
        rep_a2=_actor(engine, "kim.east", "rep", team_a, "Kim East"),
        manager_b=_actor(engine, "max.west", "manager", team_b, "Max West"),
        rep_b=_actor(engine, "lee.west", "rep", team_b, "Lee West"),
    )
