"""A form save in the database: `crm_core.services.deals.move_stage`, as the Deals page calls it.

One save = load the deal for edit (permission + version check), update its stage, add the
stage-history row and the audit rows, commit. Each of N recent open deals is moved by its owner
to the next open stage and back again (so the data set keeps its stages; the history grows by
2N rows per benchmark run); every save is timed and the median reported.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from crm_core.actor import load_actor
from crm_core.enums import OPEN_STAGES
from crm_core.models import Opportunity
from crm_core.services import deals


@dataclass
class WriteFigures:
    saves: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.saves) if self.saves else float("nan")

    @property
    def p95(self) -> float:
        ordered = sorted(self.saves)
        return ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan")


def _next_stage(stage: str) -> str:
    i = OPEN_STAGES.index(stage)
    return OPEN_STAGES[(i + 1) % len(OPEN_STAGES)]


def time_form_saves(engine: Engine, n: int) -> WriteFigures:
    with engine.connect() as conn:
        picked = list(
            conn.execute(
                select(Opportunity.id, Opportunity.owner_id, Opportunity.stage, Opportunity.version)
                .where(Opportunity.stage.in_(OPEN_STAGES))
                .order_by(Opportunity.id.desc())
                .limit(n)
            )
        )
    figures = WriteFigures()
    for deal_id, owner_id, stage, version in picked:
        actor = load_actor(engine, owner_id)
        for to_stage in (_next_stage(stage), stage):
            start = time.perf_counter()
            deal = deals.move_stage(
                engine, actor, deal_id=deal_id, expected_version=version, to_stage=to_stage
            )
            figures.saves.append(time.perf_counter() - start)
            version = deal.version
    return figures
