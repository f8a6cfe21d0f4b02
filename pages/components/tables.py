"""Record tables with a CSV download; exported cells cannot become spreadsheet formulas."""

from __future__ import annotations

import csv

import pandas as pd
import streamlit as st

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV, text cells neutralised against formula injection."""
    cleaned = frame.copy()
    for column in cleaned.columns:
        if cleaned[column].dtype == object or pd.api.types.is_string_dtype(cleaned[column]):
            cleaned[column] = cleaned[column].map(neutralise_cell)
    return cleaned.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


def record_table(frame: pd.DataFrame, *, key: str, empty: str, filename: str, cap: int | None = None) -> None:
    """The rows with a CSV download, or `empty` (saying what is empty and why) when there are none."""
    if frame.empty:
        st.info(empty)
        return
    if cap is not None and len(frame) >= cap:
        st.caption(f"Showing the first {cap:,} rows.")
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        "Download CSV",
        safe_csv(frame),
        file_name=filename,
        mime="text/csv",
        key=f"{key}-csv",
        icon=":material/download:",
    )
