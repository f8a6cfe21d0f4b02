"""The menu per role: a page not in your menu is not routed, so not reachable even by URL."""

from __future__ import annotations

import streamlit as st

from crm_core.actor import Actor

WAR_ROOM = ("pages/war_room.py", "War Room", ":material/target:")
DASHBOARDS = [
    ("pages/pipeline.py", "Pipeline & Funnel", ":material/filter_alt:"),
    ("pages/leaderboard.py", "Leaderboard", ":material/leaderboard:"),
    ("pages/customer_health.py", "Customer Health", ":material/favorite:"),
    ("pages/service.py", "Service", ":material/support_agent:"),
]
WORK = [
    ("pages/my_pipeline.py", "My Pipeline", ":material/view_kanban:"),
    ("pages/leads.py", "Leads", ":material/person_add:"),
    ("pages/deals.py", "Deals", ":material/handshake:"),
    ("pages/tickets.py", "Tickets", ":material/confirmation_number:"),
]
TARGETS = ("pages/targets.py", "Targets", ":material/flag:")
ADMIN = [
    ("pages/admin.py", "Admin", ":material/admin_panel_settings:"),
    ("pages/data_overview.py", "Data overview", ":material/database:"),
]


def menu_for(actor: Actor) -> dict[str, list[tuple[str, str, str]]]:
    """Sections of (path, title, icon) for this role. Pure, so it is tested without Streamlit."""
    if actor.is_rep:
        leaderboard = DASHBOARDS[1]
        return {"My day": [WAR_ROOM, *WORK], "Team": [leaderboard]}
    menu = {"Dashboards": [WAR_ROOM, *DASHBOARDS], "Work": [*WORK, TARGETS]}
    if actor.is_admin:
        menu["Admin"] = ADMIN
    return menu


def build_navigation(actor: Actor):
    """`st.navigation` over this actor's menu; the War Room is the default page."""
    sections = {
        section: [
            st.Page(path, title=title, icon=icon, default=(path, title, icon) == WAR_ROOM)
            for path, title, icon in entries
        ]
        for section, entries in menu_for(actor).items()
    }
    return st.navigation(sections)
