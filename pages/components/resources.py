"""Process-wide resources: one engine per process, the first-run bootstrap done once."""

from __future__ import annotations

import threading

import streamlit as st
from sqlalchemy import Engine

from crm_core.db import make_engine
from crm_core.schema import upgrade_to_head
from queries.concurrent import workers
from seed.bootstrap import database_is_empty, ensure_ready

_bootstrap_lock = threading.Lock()
_ready_urls: set[str] = set()


@st.cache_resource(show_spinner=False)
def get_engine() -> Engine:
    workers()  # a bad WARROOM_QUERY_WORKERS stops the app here, with its message, not on a page
    return make_engine()


def is_prepared(engine: Engine) -> bool:
    """Whether this process has already migrated (and if need be seeded) the database."""
    return str(engine.url) in _ready_urls


def prepared_engine() -> Engine:
    """The engine, after migrating (and on an empty database seeding the demo, with progress).

    Runs once per process and database; concurrent first sessions wait on the lock.
    """
    engine = get_engine()
    key = str(engine.url)
    if key in _ready_urls:
        return engine
    with _bootstrap_lock:
        if key not in _ready_urls:
            _bootstrap(engine)
            _ready_urls.add(key)
    return engine


def _bootstrap(engine: Engine) -> None:
    upgrade_to_head(engine)
    if not database_is_empty(engine):
        return
    with st.status("First run: generating the demo company…", expanded=True) as status:
        ensure_ready(engine, progress=status.write)
        status.update(label="Demo data ready", state="complete", expanded=False)
