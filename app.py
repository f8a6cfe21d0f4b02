"""Sales War Room: `streamlit run app.py`."""

import streamlit as st

from pages.components.auth import keep_session_cookie, login_form, sign_out, signed_in_actor
from pages.components.navigation import build_navigation
from pages.components.resources import prepared_engine
from pages.components.session import ACTOR_KEY

st.set_page_config(page_title="Sales War Room", page_icon=":material/monitoring:", layout="wide")
engine = prepared_engine()
actor = signed_in_actor(engine) or login_form(engine)
if actor is None:
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
