"""Periods, the as-of instant and the dashboard filters, applied to each entity exactly as the spec says.

Spec ("Period, as-of, filters"):
- a period is `[start 00:00, (end + 1 day) 00:00)` UTC; T defaults to the end of the period;
- `team` / `owner` pick a set of users U (team members include inactive users); they keep
  opportunities (and their payments), leads, activities, targets and accounts (with their
  tickets and NPS responses) whose owner/user is in U;
- `region` keeps opportunities, payments, activities, accounts, tickets and NPS responses by
  their *account's* region (activities without an account drop out) and leads by their own region;
- `product_line` keeps opportunities (and their payments) by product line, nothing else;
- with `region` or `product_line`, `target` and `attainment` have no value.

Each `*_scope` helper returns a list of WHERE conditions for a table (or an alias of it), so the
queries stay index-friendly: plain comparisons and `IN (subquery)` on the filtered columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, FromClause, Select, bindparam, select

from crm_core.dialect import no_index
from crm_core.models import Account, Product, User, UTCDateTime
from crm_core.utc import naive_utc

_USERS = User.__table__
_ACCOUNTS = Account.__table__
_PRODUCTS = Product.__table__

ONE_DAY = timedelta(days=1)


def day_start(day: date) -> datetime:
    """`day` 00:00 as a naive UTC datetime."""
    return datetime.combine(day, time.min)


@dataclass(frozen=True)
class Period:
    """Days `start`..`end`, both included: the instants `[start 00:00, (end + 1 day) 00:00)` UTC."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) or isinstance(self.end, datetime):
            raise TypeError("Period takes dates, not datetimes")
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")

    @property
    def start_ts(self) -> datetime:
        """The first instant of the period (inclusive)."""
        return day_start(self.start)

    @property
    def end_ts(self) -> datetime:
        """The first instant after the period (exclusive): (end + 1 day) 00:00."""
        return day_start(self.end + ONE_DAY)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        end = self.start - ONE_DAY
        return Period(end - timedelta(days=self.days - 1), end)

    @staticmethod
    def spanning(periods: Iterable[Period]) -> Period:
        """From the first day of any of `periods` to the last day of any: one range over all."""
        periods = list(periods)
        return Period(min(p.start for p in periods), max(p.end for p in periods))

    def as_of(self, as_of: datetime | date | None = None) -> datetime:
        """T for this period: `as_of` as naive UTC, else the end of the period.

        A bare `date` D means the state at the end of day D, i.e. (D + 1 day) 00:00.
        """
        if as_of is None:
            return self.end_ts
        if isinstance(as_of, datetime):
            return naive_utc(as_of)
        return day_start(as_of + ONE_DAY)

    def contains(self, column: ColumnElement) -> list[ColumnElement[bool]]:
        """`start_ts <= column < end_ts` as two range predicates (index-friendly)."""
        return [column >= self.start_ts, column < self.end_ts]


@dataclass(frozen=True)
class PeriodParameters:
    """A period whose bounds are bound parameters named `{name}_*`: statements built once (and
    cached) with it run for any period, given `values(period)` as their parameters."""

    name: str

    def contains(self, column: ColumnElement) -> list[ColumnElement[bool]]:
        """`Period.contains` with the instants as parameters."""
        return [
            column >= bindparam(f"{self.name}_start_ts", type_=UTCDateTime()),
            column < bindparam(f"{self.name}_end_ts", type_=UTCDateTime()),
        ]

    def contains_day(self, column: ColumnElement) -> list[ColumnElement[bool]]:
        """`start <= column <= end` for a date column, the days as parameters."""
        return [
            column >= bindparam(f"{self.name}_start", type_=Date()),
            column <= bindparam(f"{self.name}_end", type_=Date()),
        ]

    def values(self, period: Period) -> dict[str, Any]:
        """The parameters of `period` for a statement built with these bounds."""
        return {
            f"{self.name}_start_ts": period.start_ts,
            f"{self.name}_end_ts": period.end_ts,
            f"{self.name}_start": period.start,
            f"{self.name}_end": period.end,
        }


@dataclass(frozen=True)
class Filters:
    """The dashboard filters; None means "not filtered"."""

    team_id: int | None = None
    owner_id: int | None = None
    region: str | None = None
    product_line: str | None = None

    @property
    def by_users(self) -> bool:
        return self.team_id is not None or self.owner_id is not None

    @property
    def targets_apply(self) -> bool:
        """Targets are per rep and month: with a region or product line they have no value."""
        return self.region is None and self.product_line is None

    @property
    def is_empty(self) -> bool:
        return not self.by_users and self.region is None and self.product_line is None

    def as_dict(self) -> dict[str, int | str | None]:
        return {
            "team": self.team_id,
            "owner": self.owner_id,
            "region": self.region,
            "product_line": self.product_line,
        }


def in_users(column: ColumnElement, filters: Filters) -> list[ColumnElement[bool]]:
    """Conditions keeping rows whose user `column` is in U (NULL users drop out)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.owner_id is not None:
        conditions.append(column == filters.owner_id)
    if filters.team_id is not None:
        conditions.append(column.in_(select(_USERS.c.id).where(_USERS.c.team_id == filters.team_id)))
    return conditions


def scoped_users(filters: Filters) -> Select:
    """`SELECT id, display_name, role, active, team_id FROM users` restricted to U."""
    return select(_USERS.c.id, _USERS.c.display_name, _USERS.c.role, _USERS.c.active, _USERS.c.team_id).where(
        *in_users(_USERS.c.id, filters)
    )


def _accounts_in_region(region: str) -> Select:
    return select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.region == region)


def opportunity_scope(opp: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    """Opportunities: owner in U, account in region, product in product line.

    The account's region is read from the deal's own `account_region` (kept equal to it by
    `crm_core.rollups`, and carried by the deal indexes), not from its account row."""
    conditions = in_users(opp.c.owner_id, filters)
    if filters.region is not None:
        conditions.append(opp.c.account_region == filters.region)
    if filters.product_line is not None:
        conditions.append(
            opp.c.product_id.in_(
                select(_PRODUCTS.c.id).where(_PRODUCTS.c.product_line == filters.product_line)
            )
        )
    return conditions


def lead_scope(lead: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    """Leads: owner in U (unassigned drop out), their own region; product line does not act."""
    conditions = in_users(lead.c.owner_id, filters)
    if filters.region is not None:
        conditions.append(lead.c.region == filters.region)
    return conditions


def activity_scope(activity: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    """Activities: user in U, account in region (no account: drops out); product line does not act."""
    conditions = in_users(activity.c.user_id, filters)
    if filters.region is not None:
        conditions.append(activity.c.account_id.in_(_accounts_in_region(filters.region)))
    return conditions


def target_scope(target: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    """Targets: user in U. (Callers return no value when `not filters.targets_apply`.)"""
    return in_users(target.c.user_id, filters)


def account_scope(account: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    """Accounts (customers, health): owner in U, region; product line does not act."""
    conditions = in_users(account.c.owner_id, filters)
    if filters.region is not None:
        conditions.append(account.c.region == filters.region)
    return conditions


def account_child_scope(account_id: ColumnElement, filters: Filters) -> list[ColumnElement[bool]]:
    """NPS responses (and any row of an account): kept when their account is kept by
    `account_scope`. Rows that carry the region have `account_row_scope`."""
    if not filters.by_users and filters.region is None:
        return []
    # An owner's few accounts may drive the query; a whole region should not (see `no_index`).
    column = account_id if filters.by_users else no_index(account_id)
    return [column.in_(select(_ACCOUNTS.c.id).where(*account_scope(_ACCOUNTS, filters)))]


def account_row_scope(row: FromClause, filters: Filters) -> list[ColumnElement[bool]]:
    """Rows that carry their account's id and region (`account_region`, kept equal to it by
    `crm_core.rollups`): kept when their account is kept by `account_scope`. Its owner in U by
    a subquery of the accounts of U (an owner's few accounts may drive it), its region from the
    row itself, which the tickets' and deals' indexes carry. Tickets, and deals counted for their
    account (the customer metrics)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.by_users:
        owned = select(_ACCOUNTS.c.id).where(*in_users(_ACCOUNTS.c.owner_id, filters))
        conditions.append(row.c.account_id.in_(owned))
    if filters.region is not None:
        conditions.append(row.c.account_region == filters.region)
    return conditions


NO_FILTERS = Filters()
"""The unfiltered view (the default argument of every query function)."""
