"""Leads: your leads and the unassigned pool; with `?lead=ID`, one lead to work: edit, claim or
assign, qualify, disqualify, convert into a deal, log activities, read its history."""

from datetime import date
from decimal import Decimal

import streamlit as st

from crm_core.enums import LEAD_SOURCES, LEAD_STATUSES
from crm_core.permissions import EDIT, can_lead
from crm_core.services import activities, leads
from pages.components import forms
from pages.components.history import history_panel
from pages.components.record_param import RecordParam
from pages.components.resources import get_engine
from pages.components.session import current_actor
from queries import worklists

PAGE_SIZE = 100
OPEN_STATUSES = ("new", "working", "qualified")
DISQUALIFY_REASONS = ("Not a fit", "No budget", "Unresponsive", "Duplicate", "Student or job seeker")
OTHER = "Other…"
STATUS_COLORS = {
    "new": "blue",
    "working": "orange",
    "qualified": "green",
    "disqualified": "gray",
    "converted": "violet",
}
MINE = {"rep": "My leads", "manager": "Team leads", "admin": "Assigned leads"}

actor = current_actor()
engine = get_engine()
forms.flash()


LINK = RecordParam("lead")


def _optional(options: list, current):
    return options.index(current) if current in options else 0


# -- list view -----------------------------------------------------------------------------------


def new_lead_form() -> None:
    form = forms.Form("new-lead")
    regions = worklists.region_options(engine)
    owners: dict[object, str] = {}
    if not actor.is_rep:
        owners = {"pool": "Unassigned pool"} if actor.is_admin else {"me": "Me", "pool": "Unassigned pool"}
        reps = worklists.assignable_reps(engine, actor)
        owners.update(forms.choices(reps, "user_id", "display_name"))
    with st.form(form.form_key):
        c1, c2 = st.columns(2)
        with c1:
            company = st.text_input("Company *", max_chars=200, key=form.key("company"))
            form.error("company")
            email = st.text_input(
                "Email", max_chars=254, key=form.key("email"), placeholder="name@company.com"
            )
            form.error("email")
            source = st.selectbox(
                "Source",
                [None, *LEAD_SOURCES],
                format_func=lambda s: "—" if s is None else s.capitalize(),
                key=form.key("source"),
            )
            form.error("source")
        with c2:
            contact = st.text_input("Contact name", max_chars=120, key=form.key("contact_name"))
            form.error("contact_name")
            phone = st.text_input("Phone", max_chars=40, key=form.key("phone"), placeholder="+1 555 010 2030")
            form.error("phone")
            region = st.selectbox(
                "Region",
                [None, *regions],
                format_func=lambda r: "—" if r is None else r,
                key=form.key("region"),
            )
            form.error("region")
        owner = None
        if owners:
            owner = st.selectbox("Owner", list(owners), format_func=owners.get, key=form.key("owner"))
            form.error("owner_id")
        created = st.form_submit_button("Create lead", type="primary", icon=":material/add:")
    form.feedback()
    if created:
        form.save(
            lambda: leads.create(
                engine,
                actor,
                company=company,
                contact_name=contact,
                email=email,
                phone=phone,
                source=source,
                region=region,
                owner_id=owner if isinstance(owner, int) else None,
                unassigned=owner == "pool",
            ),
            lambda lead: f"Lead “{lead.company}” created.",
            on_success=lambda lead: LINK.open(lead.id),
        )


def lead_list() -> None:
    st.title("Leads")
    pool_open = worklists.pool_size(engine, actor)
    top = [st.container(horizontal=True, vertical_alignment="center")] * 2
    top[0].caption(
        f"{pool_open:,} open leads wait in the unassigned pool."
        + (" Open one and claim it to work it." if actor.is_rep else "")
        if pool_open
        else "The unassigned pool is empty."
    )
    if not actor.is_rep:
        form = forms.Form("auto-assign")
        if top[1].button(
            "Auto-assign pool",
            icon=":material/shuffle:",
            key="auto_assign",
            disabled=pool_open == 0,
            help="Hand the open pool leads, oldest first, round-robin to the active reps whose team "
            "covers the lead's region"
            + ("" if actor.is_admin else " (your team only)")
            + ". Leads with no matching rep stay in the pool.",
        ):
            form.save(
                lambda: leads.auto_assign_pool(engine, actor),
                lambda done: (
                    f"Assigned {len(done):,} pool leads."
                    if done
                    else "No pool lead matched a rep's region: nothing assigned."
                ),
            )
        form.feedback()
    with st.expander("New lead", icon=":material/person_add:"):
        new_lead_form()

    views = {"mine": MINE[actor.role], "pool": "Unassigned pool", "all": "Both"}
    filters = st.columns([2.8, 2.4, 2.4], vertical_alignment="bottom")
    view = filters[0].radio("Show", list(views), format_func=views.get, horizontal=True, key="leads_view")
    statuses = filters[1].multiselect(
        "Status",
        LEAD_STATUSES,
        default=list(OPEN_STATUSES),
        format_func=str.capitalize,
        key="leads_status",
        placeholder="Any status",
    )
    search = filters[2].text_input(
        "Search", placeholder="Company, contact, email or phone", key="leads_search", icon=":material/search:"
    )
    pool = {"mine": False, "pool": True, "all": None}[view]
    first = worklists.lead_rows(engine, actor, pool=pool, statuses=statuses, search=search, limit=0)
    offset = forms.pager(first.total, PAGE_SIZE, "leads_page")
    page = worklists.lead_rows(
        engine, actor, pool=pool, statuses=statuses, search=search, limit=PAGE_SIZE, offset=offset
    )
    if page.empty:
        if search:
            st.info(f"No lead matches “{search}” with these filters.")
        elif view == "pool":
            st.info("No leads in the pool right now.")
        elif actor.is_rep:
            st.info("You have no leads with these statuses. Create one above or claim one from the pool.")
        else:
            st.info("No leads with these filters.")
        return
    rows = page.rows.copy()
    rows["owner"] = rows["owner"].fillna("— pool —")
    rows["status"] = rows["status"].map(forms.label)
    rows["source"] = rows["source"].map(lambda s: forms.label(s) if isinstance(s, str) else "")
    columns = [
        "lead_id",
        "company",
        "contact_name",
        "email",
        "status",
        "source",
        "region",
        "owner",
        "created_at",
    ]
    if actor.is_rep and view == "mine":
        columns.remove("owner")
    shown = rows[columns]
    st.caption(forms.showing(page.total, offset, len(rows), "leads") + " Select a row to open the lead.")
    LINK.pick_from(
        shown,
        "lead_id",
        key="leads_table",
        column_config={
            "lead_id": st.column_config.NumberColumn("#", format="%d", width="small"),
            "company": st.column_config.TextColumn("Company", width="medium"),
            "contact_name": "Contact",
            "email": "Email",
            "status": "Status",
            "source": "Source",
            "region": "Region",
            "owner": "Owner",
            "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD"),
        },
    )


# -- record view ---------------------------------------------------------------------------------


def lead_record(lead_id: int) -> None:
    LINK.back_button("All leads")
    lead = worklists.lead_detail(engine, actor, lead_id)
    if lead is None:
        forms.denied_panel("lead")
        return
    scope = f"lead-{lead_id}"
    record = forms.Record(scope, lead["version"])
    can_edit = can_lead(actor, EDIT, lead["owner_id"], lead["owner_team_id"])
    is_open = lead["status"] in OPEN_STATUSES

    head, reload = st.columns([5, 1], vertical_alignment="bottom")
    head.title(lead["company"], anchor=False)
    with reload:
        record.reload_button()
    status = lead["status"]
    owner = f"owner {forms.plain(lead['owner'])}" if lead["owner"] else ":gray-badge[Unassigned pool]"
    st.markdown(f":{STATUS_COLORS[status]}-badge[{forms.label(status)}] {owner} · #{lead_id}")
    contact = [forms.plain(v) for v in (lead["contact_name"], lead["email"], lead["phone"]) if v]
    facts = [
        f"source {forms.label(lead['source'])}" if lead["source"] else None,
        f"region {forms.plain(lead['region'])}" if lead["region"] else None,
        f"created {forms.when(lead['created_at'])}",
        f"last activity {forms.when(lead['last_activity_at'])}"
        if lead["last_activity_at"]
        else "no activity yet",
    ]
    st.caption(" · ".join(contact + [f for f in facts if f]))
    record.changed_notice("lead")

    if status == "converted":
        st.success(
            f"Converted into a deal on {forms.when(lead['converted_at'])}.", icon=":material/handshake:"
        )
        if lead["opportunity_id"] and st.button(
            "Open the deal", icon=":material/open_in_new:", key="lead_open_deal", type="primary"
        ):
            st.switch_page("pages/deals.py", query_params={"deal": str(lead["opportunity_id"])})
    elif status == "disqualified":
        st.caption(f"Disqualified: {forms.plain(lead['disqualify_reason'] or 'no reason given')}")

    if lead["owner_id"] is None and is_open:
        ownership_pool(lead, record)
    elif is_open and not actor.is_rep and can_edit:
        assign_form(lead, record)

    tabs = st.tabs(["Details", "Qualify & convert", "Activity", "History"])
    with tabs[0]:
        if can_edit and is_open:
            edit_form(lead, record)
        else:
            read_only(lead, can_edit)
    with tabs[1]:
        if not is_open:
            st.info(f"This lead is {status}: there is nothing left to qualify or convert.")
        elif not can_edit:
            st.info("Claim this lead first to qualify or convert it.")
        else:
            progress_forms(lead, record)
    with tabs[2]:
        activity_panel(lead, can_edit)
    with tabs[3]:
        history_panel("lead", lead_id, names=lambda ids: worklists.user_names(engine, ids))


def read_only(lead: dict, can_edit: bool) -> None:
    fields = {
        "Company": lead["company"],
        "Contact": lead["contact_name"],
        "Email": lead["email"],
        "Phone": lead["phone"],
        "Source": forms.label(lead["source"]) if lead["source"] else None,
        "Region": lead["region"],
    }
    for name, value in fields.items():
        st.markdown(f"**{name}:** {forms.plain(value) if value else '—'}")
    if lead["status"] not in OPEN_STATUSES:
        st.caption(f"A {lead['status']} lead can no longer be edited.")
    elif not can_edit:
        st.caption("Claim this lead to edit it.")


def ownership_pool(lead: dict, record: forms.Record) -> None:
    form = forms.Form("claim", scope=record.scope)
    if actor.is_rep:
        with st.container(border=True):
            st.markdown(
                "This lead is in the **unassigned pool**. Claim it to make it yours and start working it."
            )
            if st.button(
                "Claim this lead", type="primary", icon=":material/pan_tool:", key=form.key("claim")
            ):
                form.save(
                    lambda: leads.claim(
                        engine, actor, lead_id=lead["lead_id"], expected_version=record.version
                    ),
                    "Lead claimed: it is yours now.",
                )
            form.feedback()
    else:
        assign_form(lead, record)


def assign_form(lead: dict, record: forms.Record) -> None:
    form = forms.Form("assign", scope=record.scope)
    reps = worklists.assignable_reps(engine, actor)
    names = forms.choices(reps, "user_id", "display_name")
    names.pop(lead["owner_id"], None)
    if not names:
        st.caption("No other active rep to assign this lead to.")
        return
    with st.container(border=True):
        pick, go = st.columns([3, 1], vertical_alignment="bottom")
        rep = pick.selectbox(
            "Assign to" if lead["owner_id"] is not None else "Assign this pool lead to",
            list(names),
            index=None,
            placeholder="Choose a rep",
            format_func=names.get,
            key=form.key("owner_id"),
        )
        form.error("owner_id")
        if go.button("Assign", icon=":material/person_add:", key=form.key("assign"), width="stretch"):
            form.save(
                lambda: leads.assign(
                    engine, actor, lead_id=lead["lead_id"], expected_version=record.version, owner_id=rep
                ),
                lambda done: f"Assigned to {names.get(done.owner_id, 'the rep')}.",
            )
        form.feedback()


def edit_form(lead: dict, record: forms.Record) -> None:
    form = forms.Form("edit", scope=record.scope)
    regions = worklists.region_options(engine)
    if lead["region"] and lead["region"] not in regions:
        regions = [lead["region"], *regions]
    with st.form(form.form_key, border=False):
        c1, c2 = st.columns(2)
        with c1:
            company = st.text_input(
                "Company *", value=lead["company"], max_chars=200, key=form.key("company")
            )
            form.error("company")
            email = st.text_input("Email", value=lead["email"] or "", max_chars=254, key=form.key("email"))
            form.error("email")
            sources = [None, *LEAD_SOURCES]
            source = st.selectbox(
                "Source",
                sources,
                index=_optional(sources, lead["source"]),
                format_func=lambda s: "—" if s is None else s.capitalize(),
                key=form.key("source"),
            )
            form.error("source")
        with c2:
            contact = st.text_input(
                "Contact name", value=lead["contact_name"] or "", max_chars=120, key=form.key("contact_name")
            )
            form.error("contact_name")
            phone = st.text_input("Phone", value=lead["phone"] or "", max_chars=40, key=form.key("phone"))
            form.error("phone")
            options = [None, *regions]
            region = st.selectbox(
                "Region",
                options,
                index=_optional(options, lead["region"]),
                format_func=lambda r: "—" if r is None else r,
                key=form.key("region"),
            )
            form.error("region")
        submitted = st.form_submit_button("Save changes", type="primary", icon=":material/save:")
    form.feedback()
    if submitted:
        form.save(
            lambda: leads.update(
                engine,
                actor,
                lead_id=lead["lead_id"],
                expected_version=record.version,
                company=company,
                contact_name=contact,
                email=email,
                phone=phone,
                source=source,
                region=region,
            ),
            "Lead saved.",
        )


def progress_forms(lead: dict, record: forms.Record) -> None:
    qualify_col, convert_col = st.columns([1, 1.6])
    with qualify_col:
        form = forms.Form("qualify", scope=record.scope)
        if lead["status"] in ("new", "working"):
            st.markdown("**Qualify**")
            st.caption("A real need, budget and a person who decides: mark it qualified.")
            if st.button("Mark qualified", icon=":material/verified:", key=form.key("qualify")):
                form.save(
                    lambda: leads.qualify(
                        engine, actor, lead_id=lead["lead_id"], expected_version=record.version
                    ),
                    "Lead qualified.",
                )
            form.feedback()
        st.markdown("**Disqualify**")
        dq = forms.Form("disqualify", scope=record.scope)
        with st.form(dq.form_key):
            choice = st.selectbox(
                "Reason",
                [*DISQUALIFY_REASONS, OTHER],
                index=None,
                placeholder="Why not?",
                key=dq.key("choice"),
            )
            other = st.text_input("Other reason", max_chars=200, key=dq.key("other"), placeholder="If Other…")
            dq.error("reason")
            disqualify = st.form_submit_button("Disqualify", icon=":material/block:")
        dq.feedback()
        if disqualify:
            reason = other if choice == OTHER or (choice is None and other) else (choice or "")
            dq.save(
                lambda: leads.disqualify(
                    engine, actor, lead_id=lead["lead_id"], expected_version=record.version, reason=reason
                ),
                "Lead disqualified.",
            )
    with convert_col:
        st.markdown("**Convert into a deal**")
        st.caption(
            "Creates a deal in prospecting owned by you, on the account named like the company "
            "(a new account when there is none)."
        )
        form = forms.Form("convert", scope=record.scope)
        products = worklists.product_options(engine)
        product_names = forms.choices(products, "product_id", lambda p: f"{p['name']} ({p['product_line']})")
        with st.form(form.form_key):
            name = st.text_input("Deal name", value=lead["company"], max_chars=200, key=form.key("deal_name"))
            form.error("deal_name")
            c1, c2 = st.columns(2)
            with c1:
                amount = st.number_input(
                    "Amount ($)", min_value=0.0, value=0.0, step=1000.0, format="%.2f", key=form.key("amount")
                )
                form.error("amount")
            with c2:
                close = st.date_input(
                    "Expected close",
                    value=None,
                    min_value=date(2000, 1, 1),
                    max_value=date(2099, 12, 31),
                    key=form.key("expected_close_date"),
                )
                form.error("expected_close_date")
            product = st.selectbox(
                "Product",
                [None, *product_names],
                format_func=lambda p: "No product" if p is None else product_names[p],
                key=form.key("product_id"),
            )
            form.error("product_id")
            convert = st.form_submit_button("Convert to deal", type="primary", icon=":material/handshake:")
        form.feedback()
        if convert:
            form.save(
                lambda: leads.convert(
                    engine,
                    actor,
                    lead_id=lead["lead_id"],
                    expected_version=record.version,
                    deal_name=name,
                    amount=Decimal(f"{amount:.2f}"),
                    expected_close_date=close,
                    product_id=product,
                ),
                lambda c: (
                    "Converted: deal created"
                    + (" on a new account." if c.account_created else " on the existing account.")
                ),
            )


def activity_panel(lead: dict, can_edit: bool) -> None:
    forms.activity_panel(
        f"lead-{lead['lead_id']}-activity",
        (
            lambda kind, subject, at: activities.log(
                engine, actor, type=kind, subject=subject, occurred_at=at, lead_id=lead["lead_id"]
            )
        )
        if can_edit
        else None,
        worklists.activity_rows(engine, actor, lead_id=lead["lead_id"], limit=20),
        what="lead",
        cannot_log="Claim this lead to log activities on it.",
    )


LINK.route(lead_list, lead_record, back_label="All leads", denied=lambda: forms.denied_panel("lead"))
