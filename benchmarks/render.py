"""Page renders through Streamlit's AppTest: cold (caches cleared) and warm (rerun on the cache).

AppTest runs `app.py` in this process exactly as `streamlit run` would for one session (sign-in,
navigation, sidebar filters, the page script), without a browser or a websocket. A render is
timed from `run()` to the end of the script.

- cold: `st.cache_data.clear()` then a run — every query function runs (the engine stays: it is
  a `cache_resource`, as in production).
- warm: another run right after — every `run()` is a cache hit (an unpickle of the small result).
- bytes to the browser: the serialized size (`ByteSize()`) of the ForwardMsgs the run leaves in
  the session's queue — exactly the protobufs a browser session is sent for that run (the server
  may replace an unchanged large message by a cache reference on reruns, so this is an upper
  bound). Download-button payloads are not included (the browser fetches them only on a click);
  they are the same rows as the tables shown.
- chart points: the number of data points of each Plotly figure in those messages (arrays
  counted from the figure JSON, base64 typed arrays decoded), to show that charts receive
  pre-aggregated data.
- the calls each render makes through `pages.components.cache.run` are recorded during the
  first cold run and compared with `benchmarks.pages.PAGE_QUERIES`: any drift is reported.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.local_script_runner import LocalScriptRunner

from benchmarks.measure import NamedView
from benchmarks.pages import Page

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
ADMIN = ("admin", "warroom-admin")  # the demo seed's admin (see seed/demo_people.py)
DTYPE_BYTES = {"f8": 8, "f4": 4, "i8": 8, "i4": 4, "i2": 2, "i1": 1, "u8": 8, "u4": 4, "u2": 2, "u1": 1}


@dataclass
class RenderFigures:
    page: Page
    view: NamedView
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    bytes_total: int = 0
    bytes_by_element: dict[str, int] = field(default_factory=dict)
    chart_points: list[int] = field(default_factory=list)
    recorded_calls: list[tuple] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    exception: str = ""

    @property
    def cold_median(self) -> float:
        return statistics.median(self.cold) if self.cold else float("nan")

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm) if self.warm else float("nan")


class _Messages:
    """The ForwardMsgs each AppTest run leaves in its queue (the last run's only)."""

    def __init__(self) -> None:
        self.last: list[Any] = []


@contextmanager
def _recording(messages: _Messages, calls: list[tuple]) -> Iterator[None]:
    import pages.components.cache as cache

    original_run = LocalScriptRunner.run
    original_query = cache._cached_query

    def run(self, *args, **kwargs):
        tree = original_run(self, *args, **kwargs)
        messages.last = list(self.forward_msgs())
        return tree

    def query(path, period, filters, as_of, kwargs):
        calls.append((path, period, filters, as_of, dict(kwargs)))
        return original_query(path, period, filters, as_of, kwargs)

    with mock.patch.object(LocalScriptRunner, "run", run), mock.patch.object(cache, "_cached_query", query):
        yield


def _array_length(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict) and "bdata" in value:
        size = DTYPE_BYTES.get(str(value.get("dtype", "f8")), 8)
        return len(base64.b64decode(value["bdata"])) // size
    return 0


def plotly_points(spec: str) -> int:
    figure = json.loads(spec)
    points = 0
    for trace in figure.get("data", []):
        points += max(
            (_array_length(trace.get(key)) for key in ("x", "y", "values", "labels", "z")), default=0
        )
    return points


def _tally(figures: RenderFigures, msgs: list[Any]) -> None:
    by_element: Counter[str] = Counter()
    total, points = 0, []
    for msg in msgs:
        size = msg.ByteSize()
        total += size
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            kind = element.WhichOneof("type") or "element"
            if kind == "plotly_chart":
                points.append(plotly_points(element.plotly_chart.spec))
        by_element[kind] += size
    figures.bytes_total = total
    figures.bytes_by_element = dict(by_element.most_common())
    figures.chart_points = points


def _expected_calls(page: Page, view: NamedView) -> list[tuple]:
    out = []
    for call in page.render_calls:
        period, filters = call.arguments(view.view)
        out.append((call.path, period, filters, None, call.kwargs))
    return out


def _drift(expected: list[tuple], recorded: list[tuple]) -> list[str]:
    def norm(calls):
        return sorted(
            (p, repr(per), repr(f if f is not None else None), repr(sorted(kw.items())))
            for p, per, f, _a, kw in calls
        )

    exp, rec = norm(expected), norm(recorded)
    missing = [c[0] for c in exp if c not in rec]
    extra = [c[0] for c in rec if c not in exp]
    return [f"not made by the page: {m}" for m in missing] + [
        f"made by the page, not benchmarked: {e}" for e in extra
    ]


def _login(app: AppTest) -> None:
    app.run()
    app.text_input(key="login_username").input(ADMIN[0])
    app.text_input(key="login_password").input(ADMIN[1])
    app.button[0].click().run()
    if app.exception or not app.title:
        raise RuntimeError(f"sign-in failed: {[e.value for e in app.exception]}")


def _all() -> Any:
    """The sidebar's "no filter" option (a string now, None in earlier versions of the page)."""
    import pages.components.filters as sidebar

    return getattr(sidebar, "ALL", None)


def _shown(app: AppTest) -> tuple[Any, Any]:
    values = app.sidebar.selectbox(key="team").value, app.sidebar.selectbox(key="line").value
    return tuple(None if v == _all() else v for v in values)


def _apply_view(app: AppTest, view: NamedView) -> None:
    """Set the sidebar's team and product line to the view's (a no-op when they already are)."""
    wanted = (view.view.filters.team_id, view.view.filters.product_line)
    if _shown(app) == wanted:
        return
    app.sidebar.selectbox(key="team").set_value(_all() if wanted[0] is None else wanted[0])
    app.sidebar.selectbox(key="line").set_value(_all() if wanted[1] is None else wanted[1])
    app.run()
    if _shown(app) != wanted:
        raise RuntimeError(f"the sidebar shows {_shown(app)}, not the view's filters {wanted}")


def render_pages(
    url: str, today: date, pages: tuple[Page, ...], views: list[NamedView], reps: int, log=print
) -> list[RenderFigures]:
    """Cold and warm renders of every page for every view (the filters set through the sidebar)."""
    # A cache clear outside a Streamlit server logs "No runtime found" every time: not news here.
    # (A filter, not a level: AppTest resets Streamlit's log levels from its config on each run.)
    logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(
        lambda record: "No runtime found" not in record.getMessage()
    )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("WARROOM_COOKIE_KEY", "benchmark-cookie-key-" + "x" * 32)
    messages, calls = _Messages(), []
    results: list[RenderFigures] = []
    with (
        mock.patch("pages.components.filters.today_utc", lambda: today),
        _recording(messages, calls),
    ):
        st.cache_data.clear()
        st.cache_resource.clear()
        app = AppTest.from_file(str(APP), default_timeout=900)
        _login(app)
        for view in views:
            for page in pages:
                app.switch_page(page.script)
                app.run()
                _apply_view(app, view)
                figures = RenderFigures(page, view)
                results.append(figures)
                for rep in range(reps):
                    st.cache_data.clear()
                    calls.clear()
                    start = time.perf_counter()
                    app.run()
                    figures.cold.append(time.perf_counter() - start)
                    if rep == 0:
                        _tally(figures, messages.last)
                        figures.recorded_calls = list(calls)
                        figures.drift = _drift(_expected_calls(page, view), calls)
                    start = time.perf_counter()
                    app.run()
                    figures.warm.append(time.perf_counter() - start)
                    if app.exception:
                        figures.exception = "; ".join(str(e.value)[:200] for e in app.exception)
                        break
                log(
                    f"    render {page.title:<18} {view.key:<8} cold {figures.cold_median * 1000:7.0f} ms  "
                    f"warm {figures.warm_median * 1000:6.0f} ms  {figures.bytes_total / 1024:7.0f} KiB"
                    + (f"  DRIFT {figures.drift}" if figures.drift else "")
                    + (f"  EXCEPTION {figures.exception}" if figures.exception else "")
                )
    st.cache_data.clear()
    st.cache_resource.clear()
    return results
