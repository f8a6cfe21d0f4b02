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
