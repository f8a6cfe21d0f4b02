"""The naive baseline: load the tables a page needs into pandas, compute the page in memory.

This is what a dashboard without a query layer does: `pd.read_sql_table` for every table the
page touches, then filters, group-bys and merges in pandas. Each page's `compute_*` follows the
spec of `/work/shared/spec/metrics.md` closely enough to do the same work (both periods for the
KPI deltas, stage as of T from the stage history, last touch from activities, health inputs…);
`kpi_check` compares its War Room KPIs with the query functions' on the benchmark data.

Generous to the baseline: only the columns the computations use are read (`NAIVE_COLUMNS`; a
naive page would often read whole rows, e.g. every activity subject), and each table is loaded
once per repetition even when several pages need it. A page's naive time is the load time of
its tables plus its compute time, both from the same repetition.
"""

from __future__ import annotations

import calendar
import itertools
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from crm_core.enums import (
    CLOSED_STAGES,
    FIRST_RESPONSE_SLA_HOURS,
    OPEN_STAGES,
    RESOLUTION_SLA_HOURS,
    STAGE_ORDER,
    STAGE_PROBABILITY,
    TIERS,
)
from pages.components.filters import View
from queries.filters import Filters, Period
from queries.sales import months_of  # a calendar helper, not a metric: shared

NAIVE_COLUMNS: dict[str, list[str]] = {
    "teams": ["id", "name"],
    "users": ["id", "display_name", "role", "team_id", "active"],
    "products": ["id", "product_line"],
    "accounts": ["id", "name", "owner_id", "region", "tier", "churned_at"],
    "opportunities": [
        "id", "name", "account_id", "owner_id", "amount", "stage", "created_at", "product_id",
        "closed_at", "lost_reason",
    ],
    "stage_history": ["id", "opportunity_id", "to_stage", "changed_at"],
    "payments": ["opportunity_id", "amount", "paid_at"],
    "leads": ["id", "company", "contact_name", "status", "created_at", "source", "region", "owner_id"],
    "activities": ["type", "user_id", "occurred_at", "account_id", "opportunity_id"],
    "tickets": [
        "id", "account_id", "subject", "priority", "status", "created_at", "assignee_id",
        "first_response_at", "resolved_at", "csat",
    ],
    "targets": ["user_id", "month", "amount"],
    "nps_responses": ["id", "account_id", "score", "responded_at"],
}  # fmt: skip

Frames = dict[str, pd.DataFrame]
STALE = timedelta(days=14)
URGENT = ("high", "urgent")
OPEN_LEADS = ("new", "working", "qualified")


def load(engine: Engine, tables: list[str]) -> tuple[Frames, dict[str, float]]:
    """The tables as DataFrames, and the seconds each took to read."""
    frames, seconds = {}, {}
    for name in tables:
        start = time.perf_counter()
        df = pd.read_sql_table(name, engine, columns=NAIVE_COLUMNS[name])
        for column in df.columns:
            if column.endswith("_at") or column == "month":
                df[column] = pd.to_datetime(df[column])
            elif column in ("amount",):
                df[column] = df[column].astype("float64")
        frames[name] = df
        seconds[name] = time.perf_counter() - start
    return frames, seconds


# --- filters ---------------------------------------------------------------------------------


def users_in(f: Frames, filters: Filters) -> set[int] | None:
    if not filters.by_users:
        return None
    users = f["users"]
    keep = pd.Series(True, index=users.index)
    if filters.team_id is not None:
        keep &= users["team_id"] == filters.team_id
    if filters.owner_id is not None:
        keep &= users["id"] == filters.owner_id
    return set(users.loc[keep, "id"])


def region_accounts(f: Frames, region: str) -> set[int]:
    a = f["accounts"]
    return set(a.loc[a["region"] == region, "id"])


def opp_mask(f: Frames, opps: pd.DataFrame, filters: Filters) -> pd.Series:
    keep = pd.Series(True, index=opps.index)
    users = users_in(f, filters)
    if users is not None:
        keep &= opps["owner_id"].isin(users)
    if filters.region is not None:
        keep &= opps["account_id"].isin(region_accounts(f, filters.region))
    if filters.product_line is not None:
        p = f["products"]
        keep &= opps["product_id"].isin(set(p.loc[p["product_line"] == filters.product_line, "id"]))
    return keep


def kept_accounts(f: Frames, filters: Filters) -> pd.DataFrame:
    a = f["accounts"]
    keep = pd.Series(True, index=a.index)
    users = users_in(f, filters)
    if users is not None:
        keep &= a["owner_id"].isin(users)
    if filters.region is not None:
        keep &= a["region"] == filters.region
    return a[keep]


def account_child_mask(f: Frames, frame: pd.DataFrame, filters: Filters) -> pd.Series:
    if not filters.by_users and filters.region is None:
        return pd.Series(True, index=frame.index)
    return frame["account_id"].isin(set(kept_accounts(f, filters)["id"]))


def lead_mask(f: Frames, leads: pd.DataFrame, filters: Filters) -> pd.Series:
    keep = pd.Series(True, index=leads.index)
    users = users_in(f, filters)
    if users is not None:
        keep &= leads["owner_id"].isin(users)
    if filters.region is not None:
        keep &= leads["region"] == filters.region
    return keep


def activity_mask(f: Frames, acts: pd.DataFrame, filters: Filters) -> pd.Series:
    keep = pd.Series(True, index=acts.index)
    users = users_in(f, filters)
    if users is not None:
        keep &= acts["user_id"].isin(users)
    if filters.region is not None:
        keep &= acts["account_id"].isin(region_accounts(f, filters.region))
    return keep


def within(series: pd.Series, period: Period) -> pd.Series:
    return (series >= period.start_ts) & (series < period.end_ts)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


# --- sales, pipeline, leads --------------------------------------------------------------------


def sales(f: Frames, period: Period, filters: Filters) -> dict[str, Any]:
    o = f["opportunities"]
    closed = o[o["stage"].isin(CLOSED_STAGES) & within(o["closed_at"], period) & opp_mask(f, o, filters)]
    won = closed[closed["stage"] == "won"]
    bookings = float(won["amount"].sum())
    cycle = (won["closed_at"] - won["created_at"]).dt.total_seconds().mean() / 86400 if len(won) else None
    return {
        "bookings": bookings,
        "deals_won": len(won),
        "deals_lost": int((closed["stage"] == "lost").sum()),
        "win_rate": ratio(len(won), len(closed)),
        "avg_deal_size": ratio(bookings, len(won)),
        "sales_cycle_days": cycle,
    }


def prorated_targets(f: Frames, period: Period, filters: Filters, by: str | None = None) -> pd.Series | None:
    """Prorated target per month (or per `by` column), None when targets do not apply."""
    if not filters.targets_apply:
        return None
    t = f["targets"]
    t = t[
        (t["month"] >= pd.Timestamp(period.start.replace(day=1))) & (t["month"] <= pd.Timestamp(period.end))
    ]
    users = users_in(f, filters)
    if users is not None:
        t = t[t["user_id"].isin(users)]
    days = t["month"].dt.days_in_month
    first = t["month"]
    last = first + pd.to_timedelta(days - 1, unit="D")
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    overlap = (np.minimum(last, end) - np.maximum(first, start)).dt.days + 1
    share = t["amount"] * overlap.clip(lower=0) / days
    return share.groupby(t[by] if by else t["month"]).sum()


def target(f: Frames, period: Period, filters: Filters) -> float | None:
    by_month = prorated_targets(f, period, filters)
    return None if by_month is None else float(by_month.sum())


def collections(f: Frames, period: Period, filters: Filters) -> float:
    p, o = f["payments"], f["opportunities"]
    p = p[within(p["paid_at"], period)]
    kept = set(o.loc[opp_mask(f, o, filters), "id"])
    return float(p.loc[p["opportunity_id"].isin(kept), "amount"].sum())


def open_at(f: Frames, at: datetime, filters: Filters) -> pd.DataFrame:
    o = f["opportunities"]
    is_open = (o["created_at"] < at) & (o["closed_at"].isna() | (o["closed_at"] >= at))
    return o[is_open & opp_mask(f, o, filters)]


def stage_as_of(f: Frames, deals: pd.DataFrame, at: datetime) -> pd.Series:
    h = f["stage_history"]
    h = h[h["opportunity_id"].isin(set(deals["id"]))]
    any_history = set(h["opportunity_id"])
    before = h[h["changed_at"] < at].sort_values(["changed_at", "id"])
    latest = before.groupby("opportunity_id")["to_stage"].last()
    stage = deals["id"].map(latest)
    fallback = np.where(deals["id"].isin(any_history), "prospecting", deals["stage"])
    return stage.fillna(pd.Series(fallback, index=deals.index))


def pipeline(f: Frames, at: datetime, filters: Filters) -> dict[str, Any]:
    deals = open_at(f, at, filters)
    stage = stage_as_of(f, deals, at)
    p = stage.map(STAGE_PROBABILITY).fillna(0)
    return {
        "open_deals": len(deals),
        "open_pipeline": float(deals["amount"].sum()),
        "weighted_pipeline": float((deals["amount"] * p).sum()),
    }


def leads(f: Frames, period: Period, filters: Filters) -> dict[str, Any]:
    ld = f["leads"]
    new = ld[within(ld["created_at"], period) & lead_mask(f, ld, filters)]
    return {
        "new_leads": len(new),
        "lead_conversion_rate": ratio(int((new["status"] == "converted").sum()), len(new)),
    }


def last_touch(f: Frames, deals: pd.DataFrame, at: datetime) -> pd.Series:
    a = f["activities"]
    a = a[(a["occurred_at"] < at) & a["opportunity_id"].isin(set(deals["id"]))]
    latest = a.groupby("opportunity_id")["occurred_at"].max()
    return deals["id"].map(latest).fillna(deals["created_at"])


def stale_rows(f: Frames, at: datetime, filters: Filters, limit: int) -> pd.DataFrame:
    deals = open_at(f, at, filters)
    touch = last_touch(f, deals, at)
    stale = deals.assign(last_touch=touch)[touch < at - STALE]
    stale = stale.sort_values(["last_touch", "id"]).head(limit)
    return _deal_details(f, stale)


def _deal_details(f: Frames, deals: pd.DataFrame) -> pd.DataFrame:
    a = f["accounts"][["id", "name"]].rename(columns={"id": "account_id", "name": "account"})
    u = f["users"][["id", "display_name"]].rename(columns={"id": "owner_id", "display_name": "owner"})
    p = f["products"].rename(columns={"id": "product_id"})
    return (
        deals.merge(a, on="account_id", how="left")
        .merge(u, on="owner_id", how="left")
        .merge(p, on="product_id", how="left")
    )


# --- customers, health, NPS, service ---------------------------------------------------------


def customers(f: Frames, period: Period, at: datetime, filters: Filters) -> dict[str, Any]:
    o = f["opportunities"]
    won = o[(o["stage"] == "won") & o["closed_at"].notna()]
    per = won[won["closed_at"] < at].groupby("account_id")["amount"].agg(["count", "sum"])
    first = won.groupby("account_id")["closed_at"].min()
    a = kept_accounts(f, filters).set_index("id")
    per = per[per.index.isin(a.index)]
    first = first[first.index.isin(a.index)]
    churned_at = a["churned_at"]
    alive_at_t = churned_at.reindex(per.index).isna() | (churned_at.reindex(per.index) >= at)
    start = period.start_ts
    before_start = first[first < start].index
    alive_at_start = churned_at.reindex(before_start).isna() | (churned_at.reindex(before_start) >= start)
    churned = int(within(churned_at.dropna(), period).sum())
    n = len(per)
    return {
        "active_customers": int(alive_at_t.sum()),
        "new_customers": int(within(first, period).sum()),
        "churned_customers": churned,
        "churn_rate": ratio(churned, int(alive_at_start.sum())),
        "repeat_purchase_rate": ratio(int((per["count"] >= 2).sum()), n),
        "customer_lifetime_value": ratio(float(per["sum"].sum()), n),
    }


def nps_of(scores: pd.Series) -> float | None:
    if len(scores) == 0:
        return None
    return 100 * (int((scores >= 9).sum()) - int((scores <= 6).sum())) / len(scores)


def nps(f: Frames, period: Period, filters: Filters) -> float | None:
    r = f["nps_responses"]
    r = r[within(r["responded_at"], period) & account_child_mask(f, r, filters)]
    return nps_of(r["score"])


def _sla_seconds(priority: pd.Series, hours: dict[str, int]) -> pd.Series:
    return priority.map({p: h * 3600 for p, h in hours.items()})


def service(f: Frames, period: Period, at: datetime, filters: Filters) -> dict[str, Any]:
    t = f["tickets"]
    t = t[account_child_mask(f, t, filters)]
    opened = t[within(t["created_at"], period)]
    resolved = t[within(t["resolved_at"], period)]
    backlog = (t["created_at"] < at) & (t["resolved_at"].isna() | (t["resolved_at"] >= at))
    took = (resolved["resolved_at"] - resolved["created_at"]).dt.total_seconds()
    met = int((took <= _sla_seconds(resolved["priority"], RESOLUTION_SLA_HOURS)).sum())
    responded = opened[opened["first_response_at"].notna()]
    response = (responded["first_response_at"] - responded["created_at"]).dt.total_seconds().mean()
    return {
        "tickets_opened": len(opened),
        "tickets_resolved": len(resolved),
        "ticket_backlog": int(backlog.sum()),
        "sla_met_rate": ratio(met, len(resolved)),
        "avg_first_response_hours": None if len(responded) == 0 else response / 3600,
        "csat": None if resolved["csat"].notna().sum() == 0 else float(resolved["csat"].mean()),
    }


def breaching(f: Frames, at: datetime, filters: Filters, limit: int) -> pd.DataFrame:
    t = f["tickets"]
    t = t[account_child_mask(f, t, filters)]
    t = t[(t["created_at"] < at) & (t["resolved_at"].isna() | (t["resolved_at"] >= at))]
    age = (at - t["created_at"]).dt.total_seconds()
    overdue = age - _sla_seconds(t["priority"], RESOLUTION_SLA_HOURS)
    t = t.assign(hours_overdue=overdue / 3600)[overdue > 0]
    t = t.sort_values(["hours_overdue", "id"], ascending=[False, True]).head(limit)
    names = f["accounts"][["id", "name"]].rename(columns={"id": "account_id", "name": "account"})
    return t.merge(names, on="account_id", how="left")


def health(f: Frames, at: datetime, filters: Filters) -> pd.DataFrame:
    """Every active customer as of T with its score and band."""
    o = f["opportunities"]
    won_before = set(o.loc[(o["stage"] == "won") & (o["closed_at"] < at), "account_id"])
    a = kept_accounts(f, filters)
    a = a[a["id"].isin(won_before) & (a["churned_at"].isna() | (a["churned_at"] >= at))].set_index("id")
    acts = f["activities"]
    last = acts[acts["occurred_at"] < at].groupby("account_id")["occurred_at"].max().reindex(a.index)
    days = (at - last).dt.total_seconds() / 86400
    activity = np.select([last.isna() | (days > 90), days > 60, days > 30], [40, 25, 10], 0)
    t = f["tickets"]
    open_urgent = (
        t[
            t["priority"].isin(URGENT)
            & (t["created_at"] < at)
            & (t["resolved_at"].isna() | (t["resolved_at"] >= at))
        ]
        .groupby("account_id")
        .size()
    )
    window = t[(t["resolved_at"] >= at - timedelta(days=90)) & (t["resolved_at"] < at)]
    took = (window["resolved_at"] - window["created_at"]).dt.total_seconds()
    missed = (
        window[took > _sla_seconds(window["priority"], RESOLUTION_SLA_HOURS)].groupby("account_id").size()
    )
    r = f["nps_responses"]
    latest = (
        r[r["responded_at"] < at].sort_values(["responded_at", "id"]).groupby("account_id")["score"].last()
    )
    latest = latest.reindex(a.index)
    tickets_pts = np.minimum(open_urgent.reindex(a.index).fillna(0) * 10, 30)
    sla_pts = np.minimum(missed.reindex(a.index).fillna(0) * 5, 20)
    nps_pts = np.select([latest <= 6, latest >= 9], [-20, 5], 0)
    score = np.clip(100 - activity - tickets_pts - sla_pts + nps_pts, 0, 100)
    band = np.select([score >= 70, score >= 40], ["healthy", "at_risk"], "critical")
    return a.assign(last_activity_at=last, score=score, band=band, latest_nps=latest).reset_index()


def funnel(f: Frames, period: Period, filters: Filters) -> pd.DataFrame:
    o = f["opportunities"]
    cohort = o[within(o["created_at"], period) & opp_mask(f, o, filters)]
    h = f["stage_history"]
    h = h[h["opportunity_id"].isin(set(cohort["id"])) & h["to_stage"].isin(OPEN_STAGES)]
    in_history = h["to_stage"].map(STAGE_ORDER).groupby(h["opportunity_id"]).max()
    current = cohort["stage"].map({s: STAGE_ORDER[s] for s in OPEN_STAGES}).fillna(0)
    furthest = np.maximum(np.maximum(cohort["id"].map(in_history).fillna(0), current), 1)
    furthest = np.where(cohort["stage"] == "won", 5, furthest)
    reached = [int((furthest >= STAGE_ORDER[s]).sum()) for s in STAGE_ORDER]
    conversion = [None] + [ratio(b, a) for a, b in itertools.pairwise(reached)]
    return pd.DataFrame({"stage": list(STAGE_ORDER), "reached": reached, "conversion": conversion})


def leaderboard(f: Frames, period: Period, filters: Filters) -> pd.DataFrame:
    u = f["users"]
    reps = u[(u["role"] == "rep") & u["active"].astype(bool)]
    users = users_in(f, filters)
    if users is not None:
        reps = reps[reps["id"].isin(users)]
    o = f["opportunities"]
    closed = o[o["stage"].isin(CLOSED_STAGES) & within(o["closed_at"], period) & opp_mask(f, o, filters)]
    won = closed[closed["stage"] == "won"].groupby("owner_id")["amount"].agg(["sum", "count"])
    lost = closed[closed["stage"] == "lost"].groupby("owner_id").size()
    acts = f["activities"]
    acts = (
        acts[within(acts["occurred_at"], period) & activity_mask(f, acts, filters)].groupby("user_id").size()
    )
    goals = prorated_targets(f, period, filters, by="user_id")
    board = reps.set_index("id")[["display_name", "team_id"]].copy()
    board["bookings"] = won["sum"].reindex(board.index).fillna(0.0)
    board["deals_won"] = won["count"].reindex(board.index).fillna(0).astype(int)
    board["deals_lost"] = lost.reindex(board.index).fillna(0).astype(int)
    board["win_rate"] = board["deals_won"] / (board["deals_won"] + board["deals_lost"]).replace(0, np.nan)
    board["target"] = np.nan if goals is None else goals.reindex(board.index).fillna(0.0)
    board["attainment"] = board["bookings"] / board["target"].replace(0, np.nan)
    board["activities"] = acts.reindex(board.index).fillna(0).astype(int)
    board = board.reset_index().sort_values(["bookings", "id"], ascending=[False, True])
    board["rank"] = range(1, len(board) + 1)
    return board


def team_comparison(f: Frames, period: Period, filters: Filters) -> pd.DataFrame:
    u, o = f["users"], f["opportunities"]
    team_of = u.set_index("id")["team_id"]
    closed = o[o["stage"].isin(CLOSED_STAGES) & within(o["closed_at"], period) & opp_mask(f, o, filters)]
    closed = closed.assign(team=closed["owner_id"].map(team_of), won=closed["stage"] == "won")
    per_team = closed.groupby("team").agg(
        bookings=("amount", lambda s: float(s[closed.loc[s.index, "won"]].sum())), deals=("won", "size"),
        won=("won", "sum"),
    )  # fmt: skip
    deals = open_at(f, period.end_ts, filters)
    per_team["open_pipeline"] = deals.groupby(deals["owner_id"].map(team_of))["amount"].sum()
    acts = f["activities"]
    acts = acts[within(acts["occurred_at"], period) & activity_mask(f, acts, filters)]
    per_team["activities"] = acts.groupby(acts["user_id"].map(team_of)).size()
    goals = prorated_targets(f, period, filters, by="user_id")
    if goals is not None:
        per_team["target"] = goals.groupby(goals.index.map(team_of)).sum()
    names = f["teams"].set_index("id")["name"]
    return per_team.reset_index().assign(team_name=lambda d: d["team"].map(names))


# --- pages -----------------------------------------------------------------------------------


def _kpis(f: Frames, period: Period, filters: Filters, parts: tuple[str, ...]) -> dict[str, Any]:
    at = period.end_ts
    out: dict[str, Any] = {}
    if "sales" in parts:
        out |= sales(f, period, filters)
        goal = target(f, period, filters)
        out |= {"target": goal, "attainment": None if goal is None else ratio(out["bookings"], goal)}
        out["collections"] = collections(f, period, filters)
        out |= pipeline(f, at, filters)
        out |= leads(f, period, filters)
    if "customers" in parts:
        out |= customers(f, period, at, filters)
        out["nps"] = nps(f, period, filters)
    if "service" in parts:
        out |= service(f, period, at, filters)
    return out


def _with_delta(f: Frames, period: Period, filters: Filters, parts: tuple[str, ...]) -> dict[str, Any]:
    return {
        "current": _kpis(f, period, filters, parts),
        "previous": _kpis(f, period.previous(), filters, parts),
    }


def war_room(f: Frames, view: View) -> dict[str, Any]:
    p, flt, at = view.period, view.filters, view.period.end_ts
    h = health(f, at, flt)
    ld = f["leads"]
    pool = ld[
        ld["owner_id"].isna()
        & ld["status"].isin(OPEN_LEADS)
        & (ld["created_at"] < at)
        & lead_mask(f, ld, flt)
    ].sort_values(["created_at", "id"])
    return {
        "kpis": _with_delta(f, p, flt, ("sales", "customers", "service")),
        "stale": stale_rows(f, at, flt, 500),
        "breaches": breaching(f, at, flt, 500),
        "critical": h[h["band"] == "critical"].sort_values(["score", "id"]).head(500),
        "pool": pool.head(500),
    }


def pipeline_page(f: Frames, view: View) -> dict[str, Any]:
    p, flt, at = view.period, view.filters, view.period.end_ts
    deals = open_at(f, at, flt)
    deals = deals.assign(stage_now=stage_as_of(f, deals, at))
    deals = deals.assign(weighted=deals["amount"] * deals["stage_now"].map(STAGE_PROBABILITY).fillna(0))
    o = f["opportunities"]
    mask = opp_mask(f, o, flt)
    won = o[(o["stage"] == "won") & within(o["closed_at"], p) & mask]
    lost = o[(o["stage"] == "lost") & within(o["closed_at"], p) & mask]
    ld = f["leads"]
    ld = ld[within(ld["created_at"], p) & lead_mask(f, ld, flt)]
    lines = deals.merge(f["products"], left_on="product_id", right_on="id", how="left")
    return {
        "funnel": funnel(f, p, flt),
        "by_stage": deals.groupby("stage_now")[["amount", "weighted"]].sum(),
        "by_month": won.groupby(won["closed_at"].dt.to_period("M"))["amount"].sum(),
        "targets": prorated_targets(f, p, flt),
        "by_line": lines.groupby(lines["product_line"].fillna("(none)"))[["amount", "weighted"]].sum(),
        "sources": ld.groupby(ld["source"].fillna("(unknown)"))["status"].agg(
            leads="size", converted=lambda s: int((s == "converted").sum())
        ),
        "lost": lost.groupby(lost["lost_reason"].fillna("(not given)"))["amount"].agg(["size", "sum"]),
    }


def leaderboard_page(f: Frames, view: View) -> dict[str, Any]:
    return {
        "board": leaderboard(f, view.period, view.filters),
        "before": leaderboard(f, view.period.previous(), view.filters),
        "teams": team_comparison(f, view.period, view.filters),
    }


def customer_health_page(f: Frames, view: View) -> dict[str, Any]:
    p, flt, at = view.period, view.filters, view.period.end_ts
    h = health(f, at, flt)
    o = f["opportunities"]
    won = o[o["stage"] == "won"]
    first = won.groupby("account_id")["closed_at"].min()
    a = kept_accounts(f, flt).set_index("id")
    first = first[first.index.isin(a.index)]
    new = first[within(first, p)]
    churned = a["churned_at"].dropna()
    churned = churned[within(churned, p)]
    r = f["nps_responses"]
    r = r[within(r["responded_at"], p) & account_child_mask(f, r, flt)]
    tiers = h.groupby([h["tier"].fillna("(none)"), "band"]).size().unstack(fill_value=0)
    return {
        "kpis": _with_delta(f, p, flt, ("customers",)),
        "bands": h["band"].value_counts(),
        "at_risk": h[h["band"] != "healthy"].sort_values(["score", "id"]).head(1000),
        "new_vs_churned": (new.dt.to_period("M").value_counts(), churned.dt.to_period("M").value_counts()),
        "nps_trend": r.groupby(r["responded_at"].dt.to_period("M"))["score"].apply(nps_of),
        "by_tier": tiers.reindex(list(TIERS), fill_value=0),
    }


def service_page(f: Frames, view: View) -> dict[str, Any]:
    p, flt, at = view.period, view.filters, view.period.end_ts
    t = f["tickets"]
    t = t[account_child_mask(f, t, flt)]
    opened = t[within(t["created_at"], p)]
    resolved = t[within(t["resolved_at"], p)]
    ends = [
        min(datetime.combine((m + timedelta(days=32)).replace(day=1), datetime.min.time()), p.end_ts)
        for m in months_of(p)
    ]
    backlog = [
        int(((t["created_at"] < e) & (t["resolved_at"].isna() | (t["resolved_at"] >= e))).sum()) for e in ends
    ]
    took = (resolved["resolved_at"] - resolved["created_at"]).dt.total_seconds()
    met = took <= _sla_seconds(resolved["priority"], RESOLUTION_SLA_HOURS)
    responded = opened[opened["first_response_at"].notna()]
    response = (responded["first_response_at"] - responded["created_at"]).dt.total_seconds()
    within_sla = response <= _sla_seconds(responded["priority"], FIRST_RESPONSE_SLA_HOURS)
    return {
        "kpis": _with_delta(f, p, flt, ("service",)),
        "opened": opened.groupby(opened["created_at"].dt.to_period("M")).size(),
        "resolved": resolved.groupby(resolved["resolved_at"].dt.to_period("M")).size(),
        "backlog": backlog,
        "sla": met.groupby(resolved["priority"]).agg(["size", "sum"]),
        "first": pd.DataFrame({"s": response, "ok": within_sla, "p": responded["priority"]})
        .groupby("p")
        .mean(),
        "breaches": breaching(f, at, flt, 1000),
    }


@dataclass(frozen=True)
class NaivePage:
    tables: tuple[str, ...]
    compute: Callable[[Frames, View], dict[str, Any]]


_PEOPLE = ("teams", "users", "products")
NAIVE_PAGES: dict[str, NaivePage] = {
    "War Room": NaivePage(
        (*_PEOPLE, "accounts", "opportunities", "stage_history", "payments", "leads", "activities", "tickets",
         "targets", "nps_responses"),
        war_room,
    ),
    "Pipeline & Funnel": NaivePage((*_PEOPLE, "opportunities", "stage_history", "leads", "targets"), pipeline_page),
    "Leaderboard": NaivePage((*_PEOPLE, "opportunities", "activities", "targets"), leaderboard_page),
    "Customer Health": NaivePage(
        (*_PEOPLE, "accounts", "opportunities", "activities", "tickets", "nps_responses"), customer_health_page
    ),
    "Service": NaivePage((*_PEOPLE, "accounts", "tickets"), service_page),
}  # fmt: skip


@dataclass
class NaiveFigures:
    title: str
    view: str
    load: list[float] = field(default_factory=list)  # per repetition, Σ of the page's table loads
    compute: list[float] = field(default_factory=list)
    frame_bytes: int = 0  # deep size of the loaded frames
    compute_peak: int = 0  # tracemalloc peak of one compute

    @property
    def total(self) -> list[float]:
        return [a + b for a, b in zip(self.load, self.compute, strict=True)]

    @property
    def total_median(self) -> float:
        return statistics.median(self.total) if self.load else float("nan")

    @property
    def compute_median(self) -> float:
        return statistics.median(self.compute) if self.compute else float("nan")

    @property
    def peak_bytes(self) -> int:
        return self.frame_bytes + self.compute_peak


def run_naive(
    engine: Engine, titles: list[str], views: list[tuple[str, View]], reps: int, log=print
) -> list[NaiveFigures]:
    """Per repetition: load every table the pages need once (each timed), then compute each page
    for each view; a page's time = Σ load of its tables + its compute."""
    needed = sorted({t for title in titles for t in NAIVE_PAGES[title].tables})
    results = {(title, key): NaiveFigures(title, key) for title in titles for key, _ in views}
    for rep in range(reps):
        frames, seconds = load(engine, needed)
        if rep == 0:
            log(
                "    naive load: "
                + ", ".join(f"{t} {s:.2f} s" for t, s in sorted(seconds.items(), key=lambda x: -x[1])[:4])
            )
        for title in titles:
            page = NAIVE_PAGES[title]
            page_frames = {t: frames[t] for t in page.tables}
            for key, view in views:
                fig = results[(title, key)]
                fig.load.append(sum(seconds[t] for t in page.tables))
                start = time.perf_counter()
                page.compute(page_frames, view)
                fig.compute.append(time.perf_counter() - start)
                if rep == 0:
                    fig.frame_bytes = int(sum(frames[t].memory_usage(deep=True).sum() for t in page.tables))
                    tracemalloc.start()
                    try:
                        page.compute(page_frames, view)
                        fig.compute_peak = tracemalloc.get_traced_memory()[1]
                    finally:
                        tracemalloc.stop()
        del frames
    return list(results.values())


def kpi_check(engine: Engine, view: View, ids: tuple[str, ...]) -> tuple[int, list[str]]:
    """How many of the War Room's KPIs the naive code computes equal to the query functions
    (relative 1e-6), and the ids that differ: the baseline does the same work."""
    from queries.registry import kpis_with_delta

    frames, _ = load(engine, list(NAIVE_PAGES["War Room"].tables))
    naive = war_room(frames, view)["kpis"]["current"]
    ours = kpis_with_delta(engine, view.period, view.filters, ids=ids)
    differ = []
    for metric_id in ids:
        a, b = naive.get(metric_id), ours[metric_id]["current"]
        same = (a is None and b is None) or (
            a is not None and b is not None and abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
        )
        if not same:
            differ.append(f"{metric_id}: naive {a} vs ours {b}")
    return len(ids) - len(differ), differ


__all__ = ["NAIVE_PAGES", "NaiveFigures", "calendar", "kpi_check", "run_naive"]
