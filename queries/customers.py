"""Customers: active, new and churned customers, churn, repeat purchase, lifetime value, NPS.

Spec ("Customers"): a customer as of T is an account with ≥ 1 won opportunity closed before T.
The account is the unit the filters act on (owner in U, region); all its won deals count,
whoever owns them, and product_line does not act on customers or NPS.

The customer metrics read the accounts' rollups of their won deals (`first_won_at`,
`second_won_at`, `won_cents`, kept by `crm_core.rollups` on every write): one pass over the
kept customers plus short index ranges of what changed since T answer them for any T
(`customer_summaries`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Subquery, func, or_, select, true

from crm_core.dialect import cents, month_key, no_index
from crm_core.models import Account, NpsResponse, Opportunity
from queries.filters import (
    NO_FILTERS,
    Filters,
    Period,
    account_child_scope,
    account_row_scope,
    account_scope,
    in_users,
)
from queries.sales import months_of
from queries.values import as_int, money, month_first, ratio, table

OPP = Opportunity.__table__
ACCOUNTS = Account.__table__
NPS = NpsResponse.__table__


def won_by_account(as_of: datetime, bound: datetime) -> Subquery:
    """Per account with a win: account_id, won deals closed before T (n, c = cents) and the first
    won closed_at (first_won).

    Scans won deals closed before `bound` (≥ T and ≥ end of P, so `first_won` is exact wherever
    it matters: a first win at or after `bound` is in neither P nor before T). Every account with
    a win is a group, so the pass reads the (account_id, stage, closed_at, amount) index in
    account order (no sort, no table rows): the stage and closed_at conditions are marked
    `no_index`, else SQLite ranges the stage-led index and sorts 300k rows by account.
    """
    before = OPP.c.closed_at < as_of
    return (
        select(
            OPP.c.account_id,
            func.count().filter(before).label("n"),
            func.sum(cents(OPP.c.amount)).filter(before).label("c"),
            func.min(OPP.c.closed_at).label("first_won"),
        )
        .where(no_index(OPP.c.stage) == "won", no_index(OPP.c.closed_at) < bound)
        .group_by(OPP.c.account_id)
        .subquery("won")
    )


def first_wins_in(period: Period, filters: Filters = NO_FILTERS) -> Subquery:
    """Per account kept by the filters whose first won deal closed in P: account_id, first_won
    (its closed_at), from the `first_won_at` rollup (a range of its index)."""
    return (
        select(ACCOUNTS.c.id.label("account_id"), ACCOUNTS.c.first_won_at.label("first_won"))
        .where(*period.contains(ACCOUNTS.c.first_won_at), *account_scope(ACCOUNTS, filters))
        .subquery("first_wins")
    )


def _won_cents_since(moment: datetime, filters: Filters) -> Any:
    """Σ cents of the won deals closed at or after T of the accounts the filters keep (the
    region from the deals' own `account_region`: a region's 25k account ids probed per deal
    took 40 ms at 1M deals)."""
    of_kept = account_row_scope(OPP, filters)
    return (
        select(func.coalesce(func.sum(cents(OPP.c.amount)), 0))
        .where(OPP.c.stage == "won", OPP.c.closed_at >= moment, *of_kept)
        .scalar_subquery()
    )


def not_churned_at(moment: datetime) -> ColumnElement[bool]:
    return or_(ACCOUNTS.c.churned_at.is_(None), ACCOUNTS.c.churned_at >= moment)


def customer_summary(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> dict[str, Any]:
    """Every customer metric in two queries.

    Returns {'active_customers': int, 'new_customers': int, 'churned_customers': int,
    'churn_rate': float | None, 'repeat_purchase_rate': float | None,
    'customer_lifetime_value': float | None}.
    """
    return customer_summaries(engine, [(period, as_of)], filters)[0]


def customer_summaries(
    engine: Engine, periods: list[tuple[Period, datetime | None]], filters: Filters = NO_FILTERS
) -> list[dict[str, Any]]:
    """`customer_summary` for several (period, as_of) pairs — a period and the previous one for
    the KPI deltas — in one statement over the kept accounts' rollups (`crm_core.rollups`).

    One pass over the kept customers counts them all (and their repeat buyers and won amount);
    everything that depends on T is then a short index range of what happened at or after
    it, or of the few churned accounts (`_since_counts`):

    - customers as of T = customers − first wins at or after T (`first_won_at`);
    - repeat customers as of T = repeat customers − second wins at or after T;
    - active as of T = customers as of T − those churned before T;
    - won amount before T = won amount − wins closed at or after T (a range of the won-deal
      index).
    """
    moments = [period.as_of(as_of) for period, as_of in periods]
    scope = account_scope(ACCOUNTS, filters)
    totals = select(
        func.count().label("customers"),
        func.count(ACCOUNTS.c.second_won_at).label("repeat"),
        func.coalesce(func.sum(ACCOUNTS.c.won_cents), 0).label("cents"),
    ).where(ACCOUNTS.c.first_won_at.is_not(None), *scope)
    parts = [totals.subquery("totals"), *_since_counts(periods, moments, _ranged_scope(filters))]
    won_since = [_won_cents_since(at, filters).label(f"won_since_{i}") for i, at in enumerate(moments)]
    stmt = select(*[column for part in parts for column in part.c], *won_since).select_from(parts[0])
    for part in parts[1:]:
        stmt = stmt.join(part, true())
    with engine.connect() as conn:
        row = conn.execute(stmt).one()._mapping
    return [_customer_figures(row, i) for i in range(len(periods))]


def _ranged_scope(filters: Filters) -> list[ColumnElement[bool]]:
    """`account_scope` for the short ranges of `_since_counts`: the region checked on the
    range's rows, not used to lead (SQLite otherwise read the region's 25k accounts thrice)."""
    conditions = in_users(ACCOUNTS.c.owner_id, filters)
    if filters.region is not None:
        conditions.append(no_index(ACCOUNTS.c.region) == filters.region)
    return conditions


def _since_counts(
    periods: list[tuple[Period, datetime | None]], moments: list[datetime], scope: list[Any]
) -> list[Subquery]:
    """Three one-row aggregates over short ranges: first wins since the earliest T or start,
    second wins since the earliest T, and the churned accounts (few; covering index)."""
    first, second, churned = ACCOUNTS.c.first_won_at, ACCOUNTS.c.second_won_at, ACCOUNTS.c.churned_at
    starts = [period.start_ts for period, _ in periods]
    firsts = select(
        *[func.count().filter(first >= at).label(f"first_since_{i}") for i, at in enumerate(moments)],
        *[func.count().filter(first >= s).label(f"first_since_start_{i}") for i, s in enumerate(starts)],
        *[func.count().filter(*p.contains(first)).label(f"new_{i}") for i, (p, _) in enumerate(periods)],
    ).where(first >= min(moments + starts), *scope)
    seconds = select(
        *[func.count().filter(second >= at).label(f"second_since_{i}") for i, at in enumerate(moments)]
    ).where(second >= min(moments), *scope)
    gone = select(
        *[func.count().filter(churned < at, first < at).label(f"gone_{i}") for i, at in enumerate(moments)],
        *[func.count().filter(churned < s, first < s).label(f"gone_start_{i}") for i, s in enumerate(starts)],
        *[
            func.count().filter(*p.contains(churned)).label(f"churned_{i}")
            for i, (p, _) in enumerate(periods)
        ],
    ).where(churned < max(moments + [p.end_ts for p, _ in periods]), *scope)
    return [firsts.subquery("firsts"), seconds.subquery("seconds"), gone.subquery("gone")]


def _customer_figures(row: Any, i: int) -> dict[str, Any]:
    customers = as_int(row["customers"]) - as_int(row[f"first_since_{i}"])
    at_start = as_int(row["customers"]) - as_int(row[f"first_since_start_{i}"])
    repeat = as_int(row["repeat"]) - as_int(row[f"second_since_{i}"])
    churned = as_int(row[f"churned_{i}"])
    lifetime_cents = as_int(row["cents"]) - as_int(row[f"won_since_{i}"])
    return {
        "active_customers": customers - as_int(row[f"gone_{i}"]),
        "new_customers": as_int(row[f"new_{i}"]),
        "churned_customers": churned,
        "churn_rate": ratio(churned, at_start - as_int(row[f"gone_start_{i}"])),
        "repeat_purchase_rate": ratio(repeat, customers),
        "customer_lifetime_value": ratio(money(lifetime_cents), customers),
    }


def active_customers(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Customers as of T with churned_at empty or ≥ T."""
    return customer_summary(engine, period, filters, as_of)["active_customers"]


def new_customers(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Accounts whose first won deal (earliest closed_at among won) is in P."""
    return customer_summary(engine, period, filters, as_of)["new_customers"]


def churned_customers(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Accounts with churned_at in P."""
    return customer_summary(engine, period, filters, as_of)["churned_customers"]


def churn_rate(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """churned_customers / active customers as of the start of P; None when there were none."""
    return customer_summary(engine, period, filters, as_of)["churn_rate"]


def repeat_purchase_rate(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """Among customers as of T, the share with ≥ 2 won deals closed before T."""
    return customer_summary(engine, period, filters, as_of)["repeat_purchase_rate"]


def customer_lifetime_value(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """Σ amount of won deals closed before T / number of customers as of T."""
    return customer_summary(engine, period, filters, as_of)["customer_lifetime_value"]


def new_vs_churned_by_month(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """New and churned customers per calendar month touching P (months without any included).

    Columns: month (date, first day), new_customers (int), churned_customers (int).
    """
    firsts = first_wins_in(period, filters)
    first = firsts.c.first_won
    new_stmt = (
        select(month_key(first), func.count())
        .select_from(firsts.join(ACCOUNTS, ACCOUNTS.c.id == firsts.c.account_id))
        .where(*account_scope(ACCOUNTS, filters))
        .group_by(month_key(first))
    )
    churn_stmt = (
        select(month_key(ACCOUNTS.c.churned_at), func.count())
        .where(*period.contains(ACCOUNTS.c.churned_at), *account_scope(ACCOUNTS, filters))
        .group_by(month_key(ACCOUNTS.c.churned_at))
    )
    with engine.connect() as conn:
        new = {month_first(k): as_int(n) for k, n in conn.execute(new_stmt)}
        churned = {month_first(k): as_int(n) for k, n in conn.execute(churn_stmt)}
    rows = [
        {"month": m, "new_customers": new.get(m, 0), "churned_customers": churned.get(m, 0)}
        for m in months_of(period)
    ]
    return pd.DataFrame(rows, columns=["month", "new_customers", "churned_customers"])


# --- NPS ---------------------------------------------------------------------------------------

DETRACTOR_MAX, PROMOTER_MIN = 6, 9  # NPS: detractors answer 0-6, promoters 9-10
PROMOTER = NPS.c.score >= PROMOTER_MIN
DETRACTOR = NPS.c.score <= DETRACTOR_MAX


def _nps_aggregates() -> list[Any]:
    return [func.count(), func.count().filter(PROMOTER), func.count().filter(DETRACTOR)]


def _nps_value(responses: int, promoters: int, detractors: int) -> float | None:
    """100 x (promoters - detractors) / responses; None without responses."""
    share = ratio(promoters - detractors, responses)
    return None if share is None else 100 * share


def nps_summary(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> dict[str, Any]:
    """Responses in P: {'responses': int, 'promoters': int, 'passives': int, 'detractors': int,
    'nps': float | None}. Promoter 9-10, passive 7-8, detractor 0-6."""
    stmt = select(*_nps_aggregates()).where(
        *period.contains(NPS.c.responded_at), *account_child_scope(NPS.c.account_id, filters)
    )
    with engine.connect() as conn:
        responses, promoters, detractors = (as_int(v) for v in conn.execute(stmt).one())
    return {
        "responses": responses,
        "promoters": promoters,
        "passives": responses - promoters - detractors,
        "detractors": detractors,
        "nps": _nps_value(responses, promoters, detractors),
    }


def nps(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float | None:
    """100 x (promoters - detractors) / responses over responses in P; None without responses."""
    return nps_summary(engine, period, filters, as_of)["nps"]


def nps_trend(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """NPS per calendar month touching P (the parts inside P).

    Columns: month (date), responses (int), promoters (int), detractors (int), nps (float | None).
    """
    key = month_key(NPS.c.responded_at)
    stmt = (
        select(key, *_nps_aggregates())
        .where(*period.contains(NPS.c.responded_at), *account_child_scope(NPS.c.account_id, filters))
        .group_by(key)
    )
    with engine.connect() as conn:
        found = {month_first(k): (as_int(n), as_int(p), as_int(d)) for k, n, p, d in conn.execute(stmt)}
    rows = []
    for month in months_of(period):
        n, p, d = found.get(month, (0, 0, 0))
        rows.append(
            {"month": month, "responses": n, "promoters": p, "detractors": d, "nps": _nps_value(n, p, d)}
        )
    return table(rows, ["month", "responses", "promoters", "detractors", "nps"], floats=("nps",))


def customer_rows_filter(at: datetime) -> list[ColumnElement[bool]]:
    """Conditions on ACCOUNTS for 'active customer as of T' (used by health and drill-downs)."""
    return [ACCOUNTS.c.first_won_at < at, not_churned_at(at)]
