"""The menu per role: a page not in your menu is not routed, so not reachable even by URL."""

from __future__ import annotations

from collections.abc import Callable

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
RESUME_KEY = "page_after_sign_in"  # a page script asked for before sign-in (see session.route_through_app)
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


def sign_in_pages(sign_in: Callable[[], None]) -> list:
    """What is routed before sign-in: the sign-in form, at the app's root and at the URL path of
    every page, so a link such as `/deals?deal=5` shows the form (not "Page not found") and,
    once signed in, the same URL opens that page — pages are told apart by URL path — when the
    role has it. No page content is reachable: every path runs `sign_in`."""
    every_page = [WAR_ROOM, *DASHBOARDS, *WORK, TARGETS, *ADMIN]
    placeholders = [
        st.Page(sign_in, title="Sign in", icon=":material/login:", url_path=st.Page(path).url_path)
        for path, _title, _icon in every_page
    ]
    return [st.Page(sign_in, title="Sign in", icon=":material/login:", default=True), *placeholders]


def resume_page(actor: Actor) -> None:
    """After sign-in, open the page a signed-out visitor asked for when Streamlit could not keep
    it in the URL (`session.route_through_app`), with the query they came with, if this actor's
    menu has it; otherwise stay on the default page."""
    script = st.session_state.pop(RESUME_KEY, None)
    mine = {path for entries in menu_for(actor).values() for path, _title, _icon in entries}
    if script in mine:
        st.switch_page(script, query_params={key: st.query_params.get_all(key) for key in st.query_params})
