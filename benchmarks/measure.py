"""Timing one page's query functions, the same SQL raw, the rows they fetch and the memory they take.

- *ours*: the page's render calls (`benchmarks.pages`) one after the other, as the page makes
  them on a cold cache: SQLAlchemy compile + driver + engine + result processing + pandas.
- *raw*: the statements those calls sent to the driver (captured once per view), run again on a
  DBAPI cursor, every row fetched: the engine's own time for the same work.
- *rows*: rows fetched from the database by the page's statements (what the engine hands to
  Python), and rows returned by the query functions (what the page receives).
- *memory*: tracemalloc peak while the calls run (one extra, untimed pass: tracing slows
  allocation-heavy code, so it is never on while a clock runs).
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from benchmarks.pages import Page, PageCall
from benchmarks.raw import Statement, capture, run_raw
from pages.components.filters import View
from pages.components.period_presets import DEFAULT_PRESET, preset_range
from queries.dimensions import filter_choices
from queries.filters import Filters, Period


@dataclass(frozen=True)
class NamedView:
    key: str  # "default" | "filtered"
    view: View
    team_name: str | None = None


def views_for(engine: Engine, today: date) -> list[NamedView]:
    """The default view (the default period preset, no filter) and a filtered one: the first team
    and the first product line of the sidebar's choices."""
    period = Period(*preset_range(DEFAULT_PRESET, today))
    choices = filter_choices(engine)
    team_id, team_name = choices.teams[0]
    line = choices.product_lines[0]
    return [
        NamedView("default", View(period, Filters(), "default")),
        NamedView(
            "filtered",
            View(period, Filters(team_id=team_id, product_line=line), f"team {team_name} + line {line}"),
            team_name,
        ),
    ]


def result_rows(value: Any) -> int:
    """Rows a query function hands to the page: DataFrame/list length, 1 per KPI or mapping entry."""
    if isinstance(value, pd.DataFrame):
        return len(value)
    if isinstance(value, dict):
        return len(value)
    if isinstance(value, list | tuple):
        return len(value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(len(getattr(value, f)) for f in value.__dataclass_fields__)
    return 1


class _Medians:
    """Medians of the `ours` and `raw` timings (seconds) of a call or a page."""

    ours: list[float]
    raw: list[float]

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def raw_median(self) -> float:
        return statistics.median(self.raw)


@dataclass
class CallFigures(_Medians):
    call: PageCall
    ours: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    rows_fetched: int = 0
    rows_returned: int = 0


@dataclass
class PageFigures(_Medians):
    page: Page
    view: NamedView
    calls: list[CallFigures]
    ours: list[float]  # per repetition: total of the page's calls
    raw: list[float]
    peak_bytes: int = 0  # tracemalloc peak during the calls

    @property
    def rows_fetched(self) -> int:
        return sum(c.rows_fetched for c in self.calls)

    @property
    def rows_returned(self) -> int:
        return sum(c.rows_returned for c in self.calls)


def measure_page(engine: Engine, page: Page, view: NamedView, reps: int) -> PageFigures:
    calls = [CallFigures(c) for c in page.render_calls]
    for figures in calls:  # warm-up and capture: the statements of each call, its rows
        with capture(engine) as seen:
            value = figures.call(engine, view.view)
        figures.statements = list(seen)
        figures.rows_returned = result_rows(value)
        figures.rows_fetched = run_raw(engine, figures.statements)[1]
    totals_ours, totals_raw = [], []
    for _ in range(reps):
        total = 0.0
        for figures in calls:
            start = time.perf_counter()
            figures.call(engine, view.view)
            elapsed = time.perf_counter() - start
            figures.ours.append(elapsed)
            total += elapsed
        totals_ours.append(total)
        total = 0.0
        for figures in calls:
            elapsed, _rows = run_raw(engine, figures.statements)
            figures.raw.append(elapsed)
            total += elapsed
        totals_raw.append(total)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for figures in calls:
            figures.call(engine, view.view)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return PageFigures(page, view, calls, totals_ours, totals_raw, peak)
