"""Fixtures shared with the query tests: hand-made bundle scenarios."""

from tests.queries.conftest import scenario  # noqa: F401
