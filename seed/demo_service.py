"""Churn, support tickets and NPS: what happens to customers after the sale.

Stories:
- churn wave: EMEA customers leave in numbers during the three full months before as_of's
  month (a competitor is poaching them; see the lost reasons in `demo_sales`), several times the
  churn of any other region in that window; before leaving they raise urgent tickets and answer
  NPS surveys as detractors;
- NPS: promoters, passives and detractors everywhere, with EMEA scoring far lower in the last
  nine months;
- SLA breach month: the fourth month before as_of's month had a support meltdown — more tickets,
  slow first responses, and the tickets resolved that month mostly missed their resolution SLA
  (with poor CSAT); every other month meets the SLA for most tickets.

A customer only churns once all of its deals are closed, so no deal, ticket, activity or survey
of a churned account is dated after its churn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_core.enums import FIRST_RESPONSE_SLA_HOURS, RESOLUTION_SLA_HOURS, TICKET_PRIORITIES
from seed.demo_common import (
    DAY,
    HOUR,
    MINUTE,
    NO_TIME,
    Column,
    SizeSpec,
    Table,
    Window,
    ints,
    pick,
    refs,
    seconds_since,
    texts,
    times,
    uniform_between,
)
from seed.demo_names import TICKET_CATEGORIES, TICKET_CHANNELS
from seed.demo_people import People, region_names
from seed.demo_sales import CHURN_REGION, Accounts

MONTHLY_CHURN_HAZARD = 0.015
WAVE_CHURN = 0.65
WAVE_MONTHS = (-3, 0)  # [start, end) in months relative to as_of's month
BREACH_MONTH = -4
PRIORITY_MIX = (0.20, 0.50, 0.22, 0.08)  # low, normal, high, urgent
TIER_TICKETS = np.array([2.5, 1.5, 1.0])
LONG_RUNNING = 0.07


@dataclass(frozen=True)
class Customers:
    """Per account: when it became a customer (first won close) and when it stopped being one."""

    since: np.ndarray  # NO_TIME = never a customer
    until: np.ndarray  # churned_at, else T

    @property
    def is_customer(self) -> np.ndarray:
        return self.since != NO_TIME


def churn(
    rng: np.random.Generator,
    accounts: Accounts,
    first_won: np.ndarray,
    last_close: np.ndarray,
    has_open: np.ndarray,
    window: Window,
) -> Customers:
    """Pick churned accounts and set `accounts.churned_at`; return the customers' lifetimes."""
    n = len(accounts)
    eligible_from = np.maximum(last_close, first_won + 60 * DAY) + 14 * DAY
    eligible = (first_won != NO_TIME) & ~has_open & (eligible_from < window.end)
    # Outside the wave customers leave at a low constant hazard once they could leave at all.
    at = eligible_from + rng.exponential(30 * DAY / MONTHLY_CHURN_HAZARD, n).astype(np.int64)
    churned = eligible & (at < window.end)
    w0, w1 = (window.month_start(m) for m in WAVE_MONTHS)
    wave_at = uniform_between(rng, np.full(n, w0), np.full(n, w1))
    in_wave = eligible & (accounts.region == CHURN_REGION) & (eligible_from < wave_at)
    in_wave &= rng.random(n) < WAVE_CHURN
    at = np.where(in_wave, wave_at, at)
    churned |= in_wave
    accounts.churned_at = np.where(churned, at, NO_TIME)
    return Customers(since=first_won, until=np.where(churned, at, window.end))


def _spread(rng: np.random.Generator, weights: np.ndarray, total: int) -> np.ndarray:
    """How many events each row gets: `total` split in proportion to `weights`."""
    if weights.sum() <= 0 or total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    return rng.multinomial(total, weights / weights.sum())


def _ticket_starts(
    rng: np.random.Generator, spec: SizeSpec, accounts: Accounts, customers: Customers, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(account index, created_at, escalation flag) of every ticket."""
    life = np.where(customers.is_customer, customers.until - customers.since, 0)
    base = _spread(rng, life / DAY * TIER_TICKETS[accounts.tier], int(spec.tickets * 0.88))
    acc = np.repeat(np.arange(len(accounts)), base)
    created = uniform_between(rng, customers.since[acc], customers.until[acc])

    m0, m1 = window.month_start(BREACH_MONTH), window.month_start(BREACH_MONTH + 1)
    active = customers.is_customer & (customers.since < m1 - DAY) & (customers.until > m0 + DAY)
    spike = _spread(rng, active * TIER_TICKETS[accounts.tier], int(spec.tickets * 0.04))
    spike_acc = np.repeat(np.arange(len(accounts)), spike)
    spike_at = uniform_between(
        rng, np.maximum(customers.since[spike_acc], m0), np.minimum(customers.until[spike_acc], m1)
    )

    leaving = np.flatnonzero(accounts.churned_at != NO_TIME)
    k = rng.integers(2, 5, len(leaving))
    esc_acc = np.repeat(leaving, k)
    lo = np.maximum(customers.since[esc_acc], accounts.churned_at[esc_acc] - 90 * DAY)
    esc_at = uniform_between(rng, lo, accounts.churned_at[esc_acc])
    escalation = np.concatenate(
        [np.zeros(len(acc) + len(spike_acc), dtype=bool), np.ones(len(esc_acc), dtype=bool)]
    )
    return np.concatenate([acc, spike_acc, esc_acc]), np.concatenate([created, spike_at, esc_at]), escalation


def tickets_table(
    rng: np.random.Generator,
    spec: SizeSpec,
    accounts: Accounts,
    customers: Customers,
    people: People,
    window: Window,
) -> Table:
    acc, created, escalation = _ticket_starts(rng, spec, accounts, customers, window)
    order = np.argsort(created, kind="stable")
    acc, created, escalation = acc[order], created[order], escalation[order]
    n = len(acc)
    priority = np.where(escalation, 2 + (rng.random(n) < 0.4), pick(rng, PRIORITY_MIX, n))
    res_sla = np.array([RESOLUTION_SLA_HOURS[p] for p in TICKET_PRIORITIES])[priority] * HOUR
    fr_sla = np.array([FIRST_RESPONSE_SLA_HOURS[p] for p in TICKET_PRIORITIES])[priority] * HOUR

    first_delay = (fr_sla * rng.lognormal(np.log(0.35), 0.6, n)).astype(np.int64) + MINUTE
    resolve_delay = (res_sla * rng.lognormal(np.log(0.45), 0.55, n)).astype(np.int64)
    stuck = rng.random(n) < LONG_RUNNING  # waiting on the customer, hard bugs: weeks, not hours
    resolve_delay = np.where(stuck, (res_sla * rng.uniform(3, 20, n)).astype(np.int64), resolve_delay)
    m0, m1 = window.month_start(BREACH_MONTH), window.month_start(BREACH_MONTH + 1)
    late = (res_sla * rng.uniform(1.2, 3.0, n)).astype(np.int64)
    breach = (created >= m0 - 7 * DAY) & (created + late >= m0) & (created + late < m1)
    resolve_delay = np.where(breach, late, resolve_delay)
    slow_start = (created >= m0) & (created < m1)
    first_delay = np.where(slow_start, (fr_sla * rng.uniform(1.0, 4.0, n)).astype(np.int64), first_delay)
    first_delay = np.minimum(first_delay, np.maximum(resolve_delay - 10 * MINUTE, MINUTE))
    resolve_delay = np.maximum(resolve_delay, first_delay)

    first_at = created + first_delay
    resolved_at = created + resolve_delay
    done = resolved_at < window.end
    first_at = np.where(first_at < window.end, first_at, NO_TIME)
    resolved_at = np.where(done, resolved_at, NO_TIME)
    status = _ticket_status(rng, done, first_at, resolved_at, window)
    met = resolve_delay <= res_sla
    csat = np.where(done & (rng.random(n) < 0.65), _csat(rng, met), 0)
    assignee = people.rep_user_ids[accounts.owner[acc]]
    assignee = np.where((status == "open") & (rng.random(n) < 0.3), 0, assignee)
    category = rng.integers(0, len(TICKET_CATEGORIES), n)
    subjects = [s for subs in TICKET_CATEGORIES.values() for s in subs]
    offsets = np.cumsum([0] + [len(s) for s in TICKET_CATEGORIES.values()])
    sizes = np.diff(offsets)
    subject = offsets[category] + (rng.random(n) * sizes[category]).astype(np.int64)
    return Table(
        "tickets",
        {
            "id": ints(np.arange(1, n + 1)),
            "account_id": ints(accounts.ids[acc]),
            "subject": texts(np.array(subjects, dtype=object)[subject]),
            "priority": texts(np.array(TICKET_PRIORITIES, dtype=object)[priority]),
            "status": texts(status),
            "created_at": times(created),
            "category": texts(np.array(list(TICKET_CATEGORIES), dtype=object)[category]),
            "channel": texts(
                np.array(TICKET_CHANNELS, dtype=object)[rng.integers(0, len(TICKET_CHANNELS), n)]
            ),
            "assignee_id": refs(assignee),
            "first_response_at": times(first_at),
            "resolved_at": times(resolved_at),
            "csat": refs(csat),
            "first_response_seconds": seconds_since(created, first_at),
            "resolution_seconds": seconds_since(created, resolved_at),
            "account_region": region_names(accounts.region[acc]),
        },
    )


def _ticket_status(
    rng: np.random.Generator, done: np.ndarray, first_at: np.ndarray, resolved_at: np.ndarray, window: Window
) -> np.ndarray:
    """resolved/closed iff resolved (closed once it has been quiet for two weeks, mostly);
    untouched tickets are open; the rest in progress or waiting on the customer."""
    n = len(done)
    closed = done & (resolved_at < window.end - 14 * DAY) & (rng.random(n) < 0.7)
    working = np.where(rng.random(n) < 0.6, "in_progress", "waiting")
    status = np.where(
        done, np.where(closed, "closed", "resolved"), np.where(first_at == NO_TIME, "open", working)
    )
    return status.astype(object)


def _csat(rng: np.random.Generator, met: np.ndarray) -> np.ndarray:
    happy = 5 - pick(rng, (0.45, 0.35, 0.12, 0.05, 0.03), len(met))
    unhappy = 5 - pick(rng, (0.08, 0.17, 0.30, 0.25, 0.20), len(met))
    return np.where(met, happy, unhappy)


def nps_table(
    rng: np.random.Generator, spec: SizeSpec, accounts: Accounts, customers: Customers, window: Window
) -> Table:
    """Survey answers from customers; churned ones answered as detractors shortly before leaving."""
    life_years = np.where(customers.is_customer, customers.until - customers.since, 0) / (365 * DAY)
    k = rng.poisson(life_years * spec.nps_per_customer_year)
    acc = np.repeat(np.arange(len(accounts)), k)
    at = uniform_between(rng, customers.since[acc], customers.until[acc])
    leaving = np.flatnonzero(accounts.churned_at != NO_TIME)
    exit_at = uniform_between(
        rng,
        np.maximum(customers.since[leaving], accounts.churned_at[leaving] - 120 * DAY),
        accounts.churned_at[leaving],
    )
    acc = np.concatenate([acc, leaving])
    at = np.concatenate([at, exit_at])
    exiting = np.concatenate(
        [np.zeros(len(at) - len(leaving), dtype=bool), np.ones(len(leaving), dtype=bool)]
    )
    unhappy_region = (accounts.region[acc] == CHURN_REGION) & (at >= window.month_start(-9))
    n = len(acc)
    normal = pick(rng, (0.50, 0.30, 0.20), n)  # promoter, passive, detractor
    gloomy = pick(rng, (0.18, 0.27, 0.55), n)
    leaving_mood = pick(rng, (0.05, 0.15, 0.80), n)
    mood = np.where(exiting, leaving_mood, np.where(unhappy_region, gloomy, normal))
    promoter = 9 + rng.integers(0, 2, n)
    passive = 7 + rng.integers(0, 2, n)
    detractor = pick(rng, (0.03, 0.03, 0.05, 0.08, 0.15, 0.28, 0.38), n)
    score = np.choose(mood, [promoter, passive, detractor])
    order = np.argsort(at, kind="stable")
    return Table(
        "nps_responses",
        {
            "id": ints(np.arange(1, n + 1)),
            "account_id": ints(accounts.ids[acc[order]]),
            "score": ints(score[order]),
            "responded_at": times(at[order]),
        },
    )


def latest_nps(nps: Table, account_ids: np.ndarray) -> dict[str, Column]:
    """Per account (in account id order): latest_nps_at and latest_nps_score, as
    `crm_core.rollups` defines them. The rows are in (responded_at, id) order, so an account's
    latest response is its last row."""
    ids = np.sort(account_ids)
    responder = np.searchsorted(ids, nps.columns["account_id"].values)
    last = np.full(len(ids), -1)
    np.maximum.at(last, responder, np.arange(len(nps)))
    has = last >= 0
    at, score = nps.columns["responded_at"].values, nps.columns["score"].values
    return {
        "latest_nps_at": times(np.where(has, at[last], NO_TIME)),
        "latest_nps_score": Column("int", np.where(has, score[last], 0), ~has),
    }
