"""The shared sidebar filters. Their state lives in the URL (shareable) and survives page switches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import streamlit as st

from pages.components.cache import run
from pages.components.period_presets import DEFAULT_PRESET, PRESETS, preset_range
from queries.dimensions import FilterChoices
from queries.filters import Filters, Period

ALL = "All"
EARLIEST_DAY = date(2000, 1, 1)


@dataclass(frozen=True)
class View:
    """What the dashboards are asked to show: a period, the filters, and a label for captions."""

    period: Period
    filters: Filters
    label: str


@dataclass(frozen=True)
class Scope:
    """What the viewer may see: a rep is pinned to themself, a manager to their team."""

    team_id: int | None = None
    owner_id: int | None = None


def today_utc() -> date:
    return datetime.now(UTC).date()


def _period(today: date) -> tuple[Period, str]:
    preset = st.sidebar.selectbox(
        "Period", PRESETS, index=PRESETS.index(DEFAULT_PRESET), key="period", bind="query-params"
    )
    if preset != "Custom range":
        start, end = preset_range(preset, today)
        return Period(start, end), preset
    default_start, default_end = preset_range(DEFAULT_PRESET, today)
    left, right = st.sidebar.columns(2)
    bounds = {"min_value": EARLIEST_DAY, "max_value": date(today.year + 2, 12, 31)}
    start = left.date_input("From", value=default_start, key="from", bind="query-params", **bounds)
    end = right.date_input("To", value=default_end, key="to", bind="query-params", **bounds)
    if end < start:
        st.sidebar.warning("“To” is before “From”: showing the single day “From”.")
        end = start
    return Period(start, end), f"{start:%d %b %Y} – {end:%d %b %Y}"


def _pick(label: str, options: list, names: dict, key: str) -> object:
    """A sidebar choice among `options`, or None for "All".

    "All" is a real option (a string), not None: a bound selectbox holding None loses its
    label after page switches.
    """
    choice = st.sidebar.selectbox(
        label,
        [ALL, *options],
        format_func=lambda v: v if v == ALL else names.get(v, str(v)),
        key=key,
        bind="query-params",
    )
    return None if choice == ALL else choice


def sidebar_filters(scope: Scope = Scope(), today: date | None = None) -> View:
    """Draw the filters in the sidebar and return the chosen view, narrowed to what `scope` allows."""
    choices: FilterChoices = run("queries.dimensions.filter_choices")
    period, label = _period(today or today_utc())
    team_names = dict(choices.teams)
    team_id = scope.team_id
    if scope.team_id is None and scope.owner_id is None:
        team_id = _pick("Team", list(team_names), team_names, "team")
    region = _pick("Region", list(choices.regions), {}, "region")
    line = _pick("Product line", list(choices.product_lines), {}, "line")
    owner_id = scope.owner_id
    if scope.owner_id is None:
        reps = [r for r in choices.reps if team_id is None or r[2] == team_id]
        owner_id = _pick("Rep", [r[0] for r in reps], {r[0]: r[1] for r in reps}, "rep")
    filters = Filters(team_id=team_id, owner_id=owner_id, region=region, product_line=line)
    return View(period=period, filters=filters, label=label)
