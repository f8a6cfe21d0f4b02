"""N browser sessions at once sign in, load the War Room and switch filters; prints p50/p95 times.

    python -m benchmarks.browser_load [--sessions 10] [--db URL]

Without --db a fresh demo database is seeded in a temporary folder. Each session is its own
Chromium context (Debian's Chromium), all running concurrently against one `streamlit run`.
A step's time runs from the action to a settled page (script finished, no skeletons left).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

from benchmarks.app_server import ROOT, running_app

CHROMIUM = os.environ.get("WARROOM_CHROMIUM", "/usr/bin/chromium")
PERIODS = ("Last quarter", "Year to date", "Last 12 months", "This month")
STEP_TIMEOUT_MS = 60_000
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'


async def _settle(page) -> None:
    await page.wait_for_selector(SETTLED, timeout=120_000)
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=120_000
    )
    await page.wait_for_timeout(150)
    await page.wait_for_selector(SETTLED, timeout=120_000)


async def _timed(action, page) -> float:
    start = time.perf_counter()
    await action()
    await _settle(page)
    return time.perf_counter() - start


async def _session(browser, url: str, password: str, timings: list[float], errors: list[str]) -> None:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        timings.append(await _timed(lambda: page.goto(url), page))
        await page.get_by_role("textbox", name="Username").fill("admin")
        await page.get_by_role("textbox", name="Password").fill(password)
        timings.append(await _timed(lambda: page.get_by_role("button", name="Sign in").click(), page))
        for period in PERIODS:

            async def choose(period=period):
                await page.locator(
                    '[data-testid="stSidebar"] [data-testid="stSelectbox"]', has_text="Period"
                ).click()
                await page.get_by_role("option", name=period, exact=True).click()

            timings.append(await _timed(choose, page))
        if await page.locator('[data-testid="stException"]').count():
            errors.append("an exception was shown")
    except Exception as exc:  # a failed session is a figure to report, not a crash
        shot = Path(tempfile.gettempdir()) / f"warroom-load-failure-{id(page)}.png"
        await page.screenshot(path=str(shot), full_page=True)
        errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0] + f" (screenshot: {shot})")
    finally:
        await context.close()


async def _run(url: str, sessions: int, password: str) -> tuple[list[float], list[str], float]:
    timings: list[float] = []
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        start = time.perf_counter()
        await asyncio.gather(*(_session(browser, url, password, timings, errors) for _ in range(sessions)))
        wall = time.perf_counter() - start
        await browser.close()
    return timings, errors, wall


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--db", help="database URL of a seeded database (default: a fresh demo)")
    args = parser.parse_args(argv)
    if args.sessions < 1:
        parser.error("--sessions must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="warroom-load-"))
    env = {"WARROOM_COOKIE_KEY": "load-test-cookie-key-" + "q" * 32, "WARROOM_BCRYPT_ROUNDS": "4"}
    env["DATABASE_URL"] = args.db or f"sqlite:///{workdir / 'warroom.db'}"
    if not args.db:
        subprocess.run(
            [sys.executable, "-m", "seed", "demo"],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
    with running_app(env, workdir / "streamlit.log") as url:
        timings, errors, wall = asyncio.run(_run(url, args.sessions, "warroom-admin"))
    print(f"sessions: {args.sessions} concurrent, steps timed: {len(timings)}, wall: {wall:.1f} s")
    if timings:
        print(
            f"time to a settled page: p50 {_percentile(timings, 0.5):.2f} s, p95 {_percentile(timings, 0.95):.2f} s, "
            f"max {max(timings):.2f} s, mean {statistics.mean(timings):.2f} s"
        )
    print(f"errors: {len(errors)}")
    for error in errors:
        print(f"  {error}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
