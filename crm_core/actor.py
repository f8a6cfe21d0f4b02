"""Who is acting: the signed-in user as the services see it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from crm_core.db import session_factory
from crm_core.errors import NotFound, PermissionDenied
from crm_core.models import User
from crm_core.validation import is_valid_id


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: str
    team_id: int | None
    display_name: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def is_rep(self) -> bool:
        return self.role == "rep"


def actor_from_user(user: User) -> Actor:
    return Actor(user_id=user.id, role=user.role, team_id=user.team_id, display_name=user.display_name)


def load_actor(engine: Engine, user_id: int) -> Actor:
    """The actor for `user_id`; refuses unknown and deactivated users."""
    if not is_valid_id(user_id):
        raise NotFound("user", user_id)
    with session_factory(engine)() as session:
        user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if not user.active:
        raise PermissionDenied("This account is deactivated.")
    return actor_from_user(user)
