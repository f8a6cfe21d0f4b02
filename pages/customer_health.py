"""Customer Health: bands, the accounts at risk and why, new vs churned, repeat purchase, NPS."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pages.components.cache import run
from pages.components.charts import BAND_COLORS, PALETTE, month_labels, styled
from pages.components.filters import sidebar_filters
from pages.components.kpi import kpi_grid
from pages.components.session import current_actor, scope_for
from pages.components.tables import column_config, record_table
from queries.health import bands_of

KPI_IDS = (
    "active_customers",
    "new_customers",
    "churn_rate",
    "repeat_purchase_rate",
    "customer_lifetime_value",
    "nps",
)
LIST_CAP = 1000
RISK_COLUMNS = ["name", "score", "band", "reasons", "owner", "region", "days_since_activity", "account_id"]

view = sidebar_filters(scope_for(current_actor()))
st.title("Customer Health")
st.caption(f"{view.label} · health as of the end of the period (product line does not act here)")

kpis = run("queries.registry.kpis_with_delta", view.period, view.filters, ids=KPI_IDS)
kpi_grid(KPI_IDS, kpis, columns=3)

# One scoring pass feeds the bands, the tiers and the at-risk list.
health = run("queries.health.health_overview", view.period, view.filters, limit=LIST_CAP)
tiers = health["tiers"]
bands = bands_of(tiers)
left, right = st.columns([2, 3])
with left:
    st.subheader(
        "Health bands",
        help="Each active customer starts at 100: −10/−25/−40 for 30/60/90+ days without activity, −10 per open "
        "high/urgent ticket (max −30), −5 per ticket resolved late in the last 90 days (max −20), −20 for a latest "
        "NPS of 0–6 or +5 for 9–10; clamped to 0–100. Healthy ≥ 70, at risk 40–69, critical < 40.",
    )
    if sum(bands.values()) == 0:
        st.info("No active customer at the end of this period.")
    else:
        fig = go.Figure(
            go.Pie(
                labels=list(bands),
                values=list(bands.values()),
                hole=0.55,
                marker_colors=[BAND_COLORS[b] for b in bands],
                sort=False,
            )
        )
        st.plotly_chart(styled(fig), key="bands")
with right:
    st.subheader("Accounts at risk and critical")
    risky = health["at_risk"]
    if not risky.empty:
        risky = risky.assign(reasons=risky["reasons"].map("; ".join))[RISK_COLUMNS]
    record_table(
        risky,
        key="risky",
        empty="Every active customer is healthy.",
        filename="accounts_at_risk.csv",
        cap=LIST_CAP,
    )

c1, c2 = st.columns(2)
with c1:
    st.subheader("New vs churned customers")
    flow = run("queries.customers.new_vs_churned_by_month", view.period, view.filters)
    if flow[["new_customers", "churned_customers"]].to_numpy().sum() == 0:
        st.info("No customer was won or lost in this period.")
    else:
        fig = px.bar(
            flow.assign(month=month_labels(flow["month"])),
            x="month",
            y=["new_customers", "churned_customers"],
            barmode="group",
            color_discrete_sequence=[PALETTE[2], PALETTE[3]],
            labels={"value": "accounts", "variable": ""},
        )
        st.plotly_chart(styled(fig), key="flow")
with c2:
    st.subheader("NPS by month", help="100 × (promoters 9–10 − detractors 0–6) ÷ responses.")
    trend = run("queries.customers.nps_trend", view.period, view.filters)
    if trend["responses"].sum() == 0:
        st.info("No NPS response in this period.")
    else:
        fig = px.line(
            trend.assign(month=month_labels(trend["month"])),
            x="month",
            y="nps",
            markers=True,
            color_discrete_sequence=[PALETTE[4]],
        )
        fig.update_yaxes(range=[-100, 100])
        st.plotly_chart(styled(fig), key="nps")

st.subheader("Tiers", help="Active customers at the end of the period by account tier and health band.")
if tiers["customers"].sum() == 0:
    st.info("No active customer at the end of this period.")
else:
    left, right = st.columns([3, 2])
    fig = px.bar(
        tiers,
        x="tier",
        y=["healthy", "at_risk", "critical"],
        color_discrete_map=BAND_COLORS,
        labels={"value": "customers", "variable": "", "tier": "tier"},
    )
    left.plotly_chart(styled(fig), key="tiers")
    right.dataframe(
        tiers, hide_index=True, width="stretch", column_config=column_config(tiers, hide_empty=False)
    )
