"""Loading a bundle: validate every file completely, check against the database, insert all-or-nothing.

Order of work:
1. read and parse every file (cell, header and row problems),
2. bundle-wide checks (duplicate ids, usernames, targets),
3. inside ONE transaction: checks against the database (id/username/target collisions and
   references to rows that are neither in the bundle nor in the database), then bulk Core
   inserts in foreign-key-safe order. Any problem raises `BundleError` and rolls back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text, tuple_, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from crm_core import rollups
from crm_core.dialect import folded
from crm_core.models import Account, Activity, Lead, Opportunity
from seed.bundle_errors import BundleError, Problem
from seed.bundle_read import ParsedRow, read_file
from seed.bundle_spec import FILES, FILES_BY_NAME, INSERT_ORDER, FileSpec
from seed.bundle_values import Kind, format_value

Parsed = dict[str, list[ParsedRow]]
"""File name -> its rows, for the files present in the bundle."""

DATABASE_REJECTIONS = (IntegrityError, DataError)
"""Errors meaning the database refused the data (a race, or a check the loader lacks), not an outage."""

LOOKUP_CHUNK = 500
"""Ids per `IN (...)` lookup; well below SQLite's and PostgreSQL's bind parameter limits."""


def load_bundle(engine: Engine, directory: Path) -> dict[str, int]:
    """Load the bundle in `directory` in one transaction; return rows loaded per table.

    Raises `BundleError` listing every problem found; then nothing is written.
    """
    directory = Path(directory)
    problems: list[Problem] = []
    parsed = _read_bundle(directory, problems)
    _check_bundle(parsed, problems)
    try:
        with engine.begin() as conn:
            _check_against_database(conn, parsed, problems)
            if problems:
                raise BundleError(_sorted(problems), directory)
            counts = _insert_all(conn, parsed, directory)
    except DATABASE_REJECTIONS as exc:
        # Deferred foreign keys are checked last (PostgreSQL) or at COMMIT (SQLite): not one file's fault.
        raise _rejected(directory.name or str(directory), exc, directory) from exc
    return counts


def _read_bundle(directory: Path, problems: list[Problem]) -> Parsed:
    if not directory.is_dir():
        raise BundleError([Problem(str(directory), None, None, "is not a directory")], directory)
    for path in sorted(directory.glob("*.csv")):
        if path.name not in FILES_BY_NAME:
            allowed = ", ".join(FILES_BY_NAME)
            problems.append(Problem(path.name, None, None, f"unknown bundle file (expected: {allowed})"))
    parsed: Parsed = {}
    for spec in FILES:
        path = directory / spec.name
        if path.is_file():
            parsed[spec.name] = read_file(path, spec, problems)
        elif spec.required_file:
            problems.append(Problem(spec.name, None, None, "required file is missing"))
    return parsed


def _check_bundle(parsed: Parsed, problems: list[Problem]) -> None:
    """Uniqueness inside the bundle: ids per file, usernames, one target per (user, month)."""
    for spec in FILES:
        id_column = spec.id_column
        if id_column is not None:
            _check_unique(spec.name, id_column.name, parsed.get(spec.name, []), problems)
    # Sign-in matches usernames whatever their case, so "Ana" and "ana" would be one login.
    _check_unique("users.csv", "username", parsed.get("users.csv", []), problems, fold=str.casefold)
    _check_unique("targets.csv", ("user_id", "month"), parsed.get("targets.csv", []), problems)


def _check_unique(
    file: str,
    key: str | tuple[str, ...],
    rows: list[ParsedRow],
    problems: list[Problem],
    fold: Callable[[Any], Any] = lambda v: v,
) -> None:
    """Rows repeating an earlier row's `key` (compared after `fold`, e.g. ignoring case)."""
    names = (key,) if isinstance(key, str) else key
    first_seen: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
    for row in rows:
        value = tuple(row.values.get(name) for name in names)
        if None in value:
            continue
        compared = tuple(fold(v) for v in value)
        if compared in first_seen:
            line, earlier = first_seen[compared]
            shown = ", ".join(_show(name, v) for name, v in zip(names, value, strict=True))
            same = "" if earlier == value else f" as {', '.join(map(str, earlier))}, ignoring case"
            reason = f"duplicate {shown}{same} (first on line {line})"
            problems.append(Problem(file, row.line, names[-1], reason))
        else:
            first_seen[compared] = (row.line, value)


def _show(name: str, value: Any) -> str:
    if name == "month":
        return f"month {format_value(Kind.MONTH, value)}"
    return f"{name} {value}"


def _check_against_database(conn: Connection, parsed: Parsed, problems: list[Problem]) -> None:
    _check_collisions(conn, parsed, problems)
    _check_references(conn, parsed, problems)


def _check_collisions(conn: Connection, parsed: Parsed, problems: list[Problem]) -> None:
    """Rows whose id, username or (user_id, month) already exist in a non-empty database."""
    for spec in FILES:
        id_column = spec.id_column
        if id_column is not None and spec.name in parsed:
            _check_existing(conn, spec, id_column.name, "id", parsed[spec.name], problems)
    if "users.csv" in parsed:
        _check_existing_usernames(conn, parsed["users.csv"], problems)
    _check_existing_targets(conn, parsed.get("targets.csv", []), problems)


def _check_existing(
    conn: Connection,
    spec: FileSpec,
    column: str,
    db_column: str,
    rows: list[ParsedRow],
    problems: list[Problem],
) -> None:
    wanted = {row.values[column] for row in rows if row.values.get(column) is not None}
    existing = _existing(conn, spec, db_column, wanted)
    for row in rows:
        value = row.values.get(column)
        if value in existing:
            reason = f"{column} {value} already exists in the database"
            problems.append(Problem(spec.name, row.line, column, reason))


def _check_existing_targets(conn: Connection, rows: list[ParsedRow], problems: list[Problem]) -> None:
    table = FILES_BY_NAME["targets.csv"].table
    keys = {(row.values["user_id"], row.values["month"]) for row in rows if _has(row, "user_id", "month")}
    existing: set[tuple[Any, Any]] = set()
    if not keys or conn.execute(select(table.c.id).limit(1)).first() is None:
        return
    for chunk in _chunks(sorted(keys)):
        query = select(table.c.user_id, table.c.month).where(
            tuple_(table.c.user_id, table.c.month).in_(chunk)
        )
        existing |= {(user_id, month) for user_id, month in conn.execute(query)}
    for row in rows:
        if _has(row, "user_id", "month") and (row.values["user_id"], row.values["month"]) in existing:
            month = format_value(Kind.MONTH, row.values["month"])
            reason = f"the database already has a target for user_id {row.values['user_id']} in {month}"
            problems.append(Problem("targets.csv", row.line, "month", reason))


def _has(row: ParsedRow, *names: str) -> bool:
    return all(row.values.get(name) is not None for name in names)


def _check_references(conn: Connection, parsed: Parsed, problems: list[Problem]) -> None:
    """Every reference must hit a row of the bundle or, failing that, of the database."""
    bundle_ids = _bundle_ids(parsed)
    dangling: dict[str, list[tuple[str, ParsedRow, str, int]]] = defaultdict(list)
    for spec in FILES:
        refs = [column for column in spec.columns if column.kind is Kind.REF]
        for row in parsed.get(spec.name, []):
            for column in refs:
                value = row.values.get(column.name)
                if value is not None and value not in bundle_ids[column.ref]:
                    dangling[column.ref].append((spec.name, row, column.name, value))
    for target, misses in dangling.items():
        target_spec = FILES_BY_NAME[target]
        found = _existing(conn, target_spec, "id", {value for *_, value in misses})
        id_name = target_spec.id_column.name if target_spec.id_column else "id"
        for file, row, column, value in misses:
            if value not in found:
                reason = f"refers to {id_name} {value}, which is neither in {target} nor in the database"
                problems.append(Problem(file, row.line, column, reason))


def _bundle_ids(parsed: Parsed) -> dict[str, set[int]]:
    ids: dict[str, set[int]] = defaultdict(set)
    for spec in FILES:
        id_column = spec.id_column
        if id_column is not None:
            ids[spec.name] = {
                row.values[id_column.name]
                for row in parsed.get(spec.name, [])
                if id_column.name in row.values
            }
    return ids


def _check_existing_usernames(conn: Connection, rows: list[ParsedRow], problems: list[Problem]) -> None:
    """Usernames the database already has, whatever their case (sign-in ignores case)."""
    users = FILES_BY_NAME["users.csv"].table
    wanted = sorted({row.values["username"].casefold() for row in rows if row.values.get("username")})
    taken: dict[str, str] = {}
    for chunk in _chunks(wanted):
        stmt = select(users.c.username).where(folded(users.c.username).in_(chunk))
        taken.update({name.casefold(): name for name in conn.execute(stmt).scalars()})
    for row in rows:
        name = row.values.get("username")
        if name and name.casefold() in taken:
            existing = taken[name.casefold()]
            same = "" if existing == name else f" (as {existing}, ignoring case)"
            problems.append(
                Problem(
                    "users.csv", row.line, "username", f"username {name} already exists in the database{same}"
                )
            )


def _existing(conn: Connection, spec: FileSpec, db_column: str, values: set[Any]) -> set[Any]:
    """Which of `values` the database already holds in `spec.table.<db_column>`."""
    column = spec.table.c[db_column]
    found: set[Any] = set()
    if not values or conn.execute(select(column).limit(1)).first() is None:
        return found  # an empty table holds none of them: skip the lookups
    for chunk in _chunks(sorted(set(values))):
        found |= set(conn.execute(select(column).where(column.in_(chunk))).scalars())
    return found


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _insert_all(conn: Connection, parsed: Parsed, directory: Path) -> dict[str, int]:
    """Bulk Core inserts (executemany) in spec order; then deferred checks and id sequences."""
    counts: dict[str, int] = {}
    written: dict[str, list[dict[str, Any]]] = {}
    for spec in INSERT_ORDER:
        rows = written[spec.table_name] = [_db_row(spec, row) for row in parsed.get(spec.name, [])]
        if rows:
            try:
                conn.execute(insert(spec.table), rows)
            except DATABASE_REJECTIONS as exc:
                raise _rejected(spec.name, exc, directory) from exc
        counts[spec.table_name] = len(rows)
    if counts.get("activities"):
        _refresh_last_activity(conn)
    _refresh_rollups(conn, written)
    if conn.dialect.name == "postgresql":
        # Surface violations of the deferred leads<->opportunities keys here, not at COMMIT.
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        _reset_sequences(conn, [spec for spec in FILES if counts[spec.table_name]])
    return {spec.table_name: counts[spec.table_name] for spec in FILES}


def _refresh_last_activity(conn: Connection) -> None:
    """Keep the denormalised `last_activity_at` of deals, accounts and leads equal to their latest
    activity, as the services do on every activity they log (the dashboards read it)."""
    activities = Activity.__table__
    for model, link in ((Opportunity, "opportunity_id"), (Account, "account_id"), (Lead, "lead_id")):
        table, fk = model.__table__, activities.c[link]
        latest = select(func.max(activities.c.occurred_at)).where(fk == table.c.id).scalar_subquery()
        touched = select(fk).where(fk.is_not(None))
        conn.execute(update(table).where(table.c.id.in_(touched)).values(last_activity_at=latest))


def _refresh_rollups(conn: Connection, written: dict[str, list[dict[str, Any]]]) -> None:
    """The rollups (`crm_core.rollups`) of every deal, account and activity user the bundle wrote
    to, as the services keep them on each write."""
    deals = written.get("opportunities", [])
    deal_ids = {row["id"] for row in deals} | {
        row["opportunity_id"] for row in written.get("stage_history", [])
    }
    rollups.refresh_opportunities(conn, deal_ids)
    rollups.refresh_accounts(conn, {row["account_id"] for row in deals})
    rollups.refresh_activity_days(conn, {row["user_id"] for row in written.get("activities", [])})
    rollups.refresh_account_nps(conn, {row["account_id"] for row in written.get("nps_responses", [])})
    rollups.refresh_tickets(conn, {row["id"] for row in written.get("tickets", [])})
    rollups.refresh_account_regions(conn, {row["id"] for row in written.get("accounts", [])})
    rollups.refresh_payments(conn, {row["id"] for row in written.get("payments", [])})
    rollups.refresh_payments(conn, deal_ids={row["id"] for row in deals})


def _db_row(spec: FileSpec, row: ParsedRow) -> dict[str, Any]:
    return {column.db_name: row.values[column.name] for column in spec.columns}


def _reset_sequences(conn: Connection, specs: list[FileSpec]) -> None:
    """Move each id sequence past the explicit ids just loaded, so later inserts do not collide."""
    for spec in specs:
        table = spec.table
        highest = select(func.max(table.c.id)).scalar_subquery()
        conn.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)))


def _rejected(file: str, error: DBAPIError, directory: Path) -> BundleError:
    reason = f"the database rejected the rows: {_first_line(error.orig)}"
    return BundleError([Problem(file, None, None, reason)], directory)


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Problems in spec file order, then by line; unknown files last. The sort is stable."""
    rank = {spec.name: index for index, spec in enumerate(FILES)}
    return sorted(problems, key=lambda p: (rank.get(p.file, len(rank)), p.line or 0))


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "unknown error"
