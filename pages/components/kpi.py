"""KPI cards: value, change vs the previous period, and the catalog definition on hover."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from pages.components.formatting import format_delta, format_value
from queries.registry import get

LOWER_IS_BETTER = frozenset(
    {"churn_rate", "churned_customers", "avg_first_response_hours", "ticket_backlog", "stale_deals",
     "deals_lost", "sales_cycle_days"}
)  # fmt: skip


def kpi_card(
    container,
    metric_id: str,
    values: dict[str, float | int | None],
    *,
    caption: str | None = None,
    sparkline: Sequence[float] | None = None,
) -> None:
    """One bordered `st.metric` for `metric_id` with `values` = {'current', 'previous', ...}."""
    metric = get(metric_id)
    help_text = metric.definition if caption is None else f"{metric.definition}\n\n{caption}"
    container.metric(
        metric.label,
        format_value(metric.kind, values["current"]),
        delta=format_delta(metric.kind, values["current"], values["previous"]),
        delta_color="inverse" if metric_id in LOWER_IS_BETTER else "normal",
        delta_description="vs previous period",
        help=help_text,
        border=True,
        chart_data=list(sparkline) if sparkline else None,
        chart_type="bar" if sparkline else "line",
    )


def kpi_grid(metric_ids: Sequence[str], values: dict[str, dict], columns: int = 4, **extras) -> None:
    """Cards in rows of `columns`; `extras[id]` holds per-card keyword arguments (caption, sparkline)."""
    cols = st.columns(columns)
    for i, metric_id in enumerate(metric_ids):
        kpi_card(cols[i % columns], metric_id, values[metric_id], **extras.get(metric_id, {}))
