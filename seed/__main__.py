"""`python -m seed demo|load|export`: the seed command line."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from crm_core.config import safe_url
from crm_core.db import make_engine
from crm_core.models import Team, User
from crm_core.schema import upgrade_to_head


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {value!r}") from None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m seed", description=__doc__)
    parser.add_argument("--db", help="database URL (default: DATABASE_URL, else data/warroom.db)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate deterministic demo data into an empty database")
    demo.add_argument("--size", choices=("demo", "large", "stress"), default="demo")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--as-of", type=_iso_date, default=None, help="anchor date (default: today, UTC)")

    load = sub.add_parser("load", help="load a CSV bundle (all-or-nothing)")
    load.add_argument("directory", type=Path)

    export = sub.add_parser("export", help="write the database out as a CSV bundle")
    export.add_argument("directory", type=Path)

    sub.add_parser("logins", help="list the usernames that can log in, with role and team")
    return parser


def _print_counts(counts: dict[str, int]) -> None:
    for table, n in counts.items():
        print(f"  {table:<16} {n:>10,}")


def _print_logins(engine) -> None:
    stmt = (
        select(User.username, User.role, Team.name, User.active)
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.password_hash.is_not(None))
        .order_by(User.role, Team.name, User.username)
    )
    with engine.connect() as conn:
        for username, role, team, active in conn.execute(stmt):
            print(f"{role:<8} {username:<28} {team or '':<24} {'' if active else '(inactive)'}")


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    engine = make_engine(args.db)
    upgrade_to_head(engine)
    print(f"database: {safe_url(engine.url)}", file=sys.stderr)
    if args.command == "demo":
        from seed.demo import DemoError, generate_demo, today_utc

        try:
            counts = generate_demo(engine, size=args.size, seed=args.seed, as_of=args.as_of or today_utc())
        except DemoError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print("demo data generated:")
        _print_counts(counts)
        return 0
    if args.command == "logins":
        _print_logins(engine)
        return 0
    if args.command == "load":
        from seed.bundle import BundleError, load_bundle

        try:
            counts = load_bundle(engine, args.directory)
        except BundleError as exc:
            print(exc.report(), file=sys.stderr)
            return 1
        print("bundle loaded:")
        _print_counts(counts)
        return 0
    from seed.bundle import export_bundle

    counts = export_bundle(engine, args.directory)
    print(f"bundle written to {args.directory}:")
    _print_counts(counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
