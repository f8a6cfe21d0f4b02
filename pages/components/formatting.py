"""Numbers for people: 1.2M, 34%, 12.5 days, and "—" for no value. Pure functions, no Streamlit."""

from __future__ import annotations

import math

NO_VALUE = "—"


def _is_missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def compact(value: float | int | None, decimals: int = 1) -> str:
    """1234 → '1.2K', 1_250_000 → '1.25M' (trailing zeros trimmed), 950 → '950'."""
    if _is_missing(value):
        return NO_VALUE
    sign = "-" if value < 0 else ""
    magnitude = abs(float(value))
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= threshold:
            text = f"{magnitude / threshold:.{decimals + 1}f}".rstrip("0").rstrip(".")
            return f"{sign}{text}{suffix}"
    if magnitude == int(magnitude):
        return f"{sign}{int(magnitude):,}"
    return f"{sign}{magnitude:,.{decimals}f}"


def money(value: float | int | None) -> str:
    return NO_VALUE if _is_missing(value) else f"${compact(value)}"


def count(value: float | int | None) -> str:
    return NO_VALUE if _is_missing(value) else f"{round(value):,}"


def percent(value: float | None, decimals: int = 0) -> str:
    """A share (0.342) as '34%'."""
    return NO_VALUE if _is_missing(value) else f"{value * 100:.{decimals}f}%"


def days(value: float | None) -> str:
    return NO_VALUE if _is_missing(value) else f"{value:.1f} days"


def hours(value: float | None) -> str:
    return NO_VALUE if _is_missing(value) else f"{value:.1f} h"


def score(value: float | None) -> str:
    """NPS (-100..100) and CSAT (1..5): one decimal, dropped when it is zero."""
    return NO_VALUE if _is_missing(value) else f"{value:.1f}".removesuffix(".0")


FORMATTERS = {
    "money": money,
    "count": count,
    "percent": percent,
    "days": days,
    "hours": hours,
    "score": score,
}


def format_value(kind: str, value: float | int | None) -> str:
    """Format `value` by its metric kind (money, count, percent, days, hours, score)."""
    return FORMATTERS.get(kind, compact)(value)


def format_delta(kind: str, current: float | int | None, previous: float | int | None) -> str | None:
    """The change vs the previous period as shown under a KPI, or None when either side has no value.

    Percent-kind metrics change in percentage points; everything else by its own unit.
    """
    if _is_missing(current) or _is_missing(previous):
        return None
    change = current - previous
    if kind == "percent":
        return f"{change * 100:+.1f} pp"
    sign = "+" if change >= 0 else "-"
    return f"{sign}{format_value(kind, abs(change))}"
