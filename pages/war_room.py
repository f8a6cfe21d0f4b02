"""War Room: the KPIs of the period with deltas, and the alerts that need someone today."""

import streamlit as st

from pages.components.cache import run
from pages.components.filters import sidebar_filters
from pages.components.formatting import money, percent
from pages.components.kpi import kpi_grid
from pages.components.session import current_actor, scope_for
from pages.components.tables import record_table

KPI_IDS = (
    "bookings",
    "collections",
    "open_pipeline",
    "weighted_pipeline",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "lead_conversion_rate",
    "new_customers",
    "churn_rate",
    "nps",
    "sla_met_rate",
)
LIST_CAP = 500

view = sidebar_filters(scope_for(current_actor()))
st.title("War Room")
st.caption(f"{view.label} · deltas compare with the previous {view.period.days} days")

kpis = run(
    "queries.registry.kpis_with_delta", view.period, view.filters, ids=(*KPI_IDS, "target", "attainment")
)
target, attainment = kpis["target"]["current"], kpis["attainment"]["current"]
bookings_caption = (
    "Target and attainment have no value with a region or product line filter."
    if target is None
    else f"Target {money(target)} · attainment {percent(attainment)}"
)
kpi_grid(KPI_IDS, kpis, bookings={"caption": bookings_caption})
if target is not None:
    st.progress(min(attainment or 0.0, 1.0), text=f"Bookings vs target: {bookings_caption}")
else:
    st.caption(bookings_caption)

st.subheader("Alerts")
stale = run("queries.pipeline.stale_deal_rows", view.period, view.filters, limit=LIST_CAP)
breaches = run("queries.service.breaching_tickets", view.period, view.filters, limit=LIST_CAP)
critical = run(
    "queries.health.health_accounts", view.period, view.filters, bands=("critical",), limit=LIST_CAP
)
pool = run("queries.leads.unassigned_leads", view.period, view.filters, limit=LIST_CAP)


def _count(frame) -> str:
    return f"{len(frame):,}+" if len(frame) >= LIST_CAP else f"{len(frame):,}"


alerts = st.tabs(
    [
        f"Stale deals ({_count(stale)})",
        f"SLA breaches ({_count(breaches)})",
        f"Critical accounts ({_count(critical)})",
        f"Unassigned leads ({_count(pool)})",
    ]
)
with alerts[0]:
    st.caption("Open deals with no activity in the 14 days before the end of the period.")
    record_table(
        stale,
        key="stale",
        empty="No stale deals: every open deal was touched in the last 14 days.",
        filename="stale_deals.csv",
        cap=LIST_CAP,
    )
with alerts[1]:
    st.caption("Open tickets already past their resolution SLA at the end of the period.")
    record_table(
        breaches,
        key="breaches",
        empty="No open ticket is past its SLA.",
        filename="sla_breaches.csv",
        cap=LIST_CAP,
    )
with alerts[2]:
    st.caption("Active customers with a health score below 40, with the reasons that cost them points.")
    record_table(
        critical,
        key="critical",
        empty="No customer is critical.",
        filename="critical_accounts.csv",
        cap=LIST_CAP,
    )
with alerts[3]:
    st.caption("Leads nobody owns yet. Reps can claim them on the Leads page.")
    record_table(
        pool,
        key="pool",
        empty="The lead pool is empty (or a team/rep filter hides it).",
        filename="unassigned_leads.csv",
        cap=LIST_CAP,
    )
