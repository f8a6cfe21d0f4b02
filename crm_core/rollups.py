"""Denormalised rollups that let the dashboards answer from one index instead of a seek per row.

On each opportunity:
- `history_to_stage`, `history_changed_at`: its latest stage_history row (by changed_at, then id),
  NULL without history. For any T after `history_changed_at` that row is the stage as of T.
- `history_prev_to_stage`, `history_prev_changed_at`: the row before it, NULL with fewer than two
  rows. For T between the two, the earlier row is the stage as of T; with one row, a T at or
  before it has no row before T (`prospecting`).
- `history_prev2_to_stage`, `history_prev2_changed_at`: the row before that (the third-latest),
  likewise. So the weighted pipeline seeks stage_history only for deals whose stage changed
  three times or more at or after T.
- `cycle_seconds`: closed_at - created_at in seconds (`seconds_between`), NULL while open: the
  sales cycle of the won deals is a mean of a stored number.
- `furthest_stage_order`: the funnel's furthest stage (metrics.md "Funnel"): the highest order
  among prospecting, every open stage in the history, the current stage when open, and won when
  won now. It depends on no T.
- `account_region`: its account's region. Kept when the deal is written and when its account's
  region changes (`refresh_account_regions`). Its payments carry the same (`refresh_payments`).

On each account (the won deals of the account, whoever owns them):
- `first_won_at`, `second_won_at`: closed_at of its first and second won deal (NULL when fewer);
  a customer as of T has `first_won_at < T`, a repeat customer `second_won_at < T`.
- `won_cents`: Σ amount of its won deals, in cents.
- `latest_nps_at`, `latest_nps_score`: its latest NPS response (by responded_at, then id), NULL
  without one. For any T after `latest_nps_at` that response is the latest before T.

On each ticket: `first_response_seconds`, `resolution_seconds`: seconds from created_at to
first_response_at / resolved_at (`crm_core.dialect.seconds_between`), NULL while there is none.
The SLA and response-time metrics read them from an index instead of a date difference per row.
`account_region`: its account's region, as on deals.

Per user and UTC day (`activity_days`): how many activities the user has on that day (no row for
none). A period is whole UTC days, so a period's activities per user are a sum of these rows.

Kept in the writer's transaction: an ORM flush that touches opportunities, stage history,
activities, tickets, NPS responses or an account's region refreshes the rows involved
(`after_flush` below), and bulk writers (bundle loader, migrations) call `refresh_opportunities`
/ `refresh_accounts` / `refresh_account_nps` / `refresh_tickets` / `refresh_account_regions` /
`refresh_payments` for the ids they wrote. The demo seed computes the same values in numpy;
tests compare every path with these SQL definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    case,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Session

from crm_core.dialect import cents, day_of, greatest, seconds_between
from crm_core.enums import OPEN_STAGES, STAGE_ORDER
from crm_core.models import (
    Account,
    Activity,
    ActivityDay,
    NpsResponse,
    Opportunity,
    Payment,
    StageHistory,
    Ticket,
)
from crm_core.utc import naive_utc

OPP = Opportunity.__table__
HISTORY = StageHistory.__table__
ACCOUNTS = Account.__table__
ACTIVITIES = Activity.__table__
ACTIVITY_DAYS = ActivityDay.__table__
NPS = NpsResponse.__table__
TICKETS = Ticket.__table__
PAYMENTS = Payment.__table__

OPEN_ORDER = {stage: STAGE_ORDER[stage] for stage in OPEN_STAGES}
CHUNK = 500


def furthest_stage_order(opp: Any = OPP, history: Any = HISTORY) -> ColumnElement[int]:
    """The funnel's furthest stage order (1..5) of each `opp` row, computed from its history."""
    in_history = (
        select(func.max(case(OPEN_ORDER, value=history.c.to_stage, else_=0)))
        .where(history.c.opportunity_id == opp.c.id)
        .scalar_subquery()
    )
    current_open = case(OPEN_ORDER, value=opp.c.stage, else_=0)
    return case(
        (opp.c.stage == "won", STAGE_ORDER["won"]),
        else_=greatest(STAGE_ORDER["prospecting"], func.coalesce(in_history, 0), current_open),
    )


def _latest_history(column: Any, offset: int = 0) -> Any:
    return (
        select(column)
        .where(HISTORY.c.opportunity_id == OPP.c.id)
        .order_by(HISTORY.c.changed_at.desc(), HISTORY.c.id.desc())
        .limit(1)
        .offset(offset)
        .scalar_subquery()
    )


def opportunity_rollups() -> dict[str, ColumnElement[Any]]:
    """Column → its definition, correlated to the OPP row being updated."""
    return {
        "history_to_stage": _latest_history(HISTORY.c.to_stage),
        "history_changed_at": _latest_history(HISTORY.c.changed_at),
        "history_prev_to_stage": _latest_history(HISTORY.c.to_stage, 1),
        "history_prev_changed_at": _latest_history(HISTORY.c.changed_at, 1),
        "furthest_stage_order": furthest_stage_order(),
        "history_prev2_to_stage": _latest_history(HISTORY.c.to_stage, 2),
        "history_prev2_changed_at": _latest_history(HISTORY.c.changed_at, 2),
        "cycle_seconds": seconds_between(OPP.c.closed_at, OPP.c.created_at),
        "account_region": _account_region(OPP),
    }


def _account_region(table: Any) -> Any:
    return select(ACCOUNTS.c.region).where(ACCOUNTS.c.id == table.c.account_id).scalar_subquery()


def refresh_account_regions(conn: Connection | Session, account_ids: Iterable[int]) -> None:
    """Copy the region of accounts `account_ids` onto their deals, tickets and payments."""
    account_ids = set(account_ids)
    for table in (OPP, TICKETS):
        _refresh(conn, table, {"account_region": _account_region(table)}, account_ids, table.c.account_id)
    for chunk in _chunks(account_ids):
        deals = select(OPP.c.id).where(OPP.c.account_id.in_(chunk))
        conn.execute(update(PAYMENTS).where(PAYMENTS.c.opportunity_id.in_(deals)).values(payment_rollups()))


def payment_rollups() -> dict[str, ColumnElement[Any]]:
    """Column → its definition, on the PAYMENTS row being updated: its deal's `account_region`
    (refresh the deal first)."""
    region = select(OPP.c.account_region).where(OPP.c.id == PAYMENTS.c.opportunity_id).scalar_subquery()
    return {"account_region": region}


def refresh_payments(
    conn: Connection | Session, ids: Iterable[int] | None = None, deal_ids: Iterable[int] | None = None
) -> None:
    """Recompute the rollups of payments `ids`, or of the payments of deals `deal_ids` (pass one
    of them), or of every payment when both are None."""
    if deal_ids is not None:
        _refresh(conn, PAYMENTS, payment_rollups(), deal_ids, PAYMENTS.c.opportunity_id)
    else:
        _refresh(conn, PAYMENTS, payment_rollups(), ids)


def _won_of_account() -> list[ColumnElement[bool]]:
    return [OPP.c.account_id == ACCOUNTS.c.id, OPP.c.stage == "won"]


def _nth_win(offset: int) -> Any:
    return (
        select(OPP.c.closed_at)
        .where(*_won_of_account())
        .order_by(OPP.c.closed_at)
        .limit(1)
        .offset(offset)
        .scalar_subquery()
    )


def account_rollups() -> dict[str, ColumnElement[Any]]:
    """Column → its definition, correlated to the ACCOUNTS row being updated."""
    won_cents = select(func.coalesce(func.sum(cents(OPP.c.amount)), 0)).where(*_won_of_account())
    return {
        "first_won_at": _nth_win(0),
        "second_won_at": _nth_win(1),
        "won_cents": won_cents.scalar_subquery(),
    }


def _latest_nps(column: Any) -> Any:
    return (
        select(column)
        .where(NPS.c.account_id == ACCOUNTS.c.id)
        .order_by(NPS.c.responded_at.desc(), NPS.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def nps_rollups() -> dict[str, ColumnElement[Any]]:
    """Column → its definition, correlated to the ACCOUNTS row being updated."""
    return {"latest_nps_at": _latest_nps(NPS.c.responded_at), "latest_nps_score": _latest_nps(NPS.c.score)}


def _chunks(ids: Iterable[int] | None) -> Iterator[list[int] | None]:
    if ids is None:
        yield None
        return
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def refresh_opportunities(
    conn: Connection | Session, ids: Iterable[int] | None = None, columns: Iterable[str] | None = None
) -> None:
    """Recompute the opportunity rollups of `ids` (every opportunity when None); `columns`
    limits it to some of them (a migration fills only the columns its revision adds)."""
    _refresh(conn, OPP, _only(opportunity_rollups(), columns), ids)


def _only(definitions: dict[str, ColumnElement[Any]], columns: Iterable[str] | None) -> dict[str, Any]:
    return definitions if columns is None else {name: definitions[name] for name in columns}


def _refresh(
    conn: Connection | Session,
    table: Any,
    definitions: dict[str, ColumnElement[Any]],
    ids: Iterable[int] | None,
    key: Any = None,
) -> None:
    """UPDATE `table` SET each column to its definition, for the rows whose `key` (default: id)
    is in `ids` (every row when None)."""
    key = table.c.id if key is None else key
    for chunk in _chunks(ids):
        stmt = update(table).values(definitions)
        conn.execute(stmt if chunk is None else stmt.where(key.in_(chunk)))


def refresh_accounts(conn: Connection | Session, ids: Iterable[int] | None = None) -> None:
    """Recompute the customer rollups of accounts `ids` (every account when None)."""
    _refresh(conn, ACCOUNTS, account_rollups(), ids)


def refresh_account_nps(conn: Connection | Session, ids: Iterable[int] | None = None) -> None:
    """Recompute the latest NPS response of accounts `ids` (every account when None)."""
    _refresh(conn, ACCOUNTS, nps_rollups(), ids)


def ticket_rollups() -> dict[str, ColumnElement[Any]]:
    """Column → its definition, on the TICKETS row being updated."""
    return {
        "first_response_seconds": seconds_between(TICKETS.c.first_response_at, TICKETS.c.created_at),
        "resolution_seconds": seconds_between(TICKETS.c.resolved_at, TICKETS.c.created_at),
        "account_region": _account_region(TICKETS),
    }


def refresh_tickets(
    conn: Connection | Session, ids: Iterable[int] | None = None, columns: Iterable[str] | None = None
) -> None:
    """Recompute the rollups of tickets `ids` (every ticket when None); `columns` limits it to
    some of them (a migration fills only the columns its revision adds)."""
    _refresh(conn, TICKETS, _only(ticket_rollups(), columns), ids)


DAY_COLUMNS = ["user_id", "day", "activities"]  # what `_day_counts` selects


def _day_counts(*where: ColumnElement[bool]) -> Select:
    day = day_of(ACTIVITIES.c.occurred_at)
    return select(ACTIVITIES.c.user_id, day, func.count()).where(*where).group_by(ACTIVITIES.c.user_id, day)


def refresh_activity_days(conn: Connection | Session, user_ids: Iterable[int] | None = None) -> None:
    """Recount `activity_days` of users `user_ids` (every user when None) from their activities."""
    for chunk in _chunks(user_ids):
        kept = [] if chunk is None else [ACTIVITY_DAYS.c.user_id.in_(chunk)]
        conn.execute(delete(ACTIVITY_DAYS).where(*kept))
        of_users = [] if chunk is None else [ACTIVITIES.c.user_id.in_(chunk)]
        conn.execute(insert(ACTIVITY_DAYS).from_select(DAY_COLUMNS, _day_counts(*of_users)))


def refresh_activity_day_pairs(conn: Connection | Session, pairs: Iterable[tuple[int, date]]) -> None:
    """Recount the `activity_days` rows of these (user id, day) pairs: what one logged activity
    changes, without recounting the user's whole history."""
    for user_id, day in sorted(set(pairs)):
        conn.execute(
            delete(ACTIVITY_DAYS).where(ACTIVITY_DAYS.c.user_id == user_id, ACTIVITY_DAYS.c.day == day)
        )
        start = datetime.combine(day, time.min)
        in_day = [ACTIVITIES.c.occurred_at >= start, ACTIVITIES.c.occurred_at < start + timedelta(days=1)]
        counts = _day_counts(ACTIVITIES.c.user_id == user_id, *in_day)
        conn.execute(insert(ACTIVITY_DAYS).from_select(DAY_COLUMNS, counts))


ROLLUP_INPUTS = ("stage", "closed_at", "amount", "account_id", "created_at")
DEAL_INPUTS = ("stage", "closed_at", "created_at", "account_id")  # what a deal's own rollups depend on
ACTIVITY_INPUTS = ("user_id", "occurred_at")
NPS_INPUTS = ("account_id", "responded_at", "score")
TICKET_INPUTS = ("created_at", "first_response_at", "resolved_at", "account_id")


def _values(state: Any, name: str) -> set[Any]:
    history = state.attrs[name].history
    return {v for v in (*history.unchanged, *history.added, *history.deleted) if v is not None}


def _written(session: Session, kind: type, inputs: tuple[str, ...]) -> Iterator[tuple[Any, Any, bool]]:
    """(object, its state, dirty) of every `kind` the flush that just ran added, deleted, or
    changed in one of `inputs`.

    Called after the flush (ids are assigned) while `new`/`dirty`/`deleted` and the attribute
    histories still describe what it wrote."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, kind):
            state = inspect(obj)
            dirty = obj in session.dirty
            if not dirty or any(state.attrs[name].history.has_changes() for name in inputs):
                yield obj, state, dirty


def _touched(session: Session) -> tuple[set[int], set[int]]:
    """(opportunity ids, account ids) whose rollups the flush may have changed. A deal's own
    rollups follow its stage history, stage and dates; its account's follow only won deals, so a
    save that involves no won stage (before or after) leaves the account alone."""
    written = (*session.new, *session.dirty, *session.deleted)
    deals = {obj.opportunity_id for obj in written if isinstance(obj, StageHistory)}
    accounts: set[int] = set()
    for obj, state, dirty in _written(session, Opportunity, ROLLUP_INPUTS):
        if not dirty or any(state.attrs[name].history.has_changes() for name in DEAL_INPUTS):
            deals.add(obj.id)
        if "won" in _values(state, "stage"):
            accounts.update(_values(state, "account_id"))
    return deals, accounts


def _activity_days_touched(session: Session) -> set[tuple[int, date]]:
    """(user id, UTC day) pairs whose activity count the flush may have changed: the old and new
    user and day of every activity it wrote, moved or deleted."""
    pairs: set[tuple[int, date]] = set()
    for _obj, state, _dirty in _written(session, Activity, ACTIVITY_INPUTS):
        days = {naive_utc(moment).date() for moment in _values(state, "occurred_at")}
        pairs.update((user_id, day) for user_id in _values(state, "user_id") for day in days)
    return pairs


def _nps_accounts_touched(session: Session) -> set[int]:
    """Accounts (old and new) of every NPS response the flush wrote, moved or deleted."""
    accounts: set[int] = set()
    for _obj, state, _dirty in _written(session, NpsResponse, NPS_INPUTS):
        accounts.update(_values(state, "account_id"))
    return accounts


def _regions_touched(session: Session) -> set[int]:
    """Accounts whose region the flush changed (a new account has no deals yet)."""
    return {
        obj.id
        for obj, _state, dirty in _written(session, Account, ("region",))
        if dirty and obj not in session.deleted
    }


def _payments_touched(session: Session) -> tuple[set[int], set[int]]:
    """(payments the flush added or moved to another deal, deals it moved to another account)."""
    payments = {
        obj.id
        for obj, _state, _dirty in _written(session, Payment, ("opportunity_id",))
        if obj not in session.deleted
    }
    moved = {
        obj.id
        for obj, _state, dirty in _written(session, Opportunity, ("account_id",))
        if dirty and obj not in session.deleted
    }
    return payments, moved


def _tickets_touched(session: Session) -> set[int]:
    """Tickets the flush added or whose times or account it changed."""
    return {
        obj.id
        for obj, _state, _dirty in _written(session, Ticket, TICKET_INPUTS)
        if obj not in session.deleted
    }


@event.listens_for(Session, "after_flush")
def _refresh_touched(session: Session, _context: Any) -> None:
    deals, accounts = _touched(session)
    if deals:
        refresh_opportunities(session.connection(), deals)
    if accounts:
        refresh_accounts(session.connection(), accounts)
    activity_days = _activity_days_touched(session)
    if activity_days:
        refresh_activity_day_pairs(session.connection(), activity_days)
    nps_accounts = _nps_accounts_touched(session)
    if nps_accounts:
        refresh_account_nps(session.connection(), nps_accounts)
    tickets = _tickets_touched(session)
    if tickets:
        refresh_tickets(session.connection(), tickets)
    regions = _regions_touched(session)
    if regions:
        refresh_account_regions(session.connection(), regions)
    payments, moved_deals = _payments_touched(session)
    if payments:
        refresh_payments(session.connection(), payments)
    if moved_deals:
        refresh_payments(session.connection(), deal_ids=moved_deals)
