"""Service: tickets opened, resolved and in backlog, resolution SLA, first response, CSAT.

Spec ("Service"): resolution SLA urgent 4 h, high 24 h, normal 72 h, low 120 h and first-response
SLA urgent 1 h, high 4 h, normal 8 h, low 24 h, both counted from created_at. A ticket resolved
exactly at its SLA met it. Tickets are kept by their account (owner in U, region);
product_line does not act on service.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, literal, or_, select

from crm_core.dialect import month_key, no_index, seconds_between
from crm_core.enums import FIRST_RESPONSE_SLA_HOURS, RESOLUTION_SLA_HOURS, TICKET_PRIORITIES
from crm_core.models import Account, Ticket, UTCDateTime
from queries.filters import NO_FILTERS, Filters, Period, account_row_scope
from queries.sales import months_of
from queries.values import as_float, as_int, clamp_limit, frame, month_first, ratio, table

TICKETS = Ticket.__table__
ACCOUNTS = Account.__table__

PRIORITY_ORDER = tuple(reversed(TICKET_PRIORITIES))  # urgent first


def _sla_seconds(hours: dict[str, int]) -> ColumnElement[int]:
    return case({p: h * 3600 for p, h in hours.items()}, value=TICKETS.c.priority)


def resolution_seconds() -> ColumnElement[float]:
    """resolved_at - created_at in seconds (the ticket's rollup, `crm_core.rollups`)."""
    return TICKETS.c.resolution_seconds


def first_response_seconds() -> ColumnElement[float]:
    """first_response_at - created_at in seconds (the ticket's rollup)."""
    return TICKETS.c.first_response_seconds


def met_resolution_sla() -> ColumnElement[bool]:
    """resolved_at - created_at ≤ the resolution SLA of the ticket's priority."""
    return resolution_seconds() <= _sla_seconds(RESOLUTION_SLA_HOURS)


def met_first_response_sla() -> ColumnElement[bool]:
    return first_response_seconds() <= _sla_seconds(FIRST_RESPONSE_SLA_HOURS)


def backlog_as_of(at: datetime) -> list[ColumnElement[bool]]:
    """Tickets created before T with resolved_at empty or ≥ T.

    `created_at < T` keeps almost every ticket ever: `no_index` leaves SQLite the two small
    ranges of the resolved_at index (NULL, and ≥ T) instead of walking the created_at index.
    """
    return [
        no_index(TICKETS.c.created_at) < at,
        or_(TICKETS.c.resolved_at.is_(None), TICKETS.c.resolved_at >= at),
    ]


def _kept(filters: Filters) -> list[ColumnElement[bool]]:
    return account_row_scope(TICKETS, filters)


def service_summary(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> dict[str, Any]:
    """Every service metric of P.

    Returns {'tickets_opened': int, 'tickets_resolved': int, 'ticket_backlog': int,
    'sla_met_rate': float | None, 'avg_first_response_hours': float | None, 'csat': float | None}.
    """
    return service_summaries(engine, [(period, as_of)], filters)[0]


def service_summaries(
    engine: Engine, periods: list[tuple[Period, datetime | None]], filters: Filters = NO_FILTERS
) -> list[dict[str, Any]]:
    """`service_summary` of several periods. Without a team or rep filter, three index ranges per
    period (tickets created in P, resolved in P, the backlog as of T). A team's or a rep's
    accounts have few tickets: one statement reads each of them once, with a FILTER per figure
    and period (six range statements read them six times)."""
    with engine.connect() as conn:
        if filters.by_users:
            items = [item for period, as_of in periods for item in _figures(period, period.as_of(as_of))]
            row = conn.execute(select(*items).where(*_kept(filters))).one()
            return [_service_values(*row[6 * i : 6 * i + 6]) for i in range(len(periods))]
        return [_ranges(conn, period, period.as_of(as_of), filters) for period, as_of in periods]


def _figures(period: Period, at: datetime) -> list[Any]:
    """The six raw figures of P as FILTERed aggregates over any set of tickets."""
    created = and_(*period.contains(TICKETS.c.created_at))
    resolved = and_(*period.contains(TICKETS.c.resolved_at))
    return [
        func.count().filter(created),
        func.avg(first_response_seconds()).filter(created, TICKETS.c.first_response_at.is_not(None)),
        func.count().filter(resolved),
        func.count().filter(resolved, met_resolution_sla()),
        func.avg(TICKETS.c.csat * 1.0).filter(resolved),
        func.count().filter(*backlog_as_of(at)),
    ]


def _ranges(conn: Connection, period: Period, at: datetime, filters: Filters) -> dict[str, Any]:
    """The six raw figures of P from three index ranges."""
    has_response = TICKETS.c.first_response_at.is_not(None)
    opened = select(func.count(), func.avg(first_response_seconds()).filter(has_response)).where(
        *period.contains(TICKETS.c.created_at), *_kept(filters)
    )
    resolved = select(
        func.count(), func.count().filter(met_resolution_sla()), func.avg(TICKETS.c.csat * 1.0)
    ).where(*period.contains(TICKETS.c.resolved_at), *_kept(filters))
    backlog = select(func.count()).where(*backlog_as_of(at), *_kept(filters))
    n_opened, response_seconds = conn.execute(opened).one()
    n_resolved, n_met, mean_csat = conn.execute(resolved).one()
    return _service_values(
        n_opened, response_seconds, n_resolved, n_met, mean_csat, conn.execute(backlog).scalar()
    )


def _service_values(
    n_opened: Any, response_seconds: Any, n_resolved: Any, n_met: Any, mean_csat: Any, n_backlog: Any
) -> dict[str, Any]:
    response = as_float(response_seconds)
    return {
        "tickets_opened": as_int(n_opened),
        "tickets_resolved": as_int(n_resolved),
        "ticket_backlog": as_int(n_backlog),
        "sla_met_rate": ratio(as_int(n_met), as_int(n_resolved)),
        "avg_first_response_hours": None if response is None else response / 3600,
        "csat": as_float(mean_csat),
    }


def tickets_opened(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Tickets with created_at in P."""
    return service_summary(engine, period, filters, as_of)["tickets_opened"]


def tickets_resolved(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Tickets with resolved_at in P."""
    return service_summary(engine, period, filters, as_of)["tickets_resolved"]


def ticket_backlog(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Tickets created before T with resolved_at empty or ≥ T."""
    return service_summary(engine, period, filters, as_of)["ticket_backlog"]


def sla_met_rate(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """Among tickets resolved in P, the share resolved within their resolution SLA."""
    return service_summary(engine, period, filters, as_of)["sla_met_rate"]


def avg_first_response_hours(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """Mean (first_response_at - created_at) in hours over tickets created in P with a response."""
    return service_summary(engine, period, filters, as_of)["avg_first_response_hours"]


def csat(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """Mean csat over tickets resolved in P that have one."""
    return service_summary(engine, period, filters, as_of)["csat"]


# --- charts and tables -----------------------------------------------------------------------


def tickets_by_month(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Per calendar month touching P: tickets opened and resolved inside P, and the backlog at
    the month's end (the earlier of the next month's first instant and the end of P).

    Columns: month (date), opened (int), resolved (int), backlog (int).
    """
    months = months_of(period)
    ends = [
        min(datetime.combine((m + timedelta(days=32)).replace(day=1), datetime.min.time()), period.end_ts)
        for m in months
    ]
    opened_key, resolved_key = month_key(TICKETS.c.created_at), month_key(TICKETS.c.resolved_at)
    opened = (
        select(opened_key, func.count())
        .where(*period.contains(TICKETS.c.created_at), *_kept(filters))
        .group_by(opened_key)
    )
    resolved = (
        select(resolved_key, func.count())
        .where(*period.contains(TICKETS.c.resolved_at), *_kept(filters))
        .group_by(resolved_key)
    )
    backlog = select(*[func.count().filter(*backlog_as_of(end)) for end in ends]).where(
        no_index(TICKETS.c.created_at) < ends[-1],
        or_(TICKETS.c.resolved_at.is_(None), TICKETS.c.resolved_at >= ends[0]),
        *_kept(filters),
    )
    with engine.connect() as conn:
        n_opened = {month_first(k): as_int(n) for k, n in conn.execute(opened)}
        n_resolved = {month_first(k): as_int(n) for k, n in conn.execute(resolved)}
        n_backlog = [as_int(n) for n in conn.execute(backlog).one()]
    rows = [
        {"month": m, "opened": n_opened.get(m, 0), "resolved": n_resolved.get(m, 0), "backlog": b}
        for m, b in zip(months, n_backlog, strict=True)
    ]
    return pd.DataFrame(rows, columns=["month", "opened", "resolved", "backlog"])


def sla_by_priority(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Tickets resolved in P by priority (urgent first, every priority listed).

    Columns: priority, sla_hours (int), resolved (int), met (int), sla_met_rate (float | None).
    """
    stmt = (
        select(TICKETS.c.priority, func.count(), func.count().filter(met_resolution_sla()))
        .where(*period.contains(TICKETS.c.resolved_at), *_kept(filters))
        .group_by(TICKETS.c.priority)
    )
    with engine.connect() as conn:
        found = {p: (as_int(n), as_int(m)) for p, n, m in conn.execute(stmt)}
    rows = []
    for priority in PRIORITY_ORDER:
        n, met = found.get(priority, (0, 0))
        rows.append(
            {
                "priority": priority,
                "sla_hours": RESOLUTION_SLA_HOURS[priority],
                "resolved": n,
                "met": met,
                "sla_met_rate": ratio(met, n),
            }
        )
    return table(rows, ["priority", "sla_hours", "resolved", "met", "sla_met_rate"], floats=("sla_met_rate",))


def first_response_by_priority(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Tickets created in P with a first response, by priority (urgent first, all listed).

    Columns: priority, sla_hours (int), responded (int), avg_first_response_hours (float | None),
    within_sla_rate (float | None).
    """
    stmt = (
        select(
            TICKETS.c.priority,
            func.count(),
            func.avg(first_response_seconds()),
            func.count().filter(met_first_response_sla()),
        )
        .where(
            *period.contains(TICKETS.c.created_at), TICKETS.c.first_response_at.is_not(None), *_kept(filters)
        )
        .group_by(TICKETS.c.priority)
    )
    with engine.connect() as conn:
        found = {p: (as_int(n), as_float(s), as_int(m)) for p, n, s, m in conn.execute(stmt)}
    rows = []
    for priority in PRIORITY_ORDER:
        n, seconds, met = found.get(priority, (0, None, 0))
        rows.append(
            {
                "priority": priority,
                "sla_hours": FIRST_RESPONSE_SLA_HOURS[priority],
                "responded": n,
                "avg_first_response_hours": None if seconds is None else seconds / 3600,
                "within_sla_rate": ratio(met, n),
            }
        )
    columns = ["priority", "sla_hours", "responded", "avg_first_response_hours", "within_sla_rate"]
    return table(rows, columns, floats=("avg_first_response_hours", "within_sla_rate"))


def past_resolution_sla(at: datetime) -> ColumnElement[bool]:
    """created_at + SLA(priority) < T, per priority (checked on the backlog's rows: `no_index`)."""
    return or_(
        *[
            and_(TICKETS.c.priority == p, no_index(TICKETS.c.created_at) < at - timedelta(hours=h))
            for p, h in RESOLUTION_SLA_HOURS.items()
        ]
    )


def breaching_tickets(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """Tickets open as of T (the backlog) already past their resolution SLA, most overdue first.

    Columns: ticket_id, account_id, account, subject, priority, status, assignee_id, created_at,
    first_response_at, sla_hours (int), hours_open (float), hours_overdue (float).
    """
    at = period.as_of(as_of)
    age = seconds_between(literal(at, UTCDateTime()), TICKETS.c.created_at)
    overdue = age - _sla_seconds(RESOLUTION_SLA_HOURS)
    stmt = (
        select(
            TICKETS.c.id.label("ticket_id"),
            TICKETS.c.account_id,
            ACCOUNTS.c.name.label("account"),
            TICKETS.c.subject,
            TICKETS.c.priority,
            TICKETS.c.status,
            TICKETS.c.assignee_id,
            TICKETS.c.created_at,
            TICKETS.c.first_response_at,
            (_sla_seconds(RESOLUTION_SLA_HOURS) / 3600).label("sla_hours"),
            (age / 3600.0).label("hours_open"),
            (overdue / 3600.0).label("hours_overdue"),
        )
        .select_from(TICKETS.join(ACCOUNTS, ACCOUNTS.c.id == TICKETS.c.account_id))
        .where(*backlog_as_of(at), past_resolution_sla(at), *_kept(filters))
        .order_by(overdue.desc(), TICKETS.c.id)
        .limit(clamp_limit(limit))
        .offset(max(0, offset))
    )
    with engine.connect() as conn:
        df = frame(conn, stmt)
    df["sla_hours"] = [int(v) for v in df["sla_hours"]]
    return df
