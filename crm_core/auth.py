"""Authentication backend (no Streamlit): password check with throttling, the credentials dict for
streamlit-authenticator, and server-side session revocation through a per-user session epoch.

- 5 wrong passwords for one username lock it for 15 minutes; a success resets the counter.
- An unknown username costs one bcrypt check, like a known one, gets the same message and is
  throttled the same way (in memory), so the answers do not tell which usernames exist.
- A password over 72 UTF-8 bytes is refused before bcrypt sees it.
- A deactivated user with the right password is told so; with a wrong one, like everyone else.
- Login counters change through plain UPDATEs: they do not bump the user's version, so an admin's
  open form on that user is not made stale by someone typing a password.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, literal, select, update

from crm_core.audit import utcnow
from crm_core.db import session_factory, transaction
from crm_core.dialect import folded
from crm_core.errors import NotFound
from crm_core.models import User
from crm_core.passwords import MAX_PASSWORD_BYTES, _rounds, hash_password, verify_password
from crm_core.utc import naive_utc
from crm_core.validation import PASSWORD_TOO_LONG, is_valid_id

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
WRONG_CREDENTIALS = "Wrong username or password."
DEACTIVATED = "This account is deactivated. Ask an admin to reactivate it."


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    message: str = ""
    user_id: int | None = None
    username: str | None = None
    display_name: str | None = None
    role: str | None = None
    session_epoch: int | None = None


def authenticate(engine: Engine, username: str, password: str, now: datetime | None = None) -> AuthResult:
    """Check a username and password; see the module docstring for the rules."""
    now = _naive_utc(now)
    if not isinstance(username, str) or not isinstance(password, str):
        return AuthResult(ok=False, message=WRONG_CREDENTIALS)
    try:
        too_long = len(password.encode("utf-8")) > MAX_PASSWORD_BYTES
    except UnicodeEncodeError:
        return AuthResult(ok=False, message=WRONG_CREDENTIALS)
    if too_long:
        return AuthResult(ok=False, message=PASSWORD_TOO_LONG)
    if "\x00" in username or "\x00" in password:
        return AuthResult(ok=False, message=WRONG_CREDENTIALS)  # no account has one; PostgreSQL rejects NUL
    key = username.strip().lower()
    with session_factory(engine)() as session:
        same_name = folded(User.username) == folded(literal(key))  # any case, non-ASCII too (bundles)
        user = session.scalars(select(User).where(same_name).order_by(User.id)).first()
    if user is None or not user.password_hash:
        return _GHOSTS.attempt(key, password, now)
    if user.locked_until is not None and now < user.locked_until:
        return AuthResult(ok=False, message=_locked_message(user.locked_until, now))
    if not _password_matches(password, user.password_hash):
        return _record_failure(engine, user.id, now)
    if not user.active:
        return AuthResult(ok=False, message=DEACTIVATED)
    if user.failed_logins or user.locked_until is not None:
        _reset_failures(engine, user.id)
    return AuthResult(
        ok=True,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        session_epoch=user.session_epoch,
    )


def credentials_for_authenticator(engine: Engine) -> dict[str, Any]:
    """streamlit-authenticator's credentials dict from the active users that have a password.

    Keys are lower-case usernames (the library lower-cases what is typed); passwords are the stored
    bcrypt hashes, passed through as they are (use `auto_hash=False`)."""
    with session_factory(engine)() as session:
        users = session.scalars(
            select(User).where(User.active.is_(True), User.password_hash.is_not(None)).order_by(User.id)
        ).all()
    return {
        "usernames": {
            user.username.lower(): {
                "name": user.display_name,
                "email": user.email or "",
                "password": user.password_hash,
                "roles": [user.role],
            }
            for user in users
        }
    }


def session_token_claims(user: Any) -> dict[str, int]:
    """What a session cookie must carry to be revocable: the user id and their session epoch.

    Takes a `User` or a successful `AuthResult`."""
    user_id = user.user_id if isinstance(user, AuthResult) else user.id
    return {"user_id": user_id, "session_epoch": user.session_epoch}


def is_session_current(engine: Engine, user_id: int, epoch: int) -> bool:
    """Whether a session issued at `epoch` is still valid: the user exists, is active, and has not
    been signed out everywhere (nor deactivated, nor had their password reset) since."""
    if not is_valid_id(user_id) or isinstance(epoch, bool) or not isinstance(epoch, int):
        return False
    with session_factory(engine)() as session:
        row = session.execute(select(User.active, User.session_epoch).where(User.id == user_id)).first()
    return row is not None and row.active and row.session_epoch == epoch


def logout_everywhere(engine: Engine, user_id: int) -> int:
    """End every session of the user (each browser's cookie stops working); returns the new epoch."""
    if not is_valid_id(user_id):
        raise NotFound("user", user_id)
    with transaction(engine) as session:
        bumped = session.execute(
            update(User)
            .where(User.id == user_id)
            .values(session_epoch=User.session_epoch + 1)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:
            raise NotFound("user", user_id)
        return session.scalar(select(User.session_epoch).where(User.id == user_id))


# -- helpers -------------------------------------------------------------------------------------


def _naive_utc(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return naive_utc(now)


def _locked_message(locked_until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
    return f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _password_matches(password: str, password_hash: str) -> bool:
    try:
        return verify_password(password, password_hash)
    except ValueError:  # a malformed stored hash
        return False


def _record_failure(engine: Engine, user_id: int, now: datetime) -> AuthResult:
    """Count a failure atomically; the 5th locks the username for 15 minutes."""
    with transaction(engine) as session:
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(failed_logins=User.failed_logins + 1)
            .execution_options(synchronize_session=False)
        )
        failures = session.scalar(select(User.failed_logins).where(User.id == user_id))
        if failures < MAX_FAILURES:
            return AuthResult(ok=False, message=WRONG_CREDENTIALS)
        locked_until = now + LOCK_DURATION
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(failed_logins=0, locked_until=locked_until)
            .execution_options(synchronize_session=False)
        )
    return AuthResult(ok=False, message=_locked_message(locked_until, now))


def _reset_failures(engine: Engine, user_id: int) -> None:
    with transaction(engine) as session:
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(failed_logins=0, locked_until=None)
            .execution_options(synchronize_session=False)
        )


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    return hash_password("not a password of anyone")


class _GhostThrottle:
    """The throttle of usernames that do not exist, kept in memory (bounded), so that an unknown
    username is answered exactly like a known one, lock-out included."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, key: str, password: str, now: datetime) -> AuthResult:
        with self._lock:
            failures, locked_until = self._entries.get(key, (0, None))
        if locked_until is not None and now < locked_until:
            return AuthResult(ok=False, message=_locked_message(locked_until, now))
        _password_matches(password, _dummy_hash(_rounds()))  # the same cost as a real check
        failures += 1
        locked_until = now + LOCK_DURATION if failures >= MAX_FAILURES else None
        with self._lock:
            self._entries[key] = (0 if locked_until else failures, locked_until)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        if locked_until is not None:
            return AuthResult(ok=False, message=_locked_message(locked_until, now))
        return AuthResult(ok=False, message=WRONG_CREDENTIALS)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_GHOSTS = _GhostThrottle()
