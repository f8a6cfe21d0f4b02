"""The record history panel: who changed what, when, from the audit log (newest first).

`describe` is pure (tested without Streamlit); `history_panel` draws it. Call the panel only for
a record the actor may read: the page checks access before it shows any of the record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
import streamlit as st

from crm_core import audit
from pages.components.resources import get_engine

FIELD_LABELS = {
    "created": "Created",
    "company": "Company",
    "contact_name": "Contact",
    "email": "Email",
    "phone": "Phone",
    "source": "Source",
    "region": "Region",
    "status": "Status",
    "owner_id": "Owner",
    "assignee_id": "Assignee",
    "disqualify_reason": "Disqualify reason",
    "converted_at": "Converted",
    "opportunity_id": "Deal",
    "name": "Name",
    "amount": "Amount",
    "stage": "Stage",
    "product_id": "Product",
    "expected_close_date": "Expected close",
    "closed_at": "Closed",
    "lost_reason": "Lost reason",
    "priority": "Priority",
    "first_response_at": "First response",
    "resolved_at": "Resolved",
    "csat": "CSAT",
    "display_name": "Display name",
    "role": "Role",
    "team_id": "Team",
    "active": "Active",
    "password": "Password",
    "session_epoch": "Sessions ended",
    "failed_logins": "Failed sign-ins",
    "locked_until": "Locked until",
}
PEOPLE_FIELDS = ("owner_id", "assignee_id")
MONEY_FIELDS = ("amount",)
WORD_FIELDS = ("stage", "status", "priority", "source", "role")
BOOLEAN_FIELDS = ("active",)
COLUMNS = ["When (UTC)", "Who", "Field", "From", "To"]


def _label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def _value(field: str, value: str | None, names: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field in PEOPLE_FIELDS:
        try:
            return names.get(int(value), f"user #{value}")
        except ValueError:
            return value
    if field in MONEY_FIELDS:
        try:
            return f"${Decimal(value):,.2f}"
        except InvalidOperation:
            return value
    if field in WORD_FIELDS:
        return value.replace("_", " ").capitalize()
    if field in BOOLEAN_FIELDS and value in ("true", "false"):
        return "Yes" if value == "true" else "No"
    return value


def describe(entries: Iterable[dict[str, Any]], names: dict[int, str] | None = None) -> pd.DataFrame:
    """Audit entries (as `audit.history` returns them) as rows people read: when, who, field,
    from, to. User ids of owner/assignee changes are shown by name when `names` has them."""
    known = names or {}
    rows = []
    for entry in entries:
        at: datetime = entry["at"]
        who = entry.get("actor_name") or ("system" if entry.get("actor_id") is None else "a removed user")
        field = entry["field"]
        rows.append(
            {
                COLUMNS[0]: at.strftime("%Y-%m-%d %H:%M") if isinstance(at, datetime) else str(at),
                COLUMNS[1]: who,
                COLUMNS[2]: _label(field),
                COLUMNS[3]: "" if field == audit.CREATED else _value(field, entry.get("old"), known),
                COLUMNS[4]: _value(field, entry.get("new"), known),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def history_panel(
    entity: str,
    entity_id: int,
    *,
    names: Callable[[Iterable[int]], dict[int, str]] | None = None,
    limit: int = 200,
) -> None:
    """The record's audit trail as a table (at most `limit` entries, newest first)."""
    entries = audit.history(get_engine(), entity, entity_id)
    if not entries:
        st.info("No changes recorded for this record yet.")
        return
    shown = entries[:limit]
    people: dict[int, str] = {}
    if names is not None:
        ids = set()
        for entry in shown:
            if entry["field"] in PEOPLE_FIELDS:
                for value in (entry.get("old"), entry.get("new")):
                    if value and value.isdigit():
                        ids.add(int(value))
        people = names(ids)
    if len(entries) > limit:
        st.caption(f"The latest {limit:,} of {len(entries):,} changes.")
    st.dataframe(describe(shown, people), hide_index=True, width="stretch")
