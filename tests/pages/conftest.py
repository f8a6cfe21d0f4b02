"""A demo database seeded once per run (as of today, as the pages' period presets are) and
AppTest instances of the app pointed at it."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crm_core.db import make_engine

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def demo_engine(demo_url):
    engine = make_engine(demo_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app(demo_url, monkeypatch) -> AppTest:
    """The app on the demo database, caches emptied so no other test's results leak in."""
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.setenv("WARROOM_COOKIE_KEY", "test-cookie-key-" + "x" * 32)
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(str(APP), default_timeout=120)


DEMO_PASSWORDS = {"admin": "warroom-admin", "manager": "warroom-manager", "rep": "warroom-rep"}


def login(app: AppTest, username: str, password: str) -> AppTest:
    """Sign in through the form, as a person would."""
    app.run()
    app.text_input(key="login_username").input(username)
    app.text_input(key="login_password").input(password)
    app.button[0].click().run()
    return app


def first_user(engine, role: str) -> str:
    from sqlalchemy import select

    from crm_core.models import User

    with engine.connect() as conn:
        return conn.execute(
            select(User.username).where(User.role == role, User.active.is_(True)).order_by(User.id).limit(1)
        ).scalar_one()


@pytest.fixture
def admin_app(app, demo_engine) -> AppTest:
    """The app, signed in as the admin."""
    return login(app, "admin", DEMO_PASSWORDS["admin"])
