"""Sign-in, session cookies and the per-role menu."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
import pytest

from crm_core.actor import Actor
from crm_core.auth import is_session_current, logout_everywhere
from pages.components.auth import decode_session_cookie
from pages.components.navigation import ADMIN, RESUME_KEY, WAR_ROOM, WORK, menu_for
from tests.pages.conftest import DEMO_PASSWORDS, first_user, login

KEY = "k" * 40
NOW = datetime(2026, 11, 22, 12, 0)


def _token(key=KEY, **claims):
    base = {
        "username": "ana",
        "user_id": 7,
        "session_epoch": 0,
        "exp_date": (NOW + timedelta(days=7)).timestamp(),
    }
    return jwt.encode({**base, **claims}, key, algorithm="HS256")


def test_a_valid_cookie_gives_its_claims():
    claims = decode_session_cookie(_token(), KEY, now=NOW)
    assert claims["user_id"] == 7
    assert claims["session_epoch"] == 0


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not-a-jwt",
        _token(key="another-key-" + "y" * 30),
        _token(exp_date=(NOW - timedelta(seconds=1)).timestamp()),
        jwt.encode(
            {"username": "ana", "exp_date": (NOW + timedelta(days=1)).timestamp()}, KEY, algorithm="HS256"
        ),
    ],
    ids=["none", "empty", "garbage", "forged", "expired", "no-epoch (library's own cookie)"],
)
def test_anything_else_is_no_session(token):
    assert decode_session_cookie(token, KEY, now=NOW) is None


def _actor(role):
    return Actor(user_id=1, role=role, team_id=1, display_name="X")


def test_menus_per_role():
    rep = [p for entries in menu_for(_actor("rep")).values() for p in entries]
    manager = [p for entries in menu_for(_actor("manager")).values() for p in entries]
    admin = [p for entries in menu_for(_actor("admin")).values() for p in entries]
    titles = lambda pages: {title for _, title, _ in pages}  # noqa: E731
    assert titles(rep) == {"War Room", "My Pipeline", "Leads", "Deals", "Tickets", "Leaderboard"}
    assert WAR_ROOM in manager and all(p in manager for p in WORK)
    assert not any(p in manager for p in ADMIN)
    assert all(p in admin for p in ADMIN)


def test_wrong_password_shows_the_message_and_no_page(app):
    login(app, "admin", "wrong")
    assert [e.value for e in app.error] == ["Wrong username or password."]
    assert not app.metric


def test_right_password_opens_the_war_room(app):
    login(app, "admin", DEMO_PASSWORDS["admin"])
    assert not app.exception
    assert app.title[0].value == "War Room"
    assert len(app.metric) >= 12


def test_a_rep_cannot_switch_to_an_admin_page(app, demo_engine):
    login(app, first_user(demo_engine, "rep"), DEMO_PASSWORDS["rep"])
    assert app.title[0].value == "War Room"
    with pytest.raises(Exception, match=r"(?i)page"):
        app.switch_page("pages/admin.py").run()


def test_a_reps_war_room_shows_only_their_numbers(app, demo_engine):
    from pages.components.formatting import format_value
    from pages.components.period_presets import DEFAULT_PRESET, preset_range
    from queries.filters import Filters, Period
    from queries.report import build_report
    from seed.demo import today_utc

    username = first_user(demo_engine, "rep")
    login(app, username, DEMO_PASSWORDS["rep"])
    user_id = app.session_state["actor"].user_id
    assert "rep" not in {box.key for box in app.sidebar.selectbox}
    shown = {m.label: m.value for m in app.metric}
    period = Period(*preset_range(DEFAULT_PRESET, today_utc()))
    report = build_report(demo_engine, period, Filters(owner_id=user_id), period.as_of())
    assert shown["Bookings"] == format_value("money", report["metrics"]["bookings"])
    assert shown["Win rate"] == format_value("percent", report["metrics"]["win_rate"])


def test_logout_revokes_the_session_epoch(demo_engine):
    from sqlalchemy import select

    from crm_core.models import User

    with demo_engine.connect() as conn:
        user_id, epoch = conn.execute(
            select(User.id, User.session_epoch).where(User.username == "admin")
        ).one()
    assert is_session_current(demo_engine, user_id, epoch)
    logout_everywhere(demo_engine, user_id)
    assert not is_session_current(demo_engine, user_id, epoch)


def test_no_secret_reaches_the_page(app, monkeypatch):
    import os

    login(app, "admin", DEMO_PASSWORDS["admin"])
    key = os.environ["WARROOM_COOKIE_KEY"]
    texts = [e.value for e in app.markdown] + [e.value for e in app.caption] + [m.value for m in app.metric]
    assert all(key not in str(text) and DEMO_PASSWORDS["admin"] not in str(text) for text in texts)


@pytest.mark.parametrize("script", ["pages/data_overview.py", "pages/deals.py", "pages/war_room.py"])
def test_a_page_opened_by_url_before_any_sign_in_shows_the_sign_in_form_only(app, script):
    """A fresh server process is in Streamlit's old multipage mode until a session reaches
    `st.navigation`: a page URL then runs the page script itself. It must go back through the
    sign-in (`session.route_through_app`), showing no data and no page list."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = None  # what a new server process starts with
    app.switch_page(script).run()
    assert not app.exception
    assert app.text_input(key="login_username") is not None
    assert not app.metric and not app.dataframe
    assert not [e for e in app.error if e.value == "Please sign in."]
    assert app.session_state[RESUME_KEY] == script  # for after the sign-in (`resume_page`)


@pytest.mark.parametrize(("script", "role", "title"), [
    ("pages/deals.py", "rep", "Deals"),
    ("pages/admin.py", "rep", "War Room"),  # not in a rep's menu: stays closed
    ("pages/admin.py", "admin", "Admin"),
])  # fmt: skip
def test_after_sign_in_the_page_kept_by_route_through_app_opens_if_the_role_has_it(
    app, demo_engine, script, role, title
):
    # AppTest cannot sign in on the URL of a page it switched to, so the kept page is set as
    # `route_through_app` leaves it (the test above checks that it does).
    app.run()
    app.session_state[RESUME_KEY] = script
    login(app, first_user(demo_engine, role), DEMO_PASSWORDS[role])
    assert not app.exception
    assert app.title[0].value == title
