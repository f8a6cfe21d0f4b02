"""Targets: a month's sales target per rep, edited in a grid and saved row by row (managers: the
reps of their team; admins: every rep)."""

from datetime import date
from decimal import Decimal

import pandas as pd
import streamlit as st

from crm_core.services import targets
from pages.components import forms
from pages.components.formatting import percent
from pages.components.resources import get_engine
from pages.components.session import current_actor
from queries import worklists

MONTHS_BACK, MONTHS_AHEAD = 12, 12

actor = current_actor()
engine = get_engine()
forms.flash()

st.title("Targets")
if not (actor.is_admin or actor.is_manager):
    st.error("Only managers and admins set targets.", icon=":material/lock:")
    st.stop()
st.caption(
    ("The reps of your team." if actor.is_manager else "Every active rep.")
    + " Type the target amounts, then save. Each row is saved on its own: a row that fails keeps "
    "your value and says why."
)


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


this_month = date.today().replace(day=1)
months = [_shift(this_month, n) for n in range(-MONTHS_BACK, MONTHS_AHEAD + 1)]
month = st.selectbox(
    "Month",
    months,
    index=MONTHS_BACK,
    format_func=lambda m: m.strftime("%B %Y") + (" (this month)" if m == this_month else ""),
    key="targets_month",
    width=260,
)

scope = f"targets-{month:%Y-%m}"
fresh = worklists.target_grid(engine, actor, month)
if fresh.empty:
    st.info("No active reps to set targets for." if actor.is_admin else "Your team has no active reps yet.")
    st.stop()

# The grid shows (and saves against) the values as they were when it was loaded: a target changed
# by someone else meanwhile is reported on save instead of being overwritten.
snapshots = st.session_state.setdefault("_targets_seen", {})
editor_key = forms.key(scope, "grid")
if scope not in snapshots or editor_key not in st.session_state:
    snapshots[scope] = fresh[["user_id", "rep", "team", "amount", "version"]].to_dict("records")
seen = pd.DataFrame(snapshots[scope])
won = dict(zip(fresh["user_id"], fresh["won"], strict=True))
grid = seen.assign(won=[won.get(u, 0.0) for u in seen["user_id"]])
grid["attainment"] = [
    percent(w / a) if isinstance(a, float) and a > 0 else "—"
    for w, a in zip(grid["won"], grid["amount"], strict=True)
]
grid = grid.set_index("user_id")

shown_columns = (
    ["rep", "amount", "won", "attainment"]
    if actor.is_manager
    else ["rep", "team", "amount", "won", "attainment"]
)
edited = st.data_editor(
    grid[shown_columns],
    key=editor_key,
    hide_index=True,
    width="stretch",
    num_rows="fixed",
    disabled=["rep", "team", "won", "attainment"],
    column_config={
        "rep": "Rep",
        "team": "Team",
        "amount": st.column_config.NumberColumn(
            "Target ($)",
            min_value=0,
            max_value=999_999_999_999.99,
            step=1000,
            format="dollar",
            help="Empty = no target for this month.",
        ),
        "won": st.column_config.NumberColumn("Won this month ($)", format="dollar"),
        "attainment": st.column_config.TextColumn("Attainment", help="Won ÷ target, as loaded."),
    },
)


def _changed(before: object, after: object) -> bool:
    missing_before = before is None or pd.isna(before)
    missing_after = after is None or pd.isna(after)
    if missing_before or missing_after:
        return missing_before != missing_after
    return round(float(before), 2) != round(float(after), 2)


changes = [
    (user_id, after)
    for user_id, after in edited["amount"].items()
    if _changed(grid.at[user_id, "amount"], after)
]
versions = {int(u): (None if v is None or pd.isna(v) else int(v)) for u, v in grid["version"].items()}
names = grid["rep"].to_dict()

save_col = reload_col = note_col = st.container(horizontal=True, vertical_alignment="center")
submitted = save_col.button(
    f"Save {len(changes)} change{'s' if len(changes) != 1 else ''}" if changes else "Save",
    type="primary",
    icon=":material/save:",
    disabled=not changes,
    key=forms.key(scope, "save"),
)
reload_col.button(
    "Reload", icon=":material/refresh:", key=forms.key(scope, "reload"), on_click=forms.reset, args=(scope,)
)
if changes:
    note_col.caption(f"{len(changes)} unsaved change{'s' if len(changes) != 1 else ''}.")

row_errors_key = forms.key(scope, "row-errors")  # a reload starts a new generation: no old errors
for user_id, message in st.session_state.get(row_errors_key, {}).items():
    st.error(f"{names.get(user_id, f'Rep #{user_id}')}: {message}", icon=":material/error:")

if submitted:
    actions = []
    for user_id, after in changes:
        value = "" if after is None or pd.isna(after) else Decimal(f"{float(after):.2f}")
        actions.append(
            (
                int(user_id),
                lambda u=int(user_id), v=value: targets.set_target(
                    engine, actor, user_id=u, month=month, amount=v, expected_version=versions[u]
                ),
            )
        )
    saved, failed = forms.save_rows(actions)
    st.session_state[row_errors_key] = {
        u: (outcome.field_errors.get("amount") or outcome.text) for u, outcome in failed.items()
    }
    if saved:
        forms.notify(f"Saved {len(saved)} target{'s' if len(saved) != 1 else ''} for {month:%B %Y}.")
    if not failed:
        st.session_state.pop(row_errors_key, None)
        forms.reset(scope)
    else:
        # Keep the failed rows as typed; the saved ones now count as loaded at their new version.
        latest = worklists.target_grid(engine, actor, month).set_index("user_id")
        rows = snapshots[scope]
        for row in rows:
            if row["user_id"] in saved:
                row["amount"] = latest.at[row["user_id"], "amount"]
                row["version"] = latest.at[row["user_id"], "version"]
    st.rerun()
