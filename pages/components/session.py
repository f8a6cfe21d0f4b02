"""Who is looking: the signed-in actor for pages, and the data scope their role allows."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from crm_core.actor import Actor
from pages.components.filters import Scope

ACTOR_KEY = "actor"


def current_actor() -> Actor:
    """The actor `app.py` signed in for this run (pages are only routed once someone is)."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        route_through_app()
        st.error("Please sign in.")
        st.stop()
    return actor


def route_through_app() -> None:
    """Send a page script that Streamlit ran directly back through `app.py`.

    Until some session of the server process has called `st.navigation`, Streamlit runs in its
    old multipage mode: a URL such as `/deals` runs `pages/deals.py` itself, skipping app.py's
    sign-in, and the sidebar lists every page. So the first visitor after a restart who opens a
    deep link would land there. Turning that mode off and rerunning sends the request through
    app.py and its sign-in (at the app's root, with the query kept: that one first request
    loses its path; every later one keeps it, see `navigation.sign_in_pages`).
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def scope_for(actor: Actor) -> Scope:
    """Reps see their own numbers, managers their team's, admins everything."""
    if actor.is_rep:
        return Scope(owner_id=actor.user_id)
    if actor.is_manager:
        return Scope(team_id=actor.team_id if actor.team_id is not None else -1)
    return Scope()


def team_scope_for(actor: Actor) -> Scope:
    """For comparisons among peers (the leaderboard): reps and managers see their team."""
    if actor.is_admin:
        return Scope()
    return Scope(team_id=actor.team_id if actor.team_id is not None else -1)
