"""A guard on query plans: no dashboard query reads all of `opportunities` or `activities`.

Every query function the five dashboards call (`benchmarks.pages.PAGE_QUERIES`, read from the
page scripts; drill-downs included) runs on a demo-size database, for the default view and
filtered ones; each statement it sends is captured at the cursor and explained. A full scan of
one of the two big tables fails the test — SQLite: `SCAN <table>` without an index (a covering
or plain index scan passes); PostgreSQL: `Seq Scan on <table>`.

The database is ANALYZEd first so the planners have statistics. On PostgreSQL the check runs
with `enable_seqscan`, `enable_hashjoin` and `enable_mergejoin` off: at demo size (6,000 deals)
reading a whole table — by a sequential scan, or by a hash or merge join fed by one — is the
right plan for almost everything, so PostgreSQL's choice there says nothing about a million
rows. With those priced out the planner takes an index wherever one can serve the query, and a
whole-table read (`Seq Scan`, or a primary-key scan without an `Index Cond`) only remains where
no index can — which is exactly the mistake this guard is for. `python -m benchmarks` measures
the real plans at stress size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, select

from benchmarks.pages import PAGE_QUERIES, PageCall
from benchmarks.raw import capture, explain, full_scans
from crm_core.actor import load_actor
from crm_core.db import make_engine
from crm_core.models import User
from pages.components.filters import View
from pages.components.period_presets import DEFAULT_PRESET, preset_range
from queries import worklists
from queries.dimensions import filter_choices
from queries.filters import Filters, Period
from tests.conftest import seeded_demo_url

AS_OF = date(2026, 11, 22)
CLICKS = {"stage": "proposal"}  # the drill-downs' click-time argument
logging.getLogger("streamlit").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Engine]:
    with seeded_demo_url(tmp_path_factory, "plans", AS_OF) as url:
        engine = _planning_engine(url)
        yield engine
        engine.dispose()


def _planning_engine(url: str) -> Engine:
    """An engine on the seeded database, statistics fresh; on PostgreSQL with the planner told to
    avoid sequential scans so that tiny test tables do not hide a missing index."""
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name != "postgresql":
        return engine
    engine.dispose()
    # Session options, as `make_engine` sets jit=off: a SET inside the pool's transaction would be
    # rolled back with it.
    options = "-c jit=off -c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off"
    return make_engine(url, connect_args={"options": options})


def _views(engine: Engine) -> list[View]:
    period = Period(*preset_range(DEFAULT_PRESET, AS_OF))
    choices = filter_choices(engine)
    team, line, region = choices.teams[0][0], choices.product_lines[0], choices.regions[0]
    rep = next(r[0] for r in choices.reps if r[2] == team)
    return [
        View(period, Filters(), "default"),
        View(period, Filters(team_id=team, product_line=line), "team + product line"),
        View(period, Filters(region=region), "region"),
        View(period, Filters(owner_id=rep), "one rep"),
    ]


def _dashboard_calls() -> list[PageCall]:
    calls: dict[tuple, PageCall] = {}
    for page in PAGE_QUERIES:
        for call in page.calls:
            resolved = call.resolved(**CLICKS) if call.unresolved else call
            calls.setdefault(
                (resolved.path, resolved.period, repr(sorted(resolved.kwargs.items()))), resolved
            )
    return list(calls.values())


CALLS = _dashboard_calls()


def test_every_dashboard_query_is_checked():
    paths = {c.path for c in CALLS}
    assert {"queries.registry.kpis_with_delta", "queries.pipeline.pipeline_breakdown", "queries.health.health_overview",
            "queries.funnel.funnel_stage_deals", "queries.service.breaching_tickets"} <= paths  # fmt: skip
    assert len(paths) >= 20


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.name}{'-click' if c.on_interaction else ''}")
def test_no_full_scan_of_opportunities_or_activities(demo, call):
    dialect = demo.dialect.name
    problems = []
    for view in _views(demo):
        with capture(demo) as statements:
            call(demo, view)
        for statement in statements:
            plan = explain(demo, statement)
            for line in full_scans(dialect, plan, statement.sql):
                problems.append(f"[{view.label}] {line}\n    in: {statement.sql[:300]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM opportunities WHERE name = 'x'",
        "SELECT count(*) FROM activities AS a WHERE a.subject = 'x'",
    ],
)
def test_the_guard_sees_a_full_scan(demo, sql):
    from benchmarks.raw import Statement

    statement = Statement(sql, None)
    assert full_scans(demo.dialect.name, explain(demo, statement), sql)


WORK_LISTS = {
    "pipeline_cards": lambda e, a: worklists.pipeline_cards(e, a),
    "pipeline_totals": lambda e, a: worklists.pipeline_totals(e, a),
    "deal_rows": lambda e, a: worklists.deal_rows(e, a),
    "deal_rows-closed": lambda e, a: worklists.deal_rows(e, a, stage="closed"),
    "ticket_rows": lambda e, a: worklists.ticket_rows(e, a),
    "ticket_rows-mine": lambda e, a: worklists.ticket_rows(e, a, mine=True),
    "ticket_categories": lambda e, a: worklists.ticket_categories(e),
    "editable_accounts": lambda e, a: worklists.editable_accounts(e, a, limit=200),
    "lead_rows-pool": lambda e, a: worklists.lead_rows(e, a, pool=True),
}
WORK_TABLES = ("opportunities", "activities", "tickets")


@pytest.mark.parametrize("name", WORK_LISTS)
def test_work_lists_read_no_whole_big_table_for_any_role(demo, name):
    """The reps' and managers' work pages (and an admin's, who sees everything) stay on indexes:
    at a million deals a whole-table read made the Tickets page take 1.3–1.8 s per click."""
    dialect = demo.dialect.name
    problems = []
    for role in ("rep", "manager", "admin"):
        with demo.connect() as conn:
            user_id = conn.execute(
                select(User.id).where(User.role == role, User.active.is_(True)).order_by(User.id).limit(1)
            ).scalar_one()
        actor = load_actor(demo, user_id)
        with capture(demo) as statements:
            WORK_LISTS[name](demo, actor)
        for statement in statements:
            for line in full_scans(dialect, explain(demo, statement), statement.sql, WORK_TABLES):
                problems.append(f"[{role}] {line}\n    in: {statement.sql[:300]}")
    assert not problems, "\n".join(problems)
