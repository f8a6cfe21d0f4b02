"""Pipeline & Funnel: where deals are, how they convert, why they are lost. Click a bar to drill down."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from crm_core.enums import OPEN_STAGES, STAGE_ORDER
from pages.components.cache import run
from pages.components.charts import PALETTE, STAGE_COLORS, bar, month_labels, styled
from pages.components.drilldown import selected_category
from pages.components.filters import sidebar_filters
from pages.components.formatting import count, money, percent
from pages.components.session import current_actor, scope_for
from pages.components.tables import column_config, record_table

FUNNEL_STAGES = tuple(STAGE_ORDER)
DRILL_CAP = 1000


def funnel_label(reached: int, conversion: float | None, from_first: float | None) -> str:
    """'187 · 54% of previous · 37% of first'; the first stage shows its count alone."""
    if conversion is None or pd.isna(conversion):
        return count(reached)
    return f"{count(reached)} · {percent(conversion)} of previous · {percent(from_first)} of first"


view = sidebar_filters(scope_for(current_actor()))
st.title("Pipeline & Funnel")
st.caption(view.label)

funnel = run("queries.funnel.funnel_table", view.period, view.filters)
left, right = st.columns(2)
with left:
    st.subheader(
        "Funnel",
        help="Cohort: deals created in the period. A deal has reached a stage when its "
        "furthest stage (from its history) is at or past it; lost deals count for the stages they reached.",
    )
    if funnel["reached"].sum() == 0:
        st.info("No deal was created in this period, so the funnel is empty.")
        funnel_event = None
    else:
        labels = [funnel_label(r.reached, r.conversion, r.conversion_from_first) for r in funnel.itertuples()]
        fig = go.Figure(
            go.Bar(
                x=funnel["reached"],
                y=funnel["stage"],
                orientation="h",
                text=labels,
                textposition="auto",
                marker_color=[STAGE_COLORS[s] for s in funnel["stage"]],
            )
        )
        fig.update_yaxes(autorange="reversed", title=None)
        fig.update_xaxes(title="deals reached")
        funnel_event = st.plotly_chart(styled(fig), key="funnel", on_select="rerun", selection_mode="points")
    st.caption("Click a stage to list the deals that reached it.")

open_book = run("queries.pipeline.pipeline_breakdown", view.period, view.filters)  # one scan, two charts
pipeline = open_book["by_stage"]
with right:
    st.subheader(
        "Open pipeline by stage", help="Deals open at the end of the period, by their stage at that time."
    )
    if pipeline["deals"].sum() == 0:
        st.info("No deal is open at the end of this period.")
        stage_event = None
    else:
        fig = px.bar(
            pipeline,
            x="stage",
            y=["amount", "weighted"],
            barmode="group",
            color_discrete_sequence=PALETTE,
            labels={"value": "amount", "variable": ""},
        )
        stage_event = st.plotly_chart(
            styled(fig), key="pipeline_stage", on_select="rerun", selection_mode="points"
        )
    st.caption("Click a stage to list its open deals.")

funnel_stage = selected_category(funnel_event, "y", FUNNEL_STAGES)
open_stage = selected_category(stage_event, "x", OPEN_STAGES)
if funnel_stage:
    st.subheader(f"Deals created in the period that reached {funnel_stage}")
    rows = run(
        "queries.funnel.funnel_stage_deals", view.period, view.filters, stage=funnel_stage, limit=DRILL_CAP
    )
    record_table(
        rows,
        key="drill-funnel",
        empty="No deal reached this stage.",
        filename=f"funnel_{funnel_stage}.csv",
        cap=DRILL_CAP,
    )
elif open_stage:
    st.subheader(f"Open deals in {open_stage} at the end of the period")
    rows = run(
        "queries.pipeline.open_deal_rows", view.period, view.filters, stage=open_stage, limit=DRILL_CAP
    )
    record_table(
        rows,
        key="drill-stage",
        empty="No open deal in this stage.",
        filename=f"open_{open_stage}.csv",
        cap=DRILL_CAP,
    )

st.divider()
trend = run("queries.sales.bookings_by_month", view.period, view.filters)
st.subheader("Bookings by month against target")
if trend["bookings"].sum() == 0 and (trend["target"].isna().all() or trend["target"].fillna(0).sum() == 0):
    st.info("No bookings and no targets in this period.")
else:
    months = month_labels(trend["month"])
    fig = go.Figure()
    fig.add_bar(x=months, y=trend["bookings"], name="Bookings", marker_color=PALETTE[0])
    if trend["target"].notna().any():
        fig.add_scatter(
            x=months,  # the bars' category labels: dates here would start a second, time axis
            y=trend["target"],
            name="Target",
            mode="lines+markers",
            line={"color": PALETTE[1], "dash": "dash"},
        )
    st.plotly_chart(styled(fig), key="bookings_trend")

c1, c2, c3 = st.columns(3)
with c1:
    st.subheader("By product line", help="Open pipeline at the end of the period by product line.")
    lines = open_book["by_product_line"]
    if lines.empty:
        st.info("No open pipeline.")
    else:
        st.plotly_chart(bar(lines, x="product_line", y="amount", labels={"product_line": ""}), key="lines")
with c2:
    st.subheader("Lead source conversion", help="Leads created in the period by source; share now converted.")
    sources = run("queries.leads.lead_source_conversion", view.period, view.filters)
    if sources.empty:
        st.info("No lead was created in this period.")
    else:
        st.dataframe(
            sources,
            hide_index=True,
            width="stretch",
            column_config=column_config(sources, hide_empty=False),
        )
with c3:
    st.subheader("Lost reasons", help="Deals lost in the period by reason.")
    lost = run("queries.sales.lost_reasons", view.period, view.filters)
    if lost.empty:
        st.info("No deal was lost in this period.")
    else:
        st.plotly_chart(
            styled(
                px.pie(lost, names="lost_reason", values="deals", hole=0.5, color_discrete_sequence=PALETTE)
            ),
            key="lost",
        )
        st.caption(f"{count(lost['deals'].sum())} deals lost, {money(lost['amount'].sum())} in value.")
