"""Users and teams, for admins: create, edit role/team, deactivate, reactivate, reset passwords.

Passwords are hashed with bcrypt (crm_core.passwords) before the transaction opens; the audit log
records that a password changed, never the hash. Deactivating a user or resetting their password
bumps their session epoch, which signs them out everywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.actor import Actor
from crm_core.dialect import folded
from crm_core.errors import PermissionDenied, ValidationFailed
from crm_core.models import Team, User
from crm_core.passwords import hash_password
from crm_core.services._common import apply, check_version, created, fetch, writing
from crm_core.services._refs import require_team
from crm_core.validation import (
    UNSET,
    PasswordReset,
    TeamCreate,
    TeamUpdate,
    UserCreate,
    UserUpdate,
    changes_of,
    provided,
    validate,
)

USER = "user"
TEAM = "team"
USERNAME_TAKEN = "This username is taken."


def create_user(
    engine: Engine,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    team_id: int | None = None,
    email: str | None = None,
) -> User:
    data = validate(
        UserCreate,
        dict(
            username=username,
            display_name=display_name,
            role=role,
            password=password,
            team_id=team_id,
            email=email,
        ),
    )
    _require_admin(actor)
    _require_team_for_role(data.role, data.team_id)
    password_hash = hash_password(data.password)
    at = audit.utcnow()
    try:
        with writing(engine) as session:
            require_team(session, data.team_id)
            if session.scalar(select(User.id).where(func.lower(User.username) == data.username)):
                raise ValidationFailed({"username": USERNAME_TAKEN})
            user = User(
                username=data.username,
                display_name=data.display_name,
                role=data.role,
                team_id=data.team_id,
                email=data.email,
                active=True,
                password_hash=password_hash,
                session_epoch=0,
                failed_logins=0,
            )
            return created(session, actor, USER, user, f"{data.username} ({data.role})", at=at)
    except IntegrityError:
        raise ValidationFailed({"username": USERNAME_TAKEN}) from None


def update_user(
    engine: Engine,
    actor: Actor,
    *,
    user_id: int,
    expected_version: int,
    display_name: str = UNSET,
    email: str | None = UNSET,
    role: str = UNSET,
    team_id: int | None = UNSET,
) -> User:
    """Edit a user's name, email, role or team; only the fields passed change."""
    values = changes_of(
        validate(UserUpdate, provided(display_name=display_name, email=email, role=role, team_id=team_id))
    )
    _require_admin(actor)
    at = audit.utcnow()
    with writing(engine) as session:
        user = _for_edit(session, user_id, expected_version)
        if user.id == actor.user_id and values.get("role", user.role) != user.role:
            raise ValidationFailed({"role": "You cannot change your own role."})
        _require_team_for_role(values.get("role", user.role), values.get("team_id", user.team_id))
        if "team_id" in values:
            require_team(session, values["team_id"])
        apply(session, actor, USER, user, values, at=at)
        return user


def change_role(engine: Engine, actor: Actor, *, user_id: int, expected_version: int, role: str) -> User:
    return update_user(engine, actor, user_id=user_id, expected_version=expected_version, role=role)


def change_team(
    engine: Engine, actor: Actor, *, user_id: int, expected_version: int, team_id: int | None
) -> User:
    return update_user(engine, actor, user_id=user_id, expected_version=expected_version, team_id=team_id)


def deactivate_user(engine: Engine, actor: Actor, *, user_id: int, expected_version: int) -> User:
    """The user can no longer sign in, and every session they have ends; their records stay."""
    _require_admin(actor)
    at = audit.utcnow()
    with writing(engine) as session:
        user = _for_edit(session, user_id, expected_version)
        if user.id == actor.user_id:
            raise ValidationFailed({"active": "You cannot deactivate your own account."})
        if user.active:
            apply(
                session, actor, USER, user, {"active": False, "session_epoch": user.session_epoch + 1}, at=at
            )
        return user


def reactivate_user(engine: Engine, actor: Actor, *, user_id: int, expected_version: int) -> User:
    _require_admin(actor)
    at = audit.utcnow()
    with writing(engine) as session:
        user = _for_edit(session, user_id, expected_version)
        apply(session, actor, USER, user, {"active": True, "failed_logins": 0, "locked_until": None}, at=at)
        return user


def reset_password(
    engine: Engine, actor: Actor, *, user_id: int, expected_version: int, new_password: str
) -> User:
    """Set a new password, lift any lock-out and sign the user out everywhere."""
    data = validate(PasswordReset, {"new_password": new_password})
    _require_admin(actor)
    password_hash = hash_password(data.new_password)
    at = audit.utcnow()
    with writing(engine) as session:
        user = _for_edit(session, user_id, expected_version)
        user.password_hash = password_hash
        audit.record_changes(session, actor, USER, user.id, {"password": (None, "(reset)")}, at=at)
        apply(
            session,
            actor,
            USER,
            user,
            {"session_epoch": user.session_epoch + 1, "failed_logins": 0, "locked_until": None},
            at=at,
        )
        return user


def create_team(engine: Engine, actor: Actor, *, name: str, region: str | None = None) -> Team:
    data = validate(TeamCreate, {"name": name, "region": region})
    _require_admin(actor)
    at = audit.utcnow()
    with writing(engine) as session:
        _require_unique_team_name(session, data.name, None)
        return created(session, actor, TEAM, Team(name=data.name, region=data.region), data.name, at=at)


def update_team(
    engine: Engine,
    actor: Actor,
    *,
    team_id: int,
    expected_version: int,
    name: str = UNSET,
    region: str | None = UNSET,
) -> Team:
    """Rename a team or change its region; refused when someone saved the team since the form
    was loaded (`expected_version`)."""
    values = changes_of(validate(TeamUpdate, provided(name=name, region=region)))
    _require_admin(actor)
    at = audit.utcnow()
    with writing(engine) as session:
        team = fetch(session, Team, TEAM, team_id)
        check_version(session, TEAM, team, expected_version)
        if "name" in values:
            _require_unique_team_name(session, values["name"], team.id)
        apply(session, actor, TEAM, team, values, at=at)
        return team


def rename_team(engine: Engine, actor: Actor, *, team_id: int, expected_version: int, name: str) -> Team:
    return update_team(engine, actor, team_id=team_id, expected_version=expected_version, name=name)


# -- helpers -------------------------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins can manage users and teams.")


def _for_edit(session: Session, user_id: Any, expected_version: Any) -> User:
    user = fetch(session, User, USER, user_id)
    check_version(session, USER, user, expected_version)
    return user


def _require_team_for_role(role: str, team_id: int | None) -> None:
    if role in ("rep", "manager") and team_id is None:
        raise ValidationFailed({"team_id": f"Choose a team for this {role}."})


def _require_unique_team_name(session: Session, name: str, team_id: int | None) -> None:
    same = select(Team.id).where(folded(Team.name) == folded(name))
    if team_id is not None:
        same = same.where(Team.id != team_id)
    if session.scalar(same) is not None:
        raise ValidationFailed({"name": "A team with this name already exists."})
