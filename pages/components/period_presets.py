"""The period presets of the sidebar ("this quarter", "last 12 months"…) as pure date logic."""

from __future__ import annotations

from datetime import date, timedelta

PRESETS = ("This month", "This quarter", "Last quarter", "Year to date", "Last 12 months", "Custom range")
DEFAULT_PRESET = "This quarter"


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _months_back(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """(start, end) of a preset, both days included, as seen on `today`.

    Periods "to date" end today; "Last quarter" is the whole previous calendar quarter.
    """
    if preset == "This month":
        return today.replace(day=1), today
    if preset == "This quarter":
        return _quarter_start(today), today
    if preset == "Last quarter":
        this_quarter = _quarter_start(today)
        return _months_back(this_quarter, 3), this_quarter - timedelta(days=1)
    if preset == "Year to date":
        return date(today.year, 1, 1), today
    if preset == "Last 12 months":
        return _months_back(today.replace(day=1), 11), today
    raise ValueError(f"unknown period preset: {preset!r}")
