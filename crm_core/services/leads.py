"""Leads: create, edit, the pool (claim, assign, auto-assign), qualify, disqualify, convert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.dialect import folded
from crm_core.errors import PermissionDenied, ValidationFailed
from crm_core.models import Account, Lead, Opportunity, Team, User
from crm_core.permissions import EDIT, READ, require
from crm_core.services._common import apply, check_version, created, fetch, reading, writing
from crm_core.services._refs import require_product
from crm_core.validation import (
    UNSET,
    LeadAssign,
    LeadConvert,
    LeadCreate,
    LeadDisqualify,
    LeadUpdate,
    changes_of,
    provided,
    validate,
)

ENTITY = "lead"
OPEN_STATUSES = ("new", "working", "qualified")


@dataclass(frozen=True)
class Assignment:
    lead_id: int
    owner_id: int


@dataclass(frozen=True)
class Conversion:
    lead_id: int
    account_id: int
    opportunity_id: int
    account_created: bool


def get(engine: Engine, actor: Actor, lead_id: int) -> Lead:
    """One lead the actor may read (their own, their team's for a manager, or a pool lead)."""
    with reading(engine) as session:
        lead = fetch(session, Lead, ENTITY, lead_id)
        require(session, actor, READ, ENTITY, lead.owner_id, pool=True)
    return lead


def create(
    engine: Engine,
    actor: Actor,
    *,
    company: str,
    contact_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    source: str | None = None,
    region: str | None = None,
    owner_id: int | None = None,
    unassigned: bool = False,
) -> Lead:
    """A new lead owned by `owner_id` (default: the actor), or put in the pool with `unassigned`."""
    data = validate(
        LeadCreate,
        dict(
            company=company,
            contact_name=contact_name,
            email=email,
            phone=phone,
            source=source,
            region=region,
            owner_id=owner_id,
        ),
    )
    at = audit.utcnow()
    with writing(engine) as session:
        owner = None if unassigned else (data.owner_id or actor.user_id)
        if owner is not None and owner != actor.user_id:
            _require_assignable_rep(session, actor, owner)
        lead = Lead(
            company=data.company,
            status="new",
            created_at=at,
            contact_name=data.contact_name,
            email=data.email,
            phone=data.phone,
            source=data.source,
            region=_known_region(session, data.region),
            owner_id=owner,
        )
        return created(session, actor, ENTITY, lead, data.company, at=at)


def update(
    engine: Engine,
    actor: Actor,
    *,
    lead_id: int,
    expected_version: int,
    company: str = UNSET,
    contact_name: str | None = UNSET,
    email: str | None = UNSET,
    phone: str | None = UNSET,
    source: str | None = UNSET,
    region: str | None = UNSET,
) -> Lead:
    """Edit the contact details of a lead; only the fields passed change."""
    values = changes_of(
        validate(
            LeadUpdate,
            provided(
                company=company,
                contact_name=contact_name,
                email=email,
                phone=phone,
                source=source,
                region=region,
            ),
        )
    )
    at = audit.utcnow()
    with writing(engine) as session:
        lead = _for_edit(session, actor, lead_id, expected_version)
        if "region" in values:
            values["region"] = _known_region(session, values["region"])
        apply(session, actor, ENTITY, lead, values, at=at)
        return lead


def claim(engine: Engine, actor: Actor, *, lead_id: int, expected_version: int) -> Lead:
    """The actor takes an unassigned open lead from the pool."""
    at = audit.utcnow()
    with writing(engine) as session:
        lead = fetch(session, Lead, ENTITY, lead_id)
        if lead.owner_id not in (None, actor.user_id):
            raise PermissionDenied("This lead already has an owner.")
        check_version(session, ENTITY, lead, expected_version)
        _require_open(lead, "claimed")
        apply(session, actor, ENTITY, lead, {"owner_id": actor.user_id}, at=at)
        return lead


def assign(engine: Engine, actor: Actor, *, lead_id: int, expected_version: int, owner_id: int) -> Lead:
    """A manager (or admin) gives a pool or team lead to an active rep of their team."""
    data = validate(LeadAssign, {"owner_id": owner_id})
    _require_manager(actor)
    at = audit.utcnow()
    with writing(engine) as session:
        lead = _for_edit(session, actor, lead_id, expected_version)
        _require_open(lead, "assigned")
        _require_assignable_rep(session, actor, data.owner_id)
        apply(session, actor, ENTITY, lead, {"owner_id": data.owner_id}, at=at)
        return lead


def auto_assign_pool(engine: Engine, actor: Actor) -> list[Assignment]:
    """Hand out the open pool leads, oldest first, round-robin among the active reps whose team's
    region equals the lead's region (reps in id order). A manager hands out to their own team only.
    Leads with no region or no matching rep stay in the pool. A lead claimed meanwhile is skipped."""
    _require_manager(actor)
    at = audit.utcnow()
    with writing(engine) as session:
        reps_by_region = _reps_by_region(session, actor)
        pool = session.execute(
            select(Lead.id, Lead.region, Lead.version)
            .where(
                Lead.owner_id.is_(None),
                Lead.status.in_(OPEN_STATUSES),
                Lead.region.in_(list(reps_by_region)),
            )
            .order_by(Lead.created_at, Lead.id)
        ).all()
        turn = dict.fromkeys(reps_by_region, 0)
        assignments: list[Assignment] = []
        for lead in pool:
            reps = reps_by_region[lead.region]
            rep_id = reps[turn[lead.region] % len(reps)]
            taken = session.execute(
                sql_update(Lead)
                .where(Lead.id == lead.id, Lead.owner_id.is_(None), Lead.version == lead.version)
                .values(owner_id=rep_id, version=Lead.version + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:
                continue
            turn[lead.region] += 1
            audit.record_changes(session, actor, ENTITY, lead.id, {"owner_id": (None, rep_id)}, at=at)
            assignments.append(Assignment(lead_id=lead.id, owner_id=rep_id))
        return assignments


def qualify(engine: Engine, actor: Actor, *, lead_id: int, expected_version: int) -> Lead:
    at = audit.utcnow()
    with writing(engine) as session:
        lead = _for_edit(session, actor, lead_id, expected_version)
        if lead.status not in ("new", "working"):
            raise ValidationFailed({"status": "Only new or working leads can be qualified."})
        apply(session, actor, ENTITY, lead, {"status": "qualified"}, at=at)
        return lead


def disqualify(engine: Engine, actor: Actor, *, lead_id: int, expected_version: int, reason: str) -> Lead:
    data = validate(LeadDisqualify, {"reason": reason})
    at = audit.utcnow()
    with writing(engine) as session:
        lead = _for_edit(session, actor, lead_id, expected_version)
        _require_open(lead, "disqualified")
        apply(
            session, actor, ENTITY, lead, {"status": "disqualified", "disqualify_reason": data.reason}, at=at
        )
        return lead


def convert(
    engine: Engine,
    actor: Actor,
    *,
    lead_id: int,
    expected_version: int,
    deal_name: str | None = None,
    amount: Decimal | int | str = Decimal("0.00"),
    expected_close_date: date | None = None,
    product_id: int | None = None,
) -> Conversion:
    """Turn an open lead into a deal in prospecting owned by the converter, on the account whose
    name matches the company (case-insensitively), or on a new account owned by the converter.
    The lead becomes converted (converted_at, opportunity_id) and the deal points back to it."""
    data = validate(
        LeadConvert,
        dict(
            deal_name=deal_name,
            amount=amount,
            expected_close_date=expected_close_date,
            product_id=product_id,
        ),
    )
    at = audit.utcnow()
    with writing(engine) as session:
        lead = _for_edit(session, actor, lead_id, expected_version)
        _require_open(lead, "converted")
        require_product(session, data.product_id)
        account = session.scalars(
            select(Account).where(folded(Account.name) == folded(lead.company)).order_by(Account.id).limit(1)
        ).first()
        account_created = account is None
        if account is None:
            account = Account(name=lead.company, owner_id=actor.user_id, region=lead.region, created_at=at)
            created(session, actor, "account", account, lead.company, at=at)
        deal = Opportunity(
            name=data.deal_name or lead.company,
            account_id=account.id,
            owner_id=actor.user_id,
            amount=data.amount,
            stage="prospecting",
            created_at=at,
            product_id=data.product_id,
            expected_close_date=data.expected_close_date,
            lead_id=lead.id,
        )
        created(session, actor, "opportunity", deal, deal.name, at=at)
        converted = {"status": "converted", "converted_at": at, "opportunity_id": deal.id}
        if lead.owner_id is None:  # a pool lead converted by a manager or admin becomes theirs
            converted["owner_id"] = actor.user_id
        apply(session, actor, ENTITY, lead, converted, at=at)
        return Conversion(
            lead_id=lead.id, account_id=account.id, opportunity_id=deal.id, account_created=account_created
        )


# -- helpers -------------------------------------------------------------------------------------


def _for_edit(session: Session, actor: Actor, lead_id: int, expected_version: int) -> Lead:
    lead = fetch(session, Lead, ENTITY, lead_id)
    require(session, actor, EDIT, ENTITY, lead.owner_id, pool=True)
    check_version(session, ENTITY, lead, expected_version)
    return lead


def _require_open(lead: Lead, done: str) -> None:
    if lead.status not in OPEN_STATUSES:
        raise ValidationFailed({"status": f"Only new, working or qualified leads can be {done}."})


def _require_manager(actor: Actor) -> None:
    if not (actor.is_admin or actor.is_manager):
        raise PermissionDenied("Only managers and admins can assign leads.")


def _require_assignable_rep(session: Session, actor: Actor, owner_id: int) -> None:
    """`owner_id` must be an active rep (of the actor's team, for a manager)."""
    _require_manager(actor)
    rep = session.get(User, owner_id)
    of_team = actor.is_admin or (rep is not None and rep.team_id == actor.team_id)
    if rep is None or not rep.active or rep.role != "rep" or not of_team:
        where = "" if actor.is_admin else " of your team"
        raise ValidationFailed({"owner_id": f"Choose an active rep{where}."})


def _known_region(session: Session, region: str | None) -> str | None:
    """Regions are those of the teams; matched case-insensitively. Free text while no team has one."""
    if region is None:
        return None
    known = sorted(set(session.scalars(select(Team.region).where(Team.region.is_not(None)))))
    if not known:
        return region
    for name in known:
        if name.lower() == region.lower():
            return name
    raise ValidationFailed({"region": f"Choose a region: {', '.join(known)}."})


def _reps_by_region(session: Session, actor: Actor) -> dict[str, list[int]]:
    query = (
        select(Team.region, User.id)
        .join(Team, Team.id == User.team_id)
        .where(User.role == "rep", User.active.is_(True), Team.region.is_not(None))
        .order_by(Team.region, User.id)
    )
    if not actor.is_admin:
        query = query.where(User.team_id == actor.team_id)
    reps: dict[str, list[int]] = {}
    for region, user_id in session.execute(query):
        reps.setdefault(region, []).append(user_id)
    return reps
