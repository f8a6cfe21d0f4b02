"""`python -m benchmarks.work_pages` times every work page in each role's menu."""

from __future__ import annotations

import pytest

from benchmarks import work_pages


def test_every_work_page_of_each_role_is_timed(demo_url, monkeypatch, capsys):
    monkeypatch.setenv("WARROOM_COOKIE_KEY", "test-cookie-key-" + "x" * 32)
    rows = work_pages.measure(demo_url, reps=1)
    pages = {role: [page for r, page, *_ in rows if r == role] for role in work_pages.ROLES}
    assert pages["admin"] == list(work_pages.PAGES)
    assert pages["manager"] == [p for p in work_pages.PAGES if p != "pages/admin.py"]
    assert pages["rep"] == ["pages/my_pipeline.py", "pages/leads.py", "pages/deals.py", "pages/tickets.py"]
    assert all(first > 0 and rerun > 0 for *_, first, rerun in rows)


def test_bad_flags_get_a_clear_error(capsys):
    with pytest.raises(SystemExit) as stop:
        work_pages.main(["--db", "sqlite:///x.db", "--reps", "0"])
    assert stop.value.code == 2
    assert "--reps must be at least 1" in capsys.readouterr().err
