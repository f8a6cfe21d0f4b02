"""Record tables with a CSV download; exported cells cannot become spreadsheet formulas.

On screen the columns have people's labels and the ids that only link rows together are
hidden, as are columns with no value in any row (a list of open deals has no lost reason);
the CSV keeps every column under its machine name, for spreadsheets and scripts.
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd
import streamlit as st

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HIDDEN_IDS = ("account_id", "owner_id", "assignee_id", "user_id", "product_id")
_DATE = "YYYY-MM-DD"
_WHEN = "YYYY-MM-DD HH:mm"
COLUMNS: dict[str, Any] = {
    "opportunity_id": st.column_config.NumberColumn("Deal #", format="%d"),
    "ticket_id": st.column_config.NumberColumn("Ticket #", format="%d"),
    "lead_id": st.column_config.NumberColumn("Lead #", format="%d"),
    "name": "Name",
    "account": "Account",
    "owner": "Owner",
    "amount": st.column_config.NumberColumn("Amount", format="dollar"),
    "stage": "Stage",
    "stage_as_of": "Stage as of T",
    "furthest_stage": "Furthest stage",
    "probability": st.column_config.NumberColumn("Probability", format="percent"),
    "product_line": "Product line",
    "created_at": st.column_config.DatetimeColumn("Created", format=_DATE),
    "closed_at": st.column_config.DatetimeColumn("Closed", format=_DATE),
    "lost_reason": "Lost reason",
    "last_touch": st.column_config.DatetimeColumn("Last touch", format=_DATE),
    "days_since_touch": st.column_config.NumberColumn("Days since touch", format="%.0f"),
    "subject": "Subject",
    "priority": "Priority",
    "status": "Status",
    "first_response_at": st.column_config.DatetimeColumn("First response", format=_WHEN),
    "sla_hours": st.column_config.NumberColumn("SLA (h)", format="%.0f"),
    "hours_open": st.column_config.NumberColumn("Open (h)", format="%.1f"),
    "hours_overdue": st.column_config.NumberColumn("Overdue (h)", format="%.1f"),
    "score": st.column_config.NumberColumn("Score", format="%d"),
    "band": "Band",
    "reasons": "Why",
    "region": "Region",
    "days_since_activity": st.column_config.NumberColumn("Days since activity", format="%.0f"),
    "last_activity_at": st.column_config.DatetimeColumn("Last activity", format=_DATE),
    "open_urgent_tickets": st.column_config.NumberColumn("Open urgent tickets", format="%d"),
    "missed_sla_tickets": st.column_config.NumberColumn("Missed SLAs (90 d)", format="%d"),
    "latest_nps": st.column_config.NumberColumn("Latest NPS", format="%d"),
    "activity_points": st.column_config.NumberColumn("Activity pts", format="%d"),
    "ticket_points": st.column_config.NumberColumn("Ticket pts", format="%d"),
    "sla_points": st.column_config.NumberColumn("SLA pts", format="%d"),
    "nps_points": st.column_config.NumberColumn("NPS pts", format="%d"),
    "company": "Company",
    "contact_name": "Contact",
    "source": "Source",
    "age_days": st.column_config.NumberColumn("Age (days)", format="%.0f"),
    "tier": "Tier",
    "healthy": "Healthy",
    "at_risk": "At risk",
    "critical": "Critical",
    "customers": "Customers",
    "leads": "Leads",
    "converted": "Converted",
    "conversion_rate": st.column_config.ProgressColumn("Conversion", format="percent"),
    "resolved": "Resolved",
    "met": "Met SLA",
    "sla_met_rate": st.column_config.ProgressColumn("SLA met", format="percent"),
    "responded": "Responded",
    "avg_first_response_hours": st.column_config.NumberColumn("Avg first response (h)", format="%.1f"),
    "within_sla_rate": st.column_config.ProgressColumn("Within SLA", format="percent"),
    "rank": st.column_config.NumberColumn("Rank", format="%d"),
    "team": "Team",
    "bookings": st.column_config.NumberColumn("Bookings", format="dollar"),
    "attainment": st.column_config.NumberColumn("Attainment", format="percent"),
    "deals_won": st.column_config.NumberColumn("Deals won", format="%d"),
    "win_rate": st.column_config.NumberColumn("Win rate", format="percent"),
    "activities": st.column_config.NumberColumn("Activities", format="%d"),
}
"""How each known column is shown; a column not listed keeps its name."""


def neutralise_cell(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV, text cells neutralised against formula injection."""
    cleaned = frame.copy()
    for column in cleaned.columns:
        if cleaned[column].dtype == object or pd.api.types.is_string_dtype(cleaned[column]):
            cleaned[column] = cleaned[column].map(neutralise_cell)
    return cleaned.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


def column_config(frame: pd.DataFrame, hide_empty: bool = True) -> dict[str, Any]:
    """`st.dataframe`'s column_config: labels from COLUMNS, None (hidden) for the linking ids of
    HIDDEN_IDS and, with `hide_empty` (record lists), for columns empty in every row. Summary
    tables pass False: there an empty column is a figure with no value ("—")."""
    config: dict[str, Any] = {}
    for column in frame.columns:
        if column in HIDDEN_IDS or (hide_empty and frame[column].isna().all()):
            config[column] = None
        elif column in COLUMNS:
            config[column] = COLUMNS[column]
    return config


def record_table(frame: pd.DataFrame, *, key: str, empty: str, filename: str, cap: int | None = None) -> None:
    """The rows with a CSV download, or `empty` (saying what is empty and why) when there are none."""
    if frame.empty:
        st.info(empty)
        return
    if cap is not None and len(frame) >= cap:
        st.caption(f"Showing the first {cap:,} rows.")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config(frame))
    st.download_button(
        "Download CSV",
        safe_csv(frame),
        file_name=filename,
        mime="text/csv",
        key=f"{key}-csv",
        icon=":material/download:",
    )
