"""On an empty database the app migrates, seeds the demo with progress, then asks for a sign-in."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from crm_core.db import make_engine
from crm_core.models import Opportunity, User
from pages.components import resources
from tests.pages.conftest import APP


def test_first_run_on_an_empty_database_seeds_the_demo_and_shows_sign_in(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'first.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("WARROOM_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("WARROOM_COOKIE_KEY", "first-run-key-" + "f" * 32)
    monkeypatch.setattr(resources, "_ready_urls", set())
    st.cache_resource.clear()
    st.cache_data.clear()
    app = AppTest.from_file(str(APP), default_timeout=180)
    app.run()
    assert not app.exception
    assert app.button(key="FormSubmitter:login-Sign in") is not None
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(User)).scalar_one() >= 25
        assert conn.execute(select(func.count()).select_from(Opportunity)).scalar_one() > 5000
    engine.dispose()
