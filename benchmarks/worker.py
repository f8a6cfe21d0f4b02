"""One data set (size × database) measured in its own process: queries, raw SQL, renders, naive, saves.

Run by `python -m benchmarks` as `python -m benchmarks.worker SPEC.json OUT.json`, so that each
data set gets a clean process: its peak memory (`ru_maxrss`) is its own, and Streamlit's caches
start empty. The result is a plain JSON document (milliseconds, rows, bytes) that
`benchmarks.report` turns into the table and the goals.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import resource
import sys
import time
from datetime import date
from typing import TYPE_CHECKING, Any

import streamlit.logger

from benchmarks.datasets import Dataset
from crm_core.config import safe_url
from crm_core.db import make_engine

if TYPE_CHECKING:
    from benchmarks.measure import PageFigures

WAR_ROOM_KPIS = (
    "bookings", "collections", "open_pipeline", "weighted_pipeline", "win_rate", "avg_deal_size",
    "sales_cycle_days", "lead_conversion_rate", "new_customers", "churn_rate", "nps", "sla_met_rate",
    "target", "attainment",
)  # fmt: skip


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _page_record(fig: PageFigures) -> dict[str, Any]:
    return {
        "title": fig.page.title,
        "view": fig.view.key,
        "view_label": fig.view.view.label,
        "ours_ms": ms(fig.ours_median),
        "raw_ms": ms(fig.raw_median),
        "ours_reps_ms": [ms(x) for x in fig.ours],
        "raw_reps_ms": [ms(x) for x in fig.raw],
        "rows_fetched": fig.rows_fetched,
        "rows_returned": fig.rows_returned,
        "query_peak_kib": fig.peak_bytes // 1024,
        "calls": [
            {
                "name": c.call.name,
                "source": c.call.source,
                "ours_ms": ms(c.ours_median),
                "raw_ms": ms(c.raw_median),
                "statements": len(c.statements),
                "rows_fetched": c.rows_fetched,
                "rows_returned": c.rows_returned,
            }
            for c in fig.calls
        ],
    }


def run(spec: dict[str, Any], log=print) -> dict[str, Any]:
    # Imported here, after `main` quietened Streamlit: importing the pages' cache wrappers
    # outside a Streamlit server logs a warning, and so does every AppTest cache clear.
    from benchmarks.measure import measure_page, views_for
    from benchmarks.pages import PAGE_QUERIES

    started = time.perf_counter()
    ds = Dataset(**spec["dataset"])
    reps, skip = spec["reps"], set(spec.get("skip", []))
    pages = tuple(p for p in PAGE_QUERIES if not spec.get("pages") or p.title in spec["pages"])
    engine = make_engine(ds.url)
    today = date.fromisoformat(ds.as_of)
    views = views_for(engine, today)
    out: dict[str, Any] = {
        "dataset": {**spec["dataset"], "url": safe_url(engine.url)},
        "reps": reps,
        "views": {v.key: v.view.label for v in views},
        "period": [views[0].view.period.start.isoformat(), views[0].view.period.end.isoformat()],
        "pages": [],
        "rss_kib": {"start": rss_kib()},
        "load_average": [round(os.getloadavg()[0], 1)],
    }
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for view in views:
        for page in pages:
            fig = measure_page(engine, page, view, reps)
            record = _page_record(fig)
            records[(page.title, view.key)] = record
            out["pages"].append(record)
            log(
                f"    queries {page.title:<18} {view.key:<8} ours {record['ours_ms']:8.1f} ms  "
                f"raw {record['raw_ms']:8.1f} ms  rows {record['rows_fetched']:>6}"
            )
    out["rss_kib"]["after_queries"] = rss_kib()
    if "render" not in skip:
        from benchmarks.render import render_pages

        for r in render_pages(ds.url, today, pages, views, reps, log):
            records[(r.page.title, r.view.key)].update(
                {
                    "cold_ms": ms(r.cold_median),
                    "warm_ms": ms(r.warm_median),
                    "cold_reps_ms": [ms(x) for x in r.cold],
                    "warm_reps_ms": [ms(x) for x in r.warm],
                    "bytes": r.bytes_total,
                    "bytes_by_element": r.bytes_by_element,
                    "chart_points": r.chart_points,
                    "drift": r.drift,
                    "render_exception": r.exception,
                }
            )
        out["rss_kib"]["after_render"] = rss_kib()
    gc.collect()
    if "naive" not in skip:
        from benchmarks.naive import kpi_check, run_naive

        naive_reps = spec.get("naive_reps", reps)
        for n in run_naive(
            engine, [p.title for p in pages], [(v.key, v.view) for v in views], naive_reps, log
        ):
            records[(n.title, n.view)].update(
                {
                    "naive_ms": ms(n.total_median),
                    "naive_compute_ms": ms(n.compute_median),
                    "naive_load_ms": ms(n.total_median - n.compute_median),
                    "naive_reps_ms": [ms(x) for x in n.total],
                    "naive_peak_kib": n.peak_bytes // 1024,
                }
            )
            log(f"    naive   {n.title:<18} {n.view:<8} {n.total_median * 1000:8.0f} ms")
        out["naive_reps"] = naive_reps
        agree, differ = kpi_check(engine, views[0].view, WAR_ROOM_KPIS)
        out["kpi_check"] = {"agree": agree, "of": len(WAR_ROOM_KPIS), "differ": differ}
        out["rss_kib"]["after_naive"] = rss_kib()
    if "writes" not in skip:
        from benchmarks.writes import time_form_saves

        w = time_form_saves(engine, spec.get("writes", 50))
        out["writes"] = {"median_ms": ms(w.median), "p95_ms": ms(w.p95), "saves": len(w.saves)}
        log(f"    form save (move_stage) median {w.median * 1000:.2f} ms over {len(w.saves)} saves")
    engine.dispose()
    out["load_average"].append(round(os.getloadavg()[0], 1))
    out["elapsed_s"] = round(time.perf_counter() - started, 1)
    return out


def main(argv: list[str]) -> int:
    streamlit.logger.set_log_level(logging.ERROR)
    spec_path, out_path = argv
    with open(spec_path) as fh:
        spec = json.load(fh)
    result = run(spec, log=lambda line: print(line, flush=True))
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
