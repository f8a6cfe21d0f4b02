from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_core.audit import history
from crm_core.db import session_factory
from crm_core.errors import PermissionDenied, StaleRecord, ValidationFailed
from crm_core.models import Account, AuditEntry, Lead, Opportunity
from crm_core.services import leads
from tests.crm_core.factories import build_world, make_account, make_lead, make_team, make_user


@pytest.fixture
def world(engine):
    return build_world(engine)


def _lead(engine, lead_id) -> Lead:
    with session_factory(engine)() as session:
        return session.get(Lead, lead_id)


def _audit_count(engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_create_owns_the_lead_and_audits_creation(engine, world):
    lead = leads.create(
        engine,
        world.rep_a,
        company="  Initech ",
        email="bill@initech.com",
        phone="+1 555 010 2030",
        source="Web",
        region="emea",
    )
    assert (lead.company, lead.owner_id, lead.status, lead.version) == (
        "Initech",
        world.rep_a.user_id,
        "new",
        1,
    )
    assert (lead.source, lead.region) == ("web", "EMEA")
    entries = history(engine, "lead", lead.id)
    assert [(e["field"], e["new"], e["actor_name"]) for e in entries] == [("created", "Initech", "Sam East")]


def test_create_into_the_pool(engine, world):
    lead = leads.create(engine, world.rep_a, company="Hooli", unassigned=True)
    assert lead.owner_id is None


def test_create_refuses_an_unknown_region_listing_the_known_ones(engine, world):
    with pytest.raises(ValidationFailed) as err:
        leads.create(engine, world.rep_a, company="Hooli", region="Mars")
    assert err.value.field_errors == {"region": "Choose a region: EMEA, NA."}


def test_create_for_someone_else_takes_a_manager_of_their_team(engine, world):
    lead = leads.create(engine, world.manager_a, company="Hooli", owner_id=world.rep_a.user_id)
    assert lead.owner_id == world.rep_a.user_id
    with pytest.raises(ValidationFailed) as err:
        leads.create(engine, world.manager_a, company="Hooli", owner_id=world.rep_b.user_id)
    assert err.value.field_errors == {"owner_id": "Choose an active rep of your team."}
    with pytest.raises(PermissionDenied):
        leads.create(engine, world.rep_a, company="Hooli", owner_id=world.rep_a2.user_id)


def test_update_changes_only_passed_fields_with_one_audit_entry_each(engine, world):
    lead = leads.create(engine, world.rep_a, company="Initech", email="a@initech.com")
    updated = leads.update(
        engine, world.rep_a, lead_id=lead.id, expected_version=1, email="b@initech.com", phone="555 0100 200"
    )
    assert (updated.version, updated.email, updated.phone, updated.company) == (
        2,
        "b@initech.com",
        "555 0100 200",
        "Initech",
    )
    changes = {(e["field"], e["old"], e["new"]) for e in history(engine, "lead", lead.id)[:2]}
    assert changes == {("email", "a@initech.com", "b@initech.com"), ("phone", None, "555 0100 200")}


def test_update_with_nothing_changed_writes_nothing(engine, world):
    lead = leads.create(engine, world.rep_a, company="Initech")
    before = _audit_count(engine)
    same = leads.update(engine, world.rep_a, lead_id=lead.id, expected_version=1, company="Initech")
    assert same.version == 1
    assert _audit_count(engine) == before


def test_update_can_clear_an_optional_field(engine, world):
    lead = leads.create(engine, world.rep_a, company="Initech", email="a@initech.com")
    assert leads.update(engine, world.rep_a, lead_id=lead.id, expected_version=1, email=None).email is None


def test_stale_update_names_who_changed_it_and_writes_nothing(engine, world):
    lead = leads.create(engine, world.rep_a, company="Initech")
    leads.update(engine, world.manager_a, lead_id=lead.id, expected_version=1, company="Initech AG")
    before = _audit_count(engine)
    with pytest.raises(StaleRecord) as err:
        leads.update(engine, world.rep_a, lead_id=lead.id, expected_version=1, company="Initech Inc")
    assert err.value.changed_by_name == "Dana Reyes"
    assert str(err.value) == f"changed by Dana Reyes at {err.value.changed_at:%Y-%m-%d %H:%M} UTC — reload"
    assert _lead(engine, lead.id).company == "Initech AG"
    assert _audit_count(engine) == before


def test_another_reps_lead_is_refused_without_leaking_it(engine, world):
    lead_id = make_lead(engine, world.rep_b.user_id, "Secret Corp")
    for call in (
        lambda: leads.get(engine, world.rep_a, lead_id),
        lambda: leads.update(engine, world.rep_a, lead_id=lead_id, expected_version=1, company="X"),
        lambda: leads.qualify(engine, world.rep_a, lead_id=lead_id, expected_version=1),
    ):
        with pytest.raises(PermissionDenied) as err:
            call()
        assert "Secret" not in str(err.value) and "Lee" not in str(err.value)
        assert "this lead" in str(err.value)


def test_a_rep_reads_and_claims_a_pool_lead_but_cannot_edit_it_unclaimed(engine, world):
    lead_id = make_lead(engine, None)
    assert leads.get(engine, world.rep_a, lead_id).owner_id is None
    with pytest.raises(PermissionDenied):
        leads.update(engine, world.rep_a, lead_id=lead_id, expected_version=1, company="Mine")
    claimed = leads.claim(engine, world.rep_a, lead_id=lead_id, expected_version=1)
    assert (claimed.owner_id, claimed.version) == (world.rep_a.user_id, 2)
    assert history(engine, "lead", lead_id)[0]["field"] == "owner_id"


def test_claiming_a_lead_someone_just_claimed_is_refused(engine, world):
    lead_id = make_lead(engine, None)
    leads.claim(engine, world.rep_a2, lead_id=lead_id, expected_version=1)
    with pytest.raises(PermissionDenied) as err:
        leads.claim(engine, world.rep_a, lead_id=lead_id, expected_version=1)
    assert str(err.value) == "This lead already has an owner."


def test_claiming_a_pool_lead_edited_since_the_form_showed_it_is_stale(engine, world):
    lead_id = make_lead(engine, None)
    leads.update(engine, world.manager_a, lead_id=lead_id, expected_version=1, company="Globex AG")
    with pytest.raises(StaleRecord) as err:
        leads.claim(engine, world.rep_a, lead_id=lead_id, expected_version=1)
    assert err.value.changed_by_name == "Dana Reyes"
    assert _lead(engine, lead_id).owner_id is None


def test_only_open_leads_can_be_claimed(engine, world):
    lead_id = make_lead(engine, None, status="disqualified")
    with pytest.raises(ValidationFailed) as err:
        leads.claim(engine, world.rep_a, lead_id=lead_id, expected_version=1)
    assert err.value.field_errors == {"status": "Only new, working or qualified leads can be claimed."}


def test_assign_is_for_managers_to_active_reps_of_their_team(engine, world):
    lead_id = make_lead(engine, None)
    with pytest.raises(PermissionDenied) as err:
        leads.assign(engine, world.rep_a, lead_id=lead_id, expected_version=1, owner_id=world.rep_a.user_id)
    assert str(err.value) == "Only managers and admins can assign leads."
    with pytest.raises(ValidationFailed) as verr:
        leads.assign(
            engine, world.manager_a, lead_id=lead_id, expected_version=1, owner_id=world.rep_b.user_id
        )
    assert verr.value.field_errors == {"owner_id": "Choose an active rep of your team."}
    gone = make_user(engine, "gone.rep", "rep", world.team_a, active=False)
    with pytest.raises(ValidationFailed):
        leads.assign(engine, world.manager_a, lead_id=lead_id, expected_version=1, owner_id=gone)
    lead = leads.assign(
        engine, world.manager_a, lead_id=lead_id, expected_version=1, owner_id=world.rep_a.user_id
    )
    assert lead.owner_id == world.rep_a.user_id
    # reassigning within the team, then the other team's manager may not touch it
    lead = leads.assign(
        engine, world.manager_a, lead_id=lead_id, expected_version=2, owner_id=world.rep_a2.user_id
    )
    assert lead.owner_id == world.rep_a2.user_id
    with pytest.raises(PermissionDenied):
        leads.assign(
            engine, world.manager_b, lead_id=lead_id, expected_version=3, owner_id=world.rep_b.user_id
        )
    lead = leads.assign(
        engine, world.admin, lead_id=lead_id, expected_version=3, owner_id=world.rep_b.user_id
    )
    assert lead.owner_id == world.rep_b.user_id


def test_auto_assign_round_robins_among_active_reps_of_the_leads_region(engine, world):
    make_user(engine, "idle.east", "rep", world.team_a, active=False)
    apac = make_team(engine, "Far", "APAC")
    make_user(engine, "apac.manager", "manager", apac)
    ids = [make_lead(engine, None, f"L{i}", region="EMEA") for i in range(3)]
    na = make_lead(engine, None, "N1", region="NA")
    no_region = make_lead(engine, None, "X", region=None)
    apac_lead = make_lead(engine, None, "A", region="APAC")  # APAC has no rep
    closed = make_lead(engine, None, "D", region="EMEA", status="disqualified")
    owned = make_lead(engine, world.rep_b.user_id, "O", region="EMEA")

    result = leads.auto_assign_pool(engine, world.admin)

    a1, a2 = world.rep_a.user_id, world.rep_a2.user_id
    assert [(a.lead_id, a.owner_id) for a in result] == [
        (ids[0], a1),
        (ids[1], a2),
        (ids[2], a1),
        (na, world.rep_b.user_id),
    ]
    for lead_id in (no_region, apac_lead, closed):
        assert _lead(engine, lead_id).owner_id is None
    assert _lead(engine, owned).owner_id == world.rep_b.user_id
    assert _lead(engine, ids[0]).version == 2
    assert history(engine, "lead", ids[0])[0]["new"] == str(a1)


def test_auto_assign_by_a_manager_hands_out_to_their_team_only(engine, world):
    emea = make_lead(engine, None, "E", region="EMEA")
    na = make_lead(engine, None, "N", region="NA")
    result = leads.auto_assign_pool(engine, world.manager_a)
    assert [(a.lead_id, a.owner_id) for a in result] == [(emea, world.rep_a.user_id)]
    assert _lead(engine, na).owner_id is None
    with pytest.raises(PermissionDenied):
        leads.auto_assign_pool(engine, world.rep_a)


def test_qualify_and_disqualify(engine, world):
    lead_id = make_lead(engine, world.rep_a.user_id)
    lead = leads.qualify(engine, world.rep_a, lead_id=lead_id, expected_version=1)
    assert lead.status == "qualified"
    with pytest.raises(ValidationFailed) as err:
        leads.qualify(engine, world.rep_a, lead_id=lead_id, expected_version=2)
    assert err.value.field_errors == {"status": "Only new or working leads can be qualified."}
    with pytest.raises(ValidationFailed) as err:
        leads.disqualify(engine, world.rep_a, lead_id=lead_id, expected_version=2, reason="  ")
    assert err.value.field_errors == {"reason": "Enter why this lead is disqualified."}
    lead = leads.disqualify(engine, world.rep_a, lead_id=lead_id, expected_version=2, reason="No budget")
    assert (lead.status, lead.disqualify_reason, lead.version) == ("disqualified", "No budget", 3)


def test_convert_creates_account_and_deal_owned_by_the_converter(engine, world):
    lead_id = make_lead(engine, world.rep_a.user_id, "Umbrella", region="EMEA")
    result = leads.convert(engine, world.rep_a, lead_id=lead_id, expected_version=1, amount="12500.50")
    assert result.account_created
    with session_factory(engine)() as session:
        lead = session.get(Lead, lead_id)
        deal = session.get(Opportunity, result.opportunity_id)
        account = session.get(Account, result.account_id)
    assert (lead.status, lead.opportunity_id) == ("converted", deal.id)
    assert lead.converted_at is not None
    assert (deal.stage, deal.owner_id, deal.lead_id, deal.amount) == (
        "prospecting",
        world.rep_a.user_id,
        lead_id,
        Decimal("12500.50"),
    )
    assert (deal.account_id, account.name, account.owner_id, account.region) == (
        account.id,
        "Umbrella",
        world.rep_a.user_id,
        "EMEA",
    )
    assert history(engine, "opportunity", deal.id)[0]["field"] == "created"
    assert history(engine, "account", account.id)[0]["field"] == "created"
    assert {e["field"] for e in history(engine, "lead", lead_id)} == {
        "status",
        "converted_at",
        "opportunity_id",
    }


def test_convert_links_an_existing_account_by_name_case_insensitively(engine, world):
    account_id = make_account(engine, world.rep_a.user_id, "UMBRELLA")
    lead_id = make_lead(engine, world.rep_a.user_id, "umbrella")
    result = leads.convert(engine, world.rep_a, lead_id=lead_id, expected_version=1, deal_name="Pilot")
    assert (result.account_id, result.account_created) == (account_id, False)
    with pytest.raises(ValidationFailed):
        leads.convert(engine, world.rep_a, lead_id=lead_id, expected_version=2)


def test_convert_matches_account_names_case_insensitively_beyond_ascii(engine, world):
    account_id = make_account(engine, world.rep_a.user_id, "ÉCOLE DU NORD")
    lead_id = make_lead(engine, world.rep_a.user_id, "école du nord")
    result = leads.convert(engine, world.rep_a, lead_id=lead_id, expected_version=1)
    assert (result.account_id, result.account_created) == (account_id, False)


def test_a_manager_converting_a_team_lead_owns_the_deal(engine, world):
    lead_id = make_lead(engine, world.rep_a.user_id, "Wayne")
    result = leads.convert(engine, world.manager_a, lead_id=lead_id, expected_version=1)
    with session_factory(engine)() as session:
        assert session.get(Opportunity, result.opportunity_id).owner_id == world.manager_a.user_id


def test_convert_refuses_an_unknown_product(engine, world):
    lead_id = make_lead(engine, world.rep_a.user_id)
    before = _audit_count(engine)
    with pytest.raises(ValidationFailed) as err:
        leads.convert(engine, world.rep_a, lead_id=lead_id, expected_version=1, product_id=999)
    assert err.value.field_errors == {"product_id": "Choose an existing product."}
    assert _lead(engine, lead_id).status == "new"
    assert _audit_count(engine) == before


def test_a_pool_lead_converted_by_a_manager_becomes_theirs(engine, world):
    lead_id = make_lead(engine, None, "Stark")
    leads.convert(engine, world.manager_b, lead_id=lead_id, expected_version=1)
    assert _lead(engine, lead_id).owner_id == world.manager_b.user_id
