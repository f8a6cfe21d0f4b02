"""End-to-end fixtures: the real app under `streamlit run`, on a fresh demo database, driven by
Debian's Chromium through Playwright. Screenshots go to `test-artifacts/screenshots/`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from benchmarks.app_server import running_app
from crm_core.db import make_engine
from crm_core.models import User
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WARROOM_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
COOKIE_KEY = "e2e-cookie-key-" + "z" * 40

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(config, items):
    reason = None
    if PG_URL:
        reason = "browser journeys run once, in the SQLite pass"
    elif not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if reason:
        for item in items:
            if "tests/e2e" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass(frozen=True)
class Server:
    url: str
    db_url: str

    def users(self, role: str) -> list[tuple[int, str, int | None]]:
        """(id, username, team id) of the active demo users of `role`, by id."""
        engine = make_engine(self.db_url)
        with engine.connect() as conn:
            rows = conn.execute(
                select(User.id, User.username, User.team_id)
                .where(User.role == role, User.active.is_(True))
                .order_by(User.id)
            ).all()
        engine.dispose()
        return [tuple(r) for r in rows]


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """`streamlit run app.py` on a free port, with a freshly seeded demo database."""
    db = tmp_path_factory.mktemp("e2e") / "warroom.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "WARROOM_COOKIE_KEY": COOKIE_KEY,
        "WARROOM_BCRYPT_ROUNDS": "4",
    }
    subprocess.run([sys.executable, "-m", "seed", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    with running_app(env, tmp_path_factory.mktemp("e2e-log") / "streamlit.log") as url:
        yield Server(url=url, db_url=env["DATABASE_URL"])


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session", autouse=True)
def _screenshot_dir():
    SHOTS.mkdir(parents=True, exist_ok=True)


def settle(page, timeout: float = 60_000) -> None:
    """Wait until the app has finished its run and no skeleton placeholder is left."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def sign_in(page, base_url: str, username: str, password: str, *, expect_success: bool = True) -> None:
    page.goto(base_url)
    settle(page)
    submit_sign_in(page, username, password)
    if expect_success:
        wait_for_session_cookie(page)


def submit_sign_in(page, username: str, password: str) -> None:
    """Fill and send the sign-in form the page shows, then wait for the run it starts."""
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def wait_for_session_cookie(page, timeout_s: float = 30) -> None:
    """The cookie is written by a component in the browser, shortly after the sign-in run (which
    can take seconds on a 2-core machine busy with other browsers and servers)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(c["name"] == "warroom_session" for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the session cookie was never set")


def shot(page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
