"""The read side of the work pages (My Pipeline, Leads, Deals, Tickets, Targets, Admin).

Every function takes the actor and returns only what that actor may read, by the rules of
`crm_core.permissions`: a rep their own records (plus the unassigned lead pool), a manager their
team's, an admin everything. Lists are capped with `limit` (and paged with `offset`) and come
back as a `WorkList`: the rows of the page and the total that matched. Detail look-ups return a
plain dict, or None when the record does not exist *or* the actor may not read it (the pages say
the same thing in both cases, so an id never reveals whether someone else's record exists).

SQLAlchemy Core only; the same statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)

from crm_core.actor import Actor
from crm_core.audit import utcnow
from crm_core.enums import OPEN_STAGES, STAGE_ORDER, TICKET_ACTIVE_STATUSES
from crm_core.models import (
    Account,
    Activity,
    Lead,
    Opportunity,
    Product,
    Target,
    Team,
    Ticket,
    User,
    UTCDateTime,
)
from crm_core.permissions import visible_owner_ids
from crm_core.services.tickets import sla_due_at
from crm_core.validation import is_valid_id
from queries.values import clamp_limit

LEADS = Lead.__table__
OPP = Opportunity.__table__
ACCOUNTS = Account.__table__
USERS = User.__table__
TEAMS = Team.__table__
PRODUCTS = Product.__table__
TICKETS = Ticket.__table__
ACTIVITIES = Activity.__table__
TARGETS = Target.__table__

LIST_CAP = 200
STALE_AFTER = timedelta(days=14)
OPEN_LEAD_STATUSES = ("new", "working", "qualified")
OWNERS = USERS.alias("owners")
ASSIGNEES = USERS.alias("assignees")


@dataclass(frozen=True)
class WorkList:
    """One page of a worklist: `rows` (at most `limit`) and how many rows matched in all."""

    rows: pd.DataFrame
    total: int

    @property
    def empty(self) -> bool:
        return self.rows.empty

    @property
    def capped(self) -> bool:
        return self.total > len(self.rows)


# -- scope ---------------------------------------------------------------------------------------


def owners_visible_to(engine: Engine, actor: Actor) -> frozenset[int] | None:
    """User ids whose records `actor` may read; None means everyone's (admin)."""
    owners = visible_owner_ids(engine, actor)
    return None if owners is None else frozenset(owners)


def _owned(column: ColumnElement[Any], owners: frozenset[int] | None) -> ColumnElement[bool]:
    """`column` is one of `owners` (always true for None = everyone; never true for NULL)."""
    if owners is None:
        return true()
    if not owners:
        return false()
    return column.in_(sorted(owners))


def _search(term: str | None, *columns: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """Case-insensitive "contains" on any of `columns`; no condition for a blank term."""
    cleaned = (term or "").strip()
    if not cleaned:
        return []
    return [or_(*(func.coalesce(c, "").icontains(cleaned, autoescape=True) for c in columns))]


def _frame(engine: Engine, stmt, columns: list[str] | None = None) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        names = columns or list(result.keys())
        rows = [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in result]
    return pd.DataFrame.from_records(rows, columns=names)


def _page(engine: Engine, stmt, count_stmt, limit: int, offset: int) -> WorkList:
    rows = _frame(engine, stmt.limit(clamp_limit(limit, LIST_CAP * 10)).offset(max(0, int(offset))))
    with engine.connect() as conn:
        total = int(conn.execute(count_stmt).scalar_one() or 0)
    return WorkList(rows=rows, total=total)


def _one(engine: Engine, stmt) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def _ticket_visible(owners: frozenset[int] | None) -> ColumnElement[bool]:
    """A ticket belongs to its assignee and to its account's owner: either grants access.

    Both terms are on the tickets' own indexed columns (the account's owner through the
    accounts they own), so the OR is two index lookups instead of a scan of every ticket.
    """
    if owners is None or not owners:
        return _owned(TICKETS.c.assignee_id, owners)
    owned = ACCOUNTS.alias("owned_accounts")  # not correlated with the joined account
    of_owners = select(owned.c.id).where(_owned(owned.c.owner_id, owners))
    return or_(_owned(TICKETS.c.assignee_id, owners), TICKETS.c.account_id.in_(of_owners))


def _last_touch() -> ColumnElement[datetime]:
    """The deal's last activity (denormalised `last_activity_at`, else the latest activity row),
    else its creation: the "last touch" of the stale-deal rule."""
    latest = (
        select(func.max(ACTIVITIES.c.occurred_at))
        .where(ACTIVITIES.c.opportunity_id == OPP.c.id)
        .scalar_subquery()
    )
    return type_coerce(func.coalesce(OPP.c.last_activity_at, latest, OPP.c.created_at), UTCDateTime())


def _days_since(moments: Iterable[Any], now: datetime) -> list[float | None]:
    out: list[float | None] = []
    for moment in moments:
        if moment is None or pd.isna(moment):
            out.append(None)
        else:
            out.append((now - pd.Timestamp(moment).to_pydatetime()).total_seconds() / 86400)
    return out


# -- people and reference data -------------------------------------------------------------------


def visible_members(engine: Engine, actor: Actor) -> pd.DataFrame:
    """People whose records the actor may read, for owner filters: user_id, display_name, role,
    active. A rep gets only themselves; admins are left out of an admin's list (they own nothing)."""
    owners = owners_visible_to(engine, actor)
    stmt = (
        select(USERS.c.id.label("user_id"), USERS.c.display_name, USERS.c.role, USERS.c.active)
        .where(_owned(USERS.c.id, owners), USERS.c.role != "admin")
        .order_by(USERS.c.active.desc(), USERS.c.display_name, USERS.c.id)
    )
    return _frame(engine, stmt)


def assignable_reps(engine: Engine, actor: Actor) -> pd.DataFrame:
    """Active reps a lead can be given to by `actor`: their team's for a manager, all for an
    admin, none for a rep. Columns: user_id, display_name, team, region."""
    if not (actor.is_admin or actor.is_manager):
        return pd.DataFrame(columns=["user_id", "display_name", "team", "region"])
    stmt = (
        select(
            USERS.c.id.label("user_id"),
            USERS.c.display_name,
            TEAMS.c.name.label("team"),
            TEAMS.c.region,
        )
        .select_from(USERS.outerjoin(TEAMS, TEAMS.c.id == USERS.c.team_id))
        .where(USERS.c.role == "rep", USERS.c.active.is_(True))
        .order_by(USERS.c.display_name, USERS.c.id)
    )
    if actor.is_manager:
        stmt = (
            stmt.where(USERS.c.team_id == actor.team_id) if actor.team_id is not None else stmt.where(false())
        )
    return _frame(engine, stmt)


def ticket_assignees(engine: Engine, actor: Actor) -> pd.DataFrame:
    """Who `actor` may give a ticket to: a rep only themselves, a manager their team's active
    members and themselves, an admin every active user. Columns: user_id, display_name."""
    stmt = select(USERS.c.id.label("user_id"), USERS.c.display_name).where(USERS.c.active.is_(True))
    if actor.is_rep:
        stmt = stmt.where(USERS.c.id == actor.user_id)
    elif actor.is_manager:
        team = USERS.c.team_id == actor.team_id if actor.team_id is not None else false()
        stmt = stmt.where(or_(team, USERS.c.id == actor.user_id))
    return _frame(engine, stmt.order_by(USERS.c.display_name, USERS.c.id))


def user_names(engine: Engine, user_ids: Iterable[int]) -> dict[int, str]:
    """Display names of the given users (for history panels); unknown ids are left out."""
    ids = sorted({int(u) for u in user_ids if u is not None})
    if not ids:
        return {}
    stmt = select(USERS.c.id, USERS.c.display_name).where(USERS.c.id.in_(ids))
    with engine.connect() as conn:
        return {row.id: row.display_name for row in conn.execute(stmt)}


def product_options(engine: Engine) -> pd.DataFrame:
    """Products anyone may pick on a deal: product_id, name, product_line."""
    stmt = select(PRODUCTS.c.id.label("product_id"), PRODUCTS.c.name, PRODUCTS.c.product_line).order_by(
        PRODUCTS.c.product_line, PRODUCTS.c.name, PRODUCTS.c.id
    )
    return _frame(engine, stmt)


def region_options(engine: Engine) -> list[str]:
    """The regions of the teams (the only regions a lead may have while any team has one)."""
    stmt = select(TEAMS.c.region).where(TEAMS.c.region.is_not(None)).distinct().order_by(TEAMS.c.region)
    with engine.connect() as conn:
        return [r for (r,) in conn.execute(stmt)]


def ticket_categories(engine: Engine, limit: int = 50) -> list[str]:
    """Categories already in use, most used first (a new one may still be typed)."""
    stmt = (
        select(TICKETS.c.category)
        .where(TICKETS.c.category.is_not(None))
        .group_by(TICKETS.c.category)
        .order_by(func.count().desc(), TICKETS.c.category)
        .limit(clamp_limit(limit))
    )
    with engine.connect() as conn:
        return [c for (c,) in conn.execute(stmt)]


def editable_accounts(
    engine: Engine, actor: Actor, *, search: str | None = None, limit: int = LIST_CAP
) -> pd.DataFrame:
    """Accounts the actor may open tickets and log activities on: account_id, name, owner.
    A rep's own, a manager's team's, every account for an admin; by name."""
    owners = owners_visible_to(engine, actor)
    stmt = (
        select(ACCOUNTS.c.id.label("account_id"), ACCOUNTS.c.name, OWNERS.c.display_name.label("owner"))
        .select_from(ACCOUNTS.outerjoin(OWNERS, OWNERS.c.id == ACCOUNTS.c.owner_id))
        .where(_owned(ACCOUNTS.c.owner_id, owners), *_search(search, ACCOUNTS.c.name))
        .order_by(ACCOUNTS.c.name, ACCOUNTS.c.id)
        .limit(clamp_limit(limit))
    )
    return _frame(engine, stmt)


# -- my pipeline ---------------------------------------------------------------------------------


PIPELINE_CARD_COLUMNS = [
    "deal_id",
    "name",
    "account",
    "owner_id",
    "owner",
    "amount",
    "stage",
    "expected_close_date",
    "last_touch",
    "days_since_touch",
    "stale",
    "overdue",
]


def pipeline_cards(
    engine: Engine,
    actor: Actor,
    *,
    owner_id: int | None = None,
    per_stage: int = 25,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Open deals the actor may read, at most `per_stage` per stage, largest first.

    `owner_id` narrows to one owner (ignored when outside the actor's scope: nothing is shown).
    Columns: see PIPELINE_CARD_COLUMNS. `stale` = no activity for more than 14 days (the War Room's
    stale-deal rule); `overdue` = the expected close date is in the past."""
    at = now or utcnow()
    owners = owners_visible_to(engine, actor)
    kept = [_owned(OPP.c.owner_id, owners)]
    if owner_id is not None:
        kept.append(OPP.c.owner_id == owner_id)
    # The first `per_stage` ids of each stage (a bounded sort per stage), then the names and last
    # touch of those few cards only: not of every open deal an admin can see.
    firsts = [
        select(OPP.c.id)
        .where(OPP.c.stage == stage, *kept)
        .order_by(OPP.c.amount.desc(), OPP.c.id)
        .limit(max(1, int(per_stage)))
        .subquery()
        for stage in OPEN_STAGES
    ]
    top = union_all(*(select(first.c.id) for first in firsts)).subquery()
    stmt = (
        select(
            OPP.c.id.label("deal_id"),
            OPP.c.name,
            ACCOUNTS.c.name.label("account"),
            OPP.c.owner_id,
            OWNERS.c.display_name.label("owner"),
            OPP.c.amount,
            OPP.c.stage,
            OPP.c.expected_close_date,
            _last_touch().label("last_touch"),
        )
        .select_from(
            OPP.join(top, top.c.id == OPP.c.id)
            .join(ACCOUNTS, ACCOUNTS.c.id == OPP.c.account_id)
            .join(OWNERS, OWNERS.c.id == OPP.c.owner_id)
        )
        .order_by(OPP.c.stage, OPP.c.amount.desc(), OPP.c.id)
    )
    df = _frame(engine, stmt)
    if df.empty:
        return pd.DataFrame(columns=PIPELINE_CARD_COLUMNS)
    df["last_touch"] = pd.to_datetime(df["last_touch"])
    df["days_since_touch"] = _days_since(df["last_touch"], at)
    df["stale"] = [d is not None and d > STALE_AFTER.days for d in df["days_since_touch"]]
    today = at.date()
    df["overdue"] = [isinstance(d, date) and d < today for d in df["expected_close_date"]]
    return df[PIPELINE_CARD_COLUMNS]


def pipeline_totals(
    engine: Engine, actor: Actor, *, owner_id: int | None = None, now: datetime | None = None
) -> pd.DataFrame:
    """Per open stage (in stage order): deals, amount, stale (count), for the board's headers."""
    at = now or utcnow()
    owners = owners_visible_to(engine, actor)
    stale = _last_touch() < at - STALE_AFTER
    stmt = (
        select(
            OPP.c.stage,
            func.count().label("deals"),
            func.coalesce(func.sum(OPP.c.amount), 0).label("amount"),
            func.count().filter(stale).label("stale"),
        )
        .where(OPP.c.stage.in_(OPEN_STAGES), _owned(OPP.c.owner_id, owners))
        .group_by(OPP.c.stage)
    )
    if owner_id is not None:
        stmt = stmt.where(OPP.c.owner_id == owner_id)
    found = {row["stage"]: row for row in _frame(engine, stmt).to_dict("records")}
    rows = [
        {
            "stage": stage,
            "deals": int(found.get(stage, {}).get("deals", 0) or 0),
            "amount": float(found.get(stage, {}).get("amount", 0) or 0),
            "stale": int(found.get(stage, {}).get("stale", 0) or 0),
        }
        for stage in OPEN_STAGES
    ]
    return pd.DataFrame(rows, columns=["stage", "deals", "amount", "stale"])


# -- leads ---------------------------------------------------------------------------------------

LEAD_COLUMNS = [
    LEADS.c.id.label("lead_id"),
    LEADS.c.company,
    LEADS.c.contact_name,
    LEADS.c.email,
    LEADS.c.phone,
    LEADS.c.status,
    LEADS.c.source,
    LEADS.c.region,
    LEADS.c.owner_id,
    OWNERS.c.display_name.label("owner"),
    LEADS.c.created_at,
    LEADS.c.last_activity_at,
]


def _lead_from():
    return LEADS.outerjoin(OWNERS, OWNERS.c.id == LEADS.c.owner_id)


def _lead_visible(owners: frozenset[int] | None) -> ColumnElement[bool]:
    """Own (team's, all) leads plus the pool, which everyone may read."""
    return or_(LEADS.c.owner_id.is_(None), _owned(LEADS.c.owner_id, owners))


def lead_rows(
    engine: Engine,
    actor: Actor,
    *,
    pool: bool | None = None,
    statuses: Iterable[str] | None = None,
    search: str | None = None,
    limit: int = LIST_CAP,
    offset: int = 0,
) -> WorkList:
    """Leads the actor may read, newest first. `pool` True = only the unassigned pool, False = only
    owned leads (the rep's own, the manager's team's), None = both. `statuses` keeps those
    statuses; `search` matches company, contact, email or phone."""
    owners = owners_visible_to(engine, actor)
    where: list[ColumnElement[bool]] = [_lead_visible(owners)]
    if pool is True:
        where.append(LEADS.c.owner_id.is_(None))
    elif pool is False:
        where.append(and_(LEADS.c.owner_id.is_not(None), _owned(LEADS.c.owner_id, owners)))
    chosen = [s for s in (statuses or ()) if s]
    if chosen:
        where.append(LEADS.c.status.in_(chosen))
    where += _search(search, LEADS.c.company, LEADS.c.contact_name, LEADS.c.email, LEADS.c.phone)
    stmt = (
        select(*LEAD_COLUMNS)
        .select_from(_lead_from())
        .where(*where)
        .order_by(LEADS.c.created_at.desc(), LEADS.c.id.desc())
    )
    count = select(func.count()).select_from(LEADS).where(*where)
    return _page(engine, stmt, count, limit, offset)


def pool_size(engine: Engine, actor: Actor) -> int:
    """Open leads in the unassigned pool (everyone may see the pool)."""
    stmt = select(func.count()).where(LEADS.c.owner_id.is_(None), LEADS.c.status.in_(OPEN_LEAD_STATUSES))
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one() or 0)


def lead_detail(engine: Engine, actor: Actor, lead_id: object) -> dict[str, Any] | None:
    """One lead with its owner's name and team and its version, or None (missing or not readable)."""
    if not is_valid_id(lead_id):
        return None
    owners = owners_visible_to(engine, actor)
    stmt = (
        select(
            *LEAD_COLUMNS,
            LEADS.c.converted_at,
            LEADS.c.opportunity_id,
            LEADS.c.disqualify_reason,
            OWNERS.c.team_id.label("owner_team_id"),
            LEADS.c.version,
        )
        .select_from(_lead_from())
        .where(LEADS.c.id == lead_id, _lead_visible(owners))
    )
    return _one(engine, stmt)


# -- deals ---------------------------------------------------------------------------------------


def _deal_from():
    return (
        OPP.join(ACCOUNTS, ACCOUNTS.c.id == OPP.c.account_id)
        .join(OWNERS, OWNERS.c.id == OPP.c.owner_id)
        .outerjoin(PRODUCTS, PRODUCTS.c.id == OPP.c.product_id)
    )


def deal_rows(
    engine: Engine,
    actor: Actor,
    *,
    stage: str = "open",
    owner_id: int | None = None,
    search: str | None = None,
    limit: int = LIST_CAP,
    offset: int = 0,
    now: datetime | None = None,
) -> WorkList:
    """Deals the actor may read. `stage` is a stage name or "open" / "closed" / "all"; open deals
    come in stage order then largest first, closed ones latest first. `search` matches the deal
    and account names. Columns: deal_id, name, account, owner, amount, stage,
    expected_close_date, closed_at, last_touch, days_since_touch, stale."""
    at = now or utcnow()
    owners = owners_visible_to(engine, actor)
    where: list[ColumnElement[bool]] = [_owned(OPP.c.owner_id, owners)]
    if stage == "open":
        where.append(OPP.c.stage.in_(OPEN_STAGES))
    elif stage == "closed":
        where.append(OPP.c.stage.in_(("won", "lost")))
    elif stage != "all":
        where.append(OPP.c.stage == stage)
    if owner_id is not None:
        where.append(OPP.c.owner_id == owner_id)
    searched = _search(search, OPP.c.name, ACCOUNTS.c.name)
    # Every deal has an account: it is joined for the search only.
    source = OPP.join(ACCOUNTS, ACCOUNTS.c.id == OPP.c.account_id) if searched else OPP
    stage_order = case(STAGE_ORDER, value=OPP.c.stage, else_=9)
    order = (OPP.c.closed_at.is_not(None), OPP.c.closed_at.desc(), stage_order, OPP.c.amount.desc(), OPP.c.id)
    # The page's ids first (sorting only the deal columns), then names and last touch for those.
    ids = (
        select(OPP.c.id)
        .select_from(source)
        .where(*where, *searched)
        .order_by(*order)
        .limit(clamp_limit(limit, LIST_CAP * 10))
        .offset(max(0, int(offset)))
        .subquery()
    )
    stmt = (
        select(
            OPP.c.id.label("deal_id"),
            OPP.c.name,
            ACCOUNTS.c.name.label("account"),
            OWNERS.c.display_name.label("owner"),
            OPP.c.amount,
            OPP.c.stage,
            OPP.c.expected_close_date,
            OPP.c.closed_at,
            _last_touch().label("last_touch"),
        )
        .select_from(_deal_from().join(ids, ids.c.id == OPP.c.id))
        .order_by(*order)
    )
    count = select(func.count()).select_from(source).where(*where, *searched)
    page = _page(engine, stmt, count, limit, 0)  # `ids` holds the page: no second offset
    df = page.rows
    if df.empty:
        df = pd.DataFrame(columns=[*df.columns, "days_since_touch", "stale"])
    else:
        df["last_touch"] = pd.to_datetime(df["last_touch"])
        days = _days_since(df["last_touch"], at)
        df["days_since_touch"] = days
        df["stale"] = [
            s in OPEN_STAGES and d is not None and d > STALE_AFTER.days
            for s, d in zip(df["stage"], days, strict=True)
        ]
    return WorkList(rows=df, total=page.total)


def deal_detail(
    engine: Engine, actor: Actor, deal_id: object, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """One deal with account, owner and product names, last touch and version; None when it does
    not exist or the actor may not read it."""
    if not is_valid_id(deal_id):
        return None
    at = now or utcnow()
    owners = owners_visible_to(engine, actor)
    stmt = (
        select(
            OPP.c.id.label("deal_id"),
            OPP.c.name,
            OPP.c.account_id,
            ACCOUNTS.c.name.label("account"),
            OPP.c.owner_id,
            OWNERS.c.display_name.label("owner"),
            OPP.c.amount,
            OPP.c.stage,
            OPP.c.product_id,
            PRODUCTS.c.name.label("product"),
            OPP.c.expected_close_date,
            OPP.c.created_at,
            OPP.c.closed_at,
            OPP.c.lost_reason,
            OPP.c.lead_id,
            _last_touch().label("last_touch"),
            OPP.c.version,
        )
        .select_from(_deal_from())
        .where(OPP.c.id == deal_id, _owned(OPP.c.owner_id, owners))
    )
    row = _one(engine, stmt)
    if row is None:
        return None
    row["amount"] = float(row["amount"])
    (days,) = _days_since([row["last_touch"]], at)
    row["days_since_touch"] = days
    row["stale"] = row["stage"] in OPEN_STAGES and days is not None and days > STALE_AFTER.days
    return row


def activity_rows(
    engine: Engine,
    actor: Actor,
    *,
    deal_id: int | None = None,
    lead_id: int | None = None,
    limit: int = 50,
) -> pd.DataFrame:
    """Latest activities on one deal or lead the actor may read (anyone's activities on it):
    occurred_at, type, subject, user. Empty when the record is not readable."""
    columns = ["activity_id", "occurred_at", "type", "subject", "user"]
    if deal_id is not None:
        if deal_detail(engine, actor, deal_id) is None:
            return pd.DataFrame(columns=columns)
        about = ACTIVITIES.c.opportunity_id == deal_id
    elif lead_id is not None:
        if lead_detail(engine, actor, lead_id) is None:
            return pd.DataFrame(columns=columns)
        about = ACTIVITIES.c.lead_id == lead_id
    else:
        return pd.DataFrame(columns=columns)
    stmt = (
        select(
            ACTIVITIES.c.id.label("activity_id"),
            ACTIVITIES.c.occurred_at,
            ACTIVITIES.c.type,
            ACTIVITIES.c.subject,
            USERS.c.display_name.label("user"),
        )
        .select_from(ACTIVITIES.join(USERS, USERS.c.id == ACTIVITIES.c.user_id))
        .where(about)
        .order_by(ACTIVITIES.c.occurred_at.desc(), ACTIVITIES.c.id.desc())
        .limit(clamp_limit(limit))
    )
    return _frame(engine, stmt, columns)


# -- tickets -------------------------------------------------------------------------------------


def _ticket_from():
    return TICKETS.join(ACCOUNTS, ACCOUNTS.c.id == TICKETS.c.account_id).outerjoin(
        ASSIGNEES, ASSIGNEES.c.id == TICKETS.c.assignee_id
    )


TICKET_COLUMNS = [
    TICKETS.c.id.label("ticket_id"),
    TICKETS.c.subject,
    TICKETS.c.account_id,
    ACCOUNTS.c.name.label("account"),
    TICKETS.c.priority,
    TICKETS.c.status,
    TICKETS.c.category,
    TICKETS.c.channel,
    TICKETS.c.assignee_id,
    ASSIGNEES.c.display_name.label("assignee"),
    TICKETS.c.created_at,
    TICKETS.c.first_response_at,
    TICKETS.c.resolved_at,
    TICKETS.c.csat,
]


@dataclass(frozen=True)
class _TicketTimes:
    priority: str
    created_at: datetime


def sla_state(
    priority: str,
    created_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """Due times (services.tickets.sla_due_at) and whether each SLA is breached: met late, or
    still open past its due time."""
    due = sla_due_at(_TicketTimes(priority=priority, created_at=created_at))
    first = first_response_at if first_response_at is not None else now
    done = resolved_at if resolved_at is not None else now
    return {
        "first_response_due": due.first_response,
        "resolution_due": due.resolution,
        "first_response_breached": first > due.first_response,
        "resolution_breached": done > due.resolution,
    }


def _with_sla(df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    states = [
        sla_state(
            p,
            pd.Timestamp(c).to_pydatetime(),
            None if f is None or pd.isna(f) else pd.Timestamp(f).to_pydatetime(),
            None if r is None or pd.isna(r) else pd.Timestamp(r).to_pydatetime(),
            now,
        )
        for p, c, f, r in zip(
            df["priority"], df["created_at"], df["first_response_at"], df["resolved_at"], strict=True
        )
    ]
    for key in ("first_response_due", "resolution_due", "first_response_breached", "resolution_breached"):
        df[key] = [s[key] for s in states]
    df["breached"] = [s["first_response_breached"] or s["resolution_breached"] for s in states]
    return df


def ticket_rows(
    engine: Engine,
    actor: Actor,
    *,
    status: str = "active",
    priority: str | None = None,
    search: str | None = None,
    mine: bool = False,
    limit: int = LIST_CAP,
    offset: int = 0,
    now: datetime | None = None,
) -> WorkList:
    """Tickets the actor may read (assigned to, or on an account of, someone in scope): urgent
    first, then oldest first. `status` is a ticket status, "active" (not resolved/closed) or "all";
    `mine` keeps the tickets assigned to the actor. Adds the SLA due times and breach flags."""
    at = now or utcnow()
    owners = owners_visible_to(engine, actor)
    where: list[ColumnElement[bool]] = [_ticket_visible(owners)]
    if status == "active":
        where.append(TICKETS.c.status.in_(TICKET_ACTIVE_STATUSES))  # a short range of the status index
    elif status != "all":
        where.append(TICKETS.c.status == status)
    if priority:
        where.append(TICKETS.c.priority == priority)
    if mine:
        where.append(TICKETS.c.assignee_id == actor.user_id)
    where += _search(search, TICKETS.c.subject, ACCOUNTS.c.name)
    priority_order = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=TICKETS.c.priority, else_=9)
    stmt = (
        select(*TICKET_COLUMNS)
        .select_from(_ticket_from())
        .where(*where)
        .order_by(TICKETS.c.resolved_at.is_not(None), priority_order, TICKETS.c.created_at, TICKETS.c.id)
    )
    count = (
        select(func.count())
        .select_from(TICKETS.join(ACCOUNTS, ACCOUNTS.c.id == TICKETS.c.account_id))
        .where(*where)
    )
    page = _page(engine, stmt, count, limit, offset)
    df = page.rows
    if df.empty:
        extra = [
            "first_response_due",
            "resolution_due",
            "first_response_breached",
            "resolution_breached",
            "breached",
        ]
        return WorkList(rows=pd.DataFrame(columns=[*df.columns, *extra]), total=page.total)
    return WorkList(rows=_with_sla(df, at), total=page.total)


def ticket_detail(
    engine: Engine, actor: Actor, ticket_id: object, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """One ticket with account and assignee names, SLA due times and breach flags, and version."""
    if not is_valid_id(ticket_id):
        return None
    owners = owners_visible_to(engine, actor)
    stmt = (
        select(*TICKET_COLUMNS, ACCOUNTS.c.owner_id.label("account_owner_id"), TICKETS.c.version)
        .select_from(_ticket_from())
        .where(TICKETS.c.id == ticket_id, _ticket_visible(owners))
    )
    row = _one(engine, stmt)
    if row is None:
        return None
    row.update(
        sla_state(
            row["priority"], row["created_at"], row["first_response_at"], row["resolved_at"], now or utcnow()
        )
    )
    return row


# -- targets -------------------------------------------------------------------------------------


def target_grid(engine: Engine, actor: Actor, month: date) -> pd.DataFrame:
    """The reps whose target for `month` the actor may set, with the target if any: a manager's
    active team reps, every active rep for an admin, nobody for a rep.

    Columns: user_id, rep, team, amount (float or NaN), version (int or None), won (float: the
    amount won by the rep in that month, by closed_at)."""
    columns = ["user_id", "rep", "team", "amount", "version", "won"]
    if not (actor.is_admin or actor.is_manager):
        return pd.DataFrame(columns=columns)
    first = month.replace(day=1)
    after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    won = (
        select(func.coalesce(func.sum(OPP.c.amount), 0))
        .where(
            OPP.c.owner_id == USERS.c.id,
            OPP.c.stage == "won",
            OPP.c.closed_at >= datetime.combine(first, datetime.min.time()),
            OPP.c.closed_at < datetime.combine(after, datetime.min.time()),
        )
        .scalar_subquery()
    )
    stmt = (
        select(
            USERS.c.id.label("user_id"),
            USERS.c.display_name.label("rep"),
            TEAMS.c.name.label("team"),
            TARGETS.c.amount,
            TARGETS.c.version,
            won.label("won"),
        )
        .select_from(
            USERS.outerjoin(TEAMS, TEAMS.c.id == USERS.c.team_id).outerjoin(
                TARGETS, and_(TARGETS.c.user_id == USERS.c.id, TARGETS.c.month == first)
            )
        )
        .where(USERS.c.role == "rep", USERS.c.active.is_(True))
        .order_by(TEAMS.c.name, USERS.c.display_name, USERS.c.id)
    )
    if actor.is_manager:
        stmt = (
            stmt.where(USERS.c.team_id == actor.team_id) if actor.team_id is not None else stmt.where(false())
        )
    df = _frame(engine, stmt, columns)
    df["amount"] = df["amount"].astype("float64")
    df["won"] = df["won"].astype("float64")
    df["version"] = pd.Series(
        [None if v is None or pd.isna(v) else int(v) for v in df["version"]], index=df.index, dtype=object
    )
    return df


# -- admin ---------------------------------------------------------------------------------------


def user_rows(engine: Engine, actor: Actor) -> pd.DataFrame:
    """Every user, for admins (nobody else gets a row): user_id, username, display_name, role,
    team_id, team, email, active, locked_until, version."""
    columns = [
        "user_id",
        "username",
        "display_name",
        "role",
        "team_id",
        "team",
        "email",
        "active",
        "locked_until",
        "version",
    ]
    if not actor.is_admin:
        return pd.DataFrame(columns=columns)
    stmt = (
        select(
            USERS.c.id,
            USERS.c.username,
            USERS.c.display_name,
            USERS.c.role,
            USERS.c.team_id,
            TEAMS.c.name,
            USERS.c.email,
            USERS.c.active,
            USERS.c.locked_until,
            USERS.c.version,
        )
        .select_from(USERS.outerjoin(TEAMS, TEAMS.c.id == USERS.c.team_id))
        .order_by(USERS.c.active.desc(), USERS.c.role, USERS.c.display_name, USERS.c.id)
    )
    return _frame(engine, stmt, columns)


def team_rows(engine: Engine, actor: Actor) -> pd.DataFrame:
    """Teams with their member counts: team_id, name, region, version, members, active_members.
    Admins get every team; others their own (or none)."""
    member = USERS.alias("members")
    stmt = (
        select(
            TEAMS.c.id.label("team_id"),
            TEAMS.c.name,
            TEAMS.c.region,
            TEAMS.c.version,
            func.count(member.c.id).label("members"),
            func.count(member.c.id).filter(member.c.active.is_(True)).label("active_members"),
        )
        .select_from(TEAMS.outerjoin(member, member.c.team_id == TEAMS.c.id))
        .group_by(TEAMS.c.id, TEAMS.c.name, TEAMS.c.region, TEAMS.c.version)
        .order_by(TEAMS.c.name, TEAMS.c.id)
    )
    if not actor.is_admin:
        stmt = stmt.where(TEAMS.c.id == actor.team_id) if actor.team_id is not None else stmt.where(false())
    return _frame(engine, stmt)
