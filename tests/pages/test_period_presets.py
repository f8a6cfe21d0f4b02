from datetime import date

import pytest

from pages.components.period_presets import preset_range


@pytest.mark.parametrize(
    ("preset", "today", "expected"),
    [
        ("This month", date(2026, 11, 22), (date(2026, 11, 1), date(2026, 11, 22))),
        ("This quarter", date(2026, 11, 22), (date(2026, 10, 1), date(2026, 11, 22))),
        ("Last quarter", date(2026, 11, 22), (date(2026, 7, 1), date(2026, 9, 30))),
        ("Last quarter", date(2026, 2, 10), (date(2025, 10, 1), date(2025, 12, 31))),
        ("Year to date", date(2026, 11, 22), (date(2026, 1, 1), date(2026, 11, 22))),
        ("Last 12 months", date(2026, 11, 22), (date(2025, 12, 1), date(2026, 11, 22))),
        ("Last 12 months", date(2026, 1, 5), (date(2025, 2, 1), date(2026, 1, 5))),
    ],
)
def test_preset_ranges(preset, today, expected):
    assert preset_range(preset, today) == expected


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown period preset"):
        preset_range("Forever", date(2026, 1, 1))
