"""`python -m queries.report`: every metric of the catalog for one period, headless.

    python -m queries.report --db URL --start YYYY-MM-DD --end YYYY-MM-DD [--as-of YYYY-MM-DD]
        [--team ID] [--owner ID] [--region NAME] [--product-line NAME] --json

`--as-of D` means the state at the end of day D: T = (D + 1 day) 00:00 UTC; without it T is the
end of the period. With `--json` it prints one JSON object (period, as_of, filters, metrics,
funnel, health_bands, leaderboard) with unrounded numbers and null for "no value"; without it,
a readable summary. Bad arguments exit with status 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from crm_core.config import safe_url
from crm_core.db import make_engine
from crm_core.models import Team, User
from crm_core.schema import upgrade_to_head
from queries.filters import Filters, Period
from queries.funnel import funnel
from queries.health import health_bands
from queries.leaderboard import leaderboard_rows
from queries.registry import METRICS, compute_metrics, format_value

LEADERBOARD_KEYS = (
    "user_id",
    "display_name",
    "bookings",
    "deals_won",
    "win_rate",
    "attainment",
    "activities",
)
EXIT_USAGE, EXIT_FAILURE = 2, 1


class UsageError(Exception):
    """A flag that parses but makes no sense (unknown team or owner)."""


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {value!r}") from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"not a positive integer id: {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m queries.report",
        description="Print every war-room metric for one period.",
    )
    parser.add_argument("--db", help="database URL (default: DATABASE_URL, else data/warroom.db)")
    parser.add_argument("--start", type=_iso_date, required=True, help="first day of the period (YYYY-MM-DD)")
    parser.add_argument("--end", type=_iso_date, required=True, help="last day of the period, included")
    parser.add_argument("--as-of", type=_iso_date, help="state at the end of this day (default: period end)")
    parser.add_argument("--team", type=_positive_int, help="team id (its members, inactive ones included)")
    parser.add_argument("--owner", type=_positive_int, help="user id of one owner")
    parser.add_argument("--region", help="account region (leads: their own region)")
    parser.add_argument("--product-line", help="product line of the opportunities")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _check_filters(engine: Engine, filters: Filters) -> None:
    """Unknown team or owner ids are usage errors, not empty reports."""
    with engine.connect() as conn:
        if (
            filters.team_id is not None
            and conn.execute(select(Team.id).where(Team.id == filters.team_id)).first() is None
        ):
            raise UsageError(f"no team with id {filters.team_id}")
        if (
            filters.owner_id is not None
            and conn.execute(select(User.id).where(User.id == filters.owner_id)).first() is None
        ):
            raise UsageError(f"no user with id {filters.owner_id}")


def build_report(engine: Engine, period: Period, filters: Filters, as_of: datetime) -> dict[str, Any]:
    """The report object of the spec's last section, from the same functions the app uses."""
    board = leaderboard_rows(engine, period, filters, as_of)
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "as_of": as_of.isoformat(),
        "filters": filters.as_dict(),
        "metrics": compute_metrics(engine, period, filters, as_of),
        "funnel": funnel(engine, period, filters, as_of),
        "health_bands": health_bands(engine, period, filters, as_of),
        "leaderboard": [{key: row[key] for key in LEADERBOARD_KEYS} for row in board],
    }


def _print_text(report: dict[str, Any]) -> None:
    period = report["period"]
    print(f"period {period['start']} .. {period['end']}   as of {report['as_of']}")
    active = {k: v for k, v in report["filters"].items() if v is not None}
    print(f"filters: {active or 'none'}")
    for metric_id, value in report["metrics"].items():
        print(f"  {METRICS[metric_id].label:<26} {format_value(metric_id, value):>18}")
    print("funnel:")
    for row in report["funnel"]:
        conversion = "—" if row["conversion"] is None else f"{row['conversion'] * 100:.1f} %"
        print(f"  {row['stage']:<14} {row['reached']:>10,} {conversion:>10}")
    print("health: " + ", ".join(f"{band} {n:,}" for band, n in report["health_bands"].items()))
    print("leaderboard:")
    for rank, row in enumerate(report["leaderboard"], start=1):
        print(f"  {rank:>3}. {row['display_name']:<30} {row['bookings']:>16,.2f} {row['deals_won']:>6}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.end < args.start:
        parser.error(f"--end {args.end} is before --start {args.start}")
    period = Period(args.start, args.end)
    as_of = period.as_of(args.as_of)
    filters = Filters(args.team, args.owner, args.region, args.product_line)
    try:
        engine = make_engine(args.db)
    except ArgumentError as exc:
        parser.error(f"--db is not a database URL: {exc}")
    try:
        upgrade_to_head(engine)
        _check_filters(engine, filters)
        report = build_report(engine, period, filters, as_of)
    except UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        where = safe_url(engine.url)
        print(f"{parser.prog}: error: database {where}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report, allow_nan=False, ensure_ascii=False))
    else:
        _print_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
