"""The authentication backend and the admin services for users and teams."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm_core import auth, passwords
from crm_core.audit import history
from crm_core.auth import (
    DEACTIVATED,
    WRONG_CREDENTIALS,
    authenticate,
    credentials_for_authenticator,
    is_session_current,
    logout_everywhere,
    session_token_claims,
)
from crm_core.db import session_factory
from crm_core.errors import PermissionDenied, StaleRecord, ValidationFailed
from crm_core.models import User
from crm_core.services import users
from tests.crm_core.factories import build_world, make_user

NOW = datetime(2026, 11, 22, 14, 5)
LOCKED_15 = "Too many failed attempts. Try again in 15 minutes."


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch):
    monkeypatch.setenv("WARROOM_BCRYPT_ROUNDS", "4")
    auth._GHOSTS.clear()


@pytest.fixture
def bcrypt_calls(monkeypatch):
    calls = []
    original = passwords.bcrypt.checkpw

    def counting(raw, hashed):
        calls.append(raw)
        return original(raw, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", counting)
    return calls


@pytest.fixture
def dana(engine):
    return make_user(engine, "dana.reyes", "manager", password_hash=passwords.hash_password("correct horse"))


def _user(engine, user_id) -> User:
    with session_factory(engine)() as session:
        return session.get(User, user_id)


def test_right_password_signs_in_with_session_claims(engine, dana):
    result = authenticate(engine, " Dana.Reyes ", "correct horse", now=NOW)
    assert result.ok and result.message == ""
    assert (result.user_id, result.username, result.role) == (dana, "dana.reyes", "manager")
    assert session_token_claims(result) == {"user_id": dana, "session_epoch": 0}
    assert session_token_claims(_user(engine, dana)) == {"user_id": dana, "session_epoch": 0}


def test_wrong_password_is_counted_without_bumping_the_version(engine, dana):
    result = authenticate(engine, "dana.reyes", "wrong horse", now=NOW)
    assert (result.ok, result.message) == (False, WRONG_CREDENTIALS)
    user = _user(engine, dana)
    assert (user.failed_logins, user.version) == (1, 1)


def test_five_failures_lock_for_fifteen_minutes_and_success_resets(engine, dana):
    for _ in range(4):
        assert authenticate(engine, "dana.reyes", "nope", now=NOW).message == WRONG_CREDENTIALS
    assert authenticate(engine, "dana.reyes", "nope", now=NOW).message == LOCKED_15
    # even the right password is refused while locked, with the time left
    assert authenticate(engine, "dana.reyes", "correct horse", now=NOW).message == LOCKED_15
    later = NOW + timedelta(minutes=10, seconds=30)
    assert authenticate(engine, "dana.reyes", "correct horse", now=later).message == (
        "Too many failed attempts. Try again in 5 minutes."
    )
    assert authenticate(engine, "dana.reyes", "correct horse", now=NOW + timedelta(minutes=15)).ok
    user = _user(engine, dana)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_success_resets_the_counter(engine, dana):
    for _ in range(4):
        authenticate(engine, "dana.reyes", "nope", now=NOW)
    assert authenticate(engine, "dana.reyes", "correct horse", now=NOW).ok
    for _ in range(4):
        assert authenticate(engine, "dana.reyes", "nope", now=NOW).message == WRONG_CREDENTIALS


def test_unknown_users_take_the_same_path_and_message(engine, dana, bcrypt_calls):
    assert authenticate(engine, "nobody", "whatever", now=NOW).message == WRONG_CREDENTIALS
    assert authenticate(engine, "dana.reyes", "whatever", now=NOW).message == WRONG_CREDENTIALS
    assert len(bcrypt_calls) == 2  # one bcrypt check each: no timing difference to exploit
    for _ in range(3):
        authenticate(engine, "nobody", "whatever", now=NOW)
    assert authenticate(engine, "nobody", "whatever", now=NOW).message == LOCKED_15


def test_a_password_over_72_bytes_is_refused_before_bcrypt(engine, dana, bcrypt_calls):
    result = authenticate(engine, "dana.reyes", "é" * 37, now=NOW)  # 37 characters, 74 bytes
    assert not result.ok
    assert result.message.startswith("Passwords can be at most 72 bytes long")
    assert bcrypt_calls == []
    assert _user(engine, dana).failed_logins == 0


def test_a_deactivated_user_is_told_only_with_the_right_password(engine):
    make_user(engine, "old.timer", active=False, password_hash=passwords.hash_password("correct horse"))
    assert authenticate(engine, "old.timer", "correct horse", now=NOW).message == DEACTIVATED
    assert authenticate(engine, "old.timer", "wrong horse", now=NOW).message == WRONG_CREDENTIALS


def test_credentials_dict_passes_the_stored_hashes_through(engine, dana):
    make_user(engine, "old.timer", active=False, password_hash=passwords.hash_password("x" * 8))
    make_user(engine, "no.password")
    make_user(engine, "Mixed.Case", "rep", password_hash="$2b$04$" + "a" * 53, email="m@c.io")
    credentials = credentials_for_authenticator(engine)
    assert set(credentials["usernames"]) == {"dana.reyes", "mixed.case"}
    entry = credentials["usernames"]["dana.reyes"]
    assert entry == {
        "name": "Dana Reyes",
        "email": "",
        "password": _user(engine, dana).password_hash,
        "roles": ["manager"],
    }
    assert credentials["usernames"]["mixed.case"]["email"] == "m@c.io"


def test_a_session_captured_before_logout_everywhere_is_rejected_after(engine, dana):
    claims = session_token_claims(authenticate(engine, "dana.reyes", "correct horse", now=NOW))
    assert is_session_current(engine, claims["user_id"], claims["session_epoch"])
    assert logout_everywhere(engine, dana) == 1
    assert not is_session_current(engine, claims["user_id"], claims["session_epoch"])
    fresh = session_token_claims(authenticate(engine, "dana.reyes", "correct horse", now=NOW))
    assert fresh["session_epoch"] == 1
    assert is_session_current(engine, fresh["user_id"], fresh["session_epoch"])
    assert _user(engine, dana).version == 1  # signing out is not an edit of the user


def test_is_session_current_rejects_nonsense(engine, dana):
    assert not is_session_current(engine, 999, 0)
    assert not is_session_current(engine, dana, "0")
    assert not is_session_current(engine, 2**40, 0)


# -- admin services ------------------------------------------------------------------------------


@pytest.fixture
def world(engine):
    return build_world(engine)


def test_admin_creates_a_user_who_can_then_sign_in(engine, world):
    user = users.create_user(
        engine,
        world.admin,
        username=" New.Rep ",
        display_name="New Rep",
        role="rep",
        password="s3cret-enough",
        team_id=world.team_a,
        email="new.rep@example.com",
    )
    assert (user.username, user.active, user.version) == ("new.rep", True, 1)
    assert user.password_hash.startswith("$2b$04$")
    assert history(engine, "user", user.id)[0]["new"] == "new.rep (rep)"
    assert authenticate(engine, "new.rep", "s3cret-enough").ok


def test_create_user_field_messages(engine, world):
    with pytest.raises(ValidationFailed) as err:
        users.create_user(
            engine, world.admin, username="x", display_name="", role="boss", password="é" * 37, email="nope"
        )
    assert err.value.field_errors == {
        "username": "Use 3 to 60 characters: lowercase letters, digits, dots, dashes or underscores.",
        "display_name": "Enter the display name.",
        "role": "Choose a role: admin, manager, rep.",
        "password": (
            "Passwords can be at most 72 bytes long (accented letters and emoji take 2 to 4 bytes each)."
        ),
        "email": "Enter a valid email address, like name@company.com.",
    }
    with pytest.raises(ValidationFailed) as err:
        users.create_user(
            engine, world.admin, username="sam.east", display_name="S", role="admin", password="12345678"
        )
    assert err.value.field_errors == {"username": "This username is taken."}
    with pytest.raises(ValidationFailed) as err:
        users.create_user(
            engine, world.admin, username="solo", display_name="S", role="rep", password="12345678"
        )
    assert err.value.field_errors == {"team_id": "Choose a team for this rep."}
    with pytest.raises(ValidationFailed) as err:
        users.create_user(
            engine, world.admin, username="short", display_name="S", role="admin", password="1234"
        )
    assert err.value.field_errors == {"password": "Choose a password of at least 8 characters."}


def test_only_admins_manage_users(engine, world):
    with pytest.raises(PermissionDenied) as err:
        users.create_user(
            engine, world.manager_a, username="sneaky", display_name="S", role="admin", password="12345678"
        )
    assert str(err.value) == "Only admins can manage users and teams."
    with pytest.raises(PermissionDenied):
        users.create_team(engine, world.manager_a, name="Shadow")


def test_deactivating_ends_every_session_and_refuses_sign_in(engine, world):
    rep_id = make_user(
        engine, "leaving.rep", "rep", world.team_a, password_hash=passwords.hash_password("pw123456")
    )
    claims = session_token_claims(authenticate(engine, "leaving.rep", "pw123456"))
    user = users.deactivate_user(engine, world.admin, user_id=rep_id, expected_version=1)
    assert (user.active, user.session_epoch, user.version) == (False, 1, 2)
    assert not is_session_current(engine, claims["user_id"], claims["session_epoch"])
    assert authenticate(engine, "leaving.rep", "pw123456").message == DEACTIVATED
    assert "leaving.rep" not in credentials_for_authenticator(engine)["usernames"]
    with pytest.raises(ValidationFailed) as err:
        users.deactivate_user(engine, world.admin, user_id=world.admin.user_id, expected_version=1)
    assert err.value.field_errors == {"active": "You cannot deactivate your own account."}
    user = users.reactivate_user(engine, world.admin, user_id=rep_id, expected_version=2)
    assert user.active and authenticate(engine, "leaving.rep", "pw123456").ok


def test_reset_password_signs_out_everywhere_and_is_audited_without_the_hash(engine, world):
    rep_id = make_user(
        engine, "forgetful", "rep", world.team_a, password_hash=passwords.hash_password("old-pass1")
    )
    claims = session_token_claims(authenticate(engine, "forgetful", "old-pass1"))
    for _ in range(5):
        authenticate(engine, "forgetful", "guess")
    users.reset_password(engine, world.admin, user_id=rep_id, expected_version=1, new_password="new-pass1")
    assert not is_session_current(engine, claims["user_id"], claims["session_epoch"])
    assert authenticate(engine, "forgetful", "new-pass1").ok  # the lock-out is lifted too
    assert authenticate(engine, "forgetful", "old-pass1").message == WRONG_CREDENTIALS
    entries = history(engine, "user", rep_id)
    assert ("password", None, "(reset)") in [(e["field"], e["old"], e["new"]) for e in entries]
    assert not any("$2b$" in (e["new"] or "") for e in entries)


def test_change_role_and_team(engine, world):
    user = users.change_role(
        engine, world.admin, user_id=world.rep_a.user_id, expected_version=1, role="manager"
    )
    assert user.role == "manager"
    user = users.change_team(
        engine, world.admin, user_id=world.rep_a.user_id, expected_version=2, team_id=world.team_b
    )
    assert user.team_id == world.team_b
    with pytest.raises(ValidationFailed) as err:
        users.change_team(engine, world.admin, user_id=world.rep_a.user_id, expected_version=3, team_id=None)
    assert err.value.field_errors == {"team_id": "Choose a team for this manager."}
    with pytest.raises(ValidationFailed) as err:
        users.change_role(engine, world.admin, user_id=world.admin.user_id, expected_version=1, role="rep")
    assert err.value.field_errors == {"role": "You cannot change your own role."}


def test_teams_create_and_rename(engine, world):
    team = users.create_team(engine, world.admin, name="North", region="NORDICS")
    assert (team.name, team.region) == ("North", "NORDICS")
    with pytest.raises(ValidationFailed) as err:
        users.create_team(engine, world.admin, name="east")
    assert err.value.field_errors == {"name": "A team with this name already exists."}
    assert team.version == 1
    team = users.rename_team(engine, world.admin, team_id=team.id, expected_version=1, name="Nordics")
    assert (team.name, team.version) == ("Nordics", 2)
    assert [e["field"] for e in history(engine, "team", team.id)] == ["name", "created"]


def test_team_names_are_unique_whatever_their_case(engine, world):
    users.create_team(engine, world.admin, name="Équipe Nord")
    with pytest.raises(ValidationFailed) as err:
        users.create_team(engine, world.admin, name="ÉQUIPE NORD")
    assert err.value.field_errors == {"name": "A team with this name already exists."}


def test_a_stale_team_form_cannot_overwrite_a_newer_rename(engine, world):
    team = users.create_team(engine, world.admin, name="North", region="NORDICS")
    users.update_team(engine, world.admin, team_id=team.id, expected_version=1, name="Nordics")
    with pytest.raises(StaleRecord) as err:  # a second admin's form, loaded before that save
        users.update_team(engine, world.admin, team_id=team.id, expected_version=1, region="BALTICS")
    assert "changed by" in str(err.value)
    with pytest.raises(ValidationFailed) as err:
        users.update_team(engine, world.admin, team_id=team.id, expected_version="2", name="X")
    assert "expected_version" in err.value.field_errors
    saved = users.update_team(engine, world.admin, team_id=team.id, expected_version=2, region="BALTICS")
    assert (saved.name, saved.region, saved.version) == ("Nordics", "BALTICS", 3)


def test_a_nul_character_is_a_wrong_login_not_a_database_error(engine):
    from crm_core.auth import WRONG_CREDENTIALS, authenticate

    for username, password in (("\x00", "x"), ("admin\x00", "pw"), ("admin", "p\x00w")):
        result = authenticate(engine, username, password)
        assert not result.ok and result.message == WRONG_CREDENTIALS


def test_a_bundle_username_with_accents_signs_in_whatever_the_case(engine, world):
    """Services only make ASCII usernames; a bundle may carry others. Sign-in ignores case for
    them too (SQLite's lower() alone would not fold 'É')."""
    from crm_core.auth import authenticate
    from crm_core.passwords import hash_password

    with engine.begin() as conn:
        conn.execute(
            User.__table__.insert().values(
                username="Émile.Zola", display_name="Émile", role="rep", team_id=world.team_a,
                password_hash=hash_password("long-enough-1"), active=True,
            )
        )  # fmt: skip
    assert authenticate(engine, "émile.zola", "long-enough-1").ok
