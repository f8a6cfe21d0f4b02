"""Open business as of T: open deals, pipeline, weighted pipeline (stage as of T), stale deals.

Spec: "open as of T" = created_at < T and (closed_at empty or closed_at >= T). The stage as of T
is the `to_stage` of the latest stage_history row before T; without one, the current stage when
the deal has no history at all (imported without history), else `prospecting`. Both the stage
as of T and the last touch of a deal are correlated subqueries that seek the composite indexes
(opportunity_id, changed_at) and (opportunity_id, occurred_at), newest first, LIMIT 1.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)

from crm_core.dialect import cents, no_index
from crm_core.enums import CLOSED_STAGES, OPEN_STAGES, STAGE_PROBABILITY
from crm_core.models import Account, Activity, Opportunity, Product, StageHistory, User, UTCDateTime
from queries.filters import NO_FILTERS, Filters, Period, opportunity_scope
from queries.values import as_int, clamp_limit, frame, money

OPP = Opportunity.__table__
HISTORY = StageHistory.__table__
ACTIVITIES = Activity.__table__
PRODUCTS = Product.__table__
ACCOUNTS = Account.__table__
USERS = User.__table__

STALE_AFTER = timedelta(days=14)
# Probabilities as whole percents, so Σ cents x percent stays an exact integer.
PROBABILITY_PERCENT = {stage: round(p * 100) for stage, p in STAGE_PROBABILITY.items()}


def open_as_of(as_of: datetime) -> list[ColumnElement[bool]]:
    """created_at < T and (closed_at empty or closed_at >= T), as one condition list.

    Readable but slow on big tables (the planner walks the created_at index); the queries use
    `open_deals_select`, which splits the same set into two index-friendly branches.
    """
    return [OPP.c.created_at < as_of, or_(OPP.c.closed_at.is_(None), OPP.c.closed_at >= as_of)]


def open_branches(as_of: datetime) -> list[list[ColumnElement[bool]]]:
    """Open as of T, as two disjoint branches that each seek a stage-led index.

    The check constraint `closed_at IS NULL <=> stage is open` makes these equal to `open_as_of`:
    deals still open now (stage IN open stages) created before T, plus deals closed at or after
    T (stage IN won/lost, closed_at >= T) created before T.
    """
    # `created_at < T` keeps nearly every deal: on SQLite (no range statistics) it must not pick
    # the created_at index over the stage-led covering one, hence `no_index`.
    created_before = no_index(OPP.c.created_at) < as_of
    return [
        [OPP.c.stage.in_(OPEN_STAGES), created_before],
        [OPP.c.stage.in_(CLOSED_STAGES), OPP.c.closed_at >= as_of, created_before],
    ]


def open_deals_select(
    as_of: datetime,
    filters: Filters,
    *columns: Any,
    where: tuple[ColumnElement[bool], ...] = (),
    from_: Any = None,
) -> CompoundSelect:
    """`SELECT columns` over the deals open as of T kept by the filters: a UNION ALL of the two
    `open_branches`, each with the extra `where` conditions, FROM `from_` (default: OPP)."""
    branches = []
    for branch in open_branches(as_of):
        stmt = select(*columns).where(*branch, *opportunity_scope(OPP, filters), *where)
        if from_ is not None:
            stmt = stmt.select_from(from_)
        branches.append(stmt)
    return union_all(*branches)


def stage_as_of(as_of: datetime) -> ColumnElement[str]:
    """The stage of each OPP row as of T (see the module docstring).

    From the `history_*` rollups (`crm_core.rollups`), in order: the latest history row when it is
    before T; the current stage when the rollups are kept (`furthest_stage_order` set) and show
    no history; the second-latest row when it is before T; `prospecting` when the only row is at
    or after T; the third-latest row when it is before T; `prospecting` when the only two rows
    are at or after T. Only deals whose stage changed three times or more at or after T (or
    without rollups) seek their history.
    """
    latest = (
        select(HISTORY.c.to_stage)
        .where(HISTORY.c.opportunity_id == OPP.c.id, HISTORY.c.changed_at < as_of)
        .order_by(HISTORY.c.changed_at.desc(), HISTORY.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    has_history = exists().where(HISTORY.c.opportunity_id == OPP.c.id)
    sought = func.coalesce(latest, case((has_history, literal("prospecting")), else_=OPP.c.stage))
    kept = OPP.c.furthest_stage_order.is_not(None)
    return case(
        (OPP.c.history_changed_at < as_of, OPP.c.history_to_stage),
        (and_(kept, OPP.c.history_changed_at.is_(None)), OPP.c.stage),
        (OPP.c.history_prev_changed_at < as_of, OPP.c.history_prev_to_stage),
        (and_(kept, OPP.c.history_prev_changed_at.is_(None)), literal("prospecting")),
        (OPP.c.history_prev2_changed_at < as_of, OPP.c.history_prev2_to_stage),
        (and_(kept, OPP.c.history_prev2_changed_at.is_(None)), literal("prospecting")),
        else_=sought,
    )


def probability_percent(stage: ColumnElement[str]) -> ColumnElement[int]:
    """p(stage) in whole percent. A closed stage as of T (only for history-less deals closed
    after T, or inconsistent history) has no probability in the spec and weighs 0."""
    return case(PROBABILITY_PERCENT, value=stage, else_=0)


def last_touch(as_of: datetime) -> ColumnElement[datetime]:
    """Latest occurred_at before T of the deal's activities (anyone's), else its created_at.

    `opportunities.last_activity_at` is the denormalised max activity time: when it is before T
    it is the answer; otherwise (later than T, or not maintained) seek the activities index.
    """
    latest = (
        select(ACTIVITIES.c.occurred_at)
        .where(ACTIVITIES.c.opportunity_id == OPP.c.id, ACTIVITIES.c.occurred_at < as_of)
        .order_by(ACTIVITIES.c.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    touched = case((OPP.c.last_activity_at < as_of, OPP.c.last_activity_at), else_=latest)
    return type_coerce(func.coalesce(touched, OPP.c.created_at), UTCDateTime())


def pipeline_summary(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> dict[str, Any]:
    """Deals open as of T in one scan.

    Returns {'open_deals': int, 'open_pipeline': float, 'weighted_pipeline': float}.
    """
    at = period.as_of(as_of)
    inner = open_deals_select(
        at, filters, cents(OPP.c.amount).label("c"), probability_percent(stage_as_of(at)).label("pct")
    ).subquery()
    stmt = select(func.count(), func.sum(inner.c.c), func.sum(inner.c.c * inner.c.pct))
    with engine.connect() as conn:
        count, total_cents, weighted_cent_percents = conn.execute(stmt).one()
    return {
        "open_deals": as_int(count),
        "open_pipeline": money(total_cents),
        "weighted_pipeline": money(weighted_cent_percents, 10_000),
    }


def open_deals(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Count of opportunities open as of T."""
    return pipeline_summary(engine, period, filters, as_of)["open_deals"]


def open_pipeline(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float:
    """Σ amount of opportunities open as of T."""
    return pipeline_summary(engine, period, filters, as_of)["open_pipeline"]


def weighted_pipeline(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> float:
    """Σ amount x p(stage as of T) over opportunities open as of T."""
    return pipeline_summary(engine, period, filters, as_of)["weighted_pipeline"]


def stale_condition(as_of: datetime) -> ColumnElement[bool]:
    """Last touch before T - 14 days."""
    return last_touch(as_of) < as_of - STALE_AFTER


def stale_deals(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> int:
    """Count of deals open as of T whose last touch is before T - 14 days."""
    at = period.as_of(as_of)
    inner = open_deals_select(at, filters, OPP.c.id, where=(stale_condition(at),)).subquery()
    stmt = select(func.count()).select_from(inner)
    with engine.connect() as conn:
        return as_int(conn.execute(stmt).scalar())


# --- charts and tables -----------------------------------------------------------------------


def _open_with_stage(at: datetime, filters: Filters):
    return open_deals_select(
        at,
        filters,
        OPP.c.id,
        OPP.c.product_id,
        cents(OPP.c.amount).label("c"),
        stage_as_of(at).label("stage"),
    ).subquery()


def _pipeline_frame(rows: list[tuple[Any, Any, Any, Any]], key: str) -> pd.DataFrame:
    data = [
        {key: k, "deals": as_int(n), "amount": money(c), "weighted": money(w, 10_000)} for k, n, c, w in rows
    ]
    return pd.DataFrame(data, columns=[key, "deals", "amount", "weighted"])


AS_OF = bindparam("as_of", type_=UTCDateTime())
"""T as a parameter, for statements built once per filters (`_stage_line_statement`)."""


def _stage_line_totals(
    conn: Connection, at: datetime, filters: Filters
) -> list[tuple[str, str, int, int, int]]:
    """(stage as of T, product line, deals, cents, cent-percents) of the deals open as of T: one
    scan grouped by stage and product, then joined to the dozen product rows."""
    rows = conn.execute(_stage_line_statement(filters), {"as_of": at})
    return [(stage, name, as_int(n), as_int(c), as_int(w)) for stage, name, n, c, w in rows]


@lru_cache(maxsize=128)
def _stage_line_statement(filters: Filters) -> Select:
    """Built once per filters with T as a parameter: building this statement (stage as of T in
    two branches) and its cache key took longer than running it for a team's deals."""
    inner = _open_with_stage(AS_OF, filters)
    pct = probability_percent(inner.c.stage)
    grouped = (
        select(
            inner.c.stage,
            inner.c.product_id,
            func.count().label("n"),
            func.sum(inner.c.c).label("c"),
            func.sum(inner.c.c * pct).label("w"),
        )
        .group_by(inner.c.stage, inner.c.product_id)
        .subquery()
    )
    line = func.coalesce(PRODUCTS.c.product_line, "(none)")
    return select(grouped.c.stage, line, grouped.c.n, grouped.c.c, grouped.c.w).select_from(
        grouped.outerjoin(PRODUCTS, PRODUCTS.c.id == grouped.c.product_id)
    )


def _rolled_up(totals: list[tuple[str, str, int, int, int]], by: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in totals:
        summed = out[row[by]]
        for i, value in enumerate(row[2:]):
            summed[i] += value
    return out


def pipeline_breakdown(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> dict[str, pd.DataFrame]:
    """{'by_stage': `pipeline_by_stage`, 'by_product_line': `pipeline_by_product_line`} from one
    scan of the deals open as of T (the Pipeline page shows both)."""
    with engine.connect() as conn:
        totals = _stage_line_totals(conn, period.as_of(as_of), filters)
    stages = _rolled_up(totals, 0)
    ordered = [(s, *stages.pop(s, (0, 0, 0))) for s in OPEN_STAGES] + sorted(
        (s, *v) for s, v in stages.items()
    )
    lines = sorted(((k, *v) for k, v in _rolled_up(totals, 1).items()), key=lambda r: (-r[2], r[0]))
    return {
        "by_stage": _pipeline_frame(ordered, "stage"),
        "by_product_line": _pipeline_frame(lines, "product_line"),
    }


def pipeline_by_stage(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Open pipeline as of T by stage as of T.

    Columns: stage, deals (int), amount (float), weighted (float). One row per open stage in
    stage order (zeros included); a closed stage as of T (inconsistent data) is appended.
    """
    return pipeline_breakdown(engine, period, filters, as_of)["by_stage"]


def pipeline_by_product_line(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Open pipeline as of T by product line ('(none)' for deals without a product).

    Columns: product_line, deals (int), amount (float), weighted (float); sorted by amount desc.
    """
    return pipeline_breakdown(engine, period, filters, as_of)["by_product_line"]


def deal_columns() -> list[Any]:
    """The columns of a deal row in drill-down tables."""
    return [
        OPP.c.id.label("opportunity_id"),
        OPP.c.name,
        OPP.c.account_id,
        ACCOUNTS.c.name.label("account"),
        OPP.c.owner_id,
        USERS.c.display_name.label("owner"),
        OPP.c.amount,
        OPP.c.stage,
        PRODUCTS.c.product_line,
        OPP.c.created_at,
        OPP.c.closed_at,
        OPP.c.lost_reason,
    ]


def deal_from():
    """OPP joined to its account, owner and (optional) product, for deal rows."""
    return (
        OPP.join(ACCOUNTS, ACCOUNTS.c.id == OPP.c.account_id)
        .join(USERS, USERS.c.id == OPP.c.owner_id)
        .outerjoin(PRODUCTS, PRODUCTS.c.id == OPP.c.product_id)
    )


def open_deal_rows(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
    stage: str | None = None,
) -> pd.DataFrame:
    """Deals open as of T, largest first (ties by id); with `stage`, only those whose stage as
    of T is that stage (the drill-down of `pipeline_by_stage`).

    Columns: the deal columns (see `deal_columns`) plus stage_as_of and probability (float).
    """
    at = period.as_of(as_of)
    # Page first on the deal's own columns, then join and look up the stage as of T for the
    # page only (not for every open deal).
    where = () if stage is None else (stage_as_of(at) == stage,)
    union = open_deals_select(at, filters, OPP.c.id, OPP.c.amount, where=where)
    keys = union.selected_columns
    page = (
        union.order_by(keys.amount.desc(), keys.id)
        .limit(clamp_limit(limit))
        .offset(max(0, offset))
        .subquery("page")
    )
    stage_now = stage_as_of(at)
    stmt = (
        select(
            *deal_columns(),
            stage_now.label("stage_as_of"),
            (probability_percent(stage_now) / 100.0).label("probability"),
        )
        .select_from(page.join(deal_from(), OPP.c.id == page.c.id))
        .order_by(OPP.c.amount.desc(), OPP.c.id)
    )
    with engine.connect() as conn:
        return frame(conn, stmt)


def stale_deal_rows(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """The stale deals as of T, longest untouched first (ties by id).

    Columns: the deal columns plus last_touch (datetime) and days_since_touch (float).
    """
    at = period.as_of(as_of)
    # Page first on (last touch, id) from the covering stage-led index, then join account, owner
    # and product for the page only (not for every open deal).
    touch = last_touch(at)
    union = open_deals_select(
        at, filters, OPP.c.id, touch.label("last_touch"), where=(touch < at - STALE_AFTER,)
    )
    keys = union.selected_columns
    page = (
        union.order_by(keys.last_touch, keys.id)
        .limit(clamp_limit(limit))
        .offset(max(0, offset))
        .subquery("page")
    )
    stmt = (
        select(*deal_columns(), page.c.last_touch)
        .select_from(page.join(deal_from(), OPP.c.id == page.c.id))
        .order_by(page.c.last_touch, page.c.id)
    )
    with engine.connect() as conn:
        df = frame(conn, stmt)
    df["days_since_touch"] = [(at - t).total_seconds() / 86400 for t in df["last_touch"]]
    return df
