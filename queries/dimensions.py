"""The choices of the dashboard filters: teams, regions, product lines, reps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect, Engine, Select, String, func, literal, null, select, union_all

from crm_core.models import Account, Lead, Product, Team, User


@dataclass(frozen=True)
class FilterChoices:
    """Each filter's options: teams and reps as (id, name) pairs, regions and lines as names."""

    teams: tuple[tuple[int, str], ...]
    regions: tuple[str, ...]
    product_lines: tuple[str, ...]
    reps: tuple[tuple[int, str, int | None], ...]  # (user id, display name, team id)


def _distinct(kind: str, column: Any) -> Select:
    """(kind, NULL, value, NULL) for each non-null value of an indexed column, by one index seek
    per value (a recursive CTE: min, then the min above it, …), not a scan of the table: a few
    regions among 300k leads. SQLite did this from the index already; PostgreSQL has no skip
    scan and read every row."""
    found = select(func.min(column).label("v")).cte(f"{kind}_found", recursive=True)
    following = select(func.min(column)).where(column > found.c.v).scalar_subquery()
    found = found.union_all(select(following).where(found.c.v.is_not(None)))
    return select(_kind(kind), null(), found.c.v, null()).where(found.c.v.is_not(None))


def _kind(kind: str) -> Any:
    return literal(kind, String).label("kind")


def _people_order(name: str, key: Any) -> tuple[str, str, Any]:
    return (name.casefold(), name, key)


@cache
def _choices_statement() -> CompoundSelect:
    """Built once: it has no parameters, and building it costs more than running it."""
    return union_all(
        select(_kind("team"), Team.id, Team.name, null()),
        select(_kind("rep"), User.id, User.display_name, User.team_id).where(User.role == "rep"),
        _distinct("region", Account.region),
        _distinct("lead_region", Lead.region),
        _distinct("line", Product.product_line),
    )


def filter_choices(engine: Engine) -> FilterChoices:
    """Options for the sidebar, sorted for people (case-insensitive); reps include inactive ones
    (history stays). One statement: the sidebar runs on every page."""
    rows: dict[str, list[Any]] = {"team": [], "rep": [], "region": [], "lead_region": [], "line": []}
    with engine.connect() as conn:
        for kind, key, name, team_id in conn.execute(_choices_statement()).all():
            rows[kind].append((key, name, team_id))
    teams = sorted(((key, name) for key, name, _ in rows["team"]), key=lambda t: _people_order(t[1], t[0]))
    reps = sorted(rows["rep"], key=lambda r: _people_order(r[1], r[0]))
    regions = sorted(
        {name for _, name, _ in rows["region"] + rows["lead_region"]}, key=lambda n: _people_order(n, n)
    )
    lines = sorted((name for _, name, _ in rows["line"]), key=lambda n: _people_order(n, n))
    return FilterChoices(
        teams=tuple(teams), regions=tuple(regions), product_lines=tuple(lines), reps=tuple(reps)
    )
