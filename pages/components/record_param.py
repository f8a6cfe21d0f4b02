"""A record opened through the URL (`?deal=42`): shareable, and survives reruns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

INVALID = "invalid"


@dataclass(frozen=True)
class RecordParam:
    """The query parameter `name` holding the id of the open record."""

    name: str

    def read(self) -> int | str | None:
        """The id in the URL; None when absent, "invalid" when it is not a whole number."""
        raw = st.query_params.get(self.name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            return INVALID

    def open(self, record_id: int) -> None:
        st.query_params[self.name] = str(record_id)

    def close(self) -> None:
        st.query_params.pop(self.name, None)

    def pick_from(self, shown, id_column: str, *, key: str, column_config: dict) -> None:
        """Draw `shown` as a table; selecting a row opens that record."""
        event = st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key=key,
            column_config=column_config,
        )
        selected = event.selection.rows if event is not None else []
        if selected:
            self.open(int(shown.iloc[selected[0]][id_column]))
            st.rerun()

    def back_button(self, label: str) -> None:
        """A button back to the list (closes the record)."""
        if st.button(label, icon=":material/arrow_back:", key=f"{self.name}_back", type="tertiary"):
            self.close()
            st.rerun()

    def route(
        self,
        list_view: Callable[[], None],
        record_view: Callable[[int], None],
        *,
        back_label: str,
        denied: Callable[[], None],
    ) -> None:
        """Draw the list, the open record, or (for a malformed id) the refusal with a way back."""
        selected = self.read()
        if selected is None:
            list_view()
        elif selected == INVALID:
            self.back_button(back_label)
            denied()
        else:
            record_view(selected)
