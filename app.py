"""Sales War Room: `streamlit run app.py`.

`st.navigation` runs on every run, signed in or not: before sign-in it holds only the sign-in
page, so the `pages/` folder is never auto-discovered and no page is reachable by URL.
"""

import streamlit as st

from pages.components.auth import keep_session_cookie, login_form, sign_out, signed_in_actor
from pages.components.navigation import build_navigation
from pages.components.resources import prepared_engine
from pages.components.session import ACTOR_KEY

st.set_page_config(page_title="Sales War Room", page_icon=":material/monitoring:", layout="wide")
engine = prepared_engine()
actor = signed_in_actor(engine)


def sign_in_page() -> None:
    if login_form(engine) is not None:
        st.rerun()


if actor is None:
    st.session_state.pop(ACTOR_KEY, None)
    st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")], position="hidden").run()
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
navigation.run()
