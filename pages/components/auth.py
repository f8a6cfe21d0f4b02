"""Sign-in, session restore and sign-out for the UI.

streamlit-authenticator's cookie model writes and deletes the signed (JWT) session cookie; our
subclass adds the user id and session epoch to it, so that a sign-out, which bumps the epoch in
the database, makes every copy of an old cookie useless. Passwords are checked by
`crm_core.auth` (throttling, deactivated users, 72-byte limit), never by the library.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
import streamlit as st
from sqlalchemy import Engine
from streamlit_authenticator.models.cookie_model import CookieModel

from crm_core.actor import Actor, load_actor
from crm_core.auth import authenticate, is_session_current, logout_everywhere
from crm_core.cookie_key import cookie_key
from crm_core.errors import CrmError

COOKIE_NAME = "warroom_session"
COOKIE_DAYS = 7
SESSION_KEY = "auth_claims"
COOKIE_PENDING_KEY = "auth_cookie_pending"


class SessionCookie(CookieModel):
    """The library's cookie, carrying `user_id` and `session_epoch` besides the username."""

    def __init__(self, claims: dict[str, Any] | None = None) -> None:
        st.session_state.setdefault("logout", False)
        super().__init__(COOKIE_NAME, cookie_key(), COOKIE_DAYS)
        self.claims = claims or {}

    def _set_exp_date(self) -> float:
        return self.claims.get("exp_date") or super()._set_exp_date()

    def _token_encode(self) -> str:
        return jwt.encode({**self.claims, "exp_date": self.exp_date}, self.cookie_key, algorithm="HS256")


def decode_session_cookie(token: str | None, key: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The claims of a valid, unexpired session cookie; None for anything else."""
    if not token:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    moment = (now or datetime.now()).timestamp()
    required = {"username", "user_id", "session_epoch", "exp_date"}
    if (
        not required <= claims.keys()
        or not isinstance(claims["exp_date"], int | float)
        or claims["exp_date"] <= moment
    ):
        return None
    return claims


def _claims_from_cookie() -> dict[str, Any] | None:
    return decode_session_cookie(st.context.cookies.get(COOKIE_NAME), cookie_key())


def signed_in_actor(engine: Engine) -> Actor | None:
    """The signed-in user, from this session or a still-valid cookie; None otherwise.

    Checked against the database on every run: a sign-out elsewhere, a deactivation or a
    password reset ends this session at its next interaction.
    """
    claims = st.session_state.get(SESSION_KEY) or _claims_from_cookie()
    if not claims:
        return None
    if not is_session_current(engine, claims["user_id"], claims["session_epoch"]):
        st.session_state.pop(SESSION_KEY, None)
        return None
    try:
        actor = load_actor(engine, claims["user_id"])
    except CrmError:
        st.session_state.pop(SESSION_KEY, None)
        return None
    st.session_state[SESSION_KEY] = claims
    return actor


def login_form(engine: Engine) -> Actor | None:
    """Draw the sign-in form; on success start the session, set the cookie and return the actor."""
    box = st.empty()
    with box.container():
        _, middle, _ = st.columns([1, 2, 1])
        with middle:
            st.title("Sales War Room")
            st.caption("Sign in to see your numbers and work your pipeline.")
            with st.form("login", clear_on_submit=False):
                username = st.text_input("Username", key="login_username", autocomplete="username")
                password = st.text_input(
                    "Password", type="password", key="login_password", autocomplete="current-password"
                )
                submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
            with st.expander("Demo logins"):
                st.markdown(
                    "Admin `admin` / `warroom-admin` · managers use `warroom-manager` · reps use `warroom-rep`. "
                    "Usernames: run `python -m seed logins`."
                )
            if not submitted:
                return None
            result = authenticate(engine, username, password)
            if not result.ok:
                st.error(result.message)
                return None
    box.empty()
    expires = datetime.now() + timedelta(days=COOKIE_DAYS)
    st.session_state[SESSION_KEY] = {
        "username": result.username,
        "user_id": result.user_id,
        "session_epoch": result.session_epoch,
        "exp_date": expires.timestamp(),
    }
    st.session_state[COOKIE_PENDING_KEY] = True
    return load_actor(engine, result.user_id)


def keep_session_cookie() -> None:
    """After a sign-in in this session, keep the cookie writer mounted (in the sidebar) until the
    browser reports the cookie back; then stop drawing it.

    The browser runs the component asynchronously; drawing it on every run with the same
    arguments keeps it mounted until it has written the cookie, whatever reruns happen.
    """
    claims = st.session_state.get(SESSION_KEY)
    if not (claims and st.session_state.get(COOKIE_PENDING_KEY)):
        return
    with st.sidebar:
        cookie = SessionCookie(claims)
        stored = decode_session_cookie(cookie.cookie_manager.cookies.get(COOKIE_NAME), cookie.cookie_key)
        if stored and (stored["user_id"], stored["session_epoch"]) == (
            claims["user_id"],
            claims["session_epoch"],
        ):
            st.session_state[COOKIE_PENDING_KEY] = False
            return
        cookie.set_cookie()


def sign_out(engine: Engine, actor: Actor) -> None:
    """End every session of this user (old cookies stop working) and forget this one."""
    logout_everywhere(engine, actor.user_id)
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(COOKIE_PENDING_KEY, None)
