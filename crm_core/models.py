"""SQLAlchemy 2 typed models. Every bundle entity maps 1:1 to a table; times are naive UTC.

Indexes are composite and follow the dashboard queries (see `queries/`), not one per column.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from crm_core import enums
from crm_core.utc import naive_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = Numeric(14, 2)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC; accepts aware datetimes and converts them to UTC first."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else naive_utc(value)


def _enum(name: str, values: tuple[str, ...]) -> Enum:
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: MONEY, date: Date()}


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(_enum("role", enums.ROLES))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    password_hash: Mapped[str | None] = mapped_column(String(100))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index(None, "team_id", "role"),)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    product_line: Mapped[str] = mapped_column(String(60), index=True)
    list_price: Mapped[Decimal | None]


CUSTOMER_ROLLUP_COLUMNS = ("first_won_at", "second_won_at", "churned_at", "won_cents", "tier")
# What the stage-as-of-T and funnel queries read from the deals' covering indexes (`crm_core.rollups`).
DEAL_ROLLUP_COLUMNS = (
    "history_changed_at",
    "history_to_stage",
    "history_prev_changed_at",
    "history_prev_to_stage",
    "furthest_stage_order",
    "history_prev2_changed_at",
    "history_prev2_to_stage",
)
DEAL_STAGE_INDEX = (
    "stage", "closed_at", "owner_id", "amount", "created_at", "product_id", "account_id",
    "last_activity_at", "lost_reason", *DEAL_ROLLUP_COLUMNS, "cycle_seconds",
)  # fmt: skip


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    industry: Mapped[str | None] = mapped_column(String(60))
    region: Mapped[str | None] = mapped_column(String(60))
    tier: Mapped[str | None] = mapped_column(_enum("tier", enums.TIERS))
    created_at: Mapped[datetime | None]
    churned_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    # Customer rollups over the account's won deals, kept by `crm_core.rollups`.
    first_won_at: Mapped[datetime | None]
    second_won_at: Mapped[datetime | None]
    won_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    latest_nps_at: Mapped[datetime | None]
    latest_nps_score: Mapped[int | None]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(None, "owner_id", "region", "id", *CUSTOMER_ROLLUP_COLUMNS),
        Index(None, "region", "owner_id", "id", *CUSTOMER_ROLLUP_COLUMNS),
        Index(None, "first_won_at", "churned_at", "second_won_at", "won_cents", "tier", "region", "owner_id"),
        Index(None, "second_won_at", "region", "owner_id"),
        Index(None, "tier", "first_won_at", "churned_at"),
        Index(None, "churned_at", "first_won_at", "region", "owner_id"),
        Index(None, "last_activity_at", "latest_nps_at", "latest_nps_score"),
        Index(None, "name", "id"),
    )


class Contact(Base):
    """People at an account. Not part of the bundle (leads carry their contact inline)."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class Lead(Base):
    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(_enum("lead_status", enums.LEAD_STATUSES))
    created_at: Mapped[datetime]
    contact_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(_enum("lead_source", enums.LEAD_SOURCES))
    region: Mapped[str | None] = mapped_column(String(60))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    converted_at: Mapped[datetime | None]
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", use_alter=True, deferrable=True, initially="DEFERRED")
    )
    disqualify_reason: Mapped[str | None] = mapped_column(String(200))
    last_activity_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(None, "created_at", "owner_id", "status", "source", "region"),
        Index(None, "owner_id", "status"),
        Index(None, "region", "created_at"),
    )


class Opportunity(Base):
    __tablename__ = "opportunities"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal]
    stage: Mapped[str] = mapped_column(_enum("stage", enums.STAGES))
    created_at: Mapped[datetime]
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    expected_close_date: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    lost_reason: Mapped[str | None] = mapped_column(String(200))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", deferrable=True, initially="DEFERRED"))
    last_activity_at: Mapped[datetime | None]
    # The latest, second- and third-latest stage_history rows (to_stage, changed_at), the
    # funnel's furthest stage order and closed_at - created_at in seconds, kept by
    # `crm_core.rollups`.
    history_to_stage: Mapped[str | None] = mapped_column(String(20))
    history_changed_at: Mapped[datetime | None]
    history_prev_to_stage: Mapped[str | None] = mapped_column(String(20))
    history_prev_changed_at: Mapped[datetime | None]
    furthest_stage_order: Mapped[int | None] = mapped_column(SmallInteger)
    history_prev2_to_stage: Mapped[str | None] = mapped_column(String(20))
    history_prev2_changed_at: Mapped[datetime | None]
    cycle_seconds: Mapped[float | None] = mapped_column(Float)
    # The account's region, kept by `crm_core.rollups`: the region filter compares a column of
    # the deal indexes instead of probing the region's account ids for every deal.
    account_region: Mapped[str | None] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("(stage IN ('won', 'lost')) = (closed_at IS NOT NULL)", name="closed_at_iff_closed"),
        Index(
            None,
            *DEAL_STAGE_INDEX,
            postgresql_include=["id"],  # SQLite indexes carry the rowid; PostgreSQL's need it for
            # index-only scans of the stage-as-of-T seeks, which correlate on id (134 -> 48 ms)
        ),
        # The same, led by the account's region, for the region filter: a region's deals are an
        # equality seek (the War Room with a region 136 -> 85 ms at 1M deals, against the region
        # appended to this index), and the unfiltered views keep reading the index above.
        Index("ix_opportunities_region", "account_region", *DEAL_STAGE_INDEX, postgresql_include=["id"]),
        Index(None, "closed_at", "owner_id", "stage"),
        Index(
            None,
            "created_at",
            "owner_id",
            "stage",
            "product_id",
            "account_id",
            "furthest_stage_order",
            "account_region",
        ),
        Index(
            None,
            "owner_id",
            "stage",
            "closed_at",
            "amount",
            "created_at",
            "product_id",
            "account_id",
            "last_activity_at",
            *DEAL_ROLLUP_COLUMNS,
            postgresql_include=["id"],
        ),
        Index(None, "account_id", "stage", "closed_at", "amount"),
        Index(None, "product_id", "stage"),
        Index(None, "lead_id"),
    )


class StageHistory(Base):
    __tablename__ = "stage_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"))
    from_stage: Mapped[str | None] = mapped_column(_enum("from_stage", enums.STAGES))
    to_stage: Mapped[str] = mapped_column(_enum("to_stage", enums.STAGES))
    changed_at: Mapped[datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    __table_args__ = (Index(None, "opportunity_id", "changed_at", "id", "to_stage"),)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"))
    amount: Mapped[Decimal]
    paid_at: Mapped[datetime]
    # The region of the deal's account, kept by `crm_core.rollups` (as on deals and tickets).
    account_region: Mapped[str | None] = mapped_column(String(60))
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index(None, "paid_at", "opportunity_id", "amount", "account_region"),
        Index(None, "opportunity_id"),
    )


class Activity(Base):
    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(_enum("activity_type", enums.ACTIVITY_TYPES))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime]
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    subject: Mapped[str | None] = mapped_column(String(300))
    __table_args__ = (
        Index(None, "occurred_at", "user_id"),
        Index(None, "user_id", "occurred_at"),
        Index(None, "opportunity_id", "occurred_at"),
        Index(None, "account_id", "occurred_at"),
        Index(None, "lead_id"),
    )


class ActivityDay(Base):
    """Activities per user and UTC day, kept by `crm_core.rollups`: the leaderboard counts a
    period's activities from ~30k of these rows instead of ~400k activities."""

    __tablename__ = "activity_days"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    activities: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index(None, "day", "user_id", "activities"),)


TICKET_CREATED_INDEX = (
    "created_at", "account_id", "priority", "first_response_at", "first_response_seconds", "account_region",
)  # fmt: skip
TICKET_RESOLVED_INDEX = (
    "resolved_at", "account_id", "created_at", "priority", "csat", "resolution_seconds", "account_region",
)  # fmt: skip
TICKET_ACCOUNT_INDEX = (
    "account_id", "created_at", "resolved_at", "priority", "first_response_at", "csat",
    "first_response_seconds", "resolution_seconds",
)  # fmt: skip


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    subject: Mapped[str] = mapped_column(String(300))
    priority: Mapped[str] = mapped_column(_enum("priority", enums.TICKET_PRIORITIES))
    status: Mapped[str] = mapped_column(_enum("ticket_status", enums.TICKET_STATUSES))
    created_at: Mapped[datetime]
    category: Mapped[str | None] = mapped_column(String(60))
    channel: Mapped[str | None] = mapped_column(String(30))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    csat: Mapped[int | None] = mapped_column(Integer)
    # Rollups (crm_core.rollups): seconds from created_at to the first response / resolution.
    first_response_seconds: Mapped[float | None] = mapped_column(Float)
    resolution_seconds: Mapped[float | None] = mapped_column(Float)
    # The account's region, kept by `crm_core.rollups` (as on deals): the region filter reads it
    # from the ticket indexes.
    account_region: Mapped[str | None] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("csat IS NULL OR (csat BETWEEN 1 AND 5)", name="csat_range"),
        Index(None, *TICKET_CREATED_INDEX),
        Index(None, *TICKET_RESOLVED_INDEX),
        Index(None, *TICKET_ACCOUNT_INDEX),
        Index(None, "assignee_id", "status"),
        Index(None, "status", "priority", "created_at"),
        Index(None, "category"),
    )


class Target(Base):
    """A rep's sales target for one calendar month; `month` is that month's first day."""

    __tablename__ = "targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    month: Mapped[date]
    amount: Mapped[Decimal]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("user_id", "month"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index(None, "month", "user_id", "amount"),
    )


class NpsResponse(Base):
    __tablename__ = "nps_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    score: Mapped[int] = mapped_column(Integer)
    responded_at: Mapped[datetime]
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
        Index(None, "responded_at", "account_id", "score"),
        Index(None, "account_id", "responded_at", "id", "score"),
    )


class AuditEntry(Base):
    """Append-only: one row per changed field of one write. Never updated or deleted."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    __table_args__ = (Index(None, "entity", "entity_id", "at"),)


class AuditLogIsAppendOnly(RuntimeError):
    pass


def _refuse_change(*_args) -> None:
    raise AuditLogIsAppendOnly("the audit log is append-only")


event.listen(AuditEntry, "before_update", _refuse_change)
event.listen(AuditEntry, "before_delete", _refuse_change)

BUNDLE_TABLES = (
    Team,
    User,
    Product,
    Account,
    Lead,
    Opportunity,
    StageHistory,
    Payment,
    Activity,
    Ticket,
    Target,
    NpsResponse,
)
