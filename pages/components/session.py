"""Who is looking: the signed-in actor for pages, and the data scope their role allows."""

from __future__ import annotations

import streamlit as st

from crm_core.actor import Actor
from pages.components.filters import Scope

ACTOR_KEY = "actor"


def current_actor() -> Actor:
    """The actor `app.py` signed in for this run (pages are only routed once someone is)."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        st.error("Please sign in.")
        st.stop()
    return actor


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
