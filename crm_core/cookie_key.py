"""The secret that signs session cookies: from the environment, Streamlit secrets, or generated once.

Order: `WARROOM_COOKIE_KEY`; `cookie_key` in `.streamlit/secrets.toml` (top level or `[auth]`);
else a random key written once to `data/cookie_key` (mode 600) and reused. Never a constant.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

from crm_core.config import DATA_DIR, PROJECT_ROOT

MIN_KEY_BYTES = 32
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
GENERATED_KEY_FILE = DATA_DIR / "cookie_key"


class WeakCookieKey(ValueError):
    def __init__(self, source: str) -> None:
        super().__init__(
            f"The cookie key from {source} is shorter than {MIN_KEY_BYTES} bytes; use a longer random key."
        )


def _from_secrets(path: Path) -> str | None:
    if not path.is_file():
        return None
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    value = data.get("cookie_key") or data.get("auth", {}).get("cookie_key")
    return str(value) if value else None


def _generated(path: Path) -> str:
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def cookie_key(secrets_file: Path = SECRETS_FILE, generated_file: Path = GENERATED_KEY_FILE) -> str:
    """The signing key; refuses a configured key shorter than 32 bytes."""
    for source, value in (
        ("WARROOM_COOKIE_KEY", os.environ.get("WARROOM_COOKIE_KEY")),
        (str(secrets_file), _from_secrets(secrets_file)),
    ):
        if value:
            if len(value.encode("utf-8")) < MIN_KEY_BYTES:
                raise WeakCookieKey(source)
            return value
    return _generated(generated_file)
