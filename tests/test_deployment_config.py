"""The shipped Streamlit configuration keeps safe deployment defaults, and the code keeps no unsafe HTML."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_xsrf_and_cors_protection_are_on():
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["server"]["enableCORS"] is True


def test_users_never_see_error_details():
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_uploads_are_limited_static_serving_and_usage_stats_are_off():
    assert 0 < CONFIG["server"]["maxUploadSize"] <= 50
    assert CONFIG["server"]["enableStaticServing"] is False
    assert CONFIG["browser"]["gatherUsageStats"] is False


def test_no_raw_html_is_rendered_anywhere():
    """User text reaches the page only through escaping widgets: `unsafe_allow_html` and `st.html`
    are not used at all, so no user-data path can carry markup."""
    offenders = []
    for path in ROOT.glob("**/*.py"):
        if ".venv" in path.parts or path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"unsafe_allow_html\s*=\s*True|\bst\.html\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
