"""The bundle contract (/work/shared/spec/data-bundle.md) as data: files, columns, kinds, references.

`FILES` follows the spec's table (the order of reports and exports); `INSERT_ORDER` is the
foreign-key-safe order of loading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, Table

from crm_core import enums, models
from seed.bundle_values import Kind

RowCheck = Callable[[dict[str, Any]], list[tuple[str, str]]]
"""Checks a fully parsed row (bundle column -> value); returns (column, reason) pairs."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: Kind
    required: bool = False
    db: str = ""
    """Database column; defaults to `name` (the id column of each file maps to `id`)."""
    choices: tuple[str, ...] = ()
    ref: str = ""
    """For Kind.REF: the file (e.g. "users.csv") whose id this column references."""
    low: int | None = None
    high: int | None = None
    default: Any = None
    """The value of an empty optional cell."""

    @property
    def db_name(self) -> str:
        return self.db or self.name


@dataclass(frozen=True)
class FileSpec:
    name: str
    table: Table
    columns: tuple[ColumnSpec, ...]
    export_order: tuple[str, ...] = ("id",)
    row_checks: tuple[RowCheck, ...] = ()
    required_file: bool = False
    by_name: dict[str, ColumnSpec] = field(init=False, repr=False, compare=False)
    max_lengths: dict[str, int] = field(init=False, repr=False, compare=False)
    """VARCHAR length per text column, taken from the model so the two cannot drift."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {column.name: column for column in self.columns})
        lengths = {}
        for column in self.columns:
            sql_type = self.table.c[column.db_name].type
            if isinstance(sql_type, String) and sql_type.length is not None:
                lengths[column.name] = sql_type.length
        object.__setattr__(self, "max_lengths", lengths)

    @property
    def table_name(self) -> str:
        return self.table.name

    @property
    def id_column(self) -> ColumnSpec | None:
        return next((column for column in self.columns if column.kind is Kind.ID), None)


def _id(name: str) -> ColumnSpec:
    return ColumnSpec(name, Kind.ID, required=True, db="id")


def _text(name: str, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, Kind.TEXT, required=required)


def _ref(name: str, target: str, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, Kind.REF, required=required, ref=target)


def _enum(name: str, choices: tuple[str, ...], required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, Kind.ENUM, required=required, choices=choices)


def _ts(name: str, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, Kind.TIMESTAMP, required=required)


def _money(name: str, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, Kind.MONEY, required=required)


def _closed_at_iff_closed(row: dict[str, Any]) -> list[tuple[str, str]]:
    stage, closed_at = row.get("stage"), row.get("closed_at")
    if stage in enums.CLOSED_STAGES and closed_at is None:
        return [("closed_at", f"is required when stage is {stage}")]
    if stage in enums.OPEN_STAGES and closed_at is not None:
        return [("closed_at", f"must be empty while stage is {stage} (only won/lost deals are closed)")]
    return []


def _resolved_at_when_done(row: dict[str, Any]) -> list[tuple[str, str]]:
    status = row.get("status")
    if status in enums.TICKET_DONE_STATUSES and row.get("resolved_at") is None:
        return [("resolved_at", f"is required when status is {status}")]
    return []


FILES: tuple[FileSpec, ...] = (
    FileSpec(
        "teams.csv",
        models.Team.__table__,
        (_id("team_id"), _text("name", True), _text("region")),
    ),
    FileSpec(
        "users.csv",
        models.User.__table__,
        (
            _id("user_id"),
            _text("username", True),
            _text("display_name", True),
            _enum("role", enums.ROLES, True),
            _ref("team_id", "teams.csv"),
            _text("email"),
            ColumnSpec("active", Kind.BOOL, default=True),
        ),
        required_file=True,
    ),
    FileSpec(
        "products.csv",
        models.Product.__table__,
        (_id("product_id"), _text("name", True), _text("product_line", True), _money("list_price")),
    ),
    FileSpec(
        "accounts.csv",
        models.Account.__table__,
        (
            _id("account_id"),
            _text("name", True),
            _ref("owner_id", "users.csv"),
            _text("industry"),
            _text("region"),
            _enum("tier", enums.TIERS),
            _ts("created_at"),
            _ts("churned_at"),
        ),
    ),
    FileSpec(
        "leads.csv",
        models.Lead.__table__,
        (
            _id("lead_id"),
            _text("company", True),
            _enum("status", enums.LEAD_STATUSES, True),
            _ts("created_at", True),
            _text("contact_name"),
            _text("email"),
            _text("phone"),
            _enum("source", enums.LEAD_SOURCES),
            _text("region"),
            _ref("owner_id", "users.csv"),
            _ts("converted_at"),
            _ref("opportunity_id", "opportunities.csv"),
            _text("disqualify_reason"),
        ),
    ),
    FileSpec(
        "opportunities.csv",
        models.Opportunity.__table__,
        (
            _id("opportunity_id"),
            _text("name", True),
            _ref("account_id", "accounts.csv", True),
            _ref("owner_id", "users.csv", True),
            _money("amount", True),
            _enum("stage", enums.STAGES, True),
            _ts("created_at", True),
            _ref("product_id", "products.csv"),
            ColumnSpec("expected_close_date", Kind.DATE),
            _ts("closed_at"),
            _text("lost_reason"),
            _ref("lead_id", "leads.csv"),
        ),
        row_checks=(_closed_at_iff_closed,),
    ),
    FileSpec(
        "stage_history.csv",
        models.StageHistory.__table__,
        (
            _ref("opportunity_id", "opportunities.csv", True),
            _enum("to_stage", enums.STAGES, True),
            _ts("changed_at", True),
            _enum("from_stage", enums.STAGES),
            _ref("changed_by", "users.csv"),
        ),
        export_order=("opportunity_id", "changed_at", "id"),
    ),
    FileSpec(
        "payments.csv",
        models.Payment.__table__,
        (
            _id("payment_id"),
            _ref("opportunity_id", "opportunities.csv", True),
            _money("amount", True),
            _ts("paid_at", True),
        ),
    ),
    FileSpec(
        "activities.csv",
        models.Activity.__table__,
        (
            _id("activity_id"),
            _enum("type", enums.ACTIVITY_TYPES, True),
            _ref("user_id", "users.csv", True),
            _ts("occurred_at", True),
            _ref("account_id", "accounts.csv"),
            _ref("opportunity_id", "opportunities.csv"),
            _ref("lead_id", "leads.csv"),
            _text("subject"),
        ),
    ),
    FileSpec(
        "tickets.csv",
        models.Ticket.__table__,
        (
            _id("ticket_id"),
            _ref("account_id", "accounts.csv", True),
            _text("subject", True),
            _enum("priority", enums.TICKET_PRIORITIES, True),
            _enum("status", enums.TICKET_STATUSES, True),
            _ts("created_at", True),
            _text("category"),
            _text("channel"),
            _ref("assignee_id", "users.csv"),
            _ts("first_response_at"),
            _ts("resolved_at"),
            ColumnSpec("csat", Kind.INT, low=1, high=5),
        ),
        row_checks=(_resolved_at_when_done,),
    ),
    FileSpec(
        "targets.csv",
        models.Target.__table__,
        (
            _ref("user_id", "users.csv", True),
            ColumnSpec("month", Kind.MONTH, required=True),
            _money("amount", True),
        ),
        export_order=("user_id", "month"),
    ),
    FileSpec(
        "nps_responses.csv",
        models.NpsResponse.__table__,
        (
            _ref("account_id", "accounts.csv", True),
            ColumnSpec("score", Kind.INT, required=True, low=0, high=10),
            _ts("responded_at", True),
        ),
        export_order=("account_id", "responded_at", "id"),
    ),
)

FILES_BY_NAME: dict[str, FileSpec] = {spec.name: spec for spec in FILES}

INSERT_ORDER: tuple[FileSpec, ...] = tuple(
    FILES_BY_NAME[name]
    for name in (
        "teams.csv",
        "users.csv",
        "products.csv",
        "accounts.csv",
        "opportunities.csv",
        "leads.csv",
        "stage_history.csv",
        "payments.csv",
        "activities.csv",
        "tickets.csv",
        "targets.csv",
        "nps_responses.csv",
    )
)
"""Parents before children. leads and opportunities refer to each other through foreign keys that
are DEFERRABLE INITIALLY DEFERRED on both databases, so either may go first inside the one
transaction; opportunities go first because opportunities.lead_id is indexed and
leads.opportunity_id is not. SQLite settles a pending deferred violation each time a parent row
arrives by searching the child table for rows pointing at it: with leads first, every opportunity
insert scanned all of leads (quadratic, ~8 s for the demo data set); this way it is an index lookup.
"""
