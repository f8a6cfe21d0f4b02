"""The choices of the dashboard filters: teams, regions, product lines, reps."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from crm_core.models import Account, Lead, Product, Team, User


@dataclass(frozen=True)
class FilterChoices:
    """Each filter's options: teams and reps as (id, name) pairs, regions and lines as names."""

    teams: tuple[tuple[int, str], ...]
    regions: tuple[str, ...]
    product_lines: tuple[str, ...]
    reps: tuple[tuple[int, str, int | None], ...]  # (user id, display name, team id)


def _distinct(conn, column) -> tuple[str, ...]:
    """The non-null values of an indexed column, by one index seek per value (a recursive CTE:
    min, then the min above it, …), not a scan of the table: a few regions among 300k leads.
    SQLite did this from the index already; PostgreSQL has no skip scan and read every row."""
    found = select(func.min(column).label("v")).cte("found", recursive=True)
    following = select(func.min(column)).where(column > found.c.v).scalar_subquery()
    found = found.union_all(select(following).where(found.c.v.is_not(None)))
    return tuple(v for (v,) in conn.execute(select(found.c.v).where(found.c.v.is_not(None))))


def filter_choices(engine: Engine) -> FilterChoices:
    """Options for the sidebar, sorted for people; reps include inactive ones (history stays)."""
    with engine.connect() as conn:
        teams = tuple(tuple(r) for r in conn.execute(select(Team.id, Team.name).order_by(Team.name)))
        regions = sorted(set(_distinct(conn, Account.region)) | set(_distinct(conn, Lead.region)))
        lines = sorted(_distinct(conn, Product.product_line))
        reps = tuple(
            tuple(row)
            for row in conn.execute(
                select(User.id, User.display_name, User.team_id)
                .where(User.role == "rep")
                .order_by(User.display_name)
            )
        )
    return FilterChoices(teams=teams, regions=tuple(regions), product_lines=tuple(lines), reps=reps)
