"""`python -m benchmarks`: is every dashboard page fast at a million deals? Figures, goals, RESULTS.md.

    python -m benchmarks                                   # stress + large, SQLite + PostgreSQL
    python -m benchmarks --sizes stress --dbs sqlite       # the issue's goals only (~6 min, data set reused)
    python -m benchmarks --skip naive,render --reps 3      # query timings only
    python -m benchmarks --report-only                     # rebuild RESULTS.md from saved results

Data sets are seeded once (`python -m seed demo --size S`, timed) into `--data-dir`
(default `data/bench/`) and PostgreSQL databases `warroom_bench_<size>`, then reused; `--reseed`
starts over. Each data set is measured in its own process (`benchmarks.worker`); its JSON result
is kept in `<data-dir>/results/` so that `--report-only` can rebuild the report. What is
measured, and how, is described in `benchmarks/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

from benchmarks import report
from benchmarks.datasets import (
    DEFAULT_DATA_DIR,
    DEFAULT_PG_URL,
    Dataset,
    postgresql_dataset,
    sqlite_dataset,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS_MD = Path(__file__).with_name("RESULTS.md")
FINDINGS_MD = Path(__file__).with_name("findings.md")
SIZES = ("stress", "large")
DBS = ("sqlite", "postgresql")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: stress,large (default both)")
    p.add_argument("--dbs", default=",".join(DBS), help="comma-separated: sqlite,postgresql (default both)")
    p.add_argument("--reps", type=int, default=5, help="repetitions per measurement (median; default 5)")
    p.add_argument(
        "--naive-reps", type=int, default=None, help="repetitions of the naive baseline (default --reps)"
    )
    p.add_argument(
        "--writes", type=int, default=50, help="deals moved (2 saves each) for the form-save timing"
    )
    p.add_argument("--skip", default="", help="comma-separated parts to skip: render,naive,writes")
    p.add_argument("--pages", default="", help="comma-separated page titles (default: all five dashboards)")
    p.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where SQLite files and results live"
    )
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help="any database on the PostgreSQL server to use")
    p.add_argument(
        "--reseed", action="store_true", help="seed the data sets again (timed) instead of reusing them"
    )
    p.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="seed anchor day (default: today, UTC)"
    )
    p.add_argument("--report-only", action="store_true", help="only rebuild the report from saved results")
    p.add_argument(
        "--out", type=Path, default=RESULTS_MD, help="the Markdown report (default benchmarks/RESULTS.md)"
    )
    return p


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _pg_version(pg_url: str) -> str | None:
    try:
        from crm_core.db import make_engine

        engine = make_engine(pg_url)
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
        return str(version)
    except Exception:  # the report says "not measured"
        return None


def _measure(ds: Dataset, args: argparse.Namespace, results_dir: Path) -> dict:
    spec = {
        "dataset": asdict(ds),
        "reps": args.reps,
        "naive_reps": args.naive_reps or args.reps,
        "writes": args.writes,
        "skip": _csv(args.skip),
        "pages": _csv(args.pages),
    }
    spec_path = results_dir / f"{ds.size}.{ds.db}.spec.json"
    out_path = results_dir / f"{ds.size}.{ds.db}.json"
    spec_path.write_text(json.dumps(spec))
    print(f"== measuring {ds.label} (as of {ds.as_of})", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", str(spec_path), str(out_path)], cwd=ROOT
    )
    spec_path.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the worker for {ds.label} failed (exit {proc.returncode})")
    return json.loads(out_path.read_text())


def _saved(results_dir: Path, sizes: list[str], dbs: list[str]) -> list[dict]:
    out = []
    for size in sizes:
        for db in dbs:
            path = results_dir / f"{size}.{db}.json"
            if path.exists():
                result = json.loads(path.read_text())
                measured = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
                result.setdefault("measured_at", measured)
                out.append(result)
    return out


def write_report(results: list[dict], path: Path, pg_version: str | None, wall_s: float | None) -> str:
    m = report.machine(pg_version)
    rows = report.table_rows(results)
    goal_blocks_md, goal_blocks_txt = [], []
    for res in results:
        goals = report.goals_for(res, results)
        goal_blocks_md.append(report.format_goals(res, goals, markdown=True))
        goal_blocks_txt.append(report.format_goals(res, goals, markdown=False))
    text = "\n\n".join([report.text_table(report.HEADERS, rows), *goal_blocks_txt])
    primary = [r for r in results if (r["dataset"]["size"], r["dataset"]["db"]) == report.PRIMARY]
    reps = sorted({r["reps"] for r in results})
    naive_reps = sorted({r.get("naive_reps") for r in results if r.get("naive_reps")})
    md = [
        "# Benchmark results: the dashboards at a million deals",
        "",
        f"Generated by `python -m benchmarks` on {m['date']}"
        + (f" (this run: {wall_s / 60:.1f} min)" if wall_s else " from saved results (`--report-only`)")
        + ". Regenerate with the same command; `--help` lists the flags.",
        "",
        "## Machine",
        "",
        f"- {m['cores']} cores ({m['cpu']}), {m['ram']} RAM, {m['os']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}",
        f"- {m['libraries']}",
        "- The machine is shared: other processes (test suites, browsers) ran during the benchmark, so single"
        " figures are noisy; every figure is a median of repetitions.",
        "",
        "## Data sets",
        "",
        *report.dataset_lines(results),
        "",
        "## Results (medians)",
        "",
        f"Medians of {', '.join(map(str, reps))} repetitions (naive baseline: {', '.join(map(str, naive_reps)) or '—'}).",
        "Views: *default* = the default period preset (this quarter to date) with no filter; *filtered* = "
        + "; ".join(sorted({f"{r['dataset']['size']}: {r['views'].get('filtered', '')}" for r in results}))
        + f". Period: {results[0]['period'][0]} – {results[0]['period'][1]}."
        if results
        else "",
        "",
        report.markdown_table(report.HEADERS, rows),
        "",
        "Columns: *ours* = the page's query functions (the same calls, with the same arguments, that the page"
        " makes through `pages.components.cache.run`), run one after the other; *raw* = the SQL those functions"
        " sent to the driver, captured with `before_cursor_execute` and re-run on a DBAPI cursor fetching every"
        " row (the engine's own time); *naive* = `pd.read_sql_table` of the tables the page needs + the same"
        " numbers computed in pandas (load + compute); *cold* = AppTest render after `st.cache_data.clear()`;"
        " *warm* = the rerun right after (cache hits); *rows fetched* = rows the engine returned to Python;"
        " *rows returned* = rows/KPIs the query functions hand to the page; *KiB to browser* = serialized"
        " ForwardMsgs of the cold render; *max chart pts* = data points of the largest Plotly figure;"
        " *query peak* = tracemalloc peak while the page's query functions run; *naive peak* = the loaded"
        " frames (`memory_usage(deep=True)`) + the tracemalloc peak of the pandas computation.",
        "",
        "Process peak RSS (`ru_maxrss`, one process per data set): "
        + "; ".join(
            f"{r['dataset']['size']}/{r['dataset']['db']}: queries {r['rss_kib'].get('after_queries', 0) / 1024:.0f} MiB"
            + (
                f", + renders {r['rss_kib']['after_render'] / 1024:.0f} MiB"
                if "after_render" in r["rss_kib"]
                else ""
            )
            + (
                f", + naive {r['rss_kib']['after_naive'] / 1024:.0f} MiB"
                if "after_naive" in r["rss_kib"]
                else ""
            )
            for r in results
        )
        + ".",
        "",
        "Naive baseline check: "
        + "; ".join(
            f"{r['dataset']['size']}/{r['dataset']['db']}: {r['kpi_check']['agree']}/{r['kpi_check']['of']} War Room KPIs"
            " equal to the query functions'"
            + (f" (differ: {r['kpi_check']['differ']})" if r["kpi_check"]["differ"] else "")
            for r in results
            if "kpi_check" in r
        )
        + ".",
        "",
        "## Goals",
        "",
        f"The issue states the goals for the stress seed on SQLite ({'measured' if primary else 'NOT measured in these results'});"
        " the other data sets are held to the same bars for information.",
        "",
        "\n\n".join(goal_blocks_md),
        "",
    ]
    if FINDINGS_MD.exists():
        md += [FINDINGS_MD.read_text().strip(), ""]
    for res in results:
        md += [
            f"## Per query function: {res['dataset']['size']}/{res['dataset']['db']}",
            "",
            report.call_breakdown(res),
            "",
        ]
        drift = [f"{p['title']} [{p['view']}]: {d}" for p in res["pages"] for d in p.get("drift", [])]
        if drift:
            md += [
                "Calls recorded during the renders that differ from `PAGE_QUERIES`:",
                "",
                *[f"- {d}" for d in drift],
                "",
            ]
    path.write_text("\n".join(md))
    return text


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes, dbs = _csv(args.sizes), _csv(args.dbs)
    results_dir = args.data_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pg_version = _pg_version(args.pg_url) if "postgresql" in dbs else None
    if not args.report_only:
        as_of = args.as_of or date.today()
        for size in sizes:
            print(f"== data set {size}", flush=True)
            lite = (
                sqlite_dataset(size, args.data_dir, as_of, args.reseed)
                if "sqlite" in dbs or "postgresql" in dbs
                else None
            )
            datasets = []
            if "sqlite" in dbs and lite is not None:
                datasets.append(lite)
            if "postgresql" in dbs:
                datasets.append(
                    postgresql_dataset(size, args.data_dir, args.pg_url, as_of, args.reseed, lite)
                )
            for ds in datasets:
                _measure(ds, args, results_dir)
    results = _saved(results_dir, sizes, dbs)
    if not results:
        print("no results to report", file=sys.stderr)
        return 1
    wall = None if args.report_only else time.perf_counter() - started
    text = write_report(results, args.out, pg_version, wall)
    print()
    print(text)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
