from __future__ import annotations

from datetime import datetime

import pytest

from crm_core.audit import history
from crm_core.errors import PermissionDenied, StaleRecord, ValidationFailed
from crm_core.models import Ticket
from crm_core.services import tickets
from tests.crm_core.factories import build_world, make_account, make_ticket


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def account_id(engine, world):
    return make_account(engine, world.rep_a.user_id)


def test_create_an_open_ticket_on_an_own_account(engine, world, account_id):
    ticket = tickets.create(
        engine, world.rep_a, account_id=account_id, subject="Login broken", priority="HIGH"
    )
    assert (ticket.status, ticket.priority, ticket.assignee_id, ticket.version) == ("open", "high", None, 1)
    assert history(engine, "ticket", ticket.id)[0]["new"] == "Login broken"
    with pytest.raises(ValidationFailed) as err:
        tickets.create(engine, world.rep_a, account_id=account_id, subject=" ", priority="meh")
    assert err.value.field_errors == {
        "subject": "Enter the subject.",
        "priority": "Choose a priority: low, normal, high, urgent.",
    }


def test_first_response_is_stamped_once_by_leaving_open(engine, world, account_id):
    ticket = tickets.create(engine, world.rep_a, account_id=account_id, subject="Slow")
    ticket = tickets.change_status(
        engine, world.rep_a, ticket_id=ticket.id, expected_version=1, status="in_progress"
    )
    first = ticket.first_response_at
    assert first is not None and ticket.resolved_at is None
    ticket = tickets.change_status(
        engine, world.rep_a, ticket_id=ticket.id, expected_version=2, status="waiting"
    )
    ticket = tickets.respond(engine, world.rep_a, ticket_id=ticket.id, expected_version=3)
    assert ticket.first_response_at == first
    assert ticket.version == 3  # respond on an answered ticket changes nothing


def test_explicit_respond_stamps_first_response(engine, world, account_id):
    ticket = tickets.create(engine, world.rep_a, account_id=account_id, subject="Slow")
    ticket = tickets.respond(engine, world.rep_a, ticket_id=ticket.id, expected_version=1)
    assert (ticket.status, ticket.version) == ("open", 2)
    assert ticket.first_response_at is not None
    assert history(engine, "ticket", ticket.id)[0]["field"] == "first_response_at"


def test_resolve_stamps_resolved_at_and_reopen_clears_it_and_csat(engine, world, account_id):
    ticket = tickets.create(engine, world.rep_a, account_id=account_id, subject="Broken")
    with pytest.raises(ValidationFailed) as err:
        tickets.set_csat(engine, world.rep_a, ticket_id=ticket.id, expected_version=1, csat=5)
    assert err.value.field_errors == {"csat": "CSAT can only be recorded on a resolved or closed ticket."}
    ticket = tickets.change_status(
        engine, world.rep_a, ticket_id=ticket.id, expected_version=1, status="resolved"
    )
    assert ticket.resolved_at is not None and ticket.first_response_at is not None
    resolved_at = ticket.resolved_at
    with pytest.raises(ValidationFailed) as err:
        tickets.set_csat(engine, world.rep_a, ticket_id=ticket.id, expected_version=2, csat=6)
    assert err.value.field_errors == {"csat": "Enter a CSAT score from 1 (very unhappy) to 5 (very happy)."}
    ticket = tickets.set_csat(engine, world.rep_a, ticket_id=ticket.id, expected_version=2, csat=4)
    ticket = tickets.change_status(
        engine, world.rep_a, ticket_id=ticket.id, expected_version=3, status="closed"
    )
    assert ticket.resolved_at == resolved_at  # closing a resolved ticket keeps when it was resolved
    ticket = tickets.change_status(
        engine, world.rep_a, ticket_id=ticket.id, expected_version=4, status="open"
    )
    assert (ticket.resolved_at, ticket.csat) == (None, None)


def test_priority_change_and_stale_save(engine, world, account_id):
    ticket = tickets.create(engine, world.rep_a, account_id=account_id, subject="Slow")
    tickets.change_priority(
        engine, world.manager_a, ticket_id=ticket.id, expected_version=1, priority="urgent"
    )
    with pytest.raises(StaleRecord) as err:
        tickets.change_priority(engine, world.rep_a, ticket_id=ticket.id, expected_version=1, priority="low")
    assert err.value.changed_by_name == "Dana Reyes"


def test_assignment_rules(engine, world, account_id):
    ticket = tickets.create(engine, world.rep_a, account_id=account_id, subject="Slow")
    with pytest.raises(PermissionDenied) as err:
        tickets.assign(
            engine, world.rep_a, ticket_id=ticket.id, expected_version=1, assignee_id=world.rep_a2.user_id
        )
    assert str(err.value) == "Reps can only assign tickets to themselves."
    ticket = tickets.assign(
        engine, world.rep_a, ticket_id=ticket.id, expected_version=1, assignee_id=world.rep_a.user_id
    )
    assert ticket.assignee_id == world.rep_a.user_id
    with pytest.raises(ValidationFailed) as verr:
        tickets.assign(
            engine, world.manager_a, ticket_id=ticket.id, expected_version=2, assignee_id=world.rep_b.user_id
        )
    assert verr.value.field_errors == {"assignee_id": "Choose an active member of your team."}
    ticket = tickets.assign(
        engine, world.manager_a, ticket_id=ticket.id, expected_version=2, assignee_id=world.rep_a2.user_id
    )
    # the assignee now has access, and so does the account owner
    assert tickets.get(engine, world.rep_a2, ticket.id).id == ticket.id
    assert tickets.get(engine, world.rep_a, ticket.id).id == ticket.id
    with pytest.raises(PermissionDenied):
        tickets.get(engine, world.rep_b, ticket.id)
    ticket = tickets.assign(engine, world.admin, ticket_id=ticket.id, expected_version=3, assignee_id=None)
    assert ticket.assignee_id is None


def test_sla_due_at_uses_the_priority_tables():
    created = datetime(2026, 3, 2, 9, 0)
    due = tickets.sla_due_at(Ticket(priority="urgent", created_at=created))
    assert (due.first_response, due.resolution) == (datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 13, 0))
    due = tickets.sla_due_at(Ticket(priority="low", created_at=created))
    assert (due.first_response, due.resolution) == (datetime(2026, 3, 3, 9, 0), datetime(2026, 3, 7, 9, 0))


def test_someone_elses_ticket_is_refused(engine, world):
    other_account = make_account(engine, world.rep_b.user_id, "Other")
    ticket_id = make_ticket(engine, other_account, world.rep_b.user_id)
    with pytest.raises(PermissionDenied):
        tickets.change_status(engine, world.rep_a, ticket_id=ticket_id, expected_version=1, status="closed")
    with pytest.raises(PermissionDenied):
        tickets.create(engine, world.rep_a, account_id=other_account, subject="x")
