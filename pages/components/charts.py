"""One palette and one look for every chart; figures get pre-aggregated frames only."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

PALETTE = ["#2563EB", "#F59E0B", "#10B981", "#EF4444", "#8B5CF6", "#06B6D4", "#EC4899", "#84CC16"]
STAGE_COLORS = {
    "prospecting": "#93C5FD",
    "qualification": "#60A5FA",
    "proposal": "#3B82F6",
    "negotiation": "#2563EB",
    "won": "#10B981",
    "lost": "#EF4444",
}
BAND_COLORS = {"healthy": "#10B981", "at_risk": "#F59E0B", "critical": "#EF4444"}
LABELS = {
    "amount": "Amount",
    "weighted": "Weighted",
    "bookings": "Bookings",
    "open_pipeline": "Open pipeline",
    "new_customers": "New customers",
    "churned_customers": "Churned customers",
    "healthy": "Healthy",
    "at_risk": "At risk",
    "critical": "Critical",
    "opened": "Opened",
    "resolved": "Resolved",
    "backlog": "Backlog",
    "accounts": "Accounts",
    "customers": "Customers",
    "tickets": "Tickets",
    "tier": "Tier",
    "nps": "NPS",
    "month": "",
    "stage": "",
}
"""People's names for the frames' column names that charts show as series, slices and axis titles."""


def _named(fig: go.Figure) -> None:
    for trace in fig.data:
        name = trace.name
        if name in LABELS:
            trace.name = LABELS[name]
            if trace.hovertemplate:
                trace.hovertemplate = trace.hovertemplate.replace(f"={name}<", f"={LABELS[name]}<")
        if trace.type == "pie" and trace.labels is not None:
            trace.labels = [LABELS.get(label, label) for label in trace.labels]
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        if axis.title.text in LABELS:
            axis.title.text = LABELS[axis.title.text] or None


def styled(fig: go.Figure, height: int = 320) -> go.Figure:
    """Transparent background (readable in light and dark themes), tight margins, legend on top,
    series and axes under people's names (LABELS)."""
    _named(fig)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        colorway=PALETTE,
    )
    return fig


def month_labels(months: pd.Series) -> pd.Series:
    """First days of months as "Oct 2026": category labels, so a monthly bar chart shows one tick
    per month (a date axis ticks by week and draws each bar a month wide around its first day)."""
    return months.map(lambda m: m.strftime("%b %Y"))


def bar(frame: pd.DataFrame, x: str, y: str, **kwargs) -> go.Figure:
    return styled(px.bar(frame, x=x, y=y, color_discrete_sequence=PALETTE, **kwargs))


def line(frame: pd.DataFrame, x: str, y: str | list[str], **kwargs) -> go.Figure:
    return styled(px.line(frame, x=x, y=y, markers=True, color_discrete_sequence=PALETTE, **kwargs))
