"""Drill-down: which bar of a chart the user clicked, as pure functions over Streamlit's event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def selected_points(event: Any) -> list[Mapping[str, Any]]:
    """The selected points of a `st.plotly_chart(on_select="rerun")` event (empty when none)."""
    if not event:
        return []
    selection = event.get("selection") if isinstance(event, Mapping) else getattr(event, "selection", None)
    if not selection:
        return []
    points = selection.get("points") if isinstance(selection, Mapping) else getattr(selection, "points", None)
    return list(points or [])


def selected_category(event: Any, axis: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    """The category on `axis` ("x" or "y") of the first selected point, if it is one of `allowed`.

    Anything else (no click, a box selection over nothing, a value not in `allowed`) gives None,
    so a stale or forged selection never reaches a query.
    """
    for point in selected_points(event):
        value = point.get(axis)
        if isinstance(value, str) and value in allowed:
            return value
    return None
