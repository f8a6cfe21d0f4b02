"""Customer health of each active customer as of T: a score from 100 down, and its band.

Spec ("Customer health"), all relative to T and looking at all activities of the account:
- last activity before T: none or > 90 days ago -40; > 60 days -25; > 30 days -10;
- each high/urgent ticket open as of T (created before T, resolved_at empty or ≥ T): -10, at most -30;
- each ticket resolved in [T - 90 days, T) that missed its resolution SLA: -5, at most -20;
- latest NPS response before T: 0-6 -20, 9-10 +5;
- clamp to 0…100; ≥ 70 healthy, 40-69 at_risk, < 40 critical.

The score is computed in SQL: the ticket inputs are grouped once per account and left-joined
to the active customers; the latest NPS and the last activity come from the denormalised
columns (or an index seek when those are not before T), and one GROUP BY counts the bands;
only the capped list of weak accounts comes back row by row, with the reasons that cost points.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Connection,
    Engine,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)

from crm_core.dialect import greatest, least, no_index
from crm_core.enums import RESOLUTION_SLA_HOURS, TIERS
from crm_core.models import Account, Activity, NpsResponse, Ticket, User, UTCDateTime
from queries.customers import DETRACTOR_MAX, PROMOTER_MIN, customer_rows_filter, not_churned_at
from queries.filters import NO_FILTERS, Filters, Period, account_row_scope, account_scope
from queries.values import as_int, clamp_limit, table

ACCOUNTS = Account.__table__
ACTIVITIES = Activity.__table__
TICKETS = Ticket.__table__
NPS = NpsResponse.__table__
USERS = User.__table__

BANDS = ("healthy", "at_risk", "critical")
WEAK = BANDS[1:]
ACTIVITY_STEPS = ((90, 40), (60, 25), (30, 10))  # (more than N days, points lost)
TICKET_POINTS, TICKET_CAP = 10, 30
SLA_POINTS, SLA_CAP, SLA_WINDOW = 5, 20, timedelta(days=90)
DETRACTOR_POINTS, PROMOTER_POINTS = 20, 5
HEALTHY_FROM, AT_RISK_FROM = 70, 40
URGENT_PRIORITIES = ("high", "urgent")


def resolution_sla_seconds(priority: ColumnElement[str]) -> ColumnElement[int]:
    """The resolution SLA of a ticket priority, in seconds."""
    return case({p: h * 3600 for p, h in RESOLUTION_SLA_HOURS.items()}, value=priority)


def missed_resolution_sla() -> ColumnElement[bool]:
    """The TICKETS row was resolved later than created_at + its resolution SLA (its stored
    resolution time, `crm_core.rollups`)."""
    return TICKETS.c.resolution_seconds > resolution_sla_seconds(TICKETS.c.priority)


def last_activity_before(at: datetime) -> ColumnElement[datetime]:
    """Latest occurred_at before T of the account's activities (anyone's); NULL when none.

    `accounts.last_activity_at` (denormalised max) answers when it is before T; otherwise seek
    the (account_id, occurred_at) index newest first.
    """
    latest = (
        select(ACTIVITIES.c.occurred_at)
        .where(ACTIVITIES.c.account_id == ACCOUNTS.c.id, ACTIVITIES.c.occurred_at < at)
        .order_by(ACTIVITIES.c.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return type_coerce(
        case((ACCOUNTS.c.last_activity_at < at, ACCOUNTS.c.last_activity_at), else_=latest), UTCDateTime()
    )


def open_urgent_by_account(at: datetime, filters: Filters) -> CTE:
    """Per account: high/urgent tickets open as of T (created before T, resolved_at empty or >= T).

    The backlog is small, so it is read once (two index ranges on resolved_at, no OR) and
    grouped, instead of one correlated count per customer.
    """
    branches = [
        select(TICKETS.c.account_id).where(
            TICKETS.c.resolved_at.is_(None),
            TICKETS.c.created_at < at,
            TICKETS.c.priority.in_(URGENT_PRIORITIES),
            *account_row_scope(TICKETS, filters),
        ),
        select(TICKETS.c.account_id).where(
            TICKETS.c.resolved_at >= at,
            TICKETS.c.created_at < at,
            TICKETS.c.priority.in_(URGENT_PRIORITIES),
            *account_row_scope(TICKETS, filters),
        ),
    ]
    tickets = union_all(*branches).subquery("backlog")
    return (
        select(tickets.c.account_id, func.count().label("n"))
        .group_by(tickets.c.account_id)
        .cte("open_urgent")
        .prefix_with("MATERIALIZED")  # read by the join and by `weak_candidates`: computed once
    )


def missed_sla_by_account(at: datetime, filters: Filters) -> CTE:
    """Per account: tickets resolved in [T - 90 days, T) later than their resolution SLA."""
    return (
        select(TICKETS.c.account_id, func.count().label("n"))
        .where(
            TICKETS.c.resolved_at >= at - SLA_WINDOW,
            TICKETS.c.resolved_at < at,
            missed_resolution_sla(),
            *account_row_scope(TICKETS, filters),
        )
        .group_by(TICKETS.c.account_id)
        .cte("missed_sla")
        .prefix_with("MATERIALIZED")  # read by the join and by `weak_candidates`: computed once
    )


def latest_nps_before(at: datetime) -> ColumnElement[int]:
    """The score of the account's latest NPS response before T (ties: the higher id); NULL if none.

    `accounts.latest_nps_*` (the latest response, `crm_core.rollups`) answers when it is before
    T, or when there is none; otherwise seek (account_id, responded_at), newest first.
    """
    seek = (
        select(NPS.c.score)
        .where(NPS.c.account_id == ACCOUNTS.c.id, NPS.c.responded_at < at)
        .order_by(NPS.c.responded_at.desc(), NPS.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest = ACCOUNTS.c.latest_nps_at
    return case(
        (latest < at, ACCOUNTS.c.latest_nps_score),
        (latest.is_(None), null()),
        else_=seek,
    )


def quiet_days(with_detractor: bool = True) -> int:
    """The shortest silence (days without activity) that can take an account out of healthy on
    its own (`with_detractor=False`: its activity points exceed the 30 points of margin) or
    together with a detractor NPS (its activity points plus the detractor's exceed them)."""
    margin = 100 - HEALTHY_FROM
    extra = DETRACTOR_POINTS if with_detractor else 0
    return min(days for days, points in ACTIVITY_STEPS if points + extra > margin)


def maybe_detractor(at: datetime) -> ColumnElement[bool]:
    """False only when the account's latest NPS before T is known, from the rollup, not to be a
    detractor (or it has no response at all)."""
    latest = ACCOUNTS.c.latest_nps_at
    return or_(latest >= at, ACCOUNTS.c.latest_nps_score <= DETRACTOR_MAX)


def weak_candidates(at: datetime, filters: Filters, urgent: CTE, missed: CTE, worst: str) -> CompoundSelect:
    """Ids of every account that can score below healthy (`worst` = 'at_risk') or below at risk
    (`worst` = 'critical'), read from small index ranges; a superset, scored exactly afterwards.

    An account leaves healthy (< 70) when it loses more than 30 points net. Without ticket or SLA
    points it can only lose activity points and 20 for a detractor NPS: so it needs a last
    activity before T that is none or older than 90 days (40 points, `quiet_days(False)`), or
    older than 60 days (25 points, `quiet_days()`) and a detractor as its latest NPS before T
    (`maybe_detractor`; a 60-90 day silence without one scores 75 or more). A `last_activity_at`
    not before T only the index seek resolves: those are read too. A critical one (< 40) has
    lost more than 60 points, and activity (40) plus a detractor NPS (20) make 60 at most: it has
    ticket or SLA points.
    """
    branches = [select(urgent.c.account_id), select(missed.c.account_id)]
    if worst == "at_risk":
        last = ACCOUNTS.c.last_activity_at
        silent_since = at - timedelta(days=quiet_days(with_detractor=False))
        quiet_since = at - timedelta(days=quiet_days())
        quiet = or_(
            last.is_(None),
            last < silent_since,
            last >= at,
            and_(last >= silent_since, last < quiet_since, maybe_detractor(at)),
        )
        branches.append(select(ACCOUNTS.c.id).where(quiet, *account_scope(ACCOUNTS, filters)))
    return union_all(*branches)  # for IN: duplicates do no harm, and no temp b-tree dedupes them


def components(at: datetime, filters: Filters, worst: str | None = None) -> CTE:
    """One row per active customer as of T kept by the filters, with the raw health inputs:
    account_id, name, owner_id, region, last_activity_at, open_urgent_tickets,
    missed_sla_tickets, latest_nps (NULL without a response).

    With `worst` ('at_risk' or 'critical') only the accounts that can be in that band or a worse
    one are read (`weak_candidates`): every account not returned is healthy (resp. not critical).
    """
    urgent = open_urgent_by_account(at, filters)
    missed = missed_sla_by_account(at, filters)
    joined = ACCOUNTS.outerjoin(urgent, urgent.c.account_id == ACCOUNTS.c.id).outerjoin(
        missed, missed.c.account_id == ACCOUNTS.c.id
    )
    narrowed = (
        [] if worst is None else [ACCOUNTS.c.id.in_(weak_candidates(at, filters, urgent, missed, worst))]
    )
    return (
        select(
            ACCOUNTS.c.id.label("account_id"),
            ACCOUNTS.c.name,
            ACCOUNTS.c.owner_id,
            ACCOUNTS.c.region,
            ACCOUNTS.c.tier,
            last_activity_before(at).label("last_activity_at"),
            func.coalesce(urgent.c.n, 0).label("open_urgent_tickets"),
            func.coalesce(missed.c.n, 0).label("missed_sla_tickets"),
            latest_nps_before(at).label("latest_nps"),
        )
        .select_from(joined)
        .where(*narrowed, *customer_rows_filter(at), *account_scope(ACCOUNTS, filters))
        .cte("health_inputs")
        .prefix_with("MATERIALIZED")  # computed once: SQLite would otherwise inline the
        # correlated last-activity seek into every CASE branch that reads it
    )


def scored(at: datetime, filters: Filters, worst: str | None = None) -> Subquery:
    """`components` plus the points lost per rule, the clamped score and the band (only the
    candidates for `worst` and worse bands when given, see `components`)."""
    c = components(at, filters, worst)
    last = c.c.last_activity_at
    activity_points = case(
        (or_(last.is_(None), last < at - timedelta(days=ACTIVITY_STEPS[0][0])), ACTIVITY_STEPS[0][1]),
        *[(last < at - timedelta(days=days), points) for days, points in ACTIVITY_STEPS[1:]],
        else_=0,
    )
    ticket_points = least(c.c.open_urgent_tickets * TICKET_POINTS, TICKET_CAP)
    sla_points = least(c.c.missed_sla_tickets * SLA_POINTS, SLA_CAP)
    nps_points = case(
        (c.c.latest_nps <= DETRACTOR_MAX, -DETRACTOR_POINTS),
        (c.c.latest_nps >= PROMOTER_MIN, PROMOTER_POINTS),
        else_=0,
    )
    with_points = select(
        c,
        activity_points.label("activity_points"),
        ticket_points.label("ticket_points"),
        sla_points.label("sla_points"),
        nps_points.label("nps_points"),
    ).subquery("health_points")
    p = with_points.c
    raw = literal(100) - p.activity_points - p.ticket_points - p.sla_points + p.nps_points
    score = greatest(0, least(100, raw))
    scored_rows = select(with_points, score.label("score")).subquery("health_scored")
    band = case(
        (scored_rows.c.score >= HEALTHY_FROM, "healthy"),
        (scored_rows.c.score >= AT_RISK_FROM, "at_risk"),
        else_="critical",
    )
    return select(scored_rows, band.label("band")).subquery("health")


def _active_by_tier(conn: Connection, at: datetime, filters: Filters) -> dict[str, int]:
    """Active customers as of T per tier, no scoring: the (tier, first_won_at, churned_at) index
    read in tier order, already grouped (`no_index` keeps SQLite off the first_won_at range,
    which would then sort ~90k customers by tier)."""
    active = (
        select(ACCOUNTS.c.tier, func.count())
        .where(no_index(ACCOUNTS.c.first_won_at) < at, not_churned_at(at), *account_scope(ACCOUNTS, filters))
        .group_by(ACCOUNTS.c.tier)
    )
    return {"(none)" if t is None else t: as_int(n) for t, n in conn.execute(active)}


def _with_healthy(weak: dict[tuple[str, str], int], active: dict[str, int]) -> dict[tuple[str, str], int]:
    """{(tier, band): customers}: healthy is what the weak bands leave of each tier's active ones."""
    counts = dict(weak)
    for t, n in active.items():
        counts[(t, "healthy")] = n - weak.get((t, "at_risk"), 0) - weak.get((t, "critical"), 0)
    return counts


def _band_counts(engine: Engine, at: datetime, filters: Filters) -> dict[tuple[str, str], int]:
    """{(tier, band): active customers}: every active customer is counted, only the candidates
    for a weaker band are scored; healthy = the rest."""
    weak = _weak_by_tier(scored(at, filters, worst="at_risk"))
    with engine.connect() as conn:
        weak_counts = {(t, band): as_int(n) for t, band, n in conn.execute(weak)}
        return _with_healthy(weak_counts, _active_by_tier(conn, at, filters))


def _tier_frame(counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    tiers = [*TIERS, *sorted({t for t, _ in counts} - set(TIERS))]
    rows = [[t, *(counts.get((t, band), 0) for band in BANDS)] for t in tiers]
    frame = pd.DataFrame(rows, columns=["tier", *BANDS])
    frame["customers"] = frame[list(BANDS)].sum(axis=1)
    return frame


def health_by_tier(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """Active customers as of T by tier and band.

    Columns: tier ('A', 'B', 'C', then '(none)' if any account has no tier), healthy, at_risk,
    critical, customers (ints). Tiers without customers are listed with zeros.
    """
    return _tier_frame(_band_counts(engine, period.as_of(as_of), filters))


def bands_of(by_tier: pd.DataFrame) -> dict[str, int]:
    """`health_bands` from a `health_by_tier` frame: every active customer has one tier row."""
    return {band: int(by_tier[band].sum()) for band in BANDS}


def health_bands(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> dict[str, int]:
    """Active customers as of T per band: {'healthy': int, 'at_risk': int, 'critical': int}."""
    return bands_of(health_by_tier(engine, period, filters, as_of))


def _reasons(row: dict[str, Any], at: datetime) -> list[str]:
    """Human-readable reasons for the points an account lost (and the NPS bonus)."""
    reasons = []
    last = row["last_activity_at"]
    if row["activity_points"]:
        if last is None:
            reasons.append(f"no activity before as-of (-{row['activity_points']})")
        else:
            days = (at - last).total_seconds() / 86400
            reasons.append(f"last activity {days:.0f} days ago (-{row['activity_points']})")
    if row["ticket_points"]:
        reasons.append(f"{row['open_urgent_tickets']} open high/urgent ticket(s) (-{row['ticket_points']})")
    if row["sla_points"]:
        reasons.append(f"{row['missed_sla_tickets']} ticket(s) missed SLA in 90 days (-{row['sla_points']})")
    if row["nps_points"] < 0:
        reasons.append(f"latest NPS {row['latest_nps']} (-{-row['nps_points']})")
    elif row["nps_points"] > 0:
        reasons.append(f"latest NPS {row['latest_nps']} (+{row['nps_points']})")
    return reasons


HEALTH_COLUMNS = [
    "account_id",
    "name",
    "owner_id",
    "owner",
    "region",
    "score",
    "band",
    "last_activity_at",
    "days_since_activity",
    "open_urgent_tickets",
    "missed_sla_tickets",
    "latest_nps",
    "activity_points",
    "ticket_points",
    "sla_points",
    "nps_points",
    "reasons",
]


def health_accounts(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    bands: tuple[str, ...] = ("at_risk", "critical"),
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """Active customers as of T in `bands`, weakest first (ties by account_id).

    Columns: HEALTH_COLUMNS — the score, band, raw inputs, points lost per rule (nps_points is
    signed: -20, 0 or +5), days_since_activity (float | None) and `reasons` (list of str).
    """
    at = period.as_of(as_of)
    worst = None if "healthy" in bands else ("at_risk" if "at_risk" in bands else "critical")
    stmt = _listed(scored(at, filters, worst), bands, limit, offset)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    return _accounts_frame(rows, at)


def _listed(h: Subquery, bands: tuple[str, ...], limit: int, offset: int = 0) -> Select:
    """The scored accounts of `bands` with their owner's name, weakest first, one page."""
    return (
        select(h, USERS.c.display_name.label("owner"))
        .select_from(h.outerjoin(USERS, USERS.c.id == h.c.owner_id))
        .where(h.c.band.in_(bands))
        .order_by(h.c.score, h.c.account_id)
        .limit(clamp_limit(limit))
        .offset(max(0, offset))
    )


def _weak_by_tier(h: Subquery, *leading: Any) -> Select:
    """`leading` columns, then tier ('(none)' without one), band and count of the weak scored
    accounts per tier and band."""
    tier = func.coalesce(h.c.tier, "(none)", type_=String)
    return select(*leading, tier, h.c.band, func.count()).where(h.c.band.in_(WEAK)).group_by(tier, h.c.band)


def _accounts_frame(rows: list[dict[str, Any]], at: datetime) -> pd.DataFrame:
    """HEALTH_COLUMNS from scored rows: whole-number points, days since activity, reasons."""
    for row in rows:
        for key in ("score", "activity_points", "ticket_points", "sla_points", "nps_points"):
            row[key] = as_int(row[key])
        last = row["last_activity_at"]
        row["days_since_activity"] = None if last is None else (at - last).total_seconds() / 86400
        row["reasons"] = _reasons(row, at)
    return table(rows, HEALTH_COLUMNS, floats=("days_since_activity", "latest_nps"))


def at_risk_accounts(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """The at-risk and critical customers with their reasons (see `health_accounts`)."""
    return health_accounts(engine, period, filters, as_of, ("at_risk", "critical"), limit, offset)


def health_overview(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    limit: int = 1000,
) -> dict[str, pd.DataFrame]:
    """{'tiers': `health_by_tier`, 'at_risk': `at_risk_accounts` (first `limit`)} from one scoring
    of the weak candidates (the Customer Health page shows both; each alone scores them again).

    One statement: the materialised health inputs feed a UNION ALL of the capped list (kind 0)
    and the weak (tier, band) counts (kind 1), so the candidates are scored once.
    """
    at = period.as_of(as_of)
    h = scored(at, filters, worst="at_risk")
    listed = _listed(h, WEAK, limit).add_columns(
        literal(0).label("kind"),
        cast(null(), String).label("tier_name"),  # typed: PostgreSQL reads a bare NULL as text
        cast(null(), String).label("group_band"),
        cast(null(), BigInteger).label("group_size"),
    )
    counted = _weak_by_tier(h, *(null() for _ in h.c), null(), literal(1))
    names = [*h.c.keys(), "owner", "kind", "tier_name", "group_band", "group_size"]
    with engine.connect() as conn:
        rows = [
            dict(zip(names, r, strict=True))
            for r in conn.execute(union_all(select(listed.subquery()), counted))
        ]
        active = _active_by_tier(conn, at, filters)
    counts = {(r["tier_name"], r["group_band"]): as_int(r["group_size"]) for r in rows if r["kind"] == 1}
    listed_rows = [r for r in rows if r["kind"] == 0]
    return {"tiers": _tier_frame(_with_healthy(counts, active)), "at_risk": _accounts_frame(listed_rows, at)}
