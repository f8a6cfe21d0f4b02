"""SQL constructs that differ between SQLite and PostgreSQL, each compiled from two templates
(`per_dialect`, on top of SQLAlchemy's `@compiles`).

- `month_key(ts)`: the 'YYYY-MM' text of a timestamp (SQLite has no date_trunc).
- `folded(text)`: text for case-insensitive comparison. SQLite's lower() folds ASCII letters
  only ("ÉCOLE" stays "éCOLE"), so there it is Python's `str.casefold`, registered on every
  connection by `crm_core.db`; PostgreSQL's lower() follows the database's locale (Unicode
  with the usual UTF-8 ones).
- `day_of(timestamp)`: its UTC calendar day as a DATE (SQLite: 'YYYY-MM-DD' text, as SQLAlchemy
  stores dates there).
- `seconds_between(later, earlier)`: a duration in seconds. On SQLite `julianday` works in whole
  milliseconds but returns a float day count, so the difference is rounded back to milliseconds:
  an SLA of exactly 4 h must compare equal to 14400 s, not 14399.99996.
- `cents(amount)`: money as whole cents, so that sums are exact on SQLite too (it stores
  NUMERIC(14,2) as REAL and sums floats; PostgreSQL sums exact numerics).
- `greatest(...)` / `least(...)`: scalar max/min of several values.
- `no_index(column)`: a planner hint for SQLite (`+column`), the plain column elsewhere.

Only use the value constructs in SELECT lists, GROUP BY and HAVING, never around an indexed
column in WHERE (`no_index` is the one meant for WHERE, on purpose; a `folded` comparison reads
every row it is given, which the rare writes that use it accept).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

E = TypeVar("E", bound=type)


def per_dialect(sqlite: str, default: str) -> Callable[[E], E]:
    """Class decorator: compile the construct from the `sqlite` template on SQLite and the
    `default` one elsewhere; in a template `{0}`, `{1}`… are the arguments and `{args}` all of
    them, comma-separated."""

    def template(text: str) -> Callable[..., str]:
        def render(element: FunctionElement, compiler: Any, **kw: Any) -> str:
            parts = [compiler.process(clause, **kw) for clause in element.clauses]
            return text.format(*parts, args=", ".join(parts))

        return render

    def register(cls: E) -> E:
        compiles(cls, "sqlite")(template(sqlite))
        compiles(cls)(template(default))
        return cls

    return register


@per_dialect(sqlite="strftime('%Y-%m', {0})", default="to_char({0}, 'YYYY-MM')")
class month_key(FunctionElement[str]):
    """'YYYY-MM' of a timestamp or date column."""

    type = String()
    inherit_cache = True
    name = "month_key"


@per_dialect(sqlite="casefold({0})", default="lower({0})")
class folded(FunctionElement[str]):
    """A text value folded for case-insensitive comparison (see the module docstring)."""

    type = String()
    inherit_cache = True
    name = "folded"


@per_dialect(sqlite="date({0})", default="CAST({0} AS DATE)")
class day_of(FunctionElement[date]):
    """The UTC calendar day of a (naive UTC) timestamp column, as a DATE value."""

    type = Date()
    inherit_cache = True
    name = "day_of"


@per_dialect(
    sqlite="(round((julianday({0}) - julianday({1})) * 86400000.0) / 1000.0)",
    default="EXTRACT(EPOCH FROM ({0} - {1}))",
)
class seconds_between(FunctionElement[float]):
    """`later - earlier` in seconds (a decimal number)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@per_dialect(sqlite="CAST(round({0} * 100) AS INTEGER)", default="CAST(round({0} * 100) AS BIGINT)")
class cents(FunctionElement[int]):
    """A money column as a whole number of cents (exact to sum)."""

    type = Integer()
    inherit_cache = True
    name = "cents"


@per_dialect(sqlite="max({args})", default="GREATEST({args})")
class greatest(FunctionElement[Any]):
    """The largest of its arguments (all must be non-NULL on SQLite)."""

    inherit_cache = True
    name = "greatest"


@per_dialect(sqlite="min({args})", default="LEAST({args})")
class least(FunctionElement[Any]):
    """The smallest of its arguments (all must be non-NULL on SQLite)."""

    inherit_cache = True
    name = "least"


@per_dialect(sqlite="+{0}", default="{0}")
class no_index(FunctionElement[Any]):
    """The column itself, marked so that SQLite's planner does not drive the query from its index.

    Compiles to `+column` on SQLite (the documented way to disqualify an index for one term) and
    to the plain column elsewhere. Used for coarse filters such as `account_id IN (accounts of a
    region)`: without it SQLite walks every deal of a quarter of all accounts instead of the
    small range of the period.
    """

    inherit_cache = True
    name = "no_index"

    @property
    def type(self):  # the type of the wrapped column, so comparisons bind as usual
        return next(iter(self.clauses)).type


__all__ = [
    "cents",
    "day_of",
    "folded",
    "greatest",
    "least",
    "month_key",
    "no_index",
    "per_dialect",
    "seconds_between",
]
