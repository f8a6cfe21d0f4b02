"""`benchmarks.pages.PAGE_QUERIES` is what the dashboards call: it cannot drift from the pages.

The table is read from the page scripts; these tests check that the reading is complete (every
`run(` of a dashboard is accounted for, with arguments the query function accepts) and that a
real render of each page, recorded at `pages.components.cache`, makes exactly those calls.
"""

from __future__ import annotations

import inspect
import logging
import re
from datetime import date

import pytest

from benchmarks.measure import views_for
from benchmarks.pages import PAGE_QUERIES, ROOT, SIDEBAR, runner_calls
from crm_core.db import make_engine
from pages.components.navigation import DASHBOARDS, WAR_ROOM
from seed.demo import today_utc

logging.getLogger("streamlit").setLevel(logging.ERROR)


def test_the_five_dashboards_of_the_menu_are_benchmarked():
    assert [p.script for p in PAGE_QUERIES] == [WAR_ROOM[0], *(d[0] for d in DASHBOARDS)]
    assert all(p.render_calls for p in PAGE_QUERIES)


def test_lazy_alert_tabs_run_the_first_tab_by_default_and_the_others_on_a_click():
    war_room = next(p for p in PAGE_QUERIES if p.script == WAR_ROOM[0])
    alerts = [c for c in war_room.calls if c.kwargs.get("limit") == 500]
    assert [(c.path, c.on_interaction) for c in alerts] == [
        ("queries.pipeline.stale_deal_rows", False),
        ("queries.service.breaching_tickets", True),
        ("queries.health.health_accounts", True),
        ("queries.leads.unassigned_leads", True),
    ]


@pytest.mark.parametrize("page", PAGE_QUERIES, ids=lambda p: p.title)
def test_every_run_call_of_the_page_is_in_the_table(page):
    source = (ROOT / page.script).read_text()
    textual = len(re.findall(r"(?<![\w.])run\(", source))
    assert textual == len(runner_calls(page.script)), "a run( the parser did not see"
    sites = {c.source for c in page.calls if c.source.startswith(page.script)}
    assert len(sites) == len(runner_calls(page.script))
    sidebar = [c for c in page.calls if c.source.startswith(SIDEBAR)]
    assert [c.path for c in sidebar] == ["queries.dimensions.filter_choices"]


@pytest.mark.parametrize("page", PAGE_QUERIES, ids=lambda p: p.title)
def test_each_call_names_a_query_function_that_takes_its_arguments(page):
    for call in page.calls:
        fn = call.function()
        kwargs = {**call.kwargs, **dict.fromkeys(call.unresolved, "x")}
        if call.period is None:
            inspect.signature(fn).bind("engine", **kwargs)
        else:
            inspect.signature(fn).bind("engine", "period", "filters", as_of=None, **kwargs)


def test_a_render_of_each_page_makes_exactly_the_calls_of_the_table(demo_url, monkeypatch):
    """AppTest renders every dashboard (default and filtered view); `render_pages` records the
    calls reaching the cache and compares them with the table's, with the view's arguments."""
    from benchmarks.render import render_pages

    monkeypatch.setenv("WARROOM_COOKIE_KEY", "test-cookie-key-" + "x" * 32)
    engine = make_engine(demo_url)
    today: date = today_utc()
    views = views_for(engine, today)
    engine.dispose()
    results = render_pages(demo_url, today, PAGE_QUERIES, views, reps=1, log=lambda _line: None)
    assert len(results) == len(PAGE_QUERIES) * len(views)
    for r in results:
        assert not r.exception, f"{r.page.title} [{r.view.key}]: {r.exception}"
        assert not r.drift, f"{r.page.title} [{r.view.key}]: {r.drift}"
        assert len(r.recorded_calls) == len(r.page.render_calls)
