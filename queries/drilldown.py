"""Drill-down rows behind a KPI: the deals, leads, accounts or tickets a number counts.

`rows_for(engine, metric_id, period, filters, as_of, limit, offset)` dispatches on the metric id;
each family also has its own function. Rows use the same conditions as the metric, so a table
under a KPI lists exactly what was counted (capped at `limit`, default 1000, paged by `offset`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, and_, case, func, or_, select

from crm_core.models import Account, Lead, Opportunity, Ticket, User
from queries.customers import won_by_account
from queries.filters import NO_FILTERS, Filters, Period, account_row_scope, account_scope, lead_scope
from queries.pipeline import deal_columns, deal_from, open_deal_rows, stale_deal_rows
from queries.sales import closed_in
from queries.service import backlog_as_of, met_resolution_sla
from queries.values import clamp_limit, frame

OPP = Opportunity.__table__
LEADS = Lead.__table__
ACCOUNTS = Account.__table__
TICKETS = Ticket.__table__
USERS = User.__table__

WON_METRICS = ("bookings", "deals_won", "avg_deal_size", "sales_cycle_days", "attainment")
OPEN_METRICS = ("open_deals", "open_pipeline", "weighted_pipeline")
LEAD_METRICS = ("new_leads", "lead_conversion_rate")
ACCOUNT_METRICS = ("active_customers", "new_customers", "churned_customers", "churn_rate", "repeat_purchase_rate",
                   "customer_lifetime_value")  # fmt: skip
TICKET_METRICS = ("tickets_opened", "tickets_resolved", "ticket_backlog", "sla_met_rate", "csat",
                  "avg_first_response_hours")  # fmt: skip


def _page(stmt: Select, limit: int, offset: int) -> Select:
    return stmt.limit(clamp_limit(limit)).offset(max(0, offset))


def deals_for(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    metric: str = "bookings",
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """The deals behind a deal metric, largest first.

    bookings / deals_won / avg_deal_size / sales_cycle_days / attainment: won in P;
    deals_lost: lost in P; win_rate: won or lost in P (those three add cycle_days);
    open_deals / open_pipeline / weighted_pipeline: open as of T (see `open_deal_rows`);
    stale_deals: see `stale_deal_rows`. Columns: `queries.pipeline.deal_columns` plus extras.
    """
    if metric in OPEN_METRICS:
        return open_deal_rows(engine, period, filters, as_of, limit, offset)
    if metric == "stale_deals":
        return stale_deal_rows(engine, period, filters, as_of, limit, offset)
    stages = {"deals_lost": ("lost",), "win_rate": ("won", "lost")}.get(metric)
    if stages is None:
        if metric not in WON_METRICS:
            raise ValueError(f"no deal drill-down for metric {metric!r}")
        stages = ("won",)
    stmt = (
        select(*deal_columns())
        .select_from(deal_from())
        .where(*closed_in(period, filters), OPP.c.stage.in_(stages))
        .order_by(OPP.c.amount.desc(), OPP.c.id)
    )
    with engine.connect() as conn:
        df = frame(conn, _page(stmt, limit, offset))
    df["cycle_days"] = [
        (c - o).total_seconds() / 86400 for o, c in zip(df["created_at"], df["closed_at"], strict=True)
    ]
    return df


def leads_for(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    metric: str = "new_leads",
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """Leads created in P (new_leads, lead_conversion_rate), newest first.

    Columns: lead_id, company, status, source, region, owner_id, owner, created_at, converted_at.
    """
    stmt = (
        select(
            LEADS.c.id.label("lead_id"),
            LEADS.c.company,
            LEADS.c.status,
            LEADS.c.source,
            LEADS.c.region,
            LEADS.c.owner_id,
            USERS.c.display_name.label("owner"),
            LEADS.c.created_at,
            LEADS.c.converted_at,
        )
        .select_from(LEADS.outerjoin(USERS, USERS.c.id == LEADS.c.owner_id))
        .where(*period.contains(LEADS.c.created_at), *lead_scope(LEADS, filters))
        .order_by(LEADS.c.created_at.desc(), LEADS.c.id)
    )
    with engine.connect() as conn:
        return frame(conn, _page(stmt, limit, offset))


def accounts_for(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    metric: str = "active_customers",
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """The accounts behind a customer metric, by account id.

    active_customers: active as of T; new_customers: first win in P; churned_customers and
    churn_rate: churned in P; repeat_purchase_rate and customer_lifetime_value: every customer as
    of T (churned or not). Columns: account_id, name, owner_id, owner, region, first_won_at,
    won_deals (before T), won_amount (before T), churned_at.
    """
    at = period.as_of(as_of)
    won = won_by_account(at, max(at, period.end_ts))
    conditions = {
        "active_customers": [won.c.n > 0, or_(ACCOUNTS.c.churned_at.is_(None), ACCOUNTS.c.churned_at >= at)],
        "new_customers": [won.c.first_won >= period.start_ts, won.c.first_won < period.end_ts],
        "churned_customers": period.contains(ACCOUNTS.c.churned_at),
        "churn_rate": period.contains(ACCOUNTS.c.churned_at),
        "repeat_purchase_rate": [won.c.n > 0],
        "customer_lifetime_value": [won.c.n > 0],
    }.get(metric)
    if conditions is None:
        raise ValueError(f"no account drill-down for metric {metric!r}")
    stmt = (
        select(
            ACCOUNTS.c.id.label("account_id"),
            ACCOUNTS.c.name,
            ACCOUNTS.c.owner_id,
            USERS.c.display_name.label("owner"),
            ACCOUNTS.c.region,
            won.c.first_won.label("first_won_at"),
            func.coalesce(won.c.n, 0).label("won_deals"),
            (func.coalesce(won.c.c, 0) / 100.0).label("won_amount"),
            ACCOUNTS.c.churned_at,
        )
        .select_from(
            ACCOUNTS.outerjoin(won, won.c.account_id == ACCOUNTS.c.id).outerjoin(
                USERS, USERS.c.id == ACCOUNTS.c.owner_id
            )
        )
        .where(and_(*conditions), *account_scope(ACCOUNTS, filters))
        .order_by(ACCOUNTS.c.id)
    )
    with engine.connect() as conn:
        return frame(conn, _page(stmt, limit, offset))


def tickets_for(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    metric: str = "tickets_opened",
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """The tickets behind a service metric, newest first.

    tickets_opened / avg_first_response_hours: created in P; tickets_resolved / sla_met_rate /
    csat: resolved in P; ticket_backlog: open as of T. Columns: ticket_id, account_id, account,
    subject, priority, status, created_at, first_response_at, resolved_at, csat, sla_met (bool,
    None while unresolved).
    """
    at = period.as_of(as_of)
    where = {
        "tickets_opened": period.contains(TICKETS.c.created_at),
        "avg_first_response_hours": period.contains(TICKETS.c.created_at),
        "tickets_resolved": period.contains(TICKETS.c.resolved_at),
        "sla_met_rate": period.contains(TICKETS.c.resolved_at),
        "csat": period.contains(TICKETS.c.resolved_at),
        "ticket_backlog": backlog_as_of(at),
    }.get(metric)
    if where is None:
        raise ValueError(f"no ticket drill-down for metric {metric!r}")
    met = case((TICKETS.c.resolved_at.is_(None), None), (met_resolution_sla(), True), else_=False)
    stmt = (
        select(
            TICKETS.c.id.label("ticket_id"),
            TICKETS.c.account_id,
            ACCOUNTS.c.name.label("account"),
            TICKETS.c.subject,
            TICKETS.c.priority,
            TICKETS.c.status,
            TICKETS.c.created_at,
            TICKETS.c.first_response_at,
            TICKETS.c.resolved_at,
            TICKETS.c.csat,
            met.label("sla_met"),
        )
        .select_from(TICKETS.join(ACCOUNTS, ACCOUNTS.c.id == TICKETS.c.account_id))
        .where(*where, *account_row_scope(TICKETS, filters))
        .order_by(TICKETS.c.created_at.desc(), TICKETS.c.id)
    )
    with engine.connect() as conn:
        df = frame(conn, _page(stmt, limit, offset))
    df["sla_met"] = [None if v is None else bool(v) for v in df["sla_met"]]
    return df


DrillDown = Callable[..., pd.DataFrame]
_BY_METRIC: dict[str, DrillDown] = {
    **dict.fromkeys((*WON_METRICS, "deals_lost", "win_rate", *OPEN_METRICS, "stale_deals"), deals_for),
    **dict.fromkeys(LEAD_METRICS, leads_for),
    **dict.fromkeys(ACCOUNT_METRICS, accounts_for),
    **dict.fromkeys(TICKET_METRICS, tickets_for),
}


def has_rows(metric_id: str) -> bool:
    """Whether `rows_for` can list what `metric_id` counts."""
    return metric_id in _BY_METRIC


def rows_for(
    engine: Engine,
    metric_id: str,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """The rows behind `metric_id` (see the functions above); ValueError when it has none."""
    fn: Any = _BY_METRIC.get(metric_id)
    if fn is None:
        raise ValueError(f"no drill-down rows for metric {metric_id!r}")
    return fn(engine, period, filters, metric_id, as_of, limit, offset)
