"""The metric registry: every id of the catalog with its label, format, definition and function.

The app shows `definition` beside each number ("how is this computed"); `compute_metrics` and
`kpis_with_delta` run each shared scan (a *group*) once for all the ids that need it. The
report (`queries.report`) and the app's pages go through these same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Literal

from sqlalchemy import Engine

from queries import customers, funnel, health, leaderboard, leads, pipeline, sales, service
from queries.concurrent import run_all
from queries.filters import NO_FILTERS, Filters, Period

Kind = Literal["money", "count", "percent", "days", "hours", "score"]
Value = float | int | None
MetricFn = Callable[..., Value]
GroupFn = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Metric:
    """One catalog id. `fn(engine, period, filters, as_of)` returns its value; `group` (same
    signature) returns a dict holding this id and its siblings from one shared scan."""

    id: str
    label: str
    kind: Kind
    section: str
    definition: str
    fn: MetricFn
    group: GroupFn

    def __call__(
        self, engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None
    ) -> Value:
        return self.fn(engine, period, filters, as_of)


def _single(metric_id: str, fn: MetricFn) -> GroupFn:
    def group(engine: Engine, period: Period, filters: Filters = NO_FILTERS, as_of: datetime | None = None):
        return {metric_id: fn(engine, period, filters, as_of)}

    group.__name__ = f"{metric_id}_group"
    return group


_S, _C, _V = "sales", "customers", "service"
_ROWS: list[tuple[str, str, Kind, str, str, MetricFn, GroupFn | None]] = [
    ("bookings", "Bookings", "money", _S, "Σ amount of opportunities won with closed_at in the period.",
     sales.bookings, sales.sales_target_summary),
    ("deals_won", "Deals won", "count", _S, "Count of opportunities won with closed_at in the period.",
     sales.deals_won, sales.sales_target_summary),
    ("deals_lost", "Deals lost", "count", _S, "Count of opportunities lost with closed_at in the period.",
     sales.deals_lost, sales.sales_target_summary),
    ("win_rate", "Win rate", "percent", _S, "Deals won ÷ (deals won + deals lost) in the period.",
     sales.win_rate, sales.sales_target_summary),
    ("avg_deal_size", "Average deal size", "money", _S, "Bookings ÷ deals won.",
     sales.avg_deal_size, sales.sales_target_summary),
    ("sales_cycle_days", "Sales cycle", "days", _S,
     "Mean days from created_at to closed_at over the deals won in the period.",
     sales.sales_cycle_days, sales.sales_target_summary),
    ("target", "Target", "money", _S,
     "Σ of reps' monthly targets, each x (days of its month inside the period ÷ days in the month). "
     "No value with a region or product line filter.",
     sales.target, sales.sales_target_summary),
    ("attainment", "Attainment", "percent", _S, "Bookings ÷ target.", sales.attainment, sales.sales_target_summary),
    ("collections", "Collections", "money", _S, "Σ payments with paid_at in the period.",
     sales.collections, sales.collections_summary),
    ("open_deals", "Open deals", "count", _S,
     "Opportunities open as of T: created before T and not closed before T.",
     pipeline.open_deals, pipeline.pipeline_summary),
    ("open_pipeline", "Open pipeline", "money", _S, "Σ amount of the opportunities open as of T.",
     pipeline.open_pipeline, pipeline.pipeline_summary),
    ("weighted_pipeline", "Weighted pipeline", "money", _S,
     "Σ amount x probability of the stage as of T (prospecting 10 %, qualification 25 %, proposal 50 %, "
     "negotiation 75 %) over the opportunities open as of T.",
     pipeline.weighted_pipeline, pipeline.pipeline_summary),
    ("stale_deals", "Stale deals", "count", _S,
     "Opportunities open as of T not touched (latest activity, else creation) in the 14 days before T.",
     pipeline.stale_deals, None),
    ("new_leads", "New leads", "count", _S, "Leads created in the period.",
     leads.new_leads, leads.lead_summary),
    ("lead_conversion_rate", "Lead conversion", "percent", _S,
     "Among the leads created in the period, the share now converted.",
     leads.lead_conversion_rate, leads.lead_summary),
    ("activities", "Activities", "count", _S, "Activities that occurred in the period.",
     leads.activities, None),
    ("active_customers", "Active customers", "count", _C,
     "Accounts with a won deal closed before T that have not churned before T.",
     customers.active_customers, customers.customer_summary),
    ("new_customers", "New customers", "count", _C, "Accounts whose first won deal closed in the period.",
     customers.new_customers, customers.customer_summary),
    ("churned_customers", "Churned customers", "count", _C, "Accounts that churned in the period.",
     customers.churned_customers, customers.customer_summary),
    ("churn_rate", "Churn rate", "percent", _C,
     "Churned customers ÷ active customers at the start of the period.",
     customers.churn_rate, customers.customer_summary),
    ("repeat_purchase_rate", "Repeat purchase rate", "percent", _C,
     "Among customers as of T, the share with 2 or more won deals closed before T.",
     customers.repeat_purchase_rate, customers.customer_summary),
    ("customer_lifetime_value", "Customer lifetime value", "money", _C,
     "Σ won amounts closed before T ÷ number of customers as of T.",
     customers.customer_lifetime_value, customers.customer_summary),
    ("nps", "NPS", "score", _C,
     "100 x (promoters 9-10 - detractors 0-6) ÷ responses, over responses in the period.",
     customers.nps, customers.nps_summary),
    ("tickets_opened", "Tickets opened", "count", _V, "Tickets created in the period.",
     service.tickets_opened, service.service_summary),
    ("tickets_resolved", "Tickets resolved", "count", _V, "Tickets resolved in the period.",
     service.tickets_resolved, service.service_summary),
    ("ticket_backlog", "Ticket backlog", "count", _V, "Tickets created before T and not resolved before T.",
     service.ticket_backlog, service.service_summary),
    ("sla_met_rate", "SLA met", "percent", _V,
     "Among tickets resolved in the period, the share resolved within the SLA of their priority "
     "(urgent 4 h, high 24 h, normal 72 h, low 120 h).",
     service.sla_met_rate, service.service_summary),
    ("avg_first_response_hours", "First response", "hours", _V,
     "Mean hours to first response over tickets created in the period that have one.",
     service.avg_first_response_hours, service.service_summary),
    ("csat", "CSAT", "score", _V, "Mean satisfaction (1-5) of tickets resolved in the period that have one.",
     service.csat, service.service_summary),
]  # fmt: skip

METRICS: dict[str, Metric] = {
    row[0]: Metric(*row[:6], group=row[6] or _single(row[0], row[5])) for row in _ROWS
}
METRIC_IDS: tuple[str, ...] = tuple(METRICS)


def get(metric_id: str) -> Metric:
    """The metric of that id (KeyError naming the known ids otherwise)."""
    try:
        return METRICS[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric {metric_id!r}; known: {', '.join(METRIC_IDS)}") from None


MultiGroupFn = Callable[[Engine, list[tuple[Period, datetime | None]], Filters], list[dict[str, Any]]]
MULTI_PERIOD: dict[GroupFn, MultiGroupFn] = {
    sales.sales_target_summary: sales.sales_target_summaries,
    customers.customer_summary: customers.customer_summaries,
    sales.collections_summary: sales.collections_summaries,
    service.service_summary: service.service_summaries,
}
"""Groups that compute several periods in one pass (the KPI deltas: a period and the previous one)."""


def compute_metrics(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    as_of: datetime | None = None,
    ids: Iterable[str] | None = None,
) -> dict[str, Value]:
    """{id: value} for `ids` (default: every id, in catalog order), each shared scan run once."""
    return compute_metrics_over(engine, [(period, as_of)], filters, ids)[0]


def compute_metrics_over(
    engine: Engine,
    periods: list[tuple[Period, datetime | None]],
    filters: Filters = NO_FILTERS,
    ids: Iterable[str] | None = None,
) -> list[dict[str, Value]]:
    """`compute_metrics` for several (period, as_of) pairs; a group of `MULTI_PERIOD` runs once
    for all of them, every other group once per period; the scans run at once where the engine
    allows (`queries.concurrent`)."""
    wanted = list(ids) if ids is not None else list(METRIC_IDS)
    jobs: list[Callable[[], list[dict[str, Any]]]] = []
    for group in dict.fromkeys(get(metric_id).group for metric_id in wanted):
        many = MULTI_PERIOD.get(group)
        if many is not None:
            jobs.append(partial(many, engine, periods, filters))
        else:
            jobs.extend(
                partial(_one_period, group, engine, period, filters, as_of) for period, as_of in periods
            )
    results: list[dict[str, Value]] = [{} for _ in periods]
    # One owner's records are a few hundred rows: their scans are mostly Python (see run_all).
    at_once = filters.owner_id is None
    parts = [part for job_parts in run_all(engine, jobs, at_once) for part in job_parts]
    for index, part in enumerate(parts):
        results[index % len(periods)].update(part)
    return [{metric_id: r[metric_id] for metric_id in wanted} for r in results]


def _one_period(
    group: GroupFn, engine: Engine, period: Period, filters: Filters, as_of: datetime | None
) -> list[dict[str, Any]]:
    return [group(engine, period, filters, as_of)]


def previous_as_of(period: Period, as_of: datetime | date | None) -> datetime | None:
    """T for the previous period: its end by default, else `as_of` moved back one period length."""
    if as_of is None:
        return None
    return period.as_of(as_of) - timedelta(days=period.days)


def kpis_with_delta(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    ids: Iterable[str] | None = None,
    as_of: datetime | None = None,
) -> dict[str, dict[str, Value]]:
    """{id: {'current': v, 'previous': v, 'delta': current - previous or None}} where previous is
    the same metric over `period.previous()` (same filters), computed by the same functions —
    in the same query where a group computes both periods at once (`MULTI_PERIOD`)."""
    wanted = list(ids) if ids is not None else list(METRIC_IDS)
    current, previous = compute_metrics_over(
        engine, [(period, as_of), (period.previous(), previous_as_of(period, as_of))], filters, wanted
    )
    out = {}
    for metric_id in wanted:
        now, then = current[metric_id], previous[metric_id]
        delta = None if now is None or then is None else now - then
        out[metric_id] = {"current": now, "previous": then, "delta": delta}
    return out


def format_value(metric_id: str, value: Value) -> str:
    """A value for display by its kind; '—' for no value."""
    if value is None:
        return "—"
    kind = get(metric_id).kind
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{value * 100:.1f} %"
    if kind == "days":
        return f"{value:.1f} d"
    if kind == "hours":
        return f"{value:.1f} h"
    return f"{value:.1f}"


CHARTS: dict[str, Callable[..., Any]] = {
    "bookings_by_month": sales.bookings_by_month,
    "lost_reasons": sales.lost_reasons,
    "pipeline_by_stage": pipeline.pipeline_by_stage,
    "pipeline_by_product_line": pipeline.pipeline_by_product_line,
    "funnel": funnel.funnel_table,
    "lead_source_conversion": leads.lead_source_conversion,
    "activities_by_type": leads.activities_by_type,
    "leaderboard": leaderboard.leaderboard,
    "team_comparison": leaderboard.team_comparison,
    "health_bands": health.health_bands,
    "new_vs_churned_by_month": customers.new_vs_churned_by_month,
    "nps_trend": customers.nps_trend,
    "tickets_by_month": service.tickets_by_month,
    "sla_by_priority": service.sla_by_priority,
    "first_response_by_priority": service.first_response_by_priority,
}
"""Chart and summary-table functions, all `fn(engine, period, filters=Filters(), as_of=None)`."""
