"""Activities (calls, emails, meetings, visits, notes) and the `last_activity_at` they imply.

Every activity falls inside the time its record was being worked: a deal between its creation
and its close (or T; stale deals went quiet 15–75 days ago, and every other open deal was
touched in the last ten days), a lead while its owner worked it, a customer account between its
first purchase and its churn (churning customers went quiet one to four months before leaving).
Activities are logged by the record's owner; a few deal meetings by the owner's manager.
Times are moved into 08:00–18:00 UTC when that stays inside the allowed interval.

`last_activity_at` of opportunities, accounts and leads is the latest activity linked to them,
exactly as the app keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_core.enums import ACTIVITY_TYPES
from seed.demo_common import (
    DAY,
    HOUR,
    NO_TIME,
    SizeSpec,
    Table,
    Window,
    dates,
    group_max,
    ints,
    pick,
    refs,
    texts,
    times,
)
from seed.demo_leads import Leads
from seed.demo_names import ACTIVITY_SUBJECTS
from seed.demo_people import People
from seed.demo_sales import Accounts, Opportunities
from seed.demo_service import Customers

SHARE_DEALS, SHARE_LEADS, SHARE_CUSTOMERS, SHARE_PROSPECTS = 0.70, 0.12, 0.16, 0.02
TYPE_MIX = (0.35, 0.33, 0.15, 0.05, 0.12)
MANAGER_SHARE = 0.06


@dataclass(frozen=True)
class Activities:
    table: Table
    days: Table  # activity_days: per user and UTC day (`crm_core.rollups`)
    opp_last: np.ndarray  # per opportunity
    account_last: np.ndarray  # per account id - 1
    lead_last: np.ndarray  # per lead


@dataclass
class _Batch:
    start: np.ndarray
    end: np.ndarray
    user: np.ndarray
    account_id: np.ndarray
    opp_id: np.ndarray
    lead_id: np.ndarray


def _expand(counts: np.ndarray, start, end, user, account_id, opp_id, lead_id) -> _Batch:
    """`counts[i]` activity slots for record i; each field is per record, or one value for all."""
    rows = np.repeat(np.arange(len(counts)), counts)
    fields = (start, end, user, account_id, opp_id, lead_id)
    return _Batch(
        *(f[rows] if isinstance(f, np.ndarray) else np.full(len(rows), f, dtype=np.int64) for f in fields)
    )


def _counts(rng: np.random.Generator, weights: np.ndarray, total: float) -> np.ndarray:
    weights = np.where(weights > 0, weights, 0.0)
    if weights.sum() == 0:
        return np.zeros(len(weights), dtype=np.int64)
    return rng.poisson(weights * (total / weights.sum()))


def _deal_batches(
    rng: np.random.Generator,
    spec: SizeSpec,
    opp: Opportunities,
    accounts: Accounts,
    people: People,
    window: Window,
) -> list[_Batch]:
    n = len(opp)
    start, end = opp.created_at, opp.touch_until
    recent = opp.is_open & ~opp.stale
    days = (end - start) / DAY
    counts = _counts(rng, np.power(1 + days, 0.7), spec.activities * SHARE_DEALS - recent.sum())
    user = people.rep_user_ids[opp.owner]
    manager = people.team_manager_ids[people.rep_team[opp.owner]]
    account_id = accounts.ids[opp.account]
    opp_id = np.arange(1, n + 1)
    batches = [_expand(counts, start, end, user, account_id, opp_id, 0)]
    by_manager = rng.random(len(batches[0].user)) < MANAGER_SHARE
    batches[0].user = np.where(by_manager, np.repeat(manager, counts), batches[0].user)
    touched = np.flatnonzero(recent)
    last_touch_from = np.maximum(start[touched], window.end - 10 * DAY)
    batches.append(
        _Batch(
            last_touch_from,
            np.full(len(touched), window.end),
            user[touched],
            account_id[touched],
            touched + 1,
            np.zeros(len(touched), dtype=np.int64),
        )
    )
    return batches


def _lead_batch(rng: np.random.Generator, spec: SizeSpec, leads: Leads, people: People) -> _Batch:
    worked = leads.work_until != NO_TIME
    days = np.where(worked, (leads.work_until - leads.created_at) / DAY, 0)
    counts = np.where(worked, _counts(rng, np.sqrt(1 + days) * worked, spec.activities * SHARE_LEADS), 0)
    user = np.where(leads.owner >= 0, people.rep_user_ids[np.maximum(leads.owner, 0)], 0)
    lead_id = np.arange(1, len(leads) + 1)
    return _expand(counts, leads.created_at, leads.work_until, user, 0, 0, lead_id)


def _account_batches(
    rng: np.random.Generator,
    spec: SizeSpec,
    accounts: Accounts,
    customers: Customers,
    people: People,
    window: Window,
) -> list[_Batch]:
    """Check-ins with customers (attention varies a lot per account) and a few cold prospects."""
    n = len(accounts)
    churned = accounts.churned_at != NO_TIME
    went_quiet = accounts.churned_at - rng.integers(30 * DAY, 120 * DAY, n)
    until = np.where(churned, np.maximum(went_quiet, customers.since + DAY), window.end)
    life_days = np.where(customers.is_customer, (until - customers.since) / DAY, 0)
    attention = rng.lognormal(0, 0.9, n) * np.array([2.0, 1.3, 1.0])[accounts.tier]
    counts = _counts(rng, life_days * attention, spec.activities * SHARE_CUSTOMERS)
    user = people.rep_user_ids[accounts.owner]
    customer = _expand(counts, customers.since, until, user, accounts.ids, 0, 0)
    prospect = ~customers.is_customer
    p_counts = _counts(rng, prospect.astype(float), spec.activities * SHARE_PROSPECTS)
    cold = _expand(p_counts, accounts.created_at, np.full(n, window.end), user, accounts.ids, 0, 0)
    return [customer, cold]


def _office_hours(start: np.ndarray, end: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Move a time into 08:00–18:00 of its day when that stays inside [start, end)."""
    day = at - at % DAY
    moved = day + 8 * HOUR + (at % DAY) % (10 * HOUR)
    return np.where((moved >= start) & (moved < end), moved, at)


def activity_days_table(user: np.ndarray, at: np.ndarray) -> Table:
    """Activities per (user, UTC day), as `crm_core.rollups.refresh_activity_days` counts them."""
    day = at // DAY
    pairs, counts = np.unique(user.astype(np.int64) * (1 << 32) + day, return_counts=True)
    return Table(
        "activity_days",
        {"user_id": ints(pairs >> 32), "day": dates((pairs & 0xFFFFFFFF) * DAY), "activities": ints(counts)},
    )


def build_activities(
    rng: np.random.Generator,
    spec: SizeSpec,
    window: Window,
    people: People,
    accounts: Accounts,
    customers: Customers,
    opp: Opportunities,
    leads: Leads,
) -> Activities:
    batches = _deal_batches(rng, spec, opp, accounts, people, window)
    batches.append(_lead_batch(rng, spec, leads, people))
    batches += _account_batches(rng, spec, accounts, customers, people, window)
    cols = {f: np.concatenate([getattr(b, f) for b in batches]) for f in _Batch.__dataclass_fields__}
    span = np.maximum(cols["end"] - cols["start"], 1)
    at = cols["start"] + (rng.random(len(span)) * span).astype(np.int64)
    at = _office_hours(cols["start"], cols["end"], at)
    # Ids follow (account, deal, lead, time): that makes three of the five activity indexes
    # near-sorted, which cuts SQLite's index build at the stress size by a third.
    group = (cols["account_id"] << 42) | (cols["opp_id"] << 21) | cols["lead_id"]
    order = np.lexsort((at, group))
    at = at[order]
    user, account_id, opp_id, lead_id = (cols[f][order] for f in ("user", "account_id", "opp_id", "lead_id"))
    n = len(at)
    kind = pick(rng, TYPE_MIX, n)
    subjects = [s for t in ACTIVITY_TYPES for s in ACTIVITY_SUBJECTS[t]]
    offsets = np.cumsum([0] + [len(ACTIVITY_SUBJECTS[t]) for t in ACTIVITY_TYPES])
    sizes = np.diff(offsets)
    subject = offsets[kind] + (rng.random(n) * sizes[kind]).astype(np.int64)
    table = Table(
        "activities",
        {
            "id": ints(np.arange(1, n + 1)),
            "type": texts(np.array(ACTIVITY_TYPES, dtype=object)[kind]),
            "user_id": ints(user),
            "occurred_at": times(at),
            "account_id": refs(account_id),
            "opportunity_id": refs(opp_id),
            "lead_id": refs(lead_id),
            "subject": texts(np.array(subjects, dtype=object)[subject]),
        },
    )
    return Activities(
        table=table,
        days=activity_days_table(user, at),
        opp_last=group_max(opp_id, at, len(opp)),
        account_last=group_max(account_id, at, len(accounts)),
        lead_last=group_max(lead_id, at, len(leads)),
    )
