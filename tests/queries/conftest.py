"""Hand-made scenarios for the query tests, written as CSV bundles and loaded with `load_bundle`.

    def test_x(engine, scenario):
        s = scenario()
        s.user(3)
        s.account(10, owner=3)
        s.opp(1, account=10, owner=3, amount="100.00", stage="won", created="2026-02-01", closed="2026-03-05")
        s.load(engine)

Timestamps are bundle text ("2026-03-05" means 00:00; offsets like "+02:00" are converted to
UTC by the loader). Defaults keep every row valid; only what a test cares about is spelled out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, update

from queries.filters import Period
from seed.bundle import load_bundle
from tests.seed.bundles import write_bundle

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
"""The usual period of these tests: T (default as-of) is 2026-04-01 00:00."""
T_MARCH = datetime(2026, 4, 1)


def ts(text: str) -> str:
    """'2026-03-05' -> '2026-03-05T00:00:00'; full timestamps pass through."""
    return f"{text}T00:00:00" if len(text) == 10 else text


def opt_ts(text: str | None) -> str | None:
    return None if text is None else ts(text)


class Scenario:
    """Rows per bundle file, with defaults; `load(engine)` writes the bundle and loads it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def _add(self, file: str, row: dict[str, Any]) -> None:
        self.files[file].append(row)

    def team(self, team_id: int, name: str | None = None, region: str | None = None) -> Scenario:
        self._add("teams", {"team_id": team_id, "name": name or f"Team {team_id}", "region": region})
        return self

    def user(
        self,
        user_id: int,
        role: str = "rep",
        team: int | None = None,
        active: bool = True,
        name: str | None = None,
    ) -> Scenario:
        self._add(
            "users",
            {
                "user_id": user_id,
                "username": f"user{user_id}",
                "display_name": name or f"User {user_id}",
                "role": role,
                "team_id": team,
                "active": "true" if active else "false",
            },
        )
        return self

    def product(self, product_id: int, line: str) -> Scenario:
        self._add(
            "products", {"product_id": product_id, "name": f"Product {product_id}", "product_line": line}
        )
        return self

    def account(
        self,
        account_id: int,
        owner: int | None = None,
        region: str | None = None,
        churned: str | None = None,
        tier: str | None = None,
    ) -> Scenario:
        self._add(
            "accounts",
            {
                "account_id": account_id,
                "name": f"Account {account_id}",
                "owner_id": owner,
                "region": region,
                "tier": tier,
                "created_at": "2025-01-01T00:00:00",
                "churned_at": opt_ts(churned),
            },
        )
        return self

    def opp(
        self,
        opp_id: int,
        account: int,
        owner: int,
        amount: str,
        stage: str,
        created: str,
        closed: str | None = None,
        product: int | None = None,
        lost_reason: str | None = None,
    ) -> Scenario:
        self._add(
            "opportunities",
            {
                "opportunity_id": opp_id,
                "name": f"Deal {opp_id}",
                "account_id": account,
                "owner_id": owner,
                "amount": amount,
                "stage": stage,
                "created_at": ts(created),
                "closed_at": opt_ts(closed),
                "product_id": product,
                "lost_reason": lost_reason,
            },
        )
        return self

    def history(self, opp_id: int, to_stage: str, at: str, from_stage: str | None = None) -> Scenario:
        self._add(
            "stage_history",
            {"opportunity_id": opp_id, "from_stage": from_stage, "to_stage": to_stage, "changed_at": ts(at)},
        )
        return self

    def payment(self, payment_id: int, opp_id: int, amount: str, paid: str) -> Scenario:
        self._add(
            "payments",
            {"payment_id": payment_id, "opportunity_id": opp_id, "amount": amount, "paid_at": ts(paid)},
        )
        return self

    def lead(
        self,
        lead_id: int,
        created: str,
        status: str = "new",
        owner: int | None = None,
        region: str | None = None,
        source: str | None = None,
    ) -> Scenario:
        self._add(
            "leads",
            {
                "lead_id": lead_id,
                "company": f"Lead {lead_id}",
                "status": status,
                "created_at": ts(created),
                "owner_id": owner,
                "region": region,
                "source": source,
            },
        )
        return self

    def activity(
        self,
        activity_id: int,
        user: int,
        at: str,
        account: int | None = None,
        opp: int | None = None,
        lead: int | None = None,
        kind: str = "call",
    ) -> Scenario:
        self._add(
            "activities",
            {
                "activity_id": activity_id,
                "type": kind,
                "user_id": user,
                "occurred_at": ts(at),
                "account_id": account,
                "opportunity_id": opp,
                "lead_id": lead,
            },
        )
        return self

    def ticket(
        self,
        ticket_id: int,
        account: int,
        priority: str,
        created: str,
        resolved: str | None = None,
        first_response: str | None = None,
        csat: int | None = None,
    ) -> Scenario:
        self._add(
            "tickets",
            {
                "ticket_id": ticket_id,
                "account_id": account,
                "subject": f"Ticket {ticket_id}",
                "priority": priority,
                "status": "resolved" if resolved else "open",
                "created_at": ts(created),
                "first_response_at": opt_ts(first_response),
                "resolved_at": opt_ts(resolved),
                "csat": csat,
            },
        )
        return self

    def target(self, user: int, month: str, amount: str) -> Scenario:
        self._add("targets", {"user_id": user, "month": month, "amount": amount})
        return self

    def nps(self, account: int, score: int, at: str) -> Scenario:
        self._add("nps_responses", {"account_id": account, "score": score, "responded_at": ts(at)})
        return self

    def load(self, engine: Engine) -> dict[str, int]:
        """Write the bundle (users.csv always) and load it into `engine`."""
        if not self.files["users"]:
            self.user(1, role="admin")
        write_bundle(self.directory, dict(self.files))
        return load_bundle(engine, self.directory)


@pytest.fixture
def scenario(tmp_path: Path) -> Callable[[], Scenario]:
    """A factory of empty scenarios, each with its own bundle folder."""
    counter = iter(range(1_000))

    def make() -> Scenario:
        return Scenario(tmp_path / f"bundle{next(counter)}")

    return make


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with NaN shown as None (DataFrames hold "no value" as NaN)."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in df.to_dict("records")
    ]


def set_last_activity(engine: Engine, table: Any, row_id: int, moment: datetime | None) -> None:
    """Set the denormalised `last_activity_at` of one account/opportunity (the loader leaves it empty)."""
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(last_activity_at=moment))
