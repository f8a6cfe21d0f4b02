"""The results table, the goals (PASS/FAIL with figures) and `benchmarks/RESULTS.md`."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import sys
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

PRIMARY = ("stress", "sqlite")  # the goals are stated for the stress seed on SQLite
QUERY_BUDGET_MS = 150.0
OVERHEAD_FACTOR, OVERHEAD_SLACK_MS = 1.5, 2.0
WARM_BUDGET_MS, COLD_BUDGET_MS = 250.0, 1000.0
MAX_ROWS, MAX_BYTES = 10_000, 2 * 1024 * 1024
MAX_CHART_POINTS = 1_000
SEED_BUDGET_S = 90.0
SAVE_BUDGET_MS = 10.0


def machine(pg_version: str | None) -> dict[str, str]:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    ram = ""
    try:
        with open("/proc/meminfo") as fh:
            kib = int(next(line.split()[1] for line in fh if line.startswith("MemTotal")))
            ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu or platform.processor(),
        "ram": ram,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_version or "not measured",
        "libraries": ", ".join(
            f"{n} {version(n)}" for n in ("sqlalchemy", "pandas", "streamlit", "psycopg", "plotly")
        ),
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


def _f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.2f}×"


def table_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for res in results:
        ds = res["dataset"]
        for p in res["pages"]:
            points = max(p.get("chart_points") or [0])
            rows.append(
                [
                    f"{ds['size']}/{ds['db']}",
                    p["title"],
                    p["view"],
                    _f(p["ours_ms"]),
                    _f(p["raw_ms"]),
                    _ratio(p["ours_ms"], p["raw_ms"]),
                    _f(p.get("naive_ms"), 0),
                    _ratio(p.get("naive_ms"), p["ours_ms"]),
                    _f(p.get("cold_ms"), 0),
                    _f(p.get("warm_ms"), 0),
                    _f(p["rows_fetched"]),
                    _f(p["rows_returned"]),
                    _f(round(p["bytes"] / 1024)) if "bytes" in p else "—",
                    _f(points) if "chart_points" in p else "—",
                    _f(p["query_peak_kib"] / 1024, 1),
                    _f(p["naive_peak_kib"] / 1024, 0) if "naive_peak_kib" in p else "—",
                ]
            )
    return rows


HEADERS = [
    "data", "page", "view", "ours ms", "raw ms", "ours/raw", "naive ms", "naive/ours", "cold ms",
    "warm ms", "rows fetched", "rows returned", "KiB to browser", "max chart pts", "query peak MiB",
    "naive peak MiB",
]  # fmt: skip


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = [
        "  ".join(
            c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    return "\n".join([line, "-" * len(line), *body])


@dataclass
class Goal:
    name: str
    passed: bool | None  # None: not measured
    figures: str
    failures: list[str]

    @property
    def verdict(self) -> str:
        return "n/a" if self.passed is None else ("PASS" if self.passed else "FAIL")


def goals_for(res: dict[str, Any], all_results: list[dict[str, Any]]) -> list[Goal]:
    ds, pages = res["dataset"], res["pages"]
    label = lambda p: f"{p['title']} [{p['view']}]"  # noqa: E731
    out: list[Goal] = []

    def goal(name: str, rows: list[tuple[dict, bool, str]], summary: str) -> None:
        if not rows:
            out.append(Goal(name, None, "not measured", []))
            return
        failures = [f"{label(p)}: {fig}" for p, ok, fig in rows if not ok]
        out.append(Goal(name, not failures, summary, failures))

    overhead = [
        (p, p["ours_ms"] <= max(OVERHEAD_FACTOR * p["raw_ms"], p["raw_ms"] + OVERHEAD_SLACK_MS),
         f"ours {p['ours_ms']:.1f} ms vs raw {p['raw_ms']:.1f} ms (limit {max(OVERHEAD_FACTOR * p['raw_ms'], p['raw_ms'] + OVERHEAD_SLACK_MS):.1f})")
        for p in pages
    ]  # fmt: skip
    worst = max(pages, key=lambda p: p["ours_ms"] - max(1.5 * p["raw_ms"], p["raw_ms"] + 2))
    goal("query functions ≤ max(1.5 × raw engine, raw + 2 ms)", overhead,
         f"worst margin: {label(worst)} ours {worst['ours_ms']:.1f} / raw {worst['raw_ms']:.1f} ms")  # fmt: skip
    budget = [(p, p["ours_ms"] <= QUERY_BUDGET_MS, f"{p['ours_ms']:.0f} ms") for p in pages]
    slowest = max(pages, key=lambda p: p["ours_ms"])
    goal(f"query functions ≤ {QUERY_BUDGET_MS:.0f} ms per page", budget,
         f"slowest: {label(slowest)} {slowest['ours_ms']:.0f} ms")  # fmt: skip
    rendered = [p for p in pages if "warm_ms" in p]
    goal(f"warm rerun ≤ {WARM_BUDGET_MS:.0f} ms", [(p, p["warm_ms"] <= WARM_BUDGET_MS, f"{p['warm_ms']:.0f} ms") for p in rendered],
         f"slowest: {max((p['warm_ms'] for p in rendered), default=0):.0f} ms")  # fmt: skip
    goal(f"cold render ≤ {COLD_BUDGET_MS / 1000:.0f} s", [(p, p["cold_ms"] <= COLD_BUDGET_MS, f"{p['cold_ms']:.0f} ms") for p in rendered],
         f"slowest: {max((p['cold_ms'] for p in rendered), default=0):.0f} ms")  # fmt: skip
    goal(f"≤ {MAX_ROWS:,} rows fetched per page", [(p, p["rows_fetched"] <= MAX_ROWS, f"{p['rows_fetched']:,} rows") for p in pages],
         f"most: {max(p['rows_fetched'] for p in pages):,} rows")  # fmt: skip
    goal("≤ ~2 MB sent to the browser per page", [(p, p["bytes"] <= MAX_BYTES, f"{p['bytes'] / 1024:.0f} KiB") for p in rendered],
         f"most: {max((p['bytes'] for p in rendered), default=0) / 1024:.0f} KiB")  # fmt: skip
    goal(f"charts get pre-aggregated data (≤ {MAX_CHART_POINTS:,} points per chart)",
         [(p, max(p["chart_points"] or [0]) <= MAX_CHART_POINTS, f"{max(p['chart_points'] or [0])} points") for p in rendered],
         f"largest chart: {max((max(p['chart_points'] or [0]) for p in rendered), default=0)} points")  # fmt: skip
    if ds.get("seed_seconds") is not None:
        ok = ds["seed_seconds"] <= SEED_BUDGET_S
        out.append(
            Goal(
                f"{ds['size']} seed ≤ {SEED_BUDGET_S:.0f} s",
                ok,
                f"{ds['seed_seconds']:.1f} s",
                [] if ok else [f"{ds['seed_seconds']:.1f} s"],
            )
        )
    else:
        out.append(
            Goal(
                f"{ds['size']} seed ≤ {SEED_BUDGET_S:.0f} s",
                None,
                ds.get("seed_note") or "reused, not timed",
                [],
            )
        )
    if "writes" in res:
        w = res["writes"]
        ok = w["median_ms"] <= SAVE_BUDGET_MS
        out.append(Goal(f"form save ≤ {SAVE_BUDGET_MS:.0f} ms in the database", ok,
                        f"median {w['median_ms']:.2f} ms, p95 {w['p95_ms']:.2f} ms over {w['saves']} saves",
                        [] if ok else [f"median {w['median_ms']:.2f} ms"]))  # fmt: skip
    pg = any(r["dataset"]["db"] == "postgresql" and r["dataset"]["size"] == ds["size"] for r in all_results)
    out.append(
        Goal("PostgreSQL figures reported beside SQLite's", pg, "yes" if pg else "no PostgreSQL run", [])
    )
    return out


def format_goals(res: dict[str, Any], goals: list[Goal], markdown: bool) -> str:
    ds = res["dataset"]
    lines = []
    for g in goals:
        if markdown:
            lines.append(f"| {g.verdict} | {g.name} | {g.figures} |")
        else:
            lines.append(f"  {g.verdict:<4}  {g.name}: {g.figures}")
        for failure in g.failures:
            lines.append(f"|  | ↳ {failure} | |" if markdown else f"          ↳ {failure}")
    head = f"Goals on {ds['size']}/{ds['db']}"
    if markdown:
        return f"#### {head}\n\n| verdict | goal | figures |\n|---|---|---|\n" + "\n".join(lines)
    return head + "\n" + "\n".join(lines)


def call_breakdown(res: dict[str, Any]) -> str:
    rows = []
    for p in res["pages"]:
        for c in p["calls"]:
            rows.append([p["title"], p["view"], c["name"], _f(c["ours_ms"]), _f(c["raw_ms"]), str(c["statements"]),
                         _f(c["rows_fetched"]), _f(c["rows_returned"])])  # fmt: skip
    return markdown_table(
        [
            "page",
            "view",
            "query function",
            "ours ms",
            "raw ms",
            "statements",
            "rows fetched",
            "rows returned",
        ],
        rows,
    )


def dataset_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for res in results:
        ds = res["dataset"]
        counts = ds.get("counts", {})
        main = ", ".join(
            f"{counts.get(t, 0):,} {t}"
            for t in ("opportunities", "activities", "stage_history", "accounts", "tickets", "leads")
        )
        seed = (
            f"seed {ds['seed_seconds']:.1f} s"
            if ds.get("seed_seconds") is not None
            else "seed not timed here"
        )
        if ds.get("seed_load"):
            seed += f" (load average {ds['seed_load']})"
        if res.get("measured_at"):
            seed += f"; measured {res['measured_at']}"
        if res.get("load_average"):
            seed += f"; load average during the measurements {' → '.join(map(str, res['load_average']))}"
        lines.append(f"- **{ds['size']}/{ds['db']}** (as of {ds['as_of']}): {main}; {seed}"
                     + (f" — {ds['seed_note']}" if ds.get("seed_note") and ds["seed_note"] != "python -m seed demo" else ""))  # fmt: skip
    return lines
