"""Data overview: proves the data is there, table by table."""

import streamlit as st

from pages.components.cache import run
from pages.components.session import current_actor

current_actor()  # routed to admins only; this stops a direct run before sign-in
st.title("Data overview")
st.caption("Rows per table of the CRM database.")
counts = run("queries.table_counts.table_counts")
cols = st.columns(4)
for i, row in enumerate(counts.itertuples(index=False)):
    cols[i % 4].metric(row.table.replace("_", " ").title(), f"{row.rows:,}", border=True)
