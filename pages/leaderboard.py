"""Leaderboard: reps ranked by bookings, attainment bars, movers vs the previous period, teams side by side."""

import plotly.express as px
import streamlit as st

from pages.components.cache import run
from pages.components.charts import PALETTE, styled
from pages.components.filters import sidebar_filters
from pages.components.formatting import money
from pages.components.session import current_actor, team_scope_for
from pages.components.tables import column_config

view = sidebar_filters(team_scope_for(current_actor()))
st.title("Leaderboard")
st.caption(f"{view.label} · ranked by bookings, then user id")

now = run("queries.leaderboard.standings", view.period, view.filters)
board, teams = now["board"], now["teams"]


def rank_change(places: int) -> str:
    """▲ 3 (up three places), ▼ 1, or — for no change."""
    if places > 0:
        return f"▲ {places}"
    if places < 0:
        return f"▼ {-places}"
    return "—"


if board.empty:
    st.info("No active rep inside these filters.")
else:
    top = board.iloc[0]
    movers = board.sort_values("movement", ascending=False)
    c1, c2, c3 = st.columns(3)
    c1.metric("Top rep", top["display_name"], money(top["bookings"]), delta_color="off", border=True)
    if movers.iloc[0]["movement"] > 0:
        up = movers.iloc[0]
        c2.metric("Biggest climber", up["display_name"], f"+{int(up['movement'])} places", border=True)
    if movers.iloc[-1]["movement"] < 0:
        down = movers.iloc[-1]
        c3.metric("Biggest drop", down["display_name"], f"{int(down['movement'])} places", border=True)
    shown = board.assign(change=board["movement"].map(rank_change))
    st.dataframe(
        shown[
            [
                "rank",
                "display_name",
                "bookings",
                "attainment",
                "deals_won",
                "win_rate",
                "activities",
                "change",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            **column_config(shown, hide_empty=False),
            "display_name": "Rep",
            "attainment": st.column_config.ProgressColumn(  # bars up to the best attainment shown
                "Attainment",
                format="percent",
                min_value=0.0,
                max_value=max(1.0, float(board["attainment"].max() or 1)),
            ),
            "change": st.column_config.TextColumn(
                "Δ rank", help="Places gained (▲) or lost (▼) since the previous period of the same length"
            ),
        },
    )
    if board["attainment"].isna().all():
        st.caption(
            "Attainment has no value with a region or product line filter (targets are per rep and month)."
        )

st.subheader("Teams")
if teams.empty:
    st.info("No team inside these filters.")
else:
    left, right = st.columns([3, 2])
    fig = px.bar(
        teams,
        x="team",
        y=["bookings", "open_pipeline"],
        barmode="group",
        color_discrete_sequence=PALETTE,
        labels={"value": "amount", "variable": "", "team": ""},
    )
    left.plotly_chart(styled(fig), key="teams")
    shown_teams = teams[["team", "bookings", "attainment", "win_rate", "activities"]]
    right.dataframe(
        shown_teams,
        hide_index=True,
        width="stretch",
        column_config=column_config(shown_teams, hide_empty=False),
    )
