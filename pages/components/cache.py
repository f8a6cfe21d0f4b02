"""The UI's cache of query results: small aggregates per filter combination, cleared after writes.

Every dashboard reads through `run`, so one `clear_dashboard_caches()` after a write makes
every page show the change at once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st

from pages.components.resources import get_engine
from queries.filters import Filters, Period

CACHE_TTL_SECONDS = 300


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    if not module.startswith("queries."):
        raise ValueError(f"only query functions are cached, not {path!r}")
    return getattr(importlib.import_module(module), name)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=1000, show_spinner=False)
def _cached_query(path: str, period: Period | None, filters: Filters | None, as_of, kwargs: tuple) -> Any:
    fn = _resolve(path)
    if period is None:
        return fn(get_engine(), **dict(kwargs))
    return fn(get_engine(), period, filters or Filters(), as_of=as_of, **dict(kwargs))


def run(
    path: str,
    period: Period | None = None,
    filters: Filters | None = None,
    as_of: datetime | None = None,
    **kwargs: Any,
) -> Any:
    """Call the query function at dotted `path` (e.g. "queries.sales.bookings"), cached."""
    return _cached_query(path, period, filters, as_of, tuple(sorted(kwargs.items())))


def clear_dashboard_caches() -> None:
    """Drop every cached query result (for all users): call after each write."""
    _cached_query.clear()
