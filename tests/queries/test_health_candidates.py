"""Health scores only the accounts that can be weak (`weak_candidates`): the result must be the
same as scoring every active customer, on realistic data (the demo seed) and every filter kind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from queries import health
from queries.dimensions import filter_choices
from queries.filters import Filters, Period
from tests.conftest import seeded_demo_engine

AS_OF = date(2026, 11, 22)
PERIODS = [
    Period(date(2026, 10, 1), date(2026, 11, 22)),
    Period(date(2026, 7, 1), date(2026, 9, 30)),
    Period(date(2025, 6, 1), date(2025, 6, 30)),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Engine]:
    with seeded_demo_engine(tmp_path_factory, "health", AS_OF) as engine:
        yield engine


def _filters(engine: Engine) -> list[Filters]:
    choices = filter_choices(engine)
    team = choices.teams[0][0]
    rep = next(r[0] for r in choices.reps if r[2] == team)
    return [Filters(), Filters(team_id=team), Filters(owner_id=rep), Filters(region=choices.regions[0])]


def test_quiet_days_follow_the_scoring_rules():
    # 31-60 days without activity cost 10 points: even with a detractor NPS (-20) that is 70, healthy;
    # 61-90 days cost 25: healthy (75) unless the latest NPS is a detractor; over 90 days cost 40.
    assert health.quiet_days() == 60
    assert health.quiet_days(with_detractor=False) == 90


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: str(p.start))
def test_pruned_health_equals_scoring_every_customer(demo, period):
    for filters in _filters(demo):
        every = health.scored(period.as_of(), filters)  # no pruning
        tier = func.coalesce(every.c.tier, "(none)")
        with demo.connect() as conn:
            expected = dict(
                ((t, b), n) for t, b, n in conn.execute(select(tier, every.c.band, func.count()).group_by(tier, every.c.band))
            )  # fmt: skip
        bands = {b: sum(n for (_, band), n in expected.items() if band == b) for b in health.BANDS}
        assert health.health_bands(demo, period, filters) == bands
        by_tier = health.health_by_tier(demo, period, filters).set_index("tier")
        for (t, b), n in expected.items():
            assert by_tier.loc[t, b] == n
        everyone = health.health_accounts(demo, period, filters, bands=health.BANDS, limit=10_000)
        weak = everyone[everyone["band"] != "healthy"].reset_index(drop=True)
        at_risk = health.at_risk_accounts(demo, period, filters, limit=10_000)
        assert at_risk["account_id"].tolist() == weak["account_id"].tolist()
        pd.testing.assert_frame_equal(at_risk[["score", "band"]], weak[["score", "band"]])
        critical = health.health_accounts(demo, period, filters, bands=("critical",), limit=10_000)
        assert critical["account_id"].tolist() == weak.loc[weak["band"] == "critical", "account_id"].tolist()


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: str(p.start))
def test_one_pass_overview_equals_the_tiers_and_the_at_risk_list(demo, period):
    """`health_overview` (the Customer Health page) gives exactly `health_by_tier` and the first
    `limit` rows of `at_risk_accounts`, with a list shorter and longer than the weak set."""
    for filters in _filters(demo):
        by_tier = health.health_by_tier(demo, period, filters)
        for limit in (5, 10_000):
            overview = health.health_overview(demo, period, filters, limit=limit)
            pd.testing.assert_frame_equal(overview["tiers"], by_tier)
            pd.testing.assert_frame_equal(
                overview["at_risk"], health.at_risk_accounts(demo, period, filters, limit=limit)
            )
