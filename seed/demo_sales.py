"""Products, accounts, opportunities with their stage history, payments and targets.

Opportunities are simulated, not painted: each is created at some time, runs a sales cycle
drawn for its account tier and ends won or lost; if that end lies after as_of it is still open,
in whatever stage its history had reached by then. So stage histories, open pipeline and closed
deals are consistent by construction. The sales stories live in the parameters:

- the star rep gets more deals, wins more often, on bigger deals and closes faster; the
  struggling rep wins rarely, on small deals that drag on — both against their team's quota;
- Q4 spike: deals due to close in Q4 win more often and bigger (year-end budgets), and some
  January/February wins are pulled into December;
- lost reasons: price, competitor, no budget, timing, no decision — competitor losses jump in
  the churn region in the last six months (a competitor is poaching it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seed.demo_common import (
    DAY,
    NO_TIME,
    Column,
    SizeSpec,
    Table,
    Window,
    dates,
    growing_times,
    ints,
    money,
    month_of_year,
    pick,
    ranks,
    refs,
    seconds_since,
    texts,
    times,
    uniform_between,
)
from seed.demo_names import (
    INDUSTRIES,
    LOST_REASONS,
    PRODUCT_LINE_WEIGHTS,
    PRODUCTS,
    company_names,
)
from seed.demo_people import REGIONS, People, region_names

TIERS = ("A", "B", "C")
TIER_SHARE = (0.15, 0.35, 0.50)
TIER_DEAL_WEIGHT = np.array([3.0, 1.7, 1.0])
TIER_CYCLE_DAYS = np.array([75.0, 48.0, 32.0])
TIER_QUANTITY = np.array([9.0, 5.0, 2.5])
BASE_WIN_RATE = 0.30
Q4_WIN_BOOST = 1.30
Q4_SIZE_BOOST = 1.25
PULL_IN_SHARE = 0.40
YEARLY_GROWTH = 0.25
PRE_WINDOW_DAYS = 75  # deals created this long before the window may still close inside it
CHURN_REGION = REGIONS.index("EMEA")

STAGE_CODES = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")
P, Q, R, N, W, L = range(6)
# Stage paths after creation in prospecting: two ways to win, four stages to lose from.
PATHS = ((Q, R, N, W), (Q, R, W), (L,), (Q, L), (Q, R, L), (Q, R, N, L))
PATH_LEN = np.array([len(p) for p in PATHS])
PATH_TABLE = np.array([list(p) + [-1] * (4 - len(p)) for p in PATHS])
LOST_PATH_WEIGHTS = (0.25, 0.35, 0.25, 0.15)


@dataclass(frozen=True)
class RepTraits:
    """Per-rep multipliers: share of deals, win probability, deal size, sales-cycle length, and
    the chance that an open deal rots."""

    volume: np.ndarray
    win: np.ndarray
    size: np.ndarray
    cycle: np.ndarray
    neglect: np.ndarray


def rep_traits(rng: np.random.Generator, people: People) -> RepTraits:
    n = len(people.rep_user_ids)
    volume = np.clip(rng.lognormal(0, 0.10, n), 0.85, 1.15)
    win = np.clip(rng.lognormal(0, 0.08, n), 0.9, 1.1)
    size = np.clip(rng.lognormal(0, 0.06, n), 0.92, 1.08)
    cycle = np.ones(n)
    neglect = np.full(n, 0.30)
    star, s = people.star, people.struggler
    volume[star], win[star], size[star], cycle[star], neglect[star] = 1.8, 1.45, 1.2, 0.9, 0.08
    volume[s], win[s], size[s], cycle[s], neglect[s] = 1.0, 0.4, 0.6, 1.8, 0.75
    return RepTraits(volume, win, size, cycle, neglect)


def products_table() -> Table:
    return Table(
        "products",
        {
            "id": ints(np.arange(1, len(PRODUCTS) + 1)),
            "name": texts([p[0] for p in PRODUCTS]),
            "product_line": texts([p[1] for p in PRODUCTS]),
            "list_price": money(np.array([p[2] * 100 for p in PRODUCTS])),
        },
    )


@dataclass
class Accounts:
    """Accounts indexed 0 … n-1 until `finish_accounts` renumbers them by creation time."""

    region: np.ndarray
    owner: np.ndarray  # rep index
    tier: np.ndarray
    industry: np.ndarray
    name: list[str]
    created_at: np.ndarray | None = None
    churned_at: np.ndarray | None = None
    ids: np.ndarray | None = None  # final id of account index i

    def __len__(self) -> int:
        return len(self.region)


def build_accounts(rng: np.random.Generator, spec: SizeSpec, people: People, traits: RepTraits) -> Accounts:
    """Accounts spread over regions by sales capacity; every rep owns at least one."""
    n, n_reps = spec.accounts, len(people.rep_user_ids)
    owner = np.empty(n, dtype=np.int64)
    owner[:n_reps] = np.arange(n_reps)
    owner[n_reps:] = rng.choice(n_reps, size=n - n_reps, p=traits.volume / traits.volume.sum())
    region = people.rep_region[owner]
    return Accounts(
        region=region,
        owner=owner,
        tier=pick(rng, TIER_SHARE, n),
        industry=rng.integers(0, len(INDUSTRIES), n),
        name=company_names(rng, region),
    )


@dataclass
class Opportunities:
    """Opportunities in final id order (id = index + 1), with their stage path."""

    account: np.ndarray  # account index
    owner: np.ndarray  # rep index
    product: np.ndarray  # product index
    amount: np.ndarray  # cents
    created_at: np.ndarray
    closed_at: np.ndarray  # NO_TIME while open
    end_at: np.ndarray  # the (future) close time the simulation drew
    path: np.ndarray  # index into PATHS
    stage: np.ndarray  # current stage code
    expected_close: np.ndarray  # epoch seconds of a date
    lost_reason: np.ndarray  # object array, None unless lost
    from_lead: np.ndarray  # bool
    touch_until: np.ndarray | None = None  # end of the time the owner worked the deal
    stale: np.ndarray | None = None  # open deals nobody touched for more than 14 days
    changes: dict[str, np.ndarray] | None = None  # stage history rows (see `stage_changes`)

    def __len__(self) -> int:
        return len(self.account)

    @property
    def won(self) -> np.ndarray:
        return self.stage == W

    @property
    def is_open(self) -> np.ndarray:
        return self.closed_at == NO_TIME


def _accounts_of_owner(
    rng: np.random.Generator, accounts: Accounts, owner: np.ndarray, n_reps: int
) -> np.ndarray:
    """For each deal, one of its owner's accounts, bigger tiers more often."""
    result = np.empty(len(owner), dtype=np.int64)
    weights = TIER_DEAL_WEIGHT[accounts.tier]
    by_owner = np.argsort(accounts.owner, kind="stable")
    bounds = np.searchsorted(accounts.owner[by_owner], np.arange(n_reps + 1))
    deal_order = np.argsort(owner, kind="stable")
    deal_bounds = np.searchsorted(owner[deal_order], np.arange(n_reps + 1))
    for rep in range(n_reps):
        own = by_owner[bounds[rep] : bounds[rep + 1]]
        deals = deal_order[deal_bounds[rep] : deal_bounds[rep + 1]]
        w = weights[own]
        result[deals] = own[rng.choice(len(own), size=len(deals), p=w / w.sum())]
    return result


def build_opportunities(
    rng: np.random.Generator,
    spec: SizeSpec,
    window: Window,
    people: People,
    traits: RepTraits,
    accounts: Accounts,
) -> Opportunities:
    """Simulate deals; keep the first `spec.opportunities` that are not closed before the window."""
    m = int(spec.opportunities * 1.2) + 50
    n_reps = len(people.rep_user_ids)
    owner = rng.choice(n_reps, size=m, p=traits.volume / traits.volume.sum())
    account = _accounts_of_owner(rng, accounts, owner, n_reps)
    tier = accounts.tier[account]
    created = growing_times(rng, m, window.start - PRE_WINDOW_DAYS * DAY, window.end, YEARLY_GROWTH)
    cycle = np.clip(rng.lognormal(np.log(TIER_CYCLE_DAYS[tier] * traits.cycle[owner]), 0.55), 3, 400) * DAY
    natural_q4 = month_of_year(created + cycle.astype(np.int64)) >= 10
    p_win = np.minimum(BASE_WIN_RATE * traits.win[owner] * np.where(natural_q4, Q4_WIN_BOOST, 1.0), 0.95)
    won = rng.random(m) < p_win
    cycle = np.where(won, cycle, cycle * 0.8).astype(np.int64)
    end = created + cycle
    end = _pull_into_december(rng, won, created, end, window)

    keep = np.flatnonzero(end >= window.start)[: spec.opportunities]
    owner, account, tier, created, end, won = (a[keep] for a in (owner, account, tier, created, end, won))
    order = np.argsort(created, kind="stable")  # ids ascend with creation time
    owner, account, tier, created, end, won = (a[order] for a in (owner, account, tier, created, end, won))
    n = len(keep)

    lost_path = 2 + pick(rng, LOST_PATH_WEIGHTS, n)
    path = np.where(won, np.where(rng.random(n) < 0.25, 1, 0), lost_path)
    is_open = end >= window.end
    closed_at = np.where(is_open, NO_TIME, end)
    product = _products(rng, n)
    amount = _amounts(rng, product, tier, traits.size[owner], won & ~is_open & (month_of_year(end) >= 10))
    final = PATH_TABLE[path, PATH_LEN[path] - 1]
    opp = Opportunities(
        account=account,
        owner=owner,
        product=product,
        amount=amount,
        created_at=created,
        closed_at=closed_at,
        end_at=end,
        path=path,
        stage=np.where(is_open, P, final),
        expected_close=np.zeros(n, dtype=np.int64),
        lost_reason=np.full(n, None, dtype=object),
        from_lead=rng.random(n) < spec.lead_share,
    )
    opp.touch_until, opp.stale = _touch_until(rng, opp, traits, window)
    opp.changes = stage_changes(rng, opp, window)
    opp.expected_close = _expected_close(rng, opp, window)
    opp.lost_reason = _lost_reasons(rng, opp, accounts, window)
    return opp


def _touch_until(
    rng: np.random.Generator, opp: Opportunities, traits: RepTraits, window: Window
) -> tuple[np.ndarray, np.ndarray]:
    """When the owner last worked each deal: its close, or T while open — except stale deals.

    Stale deals are open deals older than 20 days that went quiet 15–75 days before T; neglectful
    reps (the struggler) and old deals rot more often. Their stage froze when they went quiet.
    """
    n = len(opp)
    old_enough = opp.is_open & (opp.created_at < window.end - 20 * DAY)
    p = traits.neglect[opp.owner] * np.where(opp.created_at < window.end - 90 * DAY, 1.6, 1.0)
    stale = old_enough & (rng.random(n) < np.minimum(p, 0.95))
    quiet_since = np.maximum(window.end - rng.integers(15 * DAY, 75 * DAY, n), opp.created_at + DAY)
    until = np.where(opp.is_open, np.where(stale, quiet_since, window.end), opp.end_at)
    return until, stale


def _pull_into_december(
    rng: np.random.Generator, won: np.ndarray, created: np.ndarray, end: np.ndarray, window: Window
) -> np.ndarray:
    """Some wins due in January or early February close in the December before (year-end push)."""
    due = end.astype("datetime64[s]")
    month = due.astype("datetime64[M]")
    into_month = end - month.astype("datetime64[s]").astype(np.int64)
    moy = month.astype(np.int64) % 12
    early = (moy == 0) | ((moy == 1) & (into_month < 14 * DAY))
    candidates = won & early & (rng.random(len(end)) < PULL_IN_SHARE)
    year_start = due.astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)
    december = year_start - 31 * DAY
    pulled = uniform_between(rng, np.maximum(december, created + 3 * DAY), year_start)
    ok = candidates & (created + 3 * DAY < year_start) & (pulled < window.end)
    return np.where(ok, pulled, end)


def _products(rng: np.random.Generator, n: int) -> np.ndarray:
    lines = list(PRODUCT_LINE_WEIGHTS)
    line = pick(rng, PRODUCT_LINE_WEIGHTS, n)
    product = np.empty(n, dtype=np.int64)
    for k, name in enumerate(lines):
        members = [i for i, p in enumerate(PRODUCTS) if p[1] == name]
        mask = line == k
        product[mask] = rng.choice(members, size=int(mask.sum()))
    return product


def _amounts(
    rng: np.random.Generator, product: np.ndarray, tier: np.ndarray, rep_size: np.ndarray, q4_win: np.ndarray
) -> np.ndarray:
    """Deal value in cents: list price × quantity, rounded to $100; services sell in small units."""
    price = np.array([p[2] for p in PRODUCTS], dtype=float)[product]
    services = np.array([p[1] == "Services" for p in PRODUCTS])[product]
    quantity = rng.lognormal(np.log(TIER_QUANTITY[tier]), 0.35)
    quantity = np.where(services, 1 + rng.poisson(0.6, len(product)) * (3 - tier), quantity)
    dollars = price * quantity * rep_size * np.where(q4_win, Q4_SIZE_BOOST, 1.0)
    return (np.maximum(np.round(dollars / 100), 5) * 10_000).astype(np.int64)


def _expected_close(rng: np.random.Generator, opp: Opportunities, window: Window) -> np.ndarray:
    """Closed deals: roughly when they closed. Open deals: ahead of as_of, a fifth already overdue."""
    n = len(opp)
    guess = opp.created_at + ((opp.end_at - opp.created_at) * rng.uniform(0.7, 1.15, n)).astype(np.int64)
    overdue = opp.is_open & (rng.random(n) < 0.2)
    overdue_day = window.end - rng.integers(2, 31, n) * DAY
    guess = np.where(overdue, overdue_day, np.where(opp.is_open, np.maximum(guess, opp.end_at), guess))
    floor = opp.created_at - opp.created_at % DAY
    guess = np.maximum(guess - guess % DAY, floor)
    return guess


def _lost_reasons(
    rng: np.random.Generator, opp: Opportunities, accounts: Accounts, window: Window
) -> np.ndarray:
    lost = opp.stage == L
    base = pick(rng, (0.28, 0.25, 0.18, 0.15, 0.14), len(opp))
    poached = (
        (accounts.region[opp.account] == CHURN_REGION)
        & (opp.closed_at >= window.month_start(-6))
        & (rng.random(len(opp)) < 0.45)
    )
    reason = np.where(poached, LOST_REASONS.index("Competitor"), base)
    out = np.full(len(opp), None, dtype=object)
    out[lost] = np.array(LOST_REASONS, dtype=object)[reason[lost]]
    return out


def stage_changes(rng: np.random.Generator, opp: Opportunities, window: Window) -> dict[str, np.ndarray]:
    """One row per stage change before T, spread over the cycle; the last change is the close.

    Change j of k falls in its own slot (j + u) / k of the cycle (u in 0.1 … 0.9), so the
    history is strictly chronological; the final change lands exactly on the close time.
    """
    k = PATH_LEN[opp.path]
    row_opp = np.repeat(np.arange(len(opp)), k)
    first_row = np.cumsum(k) - k
    j = np.arange(len(row_opp)) - np.repeat(first_row, k)
    k_rows = k[row_opp]
    frac = np.where(j == k_rows - 1, 1.0, (j + rng.uniform(0.1, 0.9, len(row_opp))) / k_rows)
    start = opp.created_at[row_opp]
    at = start + ((opp.end_at[row_opp] - start) * frac).astype(np.int64)
    at = np.where(j == k_rows - 1, opp.end_at[row_opp], at)
    to_stage = PATH_TABLE[opp.path[row_opp], j]
    from_stage = np.where(j == 0, P, PATH_TABLE[opp.path[row_opp], np.maximum(j - 1, 0)])
    cutoff = np.where(opp.is_open, opp.touch_until, opp.end_at + 1)
    happened = at < cutoff[row_opp]
    reached = np.zeros(len(opp), dtype=np.int64)
    np.maximum.at(reached, row_opp[happened], to_stage[happened])  # stages only move forward
    opp.stage = np.where(opp.is_open, reached, opp.stage)
    return {
        "opp": row_opp[happened],
        "from": from_stage[happened],
        "to": to_stage[happened],
        "at": at[happened],
    }


def finish_accounts(rng: np.random.Generator, accounts: Accounts, opp: Opportunities, window: Window) -> None:
    """Creation time from the first deal (converted leads create the account at conversion);
    accounts without deals are prospects added any time. Ids then follow creation time."""
    n = len(accounts)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, opp.account, opp.created_at)
    first_from_lead = np.zeros(n, dtype=bool)
    hit = opp.created_at == first[opp.account]
    first_from_lead[opp.account[hit & opp.from_lead]] = True
    lead_time = rng.integers(1, 60, n) * DAY + rng.integers(0, DAY, n)
    has_deal = first < np.iinfo(np.int64).max
    prospect_time = uniform_between(rng, np.full(n, window.start - 180 * DAY), np.full(n, window.end))
    created = np.where(first_from_lead, first, first - lead_time)
    accounts.created_at = np.where(has_deal, created, prospect_time)
    accounts.ids = ranks(accounts.created_at)


def customer_dates(accounts: Accounts, opp: Opportunities) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per account: first won close, last close of any deal (NO_TIME if none), has an open deal."""
    n = len(accounts)
    big = np.iinfo(np.int64).max
    first_won = np.full(n, big)
    np.minimum.at(first_won, opp.account[opp.won], opp.closed_at[opp.won])
    last_close = np.full(n, NO_TIME)
    closed = ~opp.is_open
    np.maximum.at(last_close, opp.account[closed], opp.closed_at[closed])
    has_open = np.zeros(n, dtype=bool)
    has_open[opp.account[opp.is_open]] = True
    return np.where(first_won == big, NO_TIME, first_won), last_close, has_open


def won_rollups(accounts: Accounts, opp: Opportunities) -> dict[str, np.ndarray]:
    """Per account (in account index order): first_won_at, second_won_at and won_cents, as
    `crm_core.rollups` defines them."""
    n = len(accounts)
    won = np.flatnonzero(opp.won)
    order = won[np.lexsort((opp.closed_at[won], opp.account[won]))]
    account = opp.account[order]
    rank = np.arange(len(order)) - np.searchsorted(account, account)
    first, second = np.full(n, NO_TIME), np.full(n, NO_TIME)
    first[account[rank == 0]] = opp.closed_at[order[rank == 0]]
    second[account[rank == 1]] = opp.closed_at[order[rank == 1]]
    won_cents = np.zeros(n, dtype=np.int64)
    np.add.at(won_cents, account, opp.amount[order].astype(np.int64))
    return {"first_won_at": first, "second_won_at": second, "won_cents": won_cents}


def history_rollups(opp: Opportunities) -> dict[str, Column]:
    """Per deal: its latest, second- and third-latest stage_history rows (to_stage, changed_at),
    the funnel's furthest stage order and the sales cycle, as `crm_core.rollups` defines them.
    History rows are grouped by deal and in time order (`stage_changes`), so a deal's latest row
    is its last and the ones before it are the rows just above, when they are the same deal's."""
    changes, n = opp.changes, len(opp)
    last = np.full(n, -1)
    np.maximum.at(last, changes["opp"], np.arange(len(changes["opp"])))
    stage_names = np.array([*STAGE_CODES, None], dtype=object)
    rows = {}
    for k, prefix in enumerate(("history", "history_prev", "history_prev2")):
        row = np.where(last >= 0, last - k, -1)
        has = (row >= 0) & (changes["opp"][np.maximum(row, 0)] == np.arange(n))
        rows[f"{prefix}_to_stage"] = texts(stage_names[np.where(has, changes["to"][row], len(STAGE_CODES))])
        rows[f"{prefix}_changed_at"] = times(np.where(has, changes["at"][row], NO_TIME))
    open_orders = np.where(changes["to"] <= N, changes["to"] + 1, 0)
    furthest = np.ones(n, dtype=np.int64)
    np.maximum.at(furthest, changes["opp"], open_orders)
    furthest = np.maximum(furthest, np.where(opp.stage <= N, opp.stage + 1, 0))
    furthest = np.where(opp.stage == W, W + 1, furthest)
    cycle = seconds_since(opp.created_at, opp.closed_at)  # NULL while open
    return {**rows, "furthest_stage_order": ints(furthest), "cycle_seconds": cycle}


def accounts_table(
    accounts: Accounts,
    people: People,
    last_activity: np.ndarray,
    opp: Opportunities,
    latest_nps: dict[str, Column],
) -> Table:
    """`last_activity` is indexed by account id - 1, `latest_nps` in account id order."""
    order = np.argsort(accounts.ids)
    rollups = won_rollups(accounts, opp)
    return Table(
        "accounts",
        {
            "id": ints(accounts.ids[order]),
            "name": texts(np.array(accounts.name, dtype=object)[order]),
            "owner_id": refs(people.rep_user_ids[accounts.owner[order]]),
            "industry": texts(np.array(INDUSTRIES, dtype=object)[accounts.industry[order]]),
            "region": region_names(accounts.region[order]),
            "tier": texts(np.array(TIERS, dtype=object)[accounts.tier[order]]),
            "created_at": times(accounts.created_at[order]),
            "churned_at": times(accounts.churned_at[order]),
            "last_activity_at": times(last_activity),
            "first_won_at": times(rollups["first_won_at"][order]),
            "second_won_at": times(rollups["second_won_at"][order]),
            "won_cents": ints(rollups["won_cents"][order]),
            **latest_nps,
        },
    )


def opportunity_names(opp: Opportunities, accounts: Accounts) -> list[str]:
    """ "<Account> - <Product>", marked as an expansion after the account's first deal."""
    order = np.lexsort((opp.created_at, opp.account))
    repeat = np.zeros(len(opp), dtype=bool)
    repeat[order[1:]] = opp.account[order[1:]] == opp.account[order[:-1]]
    names = accounts.name
    products = [p[0] for p in PRODUCTS]
    return [
        f"{names[a]} - {products[p]}{' expansion' if r else ''}"
        for a, p, r in zip(opp.account.tolist(), opp.product.tolist(), repeat.tolist(), strict=True)
    ]


def opportunities_table(
    opp: Opportunities, accounts: Accounts, people: People, lead_ids: np.ndarray, last_activity: np.ndarray
) -> Table:
    n = len(opp)
    return Table(
        "opportunities",
        {
            "id": ints(np.arange(1, n + 1)),
            "name": texts(opportunity_names(opp, accounts)),
            "account_id": ints(accounts.ids[opp.account]),
            "owner_id": ints(people.rep_user_ids[opp.owner]),
            "amount": money(opp.amount),
            "stage": texts(np.array(STAGE_CODES, dtype=object)[opp.stage]),
            "created_at": times(opp.created_at),
            "product_id": ints(opp.product + 1),
            "expected_close_date": dates(opp.expected_close),
            "closed_at": times(opp.closed_at),
            "lost_reason": texts(opp.lost_reason),
            "lead_id": refs(lead_ids),
            "last_activity_at": times(last_activity),
            **history_rollups(opp),
            "account_region": region_names(accounts.region[opp.account]),
        },
    )


def stage_history_table(opp: Opportunities, people: People) -> Table:
    """Rows come out of `stage_changes` grouped by deal and in time order within each deal."""
    changes = opp.changes
    stage_names = np.array(STAGE_CODES, dtype=object)
    return Table(
        "stage_history",
        {
            "id": ints(np.arange(1, len(changes["opp"]) + 1)),
            "opportunity_id": ints(changes["opp"] + 1),
            "from_stage": texts(stage_names[changes["from"]]),
            "to_stage": texts(stage_names[changes["to"]]),
            "changed_at": times(changes["at"]),
            "changed_by": refs(people.rep_user_ids[opp.owner[changes["opp"]]]),
        },
    )


def payments_table(rng: np.random.Generator, opp: Opportunities, accounts: Accounts, window: Window) -> Table:
    """Won deals are paid upfront, in two halves or quarterly; 4 % have not paid anything yet.

    Only instalments due before T exist, so what was collected never exceeds the deal amount.
    """
    won = np.flatnonzero(opp.won & ~opp.is_open)
    plan = np.array([1, 2, 4])[pick(rng, (0.55, 0.15, 0.30), len(won))]
    plan = np.where(rng.random(len(won)) < 0.04, 0, plan)
    deal = np.repeat(won, plan)
    first_row = np.cumsum(plan) - plan
    i = np.arange(len(deal)) - np.repeat(first_row, plan)
    k = np.repeat(plan, plan)
    first_paid = opp.closed_at[won] + rng.integers(2 * DAY, 40 * DAY, len(won))
    paid_at = (
        np.repeat(first_paid, plan) + i * 91 * DAY + rng.integers(-3 * DAY, 3 * DAY, len(deal)) * (i > 0)
    )
    amount = opp.amount[deal]
    share = amount // k
    cents = np.where(i == k - 1, amount - share * (k - 1), share)
    keep = paid_at < window.end
    deal, paid_at, cents = deal[keep], paid_at[keep], cents[keep]
    order = np.argsort(paid_at, kind="stable")
    return Table(
        "payments",
        {
            "id": ints(np.arange(1, len(order) + 1)),
            "opportunity_id": ints(deal[order] + 1),
            "amount": money(cents[order]),
            "paid_at": times(paid_at[order]),
            "account_region": region_names(accounts.region[opp.account[deal[order]]]),
        },
    )


def targets_table(opp: Opportunities, people: People, window: Window) -> Table:
    """One quota per rep and month, from the first history month to the end of as_of's quarter.

    A team's quota is what its typical reps (not the star, not the struggler) booked per month,
    following the growth trend and weighted up in Q4, so typical attainment sits near 100 %.
    """
    n_months = _target_months(window)
    month_start = np.array([window.month_start(i - 23) for i in range(n_months)])
    n_reps, n_teams = len(people.rep_user_ids), len(people.team_regions)
    growth = np.power(1 + YEARLY_GROWTH, (np.arange(n_months) - 11.5) / 12)
    moy = np.array([_month_of_year(window, i) for i in range(n_months)])
    shape = growth * np.where(moy >= 10, 1.25, 0.92)

    full = ~opp.is_open & opp.won & (opp.closed_at < window.month_start(0))
    booked_by_rep = np.bincount(opp.owner[full], weights=opp.amount[full], minlength=n_reps)
    typical = np.ones(n_reps, dtype=bool)
    typical[[people.star, people.struggler]] = False
    team_booked = np.bincount(people.rep_team[typical], weights=booked_by_rep[typical], minlength=n_teams)
    team_size = np.bincount(people.rep_team[typical], minlength=n_teams)
    per_rep = team_booked / np.maximum(team_size, 1)
    scale = per_rep / shape[:23].sum()
    quota = np.round(scale[:, None] * shape[None, :] / 50_000) * 50_000  # cents, whole $500
    rep_rows = np.repeat(np.arange(n_reps), n_months)
    month_rows = np.tile(np.arange(n_months), n_reps)
    return Table(
        "targets",
        {
            "id": ints(np.arange(1, len(rep_rows) + 1)),
            "user_id": ints(people.rep_user_ids[rep_rows]),
            "month": dates(month_start[month_rows]),
            "amount": money(quota[people.rep_team[rep_rows], month_rows].astype(np.int64)),
        },
    )


def _target_months(window: Window) -> int:
    """24 history months plus the rest of as_of's quarter."""
    return 24 + (2 - (window.as_of.month - 1) % 3)


def _month_of_year(window: Window, i: int) -> int:
    return (window.as_of.month - 1 + i - 23) % 12 + 1
