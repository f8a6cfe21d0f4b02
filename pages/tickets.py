"""Tickets: the support tickets of the accounts you may see (and those assigned to you); with
`?ticket=ID`, one ticket to work: assign, respond, change status or priority, record CSAT."""

from datetime import datetime

import streamlit as st

from crm_core.audit import utcnow
from crm_core.enums import TICKET_DONE_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES
from crm_core.services import tickets
from pages.components import forms
from pages.components.history import history_panel
from pages.components.record_param import RecordParam
from pages.components.resources import get_engine
from pages.components.session import current_actor
from queries import worklists

PAGE_SIZE = 100
CHANNELS = ("email", "phone", "chat", "portal")
PRIORITY_ICONS = {
    "urgent": ":material/error:",
    "high": ":material/keyboard_double_arrow_up:",
    "normal": ":material/remove:",
    "low": ":material/keyboard_double_arrow_down:",
}
STATUS_FILTERS = {
    "active": "Active (not resolved)",
    **{s: s.replace("_", " ").capitalize() for s in TICKET_STATUSES},
    "all": "All",
}
CSAT_LABELS = {1: "1 · very unhappy", 2: "2", 3: "3", 4: "4", 5: "5 · very happy"}

actor = current_actor()
engine = get_engine()
forms.flash()


LINK = RecordParam("ticket")


def _due(moment: datetime, breached: bool, met_at: datetime | None) -> str:
    """'due 2026-03-05 14:00 · 3 h left', 'met', or 'breached'."""
    if met_at is not None:
        return f"{forms.when(met_at)} · " + ("**:red[late]**" if breached else ":green[on time]")
    if breached:
        return f"due {forms.when(moment)} · **:red[⚠ breached]**"
    hours = (moment - utcnow()).total_seconds() / 3600
    left = f"{hours:.0f} h left" if hours >= 1 else f"{max(hours * 60, 0):.0f} min left"
    return (
        f"due {forms.when(moment)} · :orange[{left}]" if hours < 4 else f"due {forms.when(moment)} · {left}"
    )


# -- list view -----------------------------------------------------------------------------------


def new_ticket_form() -> None:
    form = forms.Form("new-ticket")
    search = st.text_input(
        "Find the account",
        key="ticket_account_search",
        placeholder="Type part of the account name",
        icon=":material/search:",
    )
    accounts = worklists.editable_accounts(engine, actor, search=search, limit=200)
    if accounts.empty:
        st.info(
            "No account matches that name." if search else "You have no accounts to open a ticket on yet."
        )
        return
    account_names = forms.choices(accounts, "account_id", "name")
    assignees = worklists.ticket_assignees(engine, actor)
    people = {None: "Unassigned", **forms.choices(assignees, "user_id", "display_name")}
    categories = worklists.ticket_categories(engine)
    with st.form(form.form_key):
        account = st.selectbox(
            "Account *",
            list(account_names),
            format_func=account_names.get,
            key=form.key("account_id"),
            help=None
            if len(accounts) < 200
            else "Only the first 200 matches are listed: type more of the name.",
        )
        form.error("account_id")
        subject = st.text_input("Subject *", max_chars=300, key=form.key("subject"))
        form.error("subject")
        c1, c2, c3 = st.columns(3)
        with c1:
            priority = st.selectbox(
                "Priority",
                TICKET_PRIORITIES,
                index=TICKET_PRIORITIES.index("normal"),
                format_func=str.capitalize,
                key=form.key("priority"),
            )
            form.error("priority")
        with c2:
            category = st.selectbox(
                "Category",
                categories,
                index=None,
                accept_new_options=True,
                placeholder="Choose or type",
                key=form.key("category"),
            )
            form.error("category")
        with c3:
            channel = st.selectbox(
                "Channel",
                CHANNELS,
                index=None,
                format_func=str.capitalize,
                placeholder="How it came in",
                key=form.key("channel"),
            )
            form.error("channel")
        assignee = st.selectbox(
            "Assignee",
            list(people),
            format_func=people.get,
            index=list(people).index(actor.user_id) if actor.user_id in people else 0,
            key=form.key("assignee_id"),
        )
        form.error("assignee_id")
        created = st.form_submit_button("Create ticket", type="primary", icon=":material/add:")
    form.feedback()
    if created:
        form.save(
            lambda: tickets.create(
                engine,
                actor,
                account_id=account,
                subject=subject,
                priority=priority,
                category=category,
                channel=channel,
                assignee_id=assignee,
            ),
            lambda t: f"Ticket #{t.id} created.",
            on_success=lambda t: LINK.open(t.id),
        )


def ticket_list() -> None:
    st.title("Tickets")
    st.caption(
        {
            "rep": "Tickets of your accounts and tickets assigned to you.",
            "manager": "Tickets of your team's accounts and tickets assigned to your team.",
            "admin": "Every ticket.",
        }[actor.role]
        + " Urgent first, then oldest first. ⚠ = past its SLA."
    )
    with st.expander("New ticket", icon=":material/add_circle:"):
        new_ticket_form()
    filters = st.columns([1.6, 1.2, 2.4, 1], vertical_alignment="bottom")
    status = filters[0].selectbox(
        "Status", list(STATUS_FILTERS), format_func=STATUS_FILTERS.get, key="tickets_status"
    )
    priority = filters[1].selectbox(
        "Priority",
        [None, *TICKET_PRIORITIES],
        format_func=lambda p: "Any" if p is None else p.capitalize(),
        key="tickets_priority",
    )
    search = filters[2].text_input(
        "Search", placeholder="Subject or account", key="tickets_search", icon=":material/search:"
    )
    mine = filters[3].toggle("Assigned to me", key="tickets_mine")
    first = worklists.ticket_rows(
        engine, actor, status=status, priority=priority, search=search, mine=mine, limit=0
    )
    offset = forms.pager(first.total, PAGE_SIZE, "tickets_page")
    page = worklists.ticket_rows(
        engine,
        actor,
        status=status,
        priority=priority,
        search=search,
        mine=mine,
        limit=PAGE_SIZE,
        offset=offset,
    )
    if page.empty:
        if search:
            st.info(f"No ticket matches “{search}” with these filters.")
        elif status == "active":
            st.success("No open tickets here. Nice work.", icon=":material/celebration:")
        else:
            st.info("No tickets with these filters.")
        return
    rows = page.rows.copy()
    rows["priority"] = rows["priority"].map(str.capitalize)
    rows["status"] = rows["status"].map(forms.label)
    rows["sla"] = ["⚠ breached" if b else "" for b in rows["breached"]]
    rows["assignee"] = rows["assignee"].fillna("—")
    shown = rows[
        [
            "ticket_id",
            "subject",
            "account",
            "priority",
            "status",
            "assignee",
            "created_at",
            "resolution_due",
            "sla",
        ]
    ]
    st.caption(forms.showing(page.total, offset, len(rows), "tickets") + " Select a row to open the ticket.")
    LINK.pick_from(
        shown,
        "ticket_id",
        key="tickets_table",
        column_config={
            "ticket_id": st.column_config.NumberColumn("#", format="%d", width="small"),
            "subject": st.column_config.TextColumn("Subject", width="medium"),
            "account": "Account",
            "priority": "Priority",
            "status": "Status",
            "assignee": "Assignee",
            "created_at": st.column_config.DatetimeColumn("Opened (UTC)", format="YYYY-MM-DD HH:mm"),
            "resolution_due": st.column_config.DatetimeColumn("Resolve by (UTC)", format="YYYY-MM-DD HH:mm"),
            "sla": st.column_config.TextColumn("SLA", width="small"),
        },
    )


# -- record view ---------------------------------------------------------------------------------


def ticket_record(ticket_id: int) -> None:
    LINK.back_button("All tickets")
    ticket = worklists.ticket_detail(engine, actor, ticket_id)
    if ticket is None:
        forms.denied_panel("ticket")
        return
    scope = f"ticket-{ticket_id}"
    record = forms.Record(scope, ticket["version"])
    head, reload = st.columns([5, 1], vertical_alignment="bottom")
    head.title(ticket["subject"], anchor=False)
    with reload:
        record.reload_button()
    bits = [f"#{ticket_id}", forms.plain(ticket["account"])]
    bits += [forms.plain(v) for v in (ticket["category"], ticket["channel"]) if v]
    bits.append(f"opened {forms.when(ticket['created_at'])} UTC")
    st.caption(" · ".join(bits))
    record.changed_notice("ticket")

    done = ticket["status"] in TICKET_DONE_STATUSES
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Status", forms.label(ticket["status"]), border=True)
    m2.metric(
        "Priority", ticket["priority"].capitalize(), icon=PRIORITY_ICONS[ticket["priority"]], border=True
    )
    m3.metric("Assignee", ticket["assignee"] or "Unassigned", border=True)
    m4.metric("CSAT", f"{ticket['csat']} / 5" if ticket["csat"] else "—", border=True)
    with st.container(border=True):
        st.markdown(
            "**First response:** "
            + _due(
                ticket["first_response_due"], ticket["first_response_breached"], ticket["first_response_at"]
            )
        )
        st.markdown(
            "**Resolution:** "
            + _due(ticket["resolution_due"], ticket["resolution_breached"], ticket["resolved_at"])
        )

    tabs = st.tabs(["Work", "History"])
    with tabs[0]:
        left, right = st.columns(2)
        with left:
            assign_panel(ticket, record)
            respond_panel(ticket, record)
        with right:
            status_form(ticket, record)
            priority_form(ticket, record)
            if done:
                csat_form(ticket, record)
    with tabs[1]:
        history_panel("ticket", ticket_id, names=lambda ids: worklists.user_names(engine, ids))


def assign_panel(ticket: dict, record: forms.Record) -> None:
    form = forms.Form("assign", scope=record.scope)
    st.markdown("**Assignee**")
    if actor.is_rep:
        if ticket["assignee_id"] == actor.user_id:
            st.caption("Assigned to you.")
        elif st.button("Take this ticket", icon=":material/pan_tool:", key=form.key("take")):
            form.save(
                lambda: tickets.assign(
                    engine,
                    actor,
                    ticket_id=ticket["ticket_id"],
                    expected_version=record.version,
                    assignee_id=actor.user_id,
                ),
                "The ticket is yours.",
            )
        form.feedback()
        return
    people = worklists.ticket_assignees(engine, actor)
    names = {None: "Unassigned", **forms.choices(people, "user_id", "display_name")}
    if ticket["assignee_id"] is not None and ticket["assignee_id"] not in names:
        names[ticket["assignee_id"]] = ticket["assignee"]
    options = list(names)
    with st.form(form.form_key, border=False):
        assignee = st.selectbox(
            "Assign to",
            options,
            index=options.index(ticket["assignee_id"]),
            format_func=names.get,
            key=form.key("assignee_id"),
            label_visibility="collapsed",
        )
        form.error("assignee_id")
        submitted = st.form_submit_button("Assign", icon=":material/person:")
    form.feedback()
    if submitted:
        form.save(
            lambda: tickets.assign(
                engine,
                actor,
                ticket_id=ticket["ticket_id"],
                expected_version=record.version,
                assignee_id=assignee,
            ),
            f"Assigned to {names[assignee]}." if assignee is not None else "Ticket unassigned.",
        )


def respond_panel(ticket: dict, record: forms.Record) -> None:
    st.markdown("**First response**")
    if ticket["first_response_at"] is not None:
        st.caption(f"Responded {forms.when(ticket['first_response_at'])} UTC.")
        return
    form = forms.Form("respond", scope=record.scope)
    st.caption("Replied to the customer? Record it to stop the first-response clock.")
    if st.button("Record first response", icon=":material/reply:", key=form.key("respond"), type="primary"):
        form.save(
            lambda: tickets.respond(
                engine, actor, ticket_id=ticket["ticket_id"], expected_version=record.version
            ),
            "First response recorded.",
        )
    form.feedback()


def status_form(ticket: dict, record: forms.Record) -> None:
    form = forms.Form("status", scope=record.scope)
    with st.form(form.form_key, border=False):
        status = st.selectbox(
            "Status",
            TICKET_STATUSES,
            index=TICKET_STATUSES.index(ticket["status"]),
            format_func=forms.label,
            key=form.key("status"),
        )
        form.error("status")
        submitted = st.form_submit_button("Update status", icon=":material/published_with_changes:")
    form.feedback()
    if submitted:
        form.save(
            lambda: tickets.change_status(
                engine, actor, ticket_id=ticket["ticket_id"], expected_version=record.version, status=status
            ),
            f"Status set to {forms.label(status).lower()}.",
        )


def priority_form(ticket: dict, record: forms.Record) -> None:
    form = forms.Form("priority", scope=record.scope)
    with st.form(form.form_key, border=False):
        priority = st.selectbox(
            "Priority",
            TICKET_PRIORITIES,
            index=TICKET_PRIORITIES.index(ticket["priority"]),
            format_func=str.capitalize,
            key=form.key("priority"),
            help="The SLA clock follows the priority: urgent 1 h / 4 h, high 4 h / 24 h, normal 8 h / 72 h, "
            "low 24 h / 120 h (first response / resolution).",
        )
        form.error("priority")
        submitted = st.form_submit_button("Update priority", icon=":material/priority_high:")
    form.feedback()
    if submitted:
        form.save(
            lambda: tickets.change_priority(
                engine,
                actor,
                ticket_id=ticket["ticket_id"],
                expected_version=record.version,
                priority=priority,
            ),
            f"Priority set to {priority}.",
        )


def csat_form(ticket: dict, record: forms.Record) -> None:
    form = forms.Form("csat", scope=record.scope)
    with st.form(form.form_key, border=False):
        score = st.radio(
            "Customer satisfaction (CSAT)",
            list(CSAT_LABELS),
            format_func=CSAT_LABELS.get,
            horizontal=True,
            index=(ticket["csat"] - 1) if ticket["csat"] else None,
            key=form.key("csat"),
        )
        form.error("csat")
        submitted = st.form_submit_button("Save CSAT", icon=":material/sentiment_satisfied:")
    form.feedback()
    if submitted:
        form.save(
            lambda: tickets.set_csat(
                engine, actor, ticket_id=ticket["ticket_id"], expected_version=record.version, csat=score
            ),
            "CSAT saved.",
        )


LINK.route(ticket_list, ticket_record, back_label="All tickets", denied=lambda: forms.denied_panel("ticket"))
