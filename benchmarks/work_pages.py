"""How long each work page takes to run for an admin, a manager and a rep; prints a table.

    python -m benchmarks.work_pages --db sqlite:///data/bench/stress.db [--reps 3]

The work pages (My Pipeline, Leads, Deals, Tickets, Targets, Admin) read fresh data on every
run: no cache, because people edit what they see. Each page runs through Streamlit's AppTest in
this process, signed in as the first active user of each role (the demo seed's passwords), and
its first run and the median of `--reps` reruns are printed, in ms. `python -m benchmarks`
measures the dashboards; this is their counterpart for the forms.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from unittest import mock

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from benchmarks.render import APP
from crm_core.actor import load_actor
from crm_core.db import make_engine
from crm_core.models import User
from pages.components.navigation import ADMIN, TARGETS, WORK, menu_for
from seed.demo import DEMO_PASSWORDS

PAGES = tuple(path for path, _title, _icon in (*WORK, TARGETS, ADMIN[0]))  # the forms, not dashboards
ROLES = ("admin", "manager", "rep")


def first_users(url: str) -> dict[str, tuple[str, list[str]]]:
    """{role: (username, the work pages in that user's menu)} of the first active user of each role."""
    engine = make_engine(url)
    found = {}
    with engine.connect() as conn:
        for role in ROLES:
            user_id, username = conn.execute(
                select(User.id, User.username)
                .where(User.role == role, User.active.is_(True))
                .order_by(User.id)
                .limit(1)
            ).one()
            menu = menu_for(load_actor(engine, user_id))
            found[role] = (
                username,
                [path for entries in menu.values() for path, *_ in entries if path in PAGES],
            )
    engine.dispose()
    return found


def signed_in(role: str, username: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=600)
    app.run()
    app.text_input(key="login_username").input(username)
    app.text_input(key="login_password").input(DEMO_PASSWORDS[role])
    app.button[0].click().run()
    if app.exception or not app.title:
        raise RuntimeError(f"{username} could not sign in: {[e.value for e in app.exception]}")
    return app


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def measure(url: str, reps: int) -> list[tuple[str, str, float, float]]:
    """(role, page, first run ms, median rerun ms) of every work page in each role's menu."""
    rows = []
    with mock.patch.dict(os.environ, {"DATABASE_URL": url}):  # what app.py connects to
        for role, (username, pages) in first_users(url).items():
            app = signed_in(role, username)
            for page in pages:
                first = _timed(app.switch_page(page).run)
                reruns = [_timed(app.run) for _ in range(reps)]
                if app.exception:
                    raise RuntimeError(f"{page} as {role}: {[e.value for e in app.exception]}")
                rows.append((role, page, first, statistics.median(reruns)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True, help="URL of a database seeded by `python -m seed demo`")
    parser.add_argument("--reps", type=int, default=3, help="reruns per page (default 3)")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    os.environ.setdefault("WARROOM_COOKIE_KEY", "benchmark-cookie-key-" + "x" * 32)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    print(f"{'role':8s} {'page':24s} {'first ms':>9s} {'rerun ms':>9s}")
    for role, page, first, rerun in measure(args.db, args.reps):
        print(f"{role:8s} {page:24s} {first:9.0f} {rerun:9.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
