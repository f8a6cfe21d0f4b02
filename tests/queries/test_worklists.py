"""The work pages' reads are scoped by the actor: a rep their own records (plus the lead pool), a
manager their team's, an admin everything; lists are capped and counted. Hand-made data via
`tests.crm_core.factories`; runs on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from crm_core.db import transaction
from crm_core.models import Activity, Opportunity, Ticket
from queries import worklists
from tests.crm_core.factories import (
    T0,
    build_world,
    make_account,
    make_activity,
    make_deal,
    make_lead,
    make_target,
    make_ticket,
)

ROLES = ("admin", "manager_a", "rep_a", "rep_a2", "manager_b", "rep_b")


@pytest.fixture
def world(engine):
    return build_world(engine)


@pytest.fixture
def data(engine, world):
    """Each of rep_a, rep_a2 and rep_b owns an account, a lead, an open and a won deal and a ticket;
    two leads sit in the pool (one open, one disqualified)."""
    ids: dict[str, int] = {}
    for who in ("rep_a", "rep_a2", "rep_b"):
        actor = world.actor(who)
        account = make_account(engine, actor.user_id, name=f"Account of {who}")
        ids[f"account_{who}"] = account
        ids[f"lead_{who}"] = make_lead(engine, actor.user_id, company=f"Lead of {who}")
        ids[f"deal_{who}"] = make_deal(
            engine, actor.user_id, account, name=f"Open deal of {who}", amount=1000
        )
        ids[f"won_{who}"] = make_deal(
            engine, actor.user_id, account, name=f"Won deal of {who}", amount=500, stage="won"
        )
        ids[f"ticket_{who}"] = make_ticket(engine, account, None, subject=f"Ticket of {who}")
    ids["pool"] = make_lead(engine, None, company="Pool lead")
    ids["pool_closed"] = make_lead(engine, None, company="Old pool lead", status="disqualified")
    return ids


def _ids(frame, column: str) -> set[int]:
    return {int(v) for v in frame[column]}


# -- leads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "owned"),
    [
        ("rep_a", {"rep_a"}),
        ("rep_b", {"rep_b"}),
        ("manager_a", {"rep_a", "rep_a2"}),
        ("manager_b", {"rep_b"}),
        ("admin", {"rep_a", "rep_a2", "rep_b"}),
    ],
)
def test_leads_are_the_actors_own_or_teams_plus_the_pool(engine, world, data, who, owned):
    actor = world.actor(who)
    mine = {data[f"lead_{o}"] for o in owned}
    pool = {data["pool"], data["pool_closed"]}

    assert _ids(worklists.lead_rows(engine, actor).rows, "lead_id") == mine | pool
    assert _ids(worklists.lead_rows(engine, actor, pool=False).rows, "lead_id") == mine
    assert _ids(worklists.lead_rows(engine, actor, pool=True).rows, "lead_id") == pool
    open_pool = worklists.lead_rows(engine, actor, pool=True, statuses=["new", "working", "qualified"])
    assert _ids(open_pool.rows, "lead_id") == {data["pool"]}
    assert worklists.pool_size(engine, actor) == 1


def test_lead_detail_refuses_someone_elses_lead_but_not_the_pool(engine, world, data):
    rep = world.rep_a
    assert worklists.lead_detail(engine, rep, data["lead_rep_a"])["company"] == "Lead of rep_a"
    assert worklists.lead_detail(engine, rep, data["pool"])["owner_id"] is None
    assert worklists.lead_detail(engine, rep, data["lead_rep_a2"]) is None
    assert worklists.lead_detail(engine, world.manager_b, data["lead_rep_a"]) is None
    detail = worklists.lead_detail(engine, world.manager_a, data["lead_rep_a2"])
    assert detail["owner_team_id"] == world.team_a and detail["version"] == 1
    for bad in (None, "1", 0, -3, True, 10**12):
        assert worklists.lead_detail(engine, world.admin, bad) is None


def test_lead_search_is_case_insensitive_and_literal(engine, world, data):
    make_lead(engine, world.rep_a.user_id, company="100% Juice_Co")
    make_lead(engine, world.rep_a.user_id, company="1000 Juicexco")  # would match if _ and % were wildcards
    found = worklists.lead_rows(engine, world.rep_a, search="juice_co").rows
    assert list(found["company"]) == ["100% Juice_Co"]
    assert worklists.lead_rows(engine, world.rep_a, search="0%").total == 1
    assert worklists.lead_rows(engine, world.rep_a, search="lead of rep_a2").total == 0


def test_lists_are_capped_and_counted(engine, world):
    for n in range(7):
        make_lead(engine, world.rep_a.user_id, company=f"Lead {n}", created_at=T0 + timedelta(hours=n))
    first = worklists.lead_rows(engine, world.rep_a, limit=3)
    second = worklists.lead_rows(engine, world.rep_a, limit=3, offset=3)
    assert first.total == second.total == 7 and first.capped
    assert list(first.rows["company"]) == ["Lead 6", "Lead 5", "Lead 4"]  # newest first
    assert list(second.rows["company"]) == ["Lead 3", "Lead 2", "Lead 1"]


# -- deals and the pipeline board ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "owned"),
    [
        ("rep_a", {"rep_a"}),
        ("rep_a2", {"rep_a2"}),
        ("manager_a", {"rep_a", "rep_a2"}),
        ("manager_b", {"rep_b"}),
        ("admin", {"rep_a", "rep_a2", "rep_b"}),
    ],
)
def test_deals_are_scoped_by_owner(engine, world, data, who, owned):
    actor = world.actor(who)
    open_ids = {data[f"deal_{o}"] for o in owned}
    won_ids = {data[f"won_{o}"] for o in owned}
    assert _ids(worklists.deal_rows(engine, actor).rows, "deal_id") == open_ids
    assert _ids(worklists.deal_rows(engine, actor, stage="won").rows, "deal_id") == won_ids
    assert _ids(worklists.deal_rows(engine, actor, stage="all").rows, "deal_id") == open_ids | won_ids
    assert worklists.deal_rows(engine, actor, stage="lost").empty
    for other in {"rep_a", "rep_a2", "rep_b"} - owned:
        assert worklists.deal_detail(engine, actor, data[f"deal_{other}"]) is None
        assert worklists.activity_rows(engine, actor, deal_id=data[f"deal_{other}"]).empty
    for mine in owned:
        assert (
            worklists.deal_detail(engine, actor, data[f"deal_{mine}"])["owner_id"]
            == world.actor(mine).user_id
        )


def test_pipeline_board_shows_open_deals_in_scope_with_stale_flags(engine, world, data):
    rep = world.rep_a
    fresh = make_deal(
        engine, rep.user_id, data["account_rep_a"], name="Touched", amount=3000, stage="proposal"
    )
    make_activity(engine, rep.user_id, opportunity_id=fresh)
    with transaction(engine) as session:
        session.execute(
            update(Opportunity).where(Opportunity.id == fresh).values(created_at=T0 - timedelta(days=60))
        )
        session.execute(
            update(Activity)
            .where(Activity.opportunity_id == fresh)
            .values(occurred_at=T0 + timedelta(days=10))
        )
    now = T0 + timedelta(days=20)
    cards = worklists.pipeline_cards(engine, rep, now=now)
    assert set(cards["deal_id"]) == {data["deal_rep_a"], fresh}
    by_id = cards.set_index("deal_id")
    assert bool(by_id.at[data["deal_rep_a"], "stale"])  # created T0, never touched: 20 days
    assert not bool(by_id.at[fresh, "stale"])  # touched 10 days ago
    totals = worklists.pipeline_totals(engine, rep, now=now).set_index("stage")
    assert list(totals.index) == ["prospecting", "qualification", "proposal", "negotiation"]
    assert totals.at["prospecting", "deals"] == 1 and totals.at["prospecting", "stale"] == 1
    assert totals.at["proposal", "amount"] == 3000.0 and totals.at["proposal", "stale"] == 0

    team = worklists.pipeline_cards(engine, world.manager_a, now=now)
    assert set(team["deal_id"]) == {data["deal_rep_a"], data["deal_rep_a2"], fresh}
    only_a2 = worklists.pipeline_cards(engine, world.manager_a, owner_id=world.rep_a2.user_id, now=now)
    assert set(only_a2["deal_id"]) == {data["deal_rep_a2"]}
    outsider = worklists.pipeline_cards(engine, world.manager_b, owner_id=rep.user_id, now=now)
    assert outsider.empty


def test_pipeline_cards_are_capped_per_stage_largest_first(engine, world, data):
    for amount in (10, 20, 30):
        make_deal(engine, world.rep_a.user_id, data["account_rep_a"], amount=amount, stage="negotiation")
    cards = worklists.pipeline_cards(engine, world.rep_a, per_stage=2)
    negotiation = cards[cards["stage"] == "negotiation"]
    assert list(negotiation["amount"]) == [30.0, 20.0]
    assert worklists.pipeline_totals(engine, world.rep_a).set_index("stage").at["negotiation", "deals"] == 3


# -- tickets -------------------------------------------------------------------------------------


def test_tickets_follow_the_account_owner_or_the_assignee(engine, world, data):
    cross = make_ticket(engine, data["account_rep_b"], world.rep_a.user_id, subject="Cross-team ticket")
    seen = {who: _ids(worklists.ticket_rows(engine, world.actor(who)).rows, "ticket_id") for who in ROLES}
    assert seen["rep_a"] == {data["ticket_rep_a"], cross}
    assert seen["rep_a2"] == {data["ticket_rep_a2"]}
    assert seen["rep_b"] == {data["ticket_rep_b"], cross}
    assert seen["manager_a"] == {data["ticket_rep_a"], data["ticket_rep_a2"], cross}
    assert seen["manager_b"] == {data["ticket_rep_b"], cross}
    assert seen["admin"] == {data[f"ticket_{w}"] for w in ("rep_a", "rep_a2", "rep_b")} | {cross}
    assert worklists.ticket_detail(engine, world.rep_a2, cross) is None
    assert worklists.ticket_detail(engine, world.rep_a, cross)["assignee_id"] == world.rep_a.user_id
    mine = worklists.ticket_rows(engine, world.rep_a, mine=True).rows
    assert _ids(mine, "ticket_id") == {cross}


def test_ticket_sla_due_times_and_breaches(engine, world, data):
    urgent = make_ticket(engine, data["account_rep_a"], None, priority="urgent", subject="Down")
    done = make_ticket(engine, data["account_rep_a"], None, priority="low", status="resolved")
    with transaction(engine) as session:
        session.execute(
            update(Ticket).where(Ticket.id == done).values(first_response_at=T0 + timedelta(hours=1))
        )
    now = T0 + timedelta(hours=2)
    rows = worklists.ticket_rows(engine, world.rep_a, status="all", now=now).rows.set_index("ticket_id")
    assert rows.index[0] == urgent  # urgent first
    assert rows.at[urgent, "first_response_due"] == T0 + timedelta(hours=1)
    assert rows.at[urgent, "resolution_due"] == T0 + timedelta(hours=4)
    assert bool(rows.at[urgent, "first_response_breached"]) and not bool(
        rows.at[urgent, "resolution_breached"]
    )
    assert bool(rows.at[urgent, "breached"])
    assert not bool(rows.at[done, "breached"])  # answered in 1 h (24 h SLA), resolved at creation
    active = worklists.ticket_rows(engine, world.rep_a, now=now).rows
    assert done not in set(active["ticket_id"])
    detail = worklists.ticket_detail(engine, world.rep_a, urgent, now=now)
    assert detail["first_response_breached"] and detail["version"] == 1


# -- pickers, targets, admin ---------------------------------------------------------------------


def test_people_pickers_follow_the_role(engine, world, data):
    def users(frame):
        return _ids(frame, "user_id")

    assert users(worklists.assignable_reps(engine, world.rep_a)) == set()
    assert users(worklists.assignable_reps(engine, world.manager_a)) == {
        world.rep_a.user_id,
        world.rep_a2.user_id,
    }
    assert users(worklists.assignable_reps(engine, world.admin)) == {
        world.rep_a.user_id,
        world.rep_a2.user_id,
        world.rep_b.user_id,
    }
    assert users(worklists.ticket_assignees(engine, world.rep_a)) == {world.rep_a.user_id}
    assert users(worklists.ticket_assignees(engine, world.manager_b)) == {
        world.manager_b.user_id,
        world.rep_b.user_id,
    }
    assert users(worklists.visible_members(engine, world.rep_a)) == {world.rep_a.user_id}
    assert users(worklists.visible_members(engine, world.manager_a)) == {
        world.manager_a.user_id,
        world.rep_a.user_id,
        world.rep_a2.user_id,
    }
    accounts = worklists.editable_accounts(engine, world.manager_a)
    assert _ids(accounts, "account_id") == {data["account_rep_a"], data["account_rep_a2"]}
    assert set(worklists.editable_accounts(engine, world.admin, search="REP_B")["name"]) == {
        "Account of rep_b"
    }


def test_target_grid_lists_the_reps_the_actor_may_set(engine, world, data):
    march = date(2026, 3, 1)
    make_target(engine, world.rep_a.user_id, march, 40_000)
    grid = worklists.target_grid(engine, world.manager_a, march).set_index("user_id")
    assert set(grid.index) == {world.rep_a.user_id, world.rep_a2.user_id}
    assert grid.at[world.rep_a.user_id, "amount"] == 40_000.0 and grid.at[world.rep_a.user_id, "version"] == 1
    assert grid.at[world.rep_a.user_id, "won"] == 500.0  # the won deal closed at T0, in March
    assert grid.at[world.rep_a2.user_id, "version"] is None
    assert worklists.target_grid(engine, world.rep_a, march).empty
    admin = worklists.target_grid(engine, world.admin, date(2026, 4, 15))
    assert set(admin["user_id"]) == {world.rep_a.user_id, world.rep_a2.user_id, world.rep_b.user_id}
    assert admin["amount"].isna().all() and (admin["won"] == 0).all()


def test_admin_lists_are_for_admins(engine, world, data):
    assert len(worklists.user_rows(engine, world.admin)) == 6
    assert worklists.user_rows(engine, world.manager_a).empty
    assert worklists.user_rows(engine, world.rep_a).empty
    teams = worklists.team_rows(engine, world.admin).set_index("name")
    assert teams.at["East", "members"] == 3 and teams.at["West", "active_members"] == 2
    assert list(worklists.team_rows(engine, world.rep_b)["name"]) == ["West"]


def test_names_and_reference_lists(engine, world, data):
    assert worklists.user_names(engine, [world.rep_a.user_id, 999_999]) == {world.rep_a.user_id: "Sam East"}
    assert worklists.user_names(engine, []) == {}
    assert worklists.region_options(engine) == ["EMEA", "NA"]
    assert worklists.ticket_categories(engine) == []  # the factory's tickets have no category
    with transaction(engine) as session:
        session.execute(update(Ticket).where(Ticket.id == data["ticket_rep_b"]).values(category="Billing"))
    assert worklists.ticket_categories(engine) == ["Billing"]
