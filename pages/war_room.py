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

st.subheader(
    "Alerts",
    help="Each tab lists the records behind its alert, with a CSV download. Only the open tab is "
    "read from the database; its name is in the page's link.",
)
ALERTS = [
    ("Stale deals", "queries.pipeline.stale_deal_rows", {},
     "open deals with no activity in the 14 days before the end of the period.",
     "No stale deals: every open deal was touched in the last 14 days."),
    ("SLA breaches", "queries.service.breaching_tickets", {},
     "open tickets already past their resolution SLA at the end of the period.",
     "No open ticket is past its SLA."),
    ("Critical accounts", "queries.health.health_accounts", {"bands": ("critical",)},
     "active customers with a health score below 40, with the reasons that cost them points.",
     "No customer is critical."),
    ("Unassigned leads", "queries.leads.unassigned_leads", {},
     "leads nobody owns yet. Reps can claim them on the Leads page.",
     "The lead pool is empty (or a team/rep filter hides it)."),
]  # fmt: skip


def _count(frame) -> str:
    return f"{len(frame):,}+" if len(frame) >= LIST_CAP else f"{len(frame):,}"


tabs = st.tabs([title for title, *_ in ALERTS], key="alerts", on_change="rerun", bind="query-params")
for i, (title, path, extra, caption, empty) in enumerate(ALERTS):
    if tabs[i].open:  # lazy tabs: only the open one (the first unless the link says otherwise) runs
        with tabs[i]:
            frame = run(path, view.period, view.filters, limit=LIST_CAP, **extra)
            if not frame.empty:
                st.caption(f"**{_count(frame)}** {caption}")
            slug = title.lower().replace(" ", "_")
            record_table(frame, key=slug, empty=empty, filename=f"{slug}.csv", cap=LIST_CAP)
