"""CSV exports cannot smuggle spreadsheet formulas."""

from __future__ import annotations

import csv
import io

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pages.components.tables import FORMULA_PREFIXES, neutralise_cell, safe_csv


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_no_exported_text_cell_starts_like_a_formula(texts):
    frame = pd.DataFrame({"company": texts, "n": range(len(texts))})
    rows = _cells(safe_csv(frame))
    assert rows[0] == ["company", "n"]
    for (company, _), original in zip(rows[1:], texts, strict=True):
        assert not company.startswith(FORMULA_PREFIXES)
        assert company.removeprefix("'") == original or company == original


@given(st.text())
def test_neutralising_keeps_the_text_and_only_prefixes_dangerous_cells(text):
    out = neutralise_cell(text)
    if text.startswith(FORMULA_PREFIXES):
        assert out == "'" + text
    else:
        assert out == text


def test_known_payloads_are_defused_and_numbers_left_alone():
    frame = pd.DataFrame(
        {"v": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "ok"], "n": range(7)}
    )
    rows = _cells(safe_csv(frame))
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok",
    ]
    assert [r[1] for r in rows[1:]] == [str(i) for i in range(7)]


def test_the_screen_hides_linking_ids_and_empty_columns_and_labels_the_rest():
    from pages.components.tables import COLUMNS, column_config

    frame = pd.DataFrame(
        {
            "opportunity_id": [1, 2],
            "name": ["A", "B"],
            "account_id": [10, 11],
            "owner_id": [3, 3],
            "amount": [100.0, 200.0],
            "lost_reason": [None, None],
            "something_new": ["x", "y"],
        }
    )
    config = column_config(frame)
    assert config["account_id"] is None and config["owner_id"] is None  # ids that only link rows
    assert config["lost_reason"] is None  # no value in any row
    assert config["opportunity_id"] is COLUMNS["opportunity_id"]  # the record's own id stays
    assert config["amount"] is COLUMNS["amount"]
    assert config["name"] == "Name"
    assert "something_new" not in config  # shown under its own name


def test_every_column_of_the_dashboards_tables_has_a_label(demo_engine):
    """The record lists and summary tables the dashboards show: each column labelled or hidden."""
    from pages.components.period_presets import DEFAULT_PRESET, preset_range
    from pages.components.tables import COLUMNS, HIDDEN_IDS
    from queries import funnel, health, leads, pipeline, service
    from queries.filters import Period
    from seed.demo import today_utc

    period = Period(*preset_range(DEFAULT_PRESET, today_utc()))
    frames = {
        "stale deals": pipeline.stale_deal_rows(demo_engine, period),
        "open deals": pipeline.open_deal_rows(demo_engine, period, stage="proposal"),
        "funnel deals": funnel.funnel_stage_deals(demo_engine, period, stage="proposal"),
        "breaches": service.breaching_tickets(demo_engine, period),
        "critical accounts": health.health_accounts(demo_engine, period, bands=("critical",)),
        "unassigned leads": leads.unassigned_leads(demo_engine, period),
        "accounts at risk": health.health_overview(demo_engine, period)["at_risk"],
        "tiers": health.health_overview(demo_engine, period)["tiers"],
        "lead sources": leads.lead_source_conversion(demo_engine, period),
        "SLA by priority": service.sla_by_priority(demo_engine, period),
        "first response by priority": service.first_response_by_priority(demo_engine, period),
    }
    known = set(COLUMNS) | set(HIDDEN_IDS)
    unlabelled = {name: sorted(set(frame.columns) - known) for name, frame in frames.items()}
    assert not any(unlabelled.values()), unlabelled
