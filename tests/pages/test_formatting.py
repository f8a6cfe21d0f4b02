import math

import pytest

from pages.components.formatting import NO_VALUE, compact, format_delta, format_value


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (950, "950"), (1234, "1.23K"), (1_250_000, "1.25M"), (2_000_000_000, "2B"), (-1500, "-1.5K")],
)
def test_compact(value, text):
    assert compact(value) == text


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("money", 1_200_000, "$1.2M"),
        ("percent", 0.342, "34%"),
        ("count", 1234, "1,234"),
        ("days", 12.345, "12.3 days"),
        ("hours", 3.25, "3.2 h"),
        ("score", 41.6, "41.6"),
        ("score", 42.0, "42"),
        ("score", 4.25, "4.2"),
    ],
)
def test_format_value_by_kind(kind, value, text):
    assert format_value(kind, value) == text


@pytest.mark.parametrize("kind", ["money", "percent", "count", "days", "hours", "score"])
@pytest.mark.parametrize("missing", [None, math.nan])
def test_no_value_is_a_dash(kind, missing):
    assert format_value(kind, missing) == NO_VALUE


def test_delta_of_a_percent_is_in_points_and_missing_sides_give_none():
    assert format_delta("percent", 0.30, 0.25) == "+5.0 pp"
    assert format_delta("money", 900, 1500) == "-$600"
    assert format_delta("money", None, 10) is None
    assert format_delta("count", 3, None) is None
