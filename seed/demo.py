"""Deterministic demo data for the war room (`python -m seed demo`, and the app's first start).

The same `seed` and `as_of` give identical rows (only the bcrypt password hashes differ: bcrypt
salts are random). Everything is laid out backwards from `as_of`, so the demo always looks
current: 24 months of history end at the end of `as_of` day (T), nothing happens after T, and
open deals expect to close in the weeks ahead. Only two kinds of values point past T, both being
plans: open deals' expected close dates and the targets for the rest of as_of's quarter.

Sizes (see `SIZES`): `demo` — 4 teams in 4 regions, 25 reps, ~1,500 accounts, ~6,000
opportunities, ~40,000 activities, ~3,000 tickets; `large` — 8 teams, 200 reps, 100k
opportunities, 2.5M activities; `stress` — 20 teams, 500 reps, 1M opportunities, 5M
activities. Generation is vectorised with numpy; writing is raw DBAPI bulk inserts (COPY on
PostgreSQL) in one transaction.

The stories a sales manager should recognise, and where they show:

1. Star rep — Maya Chen (maya.chen, North America East): tops the bookings leaderboard over
   the last 12 months by a wide margin and in most quarters; with more deals, a better win rate,
   bigger deals and shorter cycles she books about three times a typical rep against the same
   quota (attainment well above 200 %).
2. Struggling rep — Oliver Grant (oliver.grant, APAC Growth): the lowest win rate and small deals
   that drag on, so attainment far below target (around a quarter) and the most stale deals.
3. Q4 spike — bookings jump every October–December (year-end budgets: better win rates, bigger
   deals, some January wins pulled into December); quotas rise less in Q4, and Januaries are slow.
4. Churn wave — EMEA: in the three full months before as_of's month churned_customers and
   churn_rate for EMEA are several times any other region's; the churned accounts went quiet,
   raised urgent tickets and answered NPS as detractors before leaving, and "Competitor"
   dominates EMEA's recent lost reasons.
5. SLA breach month — the fourth month before as_of's month: a ticket spike, slow first responses,
   sla_met_rate far below every other month (~10 % against ~85 %), and a CSAT dip.
6. Stale deals — 10–40 % of open deals have had no activity for more than 14 days (most of all
   the struggling rep's); every other open deal was touched in the last 10 days.
7. Unassigned lead pool — dozens of web/ads/event leads from the last three weeks with no owner.
8. Lost reasons — price, competitor, no budget, timing, no decision.
9. Lead sources — referral (~45 %) and partner leads convert far better than ads (~6 %) and
   cold outbound (~10 %).
10. NPS — promoters, passives and detractors everywhere; EMEA's NPS is deeply negative lately
    while the other regions stay positive.
11. Growth — volumes grow about 25 % a year, so year-over-year deltas are positive; customer
    health ranges from healthy to critical because account attention varies a lot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import Engine

from crm_core.models import Base
from seed.demo_activities import build_activities
from seed.demo_common import SIZES, Table, Window
from seed.demo_leads import build_leads, leads_table
from seed.demo_people import (
    DEMO_PASSWORDS,
    STAR_REP_USERNAME,
    STRUGGLING_REP_USERNAME,
    DemoLogin,
    build_people,
    demo_logins,
)
from seed.demo_sales import (
    accounts_table,
    build_accounts,
    build_opportunities,
    customer_dates,
    finish_accounts,
    opportunities_table,
    payments_table,
    products_table,
    rep_traits,
    stage_history_table,
    targets_table,
)
from seed.demo_service import churn, latest_nps, nps_table, tickets_table
from seed.demo_writer import NotEmpty, write_tables

__all__ = [
    "DEMO_PASSWORDS",
    "SIZES",
    "STAR_REP_USERNAME",
    "STRUGGLING_REP_USERNAME",
    "DemoError",
    "DemoLogin",
    "build_tables",
    "demo_logins",
    "generate_demo",
    "generate_tables",
    "today_utc",
]


class DemoError(Exception):
    """The demo cannot be generated here (unknown size, or the database is not empty)."""


def today_utc() -> date:
    """Today's date in UTC: the default as_of."""
    return datetime.now(UTC).date()


def _quiet(_message: str) -> None:
    return None


def _not_empty_message(table: str) -> str:
    return (
        f"the database is not empty (table {table!r} has rows): demo data only goes into an empty "
        "database. Point --db at a new SQLite file or an empty PostgreSQL database."
    )


def _first_non_empty(engine: Engine) -> str | None:
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if conn.exec_driver_sql(f"SELECT 1 FROM {table.name} LIMIT 1").first() is not None:
                return table.name
    return None


def generate_demo(
    engine: Engine,
    *,
    size: str = "demo",
    seed: int = 42,
    as_of: date,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Fill an empty database with the demo data set; return the rows written per table.

    Raises DemoError for an unknown size or a database that already has rows.
    """
    if size not in SIZES:
        raise DemoError(f"unknown size {size!r}: choose one of {', '.join(SIZES)}")
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    report = progress or _quiet
    found = _first_non_empty(engine)
    if found:
        raise DemoError(_not_empty_message(found))
    spec = SIZES[size]

    def make_tables(relay: Callable[[str], None]) -> Iterator[Table]:
        if spec.bulk:
            return generate_tables(size=size, seed=seed, as_of=as_of, progress=relay)
        tables = list(generate_tables(size=size, seed=seed, as_of=as_of, progress=relay))
        return iter(sorted(tables, key=lambda t: INSERT_ORDER.index(t.name)))

    try:
        counts = write_tables(engine, make_tables, bulk=spec.bulk, progress=report)
    except NotEmpty as exc:
        raise DemoError(_not_empty_message(str(exc))) from None
    report("Demo data ready.")
    return counts


INSERT_ORDER = (
    "teams",
    "users",
    "products",
    "accounts",
    # Opportunities before leads: SQLite then resolves the two deferred foreign keys between
    # them through the index on opportunities.lead_id instead of scanning leads per deal.
    "opportunities",
    "leads",
    "stage_history",
    "payments",
    "activities",
    "activity_days",
    "tickets",
    "targets",
    "nps_responses",
)


def build_tables(*, size: str, seed: int, as_of: date) -> list[Table]:
    """Every table in memory, in an insert order that satisfies the foreign keys."""
    tables = list(generate_tables(size=size, seed=seed, as_of=as_of))
    return sorted(tables, key=lambda t: INSERT_ORDER.index(t.name))


def generate_tables(
    *, size: str, seed: int, as_of: date, progress: Callable[[str], None] = _quiet
) -> Iterator[Table]:
    """Generate the tables one by one, each as soon as it is final (not in foreign-key order).

    Bulk loads write each table while the next ones are still being generated.
    """
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    window = Window.ending(as_of)
    progress("Creating teams and people…")
    people = build_people(spec)
    yield from people.tables
    yield products_table()
    traits = rep_traits(rng, people)
    progress("Generating accounts…")
    accounts = build_accounts(rng, spec, people, traits)
    progress("Generating opportunities…")
    opp = build_opportunities(rng, spec, window, people, traits, accounts)
    finish_accounts(rng, accounts, opp, window)
    first_won, last_close, has_open = customer_dates(accounts, opp)
    customers = churn(rng, accounts, first_won, last_close, has_open, window)
    yield stage_history_table(opp, people)
    yield payments_table(rng, opp, accounts, window)
    yield targets_table(opp, people, window)
    progress("Generating leads…")
    leads = build_leads(rng, spec, window, people, traits, accounts, opp)
    progress("Generating activities…")
    acts = build_activities(rng, spec, window, people, accounts, customers, opp, leads)
    yield acts.table
    yield acts.days
    lead_rows = leads_table(rng, leads, people, acts.lead_last)
    progress("Generating tickets and NPS…")
    tickets = tickets_table(rng, spec, accounts, customers, people, window)
    nps = nps_table(rng, spec, accounts, customers, window)  # the random draws keep their order
    yield accounts_table(accounts, people, acts.account_last, opp, latest_nps(nps, accounts.ids))
    yield opportunities_table(opp, accounts, people, leads.opp_lead_ids, acts.opp_last)
    yield lead_rows
    yield tickets
    yield nps
