"""The read side of the war room: every metric of `spec/metrics.md`, computed in the database.

SQLAlchemy Core only, no Streamlit. Each metric is a function with one shared signature
`fn(engine, period, filters=Filters(), as_of=None)`; `queries.registry` lists them all with
their labels and definitions, and `python -m queries.report` prints them as JSON.

Conventions: values are plain `int`/`float`; a ratio with a zero denominator (or a mean over
nothing) is None, never 0. Charts and tables are pandas DataFrames capped by a `limit`; in
them, a column documented as `float | None` holds NaN for "no value".
"""

from queries.filters import NO_FILTERS, Filters, Period

__all__ = ["NO_FILTERS", "Filters", "Period"]
