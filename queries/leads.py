"""Leads and activities: new leads, lead conversion, lead sources, the unassigned pool, activities.

Spec: leads are counted by their created_at in P and kept by owner (unassigned leads drop out
under a team/owner filter) and by their *own* region; product_line does not act on leads or
activities. Activities are counted by occurred_at in P, kept by user and by their account's region.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, String, func, select

from crm_core.models import Activity, Lead
from queries.filters import NO_FILTERS, Filters, Period, activity_scope, lead_scope
from queries.values import as_int, clamp_limit, frame, ratio, table

LEADS = Lead.__table__
ACTIVITIES = Activity.__table__

OPEN_LEAD_STATUSES = ("new", "working", "qualified")
CONVERTED = LEADS.c.status == "converted"


def lead_summary(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> dict[str, Any]:
    """Leads created in P in one scan: {'new_leads': int, 'lead_conversion_rate': float | None}.

    The conversion rate is the share of those leads whose status is `converted` (today's status).
    """
    stmt = select(func.count(), func.count().filter(CONVERTED)).where(
        *period.contains(LEADS.c.created_at), *lead_scope(LEADS, filters)
    )
    with engine.connect() as conn:
        total, converted = conn.execute(stmt).one()
    return {"new_leads": as_int(total), "lead_conversion_rate": ratio(as_int(converted), as_int(total))}


def new_leads(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Count of leads with created_at in P."""
    return lead_summary(engine, period, filters, as_of)["new_leads"]


def lead_conversion_rate(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """Among leads created in P, the share with status `converted`; None when there are none."""
    return lead_summary(engine, period, filters, as_of)["lead_conversion_rate"]


def lead_source_conversion(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Leads created in P by source ('(unknown)' when empty).

    Columns: source, leads (int), converted (int), conversion_rate (float | None);
    sorted by leads descending, then source.
    """
    source = func.coalesce(LEADS.c.source, "(unknown)", type_=String())  # not the Enum type
    stmt = (
        select(source, func.count(), func.count().filter(CONVERTED))
        .where(*period.contains(LEADS.c.created_at), *lead_scope(LEADS, filters))
        .group_by(source)
        .order_by(func.count().desc(), source)
    )
    with engine.connect() as conn:
        rows = list(conn.execute(stmt))
    data = [
        {
            "source": s,
            "leads": as_int(n),
            "converted": as_int(c),
            "conversion_rate": ratio(as_int(c), as_int(n)),
        }
        for s, n, c in rows
    ]
    return table(data, ["source", "leads", "converted", "conversion_rate"], floats=("conversion_rate",))


def unassigned_leads(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """The lead pool as of T: leads without owner, created before T, still new/working/qualified.

    Empty under a team/owner filter (unassigned leads have no owner in U). Oldest first.
    Columns: lead_id, company, contact_name, source, region, status, created_at, age_days (float).
    """
    at = period.as_of(as_of)
    stmt = (
        select(
            LEADS.c.id.label("lead_id"),
            LEADS.c.company,
            LEADS.c.contact_name,
            LEADS.c.source,
            LEADS.c.region,
            LEADS.c.status,
            LEADS.c.created_at,
        )
        .where(
            LEADS.c.owner_id.is_(None),
            LEADS.c.status.in_(OPEN_LEAD_STATUSES),
            LEADS.c.created_at < at,
            *lead_scope(LEADS, filters),
        )
        .order_by(LEADS.c.created_at, LEADS.c.id)
        .limit(clamp_limit(limit))
        .offset(max(0, offset))
    )
    with engine.connect() as conn:
        df = frame(conn, stmt)
    df["age_days"] = [(at - t).total_seconds() / 86400 for t in df["created_at"]]
    return df


def activities(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Count of activities with occurred_at in P."""
    stmt = select(func.count()).where(
        *period.contains(ACTIVITIES.c.occurred_at), *activity_scope(ACTIVITIES, filters)
    )
    with engine.connect() as conn:
        return as_int(conn.execute(stmt).scalar())


def activities_by_type(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Activities in P by type. Columns: type, activities (int); sorted by count descending."""
    stmt = (
        select(ACTIVITIES.c.type, func.count().label("activities"))
        .where(*period.contains(ACTIVITIES.c.occurred_at), *activity_scope(ACTIVITIES, filters))
        .group_by(ACTIVITIES.c.type)
        .order_by(func.count().desc(), ACTIVITIES.c.type)
    )
    with engine.connect() as conn:
        return frame(conn, stmt, ["type", "activities"])
