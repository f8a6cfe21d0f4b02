"""Shared Streamlit widgets and resources (never routed as pages)."""
