"""The benchmark's index sync compares reflected indexes with the models' ones, INCLUDE too."""

from __future__ import annotations

from benchmarks.datasets import _present_columns, _wanted_columns, sync_indexes
from crm_core.models import Opportunity


def test_reflected_include_columns_count_whichever_key_holds_them():
    base = {"name": "ix_x", "column_names": ["stage", "closed_at"]}
    assert _present_columns(base) == ("stage", "closed_at")
    assert _present_columns({**base, "dialect_options": {"postgresql_include": ["id"]}}) == (
        "stage", "closed_at", "+", "id",
    )  # fmt: skip
    assert _present_columns({**base, "include_columns": ["id"]}) == ("stage", "closed_at", "+", "id")


def test_the_models_include_id_on_postgresql_only():
    stage = next(ix for ix in Opportunity.__table__.indexes if ix.name == "ix_opportunities_stage")
    assert _wanted_columns(stage, "postgresql")[-2:] == ("+", "id")
    assert "+" not in _wanted_columns(stage, "sqlite")


def test_a_migrated_database_has_the_models_indexes(engine):
    """The migrations build every index the models declare: the sync finds nothing to change."""
    assert sync_indexes(engine, log=lambda _line: None) == []
