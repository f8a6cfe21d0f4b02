"""Leads: the converted ones behind lead-sourced deals, the ones that went nowhere, and the pool.

Stories:
- lead sources convert very differently (referrals and partners far better than ads or cold
  outbound): for each source the number of unconverted leads is derived from its conversion
  rate and the number of deals it produced, so the rates show in any long enough period;
- the unassigned lead pool: dozens of fresh inbound leads (web, ads, events) from the last
  three weeks that nobody owns yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_core.enums import LEAD_SOURCES
from seed.demo_common import (
    DAY,
    NO_TIME,
    SizeSpec,
    Table,
    Window,
    growing_times,
    ints,
    pick,
    ranks,
    refs,
    texts,
    times,
)
from seed.demo_names import DISQUALIFY_REASONS, company_names, contacts
from seed.demo_people import REGIONS, People, region_names
from seed.demo_sales import Accounts, Opportunities, RepTraits

CONVERSION_RATE = {
    "web": 0.18,
    "referral": 0.45,
    "event": 0.25,
    "outbound": 0.10,
    "partner": 0.35,
    "ads": 0.06,
    "other": 0.14,
}
CONVERTED_MIX = {
    "web": 0.30,
    "referral": 0.15,
    "event": 0.12,
    "outbound": 0.12,
    "partner": 0.12,
    "ads": 0.12,
    "other": 0.07,
}
POOL_MIX = {"web": 0.5, "ads": 0.3, "event": 0.2}
POOL_DAYS = 21
RECENT_DAYS = 45
STATUSES = ("new", "working", "qualified", "disqualified", "converted")
NEW, WORKING, QUALIFIED, DISQUALIFIED, CONVERTED = range(5)


@dataclass(frozen=True)
class Leads:
    """Leads in id order (id = index + 1)."""

    created_at: np.ndarray
    owner: np.ndarray  # rep index, -1 = unassigned
    region: np.ndarray
    source: np.ndarray
    status: np.ndarray
    converted_at: np.ndarray
    opp: np.ndarray  # opportunity index, -1 = none
    company: list[str]
    disqualify_reason: np.ndarray
    work_until: np.ndarray  # end of the time the owner worked it (NO_TIME = never touched)
    opp_lead_ids: np.ndarray  # per opportunity: its lead id or 0

    def __len__(self) -> int:
        return len(self.created_at)


def build_leads(
    rng: np.random.Generator,
    spec: SizeSpec,
    window: Window,
    people: People,
    traits: RepTraits,
    accounts: Accounts,
    opp: Opportunities,
) -> Leads:
    conv = np.flatnonzero(opp.from_lead)
    n_conv = len(conv)
    conv_source = pick(rng, [CONVERTED_MIX[s] for s in LEAD_SOURCES], n_conv)
    per_source = np.bincount(conv_source, minlength=len(LEAD_SOURCES))
    rates = np.array([CONVERSION_RATE[s] for s in LEAD_SOURCES])
    n_open_by_source = np.round(per_source * (1 - rates) / rates).astype(np.int64)
    n_other = int(n_open_by_source.sum())
    other_source = np.repeat(np.arange(len(LEAD_SOURCES)), n_open_by_source)
    n_pool = spec.lead_pool
    pool_source = np.array([LEAD_SOURCES.index(s) for s in POOL_MIX])[pick(rng, POOL_MIX, n_pool)]

    created = np.concatenate(
        [
            opp.created_at[conv] - rng.integers(2 * DAY, 40 * DAY, n_conv),
            growing_times(rng, n_other, window.start, window.end, 0.25),
            window.end - rng.integers(1, POOL_DAYS * DAY, n_pool),
        ]
    )
    region_weights = np.bincount(people.rep_region, weights=traits.volume, minlength=len(REGIONS))
    other_region = pick(rng, region_weights, n_other + n_pool)
    region = np.concatenate([accounts.region[opp.account[conv]], other_region])
    owner = np.concatenate(
        [opp.owner[conv], _owners_in_region(rng, other_region[:n_other], people, traits), np.full(n_pool, -1)]
    )
    status, work_until, reason = _statuses(rng, created[n_conv:], window, n_other, n_pool)
    status = np.concatenate([np.full(n_conv, CONVERTED), status])
    work_until = np.concatenate([opp.created_at[conv], work_until])
    reason = np.concatenate([np.full(n_conv, None, dtype=object), reason])
    converted_at = np.concatenate([opp.created_at[conv], np.full(n_other + n_pool, NO_TIME)])
    opp_index = np.concatenate([conv, np.full(n_other + n_pool, -1)])
    source = np.concatenate([conv_source, other_source, pool_source])
    names = np.array(accounts.name, dtype=object)[opp.account[conv]].tolist()
    names += company_names(rng, other_region)

    ids = ranks(created)
    order = np.argsort(ids)
    opp_lead_ids = np.zeros(len(opp), dtype=np.int64)
    opp_lead_ids[conv] = ids[:n_conv]
    return Leads(
        created_at=created[order],
        owner=owner[order],
        region=region[order],
        source=source[order],
        status=status[order],
        converted_at=converted_at[order],
        opp=opp_index[order],
        company=[names[i] for i in order.tolist()],
        disqualify_reason=reason[order],
        work_until=work_until[order],
        opp_lead_ids=opp_lead_ids,
    )


def _owners_in_region(
    rng: np.random.Generator, region: np.ndarray, people: People, traits: RepTraits
) -> np.ndarray:
    owner = np.empty(len(region), dtype=np.int64)
    for r in range(len(REGIONS)):
        reps = np.flatnonzero(people.rep_region == r)
        mask = region == r
        w = traits.volume[reps]
        owner[mask] = rng.choice(reps, size=int(mask.sum()), p=w / w.sum())
    return owner


def _statuses(
    rng: np.random.Generator, created: np.ndarray, window: Window, n_other: int, n_pool: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Old unconverted leads are mostly disqualified; recent ones are still being worked."""
    n = n_other + n_pool
    recent = created >= window.end - RECENT_DAYS * DAY
    old_status = pick(rng, {"new": 0.12, "working": 0.12, "qualified": 0.06, "disqualified": 0.70}, n)
    new_status = pick(rng, {"new": 0.45, "working": 0.40, "qualified": 0.15}, n)
    status = np.where(recent, new_status, old_status)
    status[n_other:] = NEW
    worked_days = rng.integers(3 * DAY, 40 * DAY, n)
    work_until = np.where(status == DISQUALIFIED, np.minimum(created + worked_days, window.end), window.end)
    work_until = np.where(status == NEW, NO_TIME, work_until)
    reason = np.full(n, None, dtype=object)
    disq = status == DISQUALIFIED
    reason[disq] = np.array(DISQUALIFY_REASONS, dtype=object)[
        rng.integers(0, len(DISQUALIFY_REASONS), disq.sum())
    ]
    return status, work_until, reason


def leads_table(rng: np.random.Generator, leads: Leads, people: People, last_activity: np.ndarray) -> Table:
    names, emails, phones = contacts(rng, leads.company, leads.region)
    owner_ids = np.where(leads.owner >= 0, people.rep_user_ids[np.maximum(leads.owner, 0)], 0)
    return Table(
        "leads",
        {
            "id": ints(np.arange(1, len(leads) + 1)),
            "company": texts(leads.company),
            "status": texts(np.array(STATUSES, dtype=object)[leads.status]),
            "created_at": times(leads.created_at),
            "contact_name": texts(names),
            "email": texts(emails),
            "phone": texts(phones),
            "source": texts(np.array(LEAD_SOURCES, dtype=object)[leads.source]),
            "region": region_names(leads.region),
            "owner_id": refs(owner_ids),
            "converted_at": times(leads.converted_at),
            "opportunity_id": refs(leads.opp + 1),
            "disqualify_reason": texts(leads.disqualify_reason),
            "last_activity_at": times(last_activity),
        },
    )
