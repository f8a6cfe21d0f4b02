"""Who is looking: the signed-in actor for pages, and the data scope their role allows."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from crm_core.actor import Actor
from pages.components.filters import Scope
from pages.components.navigation import RESUME_KEY

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
    app.py and its sign-in; the page asked for is kept for after it (`navigation.resume_page`).
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.session_state[RESUME_KEY] = _running_script()
        st.rerun()


def _running_script() -> str | None:
    """The running page script relative to the app's folder ('pages/deals.py'), if known."""
    ctx = get_script_run_ctx()
    page = ctx.pages_manager.get_pages().get(ctx.page_script_hash) if ctx is not None else None
    if not page or not page.get("script_path"):
        return None
    root = Path(ctx.main_script_path).resolve().parent
    return Path(page["script_path"]).resolve().relative_to(root).as_posix()


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
