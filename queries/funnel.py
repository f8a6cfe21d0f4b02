"""The stage funnel of a cohort: opportunities created in P, by the furthest stage they reached.

Spec ("Funnel"): furthest stage = the highest order among `prospecting`, every open stage in the
deal's stage_history (`to_stage`), its current stage when open, and `won` when it is won now.
So skipped stages count as reached (a jump 1→3 reaches 2), a backward move keeps the highest
stage, lost deals count for the stages they reached, and a `won` history row of a deal that is
no longer won does not count. reached(s) = deals whose furthest stage ≥ s; conversion(s) =
reached(s) / reached(previous stage).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, func, select

from crm_core import rollups
from crm_core.enums import STAGE_ORDER
from crm_core.models import Opportunity
from queries.filters import NO_FILTERS, Filters, Period, opportunity_scope
from queries.pipeline import deal_columns, deal_from
from queries.values import as_int, clamp_limit, frame, ratio, table

OPP = Opportunity.__table__

FUNNEL_STAGES = tuple(sorted(STAGE_ORDER, key=STAGE_ORDER.__getitem__))


def furthest_stage_order() -> ColumnElement[int]:
    """The order (1..5) of the furthest stage of each OPP row (see the module docstring): the
    `furthest_stage_order` rollup, computed from the history where it is missing."""
    return func.coalesce(OPP.c.furthest_stage_order, rollups.furthest_stage_order())


def cohort(period: Period, filters: Filters) -> list[ColumnElement[bool]]:
    """Opportunities created in P that the filters keep."""
    return [*period.contains(OPP.c.created_at), *opportunity_scope(OPP, filters)]


def funnel(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """[{'stage': str, 'reached': int, 'conversion': float | None}] for the five funnel stages.

    conversion is None for prospecting and whenever the previous stage was reached by nobody.
    The funnel looks at all stage history of the cohort, so `as_of` is not used.
    """
    # Group by the furthest stage (computed once per deal) and accumulate reached(s) here:
    # one FILTER per stage would make PostgreSQL evaluate the history subquery five times.
    inner = select(furthest_stage_order().label("f")).where(*cohort(period, filters)).subquery()
    stmt = select(inner.c.f, func.count()).group_by(inner.c.f)
    with engine.connect() as conn:
        per_order = {int(f): as_int(n) for f, n in conn.execute(stmt)}
    counts = [sum(n for f, n in per_order.items() if f >= STAGE_ORDER[s]) for s in FUNNEL_STAGES]
    rows, previous = [], None
    for stage, reached in zip(FUNNEL_STAGES, counts, strict=True):
        rows.append({"stage": stage, "reached": reached, "conversion": ratio(reached, previous)})
        previous = reached
    return rows


def funnel_table(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
) -> pd.DataFrame:
    """The funnel as a DataFrame: stage, reached, conversion, conversion_from_first
    (reached / reached(prospecting), None when the cohort is empty)."""
    rows = funnel(engine, period, filters, as_of)
    first = rows[0]["reached"]
    for row in rows:
        row["conversion_from_first"] = ratio(row["reached"], first)
    return table(
        rows,
        ["stage", "reached", "conversion", "conversion_from_first"],
        floats=("conversion", "conversion_from_first"),
    )


def funnel_stage_deals(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    stage: str = "prospecting",
    as_of: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """Drill-down: the cohort deals that reached `stage` (furthest stage ≥ it), newest first.

    Columns: the deal columns (see `queries.pipeline.deal_columns`) plus furthest_stage (str).
    """
    if stage not in STAGE_ORDER:
        raise ValueError(f"unknown funnel stage {stage!r}; expected one of {', '.join(FUNNEL_STAGES)}")
    furthest = furthest_stage_order()
    stmt = (
        select(*deal_columns(), furthest.label("furthest_order"))
        .select_from(deal_from())
        .where(*cohort(period, filters), furthest >= STAGE_ORDER[stage])
        .order_by(OPP.c.created_at.desc(), OPP.c.id)
        .limit(clamp_limit(limit))
        .offset(max(0, offset))
    )
    with engine.connect() as conn:
        df = frame(conn, stmt)
    df["furthest_stage"] = [FUNNEL_STAGES[int(n) - 1] for n in df["furthest_order"]]
    return df.drop(columns=["furthest_order"])
