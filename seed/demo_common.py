"""Shared pieces of the demo generator: sizes, the time window, column containers, sampling helpers.

Every timestamp is handled as int64 seconds since the Unix epoch (naive UTC) so whole tables can
be generated with numpy at once; the writer turns them into database values at the very end.
`NO_TIME` (-1) marks a NULL timestamp and id 0 a NULL reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

DAY = 86_400
HOUR = 3_600
MINUTE = 60
NO_TIME = -1
HISTORY_MONTHS = 24


@dataclass(frozen=True)
class SizeSpec:
    """How much of everything one size makes. Lead volume follows from `lead_share` and the
    per-source conversion rates (see `demo_leads`)."""

    name: str
    teams_per_region: int
    reps: int
    accounts: int
    opportunities: int
    activities: int
    tickets: int
    lead_share: float
    lead_pool: int
    nps_per_customer_year: float
    bulk: bool  # written with the big-load shortcuts of `demo_writer`


SIZES: dict[str, SizeSpec] = {
    "demo": SizeSpec("demo", 1, 25, 1_500, 6_000, 40_000, 3_000, 0.30, 60, 1.2, bulk=False),
    "large": SizeSpec("large", 2, 200, 20_000, 100_000, 2_500_000, 60_000, 0.15, 300, 1.0, bulk=True),
    "stress": SizeSpec("stress", 5, 500, 100_000, 1_000_000, 5_000_000, 250_000, 0.05, 800, 0.5, bulk=True),
}


def epoch(value: date | datetime) -> int:
    """Seconds since the epoch of a date (its midnight) or naive-UTC datetime."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return int(value.replace(tzinfo=UTC).timestamp())


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Window:
    """The 24 months of history ending at the end of `as_of` (T), plus month bookkeeping.

    `month_starts[i]` is the epoch second of the first day of month i, i = 0 … 24, where month 0
    is the first of the 24 months and month 23 contains `as_of`; entry 24 is the month after.
    """

    as_of: date
    start: int
    end: int
    first_month: date
    month_starts: np.ndarray = field(repr=False)

    @classmethod
    def ending(cls, as_of: date) -> Window:
        first = add_months(as_of, -(HISTORY_MONTHS - 1))
        starts = np.array([epoch(add_months(first, i)) for i in range(HISTORY_MONTHS + 1)], dtype=np.int64)
        return cls(as_of, int(starts[0]), epoch(as_of) + DAY, first, starts)

    def month_start(self, offset: int) -> int:
        """Epoch second of the first day of the month `offset` months from as_of's month (0 = it)."""
        return epoch(add_months(self.as_of, offset))


def month_number(ts: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of epoch seconds (vectorised)."""
    return ts.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def month_of_year(ts: np.ndarray) -> np.ndarray:
    """1 … 12 for each epoch second."""
    return month_number(ts) % 12 + 1


def uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Whole seconds drawn uniformly in [low, high); returns low where high <= low."""
    span = np.maximum(high - low, 1)
    return low + (rng.random(len(low)) * span).astype(np.int64)


def growing_times(rng: np.random.Generator, n: int, start: int, end: int, growth: float) -> np.ndarray:
    """n times in [start, end) whose density grows by `growth` per year (inverse-CDF sampling)."""
    g = np.log1p(growth) / (365 * DAY)
    u = rng.random(n)
    return start + (np.log1p(u * np.expm1(g * (end - start))) / g).astype(np.int64)


def pick(rng: np.random.Generator, weights: dict[str, float] | list[float], n: int) -> np.ndarray:
    """n indices drawn with the given (unnormalised) weights."""
    w = np.fromiter(weights.values() if isinstance(weights, dict) else weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def ranks(keys: np.ndarray) -> np.ndarray:
    """1-based new id for each row when rows are renumbered in order of `keys` (stable)."""
    order = np.argsort(keys, kind="stable")
    new_ids = np.empty(len(keys), dtype=np.int64)
    new_ids[order] = np.arange(1, len(keys) + 1, dtype=np.int64)
    return new_ids


def group_max(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group id 1 … n_groups, the max of `values` (NO_TIME where a group has none)."""
    out = np.full(n_groups + 1, NO_TIME, dtype=np.int64)
    np.maximum.at(out, groups, values)
    out[0] = NO_TIME
    return out[1:]


@dataclass(frozen=True)
class Column:
    """One column's values. kind: int, float, time (epoch s), date (epoch s), money (cents), text,
    bool.

    `null` marks NULL entries; without it the column has none.
    """

    kind: str
    values: np.ndarray
    null: np.ndarray | None = None


def ints(values: np.ndarray) -> Column:
    return Column("int", np.asarray(values, dtype=np.int64))


def refs(values: np.ndarray) -> Column:
    """A nullable reference: id 0 is NULL."""
    values = np.asarray(values, dtype=np.int64)
    return Column("int", values, values == 0)


def seconds_since(start: np.ndarray, end: np.ndarray) -> Column:
    """end - start in seconds as floats, NULL where there is no end (the duration rollups)."""
    missing = end == NO_TIME
    return Column("float", np.where(missing, 0, end - start).astype(np.float64), missing)


def times(values: np.ndarray) -> Column:
    values = np.asarray(values, dtype=np.int64)
    return Column("time", values, values == NO_TIME)


def dates(values: np.ndarray) -> Column:
    values = np.asarray(values, dtype=np.int64)
    return Column("date", values, values == NO_TIME)


def money(cents: np.ndarray) -> Column:
    return Column("money", np.asarray(cents, dtype=np.int64))


def texts(values: np.ndarray | list[str | None]) -> Column:
    values = np.asarray(values, dtype=object)
    return Column("text", values)


def bools(values: np.ndarray) -> Column:
    return Column("bool", np.asarray(values, dtype=bool))


@dataclass
class Table:
    """Rows of one table as named columns of equal length, in insert order."""

    name: str
    columns: dict[str, Column]

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else len(first.values)
