"""Deals (opportunities): create, edit, move through the open stages, win, lose, reopen.

Every stage change writes a StageHistory row (from → to, by whom, when). `last_activity_at` is the
latest activity linked to the deal (the stale-deal metric's "last touch") and is kept by
`activities.log`; stage changes are not activities and leave it alone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm_core import audit, enums
from crm_core.actor import Actor
from crm_core.errors import PermissionDenied, ValidationFailed
from crm_core.models import Opportunity, StageHistory, User
from crm_core.permissions import EDIT, READ, require
from crm_core.services._common import apply, check_version, created, fetch, reading, writing
from crm_core.services._refs import require_account, require_product
from crm_core.validation import (
    UNSET,
    DealCreate,
    DealLost,
    DealUpdate,
    DealWon,
    StageMove,
    changes_of,
    provided,
    validate,
)

ENTITY = "opportunity"
WON_NEEDS_AMOUNT = "A won deal needs an amount greater than 0."


def get(engine: Engine, actor: Actor, deal_id: int) -> Opportunity:
    with reading(engine) as session:
        deal = fetch(session, Opportunity, ENTITY, deal_id)
        require(session, actor, READ, "deal", deal.owner_id)
    return deal


def create(
    engine: Engine,
    actor: Actor,
    *,
    name: str,
    account_id: int,
    amount: Decimal | int | str = Decimal("0.00"),
    product_id: int | None = None,
    expected_close_date: date | None = None,
    owner_id: int | None = None,
) -> Opportunity:
    """A new deal in prospecting on an account the actor may edit, owned by the actor (or, for a
    manager or admin, by `owner_id`)."""
    data = validate(
        DealCreate,
        dict(
            name=name,
            account_id=account_id,
            amount=amount,
            product_id=product_id,
            expected_close_date=expected_close_date,
            owner_id=owner_id,
        ),
    )
    at = audit.utcnow()
    with writing(engine) as session:
        account = require_account(session, data.account_id)
        require(session, actor, EDIT, "account", account.owner_id)
        owner = data.owner_id or actor.user_id
        if owner != actor.user_id:
            _require_owner_for_team(session, actor, owner)
        require_product(session, data.product_id)
        deal = Opportunity(
            name=data.name,
            account_id=account.id,
            owner_id=owner,
            amount=data.amount,
            stage="prospecting",
            created_at=at,
            product_id=data.product_id,
            expected_close_date=data.expected_close_date,
        )
        return created(session, actor, ENTITY, deal, data.name, at=at)


def update(
    engine: Engine,
    actor: Actor,
    *,
    deal_id: int,
    expected_version: int,
    name: str = UNSET,
    amount: Decimal | int | str = UNSET,
    product_id: int | None = UNSET,
    expected_close_date: date | None = UNSET,
) -> Opportunity:
    """Edit name, amount (>= 0; > 0 on a won deal), product or expected close date."""
    values = changes_of(
        validate(
            DealUpdate,
            provided(
                name=name, amount=amount, product_id=product_id, expected_close_date=expected_close_date
            ),
        )
    )
    at = audit.utcnow()
    with writing(engine) as session:
        deal = _for_edit(session, actor, deal_id, expected_version)
        if "product_id" in values:
            require_product(session, values["product_id"])
        if deal.stage == "won" and values.get("amount", deal.amount) <= 0:
            raise ValidationFailed({"amount": WON_NEEDS_AMOUNT})
        apply(session, actor, ENTITY, deal, values, at=at)
        return deal


def move_stage(
    engine: Engine, actor: Actor, *, deal_id: int, expected_version: int, to_stage: str
) -> Opportunity:
    """Advance or move back an open deal among the open stages."""
    data = validate(StageMove, {"to_stage": to_stage})
    at = audit.utcnow()
    with writing(engine) as session:
        deal = _for_edit(session, actor, deal_id, expected_version)
        _require_open(deal)
        if deal.stage == data.to_stage:
            raise ValidationFailed({"to_stage": f"The deal is already in {data.to_stage}."})
        _change_stage(session, actor, deal, {"stage": data.to_stage}, at=at)
        return deal


def mark_won(
    engine: Engine,
    actor: Actor,
    *,
    deal_id: int,
    expected_version: int,
    amount: Decimal | int | str | None = None,
) -> Opportunity:
    """Close an open deal as won, optionally with its final amount (which must be > 0)."""
    data = validate(DealWon, {"amount": amount})
    at = audit.utcnow()
    with writing(engine) as session:
        deal = _for_edit(session, actor, deal_id, expected_version)
        _require_open(deal)
        final_amount = deal.amount if data.amount is None else data.amount
        if final_amount <= 0:
            raise ValidationFailed({"amount": WON_NEEDS_AMOUNT})
        _change_stage(session, actor, deal, {"stage": "won", "closed_at": at, "amount": final_amount}, at=at)
        return deal


def mark_lost(
    engine: Engine, actor: Actor, *, deal_id: int, expected_version: int, lost_reason: str
) -> Opportunity:
    data = validate(DealLost, {"lost_reason": lost_reason})
    at = audit.utcnow()
    with writing(engine) as session:
        deal = _for_edit(session, actor, deal_id, expected_version)
        _require_open(deal)
        _change_stage(
            session, actor, deal, {"stage": "lost", "closed_at": at, "lost_reason": data.lost_reason}, at=at
        )
        return deal


def reopen(
    engine: Engine, actor: Actor, *, deal_id: int, expected_version: int, to_stage: str = "negotiation"
) -> Opportunity:
    """Put a won or lost deal back into an open stage (closed_at and lost_reason cleared)."""
    data = validate(StageMove, {"to_stage": to_stage})
    at = audit.utcnow()
    with writing(engine) as session:
        deal = _for_edit(session, actor, deal_id, expected_version)
        if deal.stage not in enums.CLOSED_STAGES:
            raise ValidationFailed({"stage": "Only won or lost deals can be reopened."})
        _change_stage(
            session, actor, deal, {"stage": data.to_stage, "closed_at": None, "lost_reason": None}, at=at
        )
        return deal


# -- helpers -------------------------------------------------------------------------------------


def _for_edit(session: Session, actor: Actor, deal_id: int, expected_version: int) -> Opportunity:
    deal = fetch(session, Opportunity, ENTITY, deal_id)
    require(session, actor, EDIT, "deal", deal.owner_id)
    check_version(session, ENTITY, deal, expected_version)
    return deal


def _require_open(deal: Opportunity) -> None:
    if deal.stage in enums.CLOSED_STAGES:
        raise ValidationFailed({"stage": f"This deal is {deal.stage}: reopen it first."})


def _change_stage(
    session: Session, actor: Actor, deal: Opportunity, values: dict[str, object], *, at: datetime
) -> None:
    from_stage = deal.stage
    apply(session, actor, ENTITY, deal, values, at=at)
    session.add(
        StageHistory(
            opportunity_id=deal.id,
            from_stage=from_stage,
            to_stage=deal.stage,
            changed_at=at,
            changed_by=actor.user_id,
        )
    )


def _require_owner_for_team(session: Session, actor: Actor, owner_id: int) -> None:
    """Only a manager (for their team) or an admin creates a deal in someone else's name."""
    if not (actor.is_admin or actor.is_manager):
        raise PermissionDenied("Only managers and admins can create deals for someone else.")
    owner = session.get(User, owner_id)
    of_team = actor.is_admin or (owner is not None and owner.team_id == actor.team_id)
    if owner is None or not owner.active or owner.role == "admin" or not of_team:
        where = "" if actor.is_admin else " of your team"
        raise ValidationFailed({"owner_id": f"Choose an active member{where}."})
