"""Sales War Room: `streamlit run app.py`."""

import streamlit as st

from pages.components.resources import prepared_engine

st.set_page_config(page_title="Sales War Room", page_icon="📈", layout="wide")
prepared_engine()
pages = {
    "Dashboards": [
        st.Page("pages/war_room.py", title="War Room", icon="🎯", default=True),
        st.Page("pages/pipeline.py", title="Pipeline & Funnel", icon="🔻"),
        st.Page("pages/leaderboard.py", title="Leaderboard", icon="🏆"),
        st.Page("pages/customer_health.py", title="Customer Health", icon="❤️"),
        st.Page("pages/service.py", title="Service", icon="🎧"),
    ],
    "Data": [st.Page("pages/data_overview.py", title="Data overview", icon="🗄️")],
}
st.navigation(pages).run()
