"""SQL constructs that differ between SQLite and PostgreSQL, compiled per dialect with `@compiles`.

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
column in WHERE (`no_index` is the one meant for WHERE, on purpose).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class month_key(FunctionElement[str]):
    """'YYYY-MM' of a timestamp or date column."""

    type = String()
    inherit_cache = True
    name = "month_key"


@compiles(month_key, "sqlite")
def _month_key_sqlite(element: month_key, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_key)
def _month_key_default(element: month_key, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class folded(FunctionElement[str]):
    """A text value folded for case-insensitive comparison (see the module docstring)."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(folded, "sqlite")
def _folded_sqlite(element: folded, compiler: Any, **kw: Any) -> str:
    return f"casefold({compiler.process(element.clauses, **kw)})"


@compiles(folded)
def _folded_default(element: folded, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


class day_of(FunctionElement[date]):
    """The UTC calendar day of a (naive UTC) timestamp column, as a DATE value."""

    type = Date()
    inherit_cache = True
    name = "day_of"


@compiles(day_of, "sqlite")
def _day_of_sqlite(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_of)
def _day_of_default(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


class seconds_between(FunctionElement[float]):
    """`later - earlier` in seconds (a decimal number)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


def _two_args(element: FunctionElement, compiler: Any, **kw: Any) -> tuple[str, str]:
    later, earlier = list(element.clauses)
    return compiler.process(later, **kw), compiler.process(earlier, **kw)


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = _two_args(element, compiler, **kw)
    return f"(round((julianday({later}) - julianday({earlier})) * 86400000.0) / 1000.0)"


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = _two_args(element, compiler, **kw)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


class cents(FunctionElement[int]):
    """A money column as a whole number of cents (exact to sum)."""

    type = Integer()
    inherit_cache = True
    name = "cents"


@compiles(cents, "sqlite")
def _cents_sqlite(element: cents, compiler: Any, **kw: Any) -> str:
    return f"CAST(round({compiler.process(element.clauses, **kw)} * 100) AS INTEGER)"


@compiles(cents)
def _cents_default(element: cents, compiler: Any, **kw: Any) -> str:
    return f"CAST(round({compiler.process(element.clauses, **kw)} * 100) AS BIGINT)"


class greatest(FunctionElement[Any]):
    """The largest of its arguments (all must be non-NULL on SQLite)."""

    inherit_cache = True
    name = "greatest"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(greatest)
def _greatest_default(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


class least(FunctionElement[Any]):
    """The smallest of its arguments (all must be non-NULL on SQLite)."""

    inherit_cache = True
    name = "least"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(least)
def _least_default(element: least, compiler: Any, **kw: Any) -> str:
    return f"LEAST({compiler.process(element.clauses, **kw)})"


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


@compiles(no_index, "sqlite")
def _no_index_sqlite(element: no_index, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(no_index)
def _no_index_default(element: no_index, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


__all__ = ["cents", "greatest", "least", "month_key", "no_index", "seconds_between"]
