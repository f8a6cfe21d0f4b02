"""Sales War Room: `streamlit run app.py`.

`st.navigation` runs on every run, whatever the state: while the database is prepared it holds
only that step, before sign-in only the sign-in form (at every page's URL, so a deep link
survives signing in). So no page is reachable by URL before its time; a page script that
Streamlit runs directly anyway (its old multipage mode, before any session of a fresh server
process reached `st.navigation`) goes back through here (`session.route_through_app`) and, once
signed in, to that page (`navigation.resume_page`).
"""

import streamlit as st

from pages.components.auth import keep_session_cookie, login_form, sign_out, signed_in_actor
from pages.components.navigation import build_navigation, resume_page, sign_in_pages
from pages.components.resources import get_engine, is_prepared, prepared_engine
from pages.components.session import ACTOR_KEY

st.set_page_config(page_title="Sales War Room", page_icon=":material/monitoring:", layout="wide")


def preparing_page() -> None:
    prepared_engine()
    st.rerun()


if not is_prepared(get_engine()):
    st.navigation(
        [st.Page(preparing_page, title="Preparing", icon=":material/hourglass:")], position="hidden"
    ).run()
    st.stop()
engine = get_engine()
actor = signed_in_actor(engine)


def sign_in_page() -> None:
    if login_form(engine) is not None:
        st.rerun()


if actor is None:
    st.session_state.pop(ACTOR_KEY, None)
    st.navigation(sign_in_pages(sign_in_page), position="hidden").run()
    st.stop()

st.session_state[ACTOR_KEY] = actor
navigation = build_navigation(actor)
with st.sidebar:
    st.caption(f"Signed in as **{actor.display_name}** · {actor.role}")
    if st.button("Sign out", icon=":material/logout:", key="sign_out"):
        sign_out(engine, actor)
        st.session_state.pop(ACTOR_KEY, None)
        st.rerun()
keep_session_cookie()
resume_page(actor)
navigation.run()
