"""Look-ups of referenced rows named in a form: a missing one is a field error, not NotFound."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_core.errors import ValidationFailed
from crm_core.models import Account, Product, Team, User


def require_product(session: Session, product_id: int | None) -> None:
    if product_id is not None and session.get(Product, product_id) is None:
        raise ValidationFailed({"product_id": "Choose an existing product."})


def require_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise ValidationFailed({"account_id": "Choose an existing account."})
    return account


def require_team(session: Session, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = session.get(Team, team_id)
    if team is None:
        raise ValidationFailed({"team_id": "Choose an existing team."})
    return team


def require_active_user(session: Session, user_id: int, field: str, message: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise ValidationFailed({field: message})
    return user
