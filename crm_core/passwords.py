"""Password hashing with bcrypt. Only hashes are stored; bcrypt reads at most 72 bytes."""

from __future__ import annotations

import os

import bcrypt

MAX_PASSWORD_BYTES = 72
DEFAULT_ROUNDS = 12


class PasswordTooLong(ValueError):
    def __init__(self) -> None:
        super().__init__(f"Password is too long: at most {MAX_PASSWORD_BYTES} bytes (UTF-8).")


def _rounds() -> int:
    """Cost factor; `WARROOM_BCRYPT_ROUNDS` lowers it for tests (bcrypt's floor is 4)."""
    return max(4, int(os.environ.get("WARROOM_BCRYPT_ROUNDS", DEFAULT_ROUNDS)))


def hash_password(password: str) -> str:
    raw = password.encode("utf-8")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong()
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=_rounds())).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    raw = password.encode("utf-8")
    if not password_hash or len(raw) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(raw, password_hash.encode("ascii"))
