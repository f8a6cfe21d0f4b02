"""Service: ticket flow and backlog, SLA by priority, first response, CSAT, and the tickets breaching now."""

import plotly.express as px
import streamlit as st

from pages.components.cache import run
from pages.components.charts import PALETTE, month_labels, styled
from pages.components.filters import sidebar_filters
from pages.components.kpi import kpi_grid
from pages.components.session import current_actor, scope_for
from pages.components.tables import column_config, record_table

KPI_IDS = (
    "tickets_opened",
    "tickets_resolved",
    "ticket_backlog",
    "sla_met_rate",
    "avg_first_response_hours",
    "csat",
)
LIST_CAP = 1000

view = sidebar_filters(scope_for(current_actor()))
st.title("Service")
st.caption(f"{view.label} · resolution SLA: urgent 4 h, high 24 h, normal 72 h, low 120 h")

kpis = run("queries.registry.kpis_with_delta", view.period, view.filters, ids=KPI_IDS)
kpi_grid(KPI_IDS, kpis, columns=3)

st.subheader("Tickets by month", help="Opened and resolved in each month; backlog at each month's end.")
flow = run("queries.service.tickets_by_month", view.period, view.filters)
if flow[["opened", "resolved", "backlog"]].to_numpy().sum() == 0:
    st.info("No ticket activity in this period.")
else:
    flow = flow.assign(month=month_labels(flow["month"]))  # categories: one bar pair per month
    fig = px.bar(
        flow,
        x="month",
        y=["opened", "resolved"],
        barmode="group",
        color_discrete_sequence=PALETTE,
        labels={"value": "tickets", "variable": ""},
    )
    fig.add_scatter(
        x=flow["month"], y=flow["backlog"], name="backlog", mode="lines+markers", line={"color": PALETTE[3]}
    )
    st.plotly_chart(styled(fig), key="flow")

left, right = st.columns(2)
with left:
    st.subheader("SLA met by priority")
    sla = run("queries.service.sla_by_priority", view.period, view.filters)
    st.dataframe(
        sla,
        hide_index=True,
        width="stretch",
        column_config=column_config(sla, hide_empty=False),
    )
with right:
    st.subheader("First response by priority")
    first = run("queries.service.first_response_by_priority", view.period, view.filters)
    st.dataframe(
        first,
        hide_index=True,
        width="stretch",
        column_config=column_config(first, hide_empty=False),
    )

st.subheader(
    "Tickets breaching their SLA now", help="Open at the end of the period and past the resolution SLA."
)
breaches = run("queries.service.breaching_tickets", view.period, view.filters, limit=LIST_CAP)
record_table(
    breaches,
    key="breaches",
    empty="No open ticket is past its SLA.",
    filename="breaching_tickets.csv",
    cap=LIST_CAP,
)
