"""Deals: the deals you may see (filter by stage, owner, search) and, with `?deal=ID`, one deal to
work: edit, move through the stages, win, lose, reopen, log activities, read its history."""

from datetime import date
from decimal import Decimal

import streamlit as st

from crm_core.audit import utcnow
from crm_core.enums import OPEN_STAGES
from crm_core.services import activities, deals
from pages.components import forms
from pages.components.history import history_panel
from pages.components.record_param import RecordParam
from pages.components.resources import get_engine
from pages.components.session import current_actor
from queries import worklists

PAGE_SIZE = 100
LOST_REASONS = ("Price", "Competitor", "No budget", "Timing", "No decision")
OTHER = "Other…"
STAGE_FILTERS = {
    "open": "Open deals",
    **{stage: stage.capitalize() for stage in OPEN_STAGES},
    "won": "Won",
    "lost": "Lost",
    "closed": "Closed (won or lost)",
    "all": "All deals",
}

actor = current_actor()
engine = get_engine()
forms.flash()


LINK = RecordParam("deal")


def _money_value(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.2f}")


# -- list view -----------------------------------------------------------------------------------


def deal_list() -> None:
    st.title("Deals")
    st.caption(
        {
            "rep": "Your deals.",
            "manager": "Your team's deals.",
            "admin": "Every deal.",
        }[actor.role]
        + " Select a row to open the deal."
    )
    filters = st.columns([1.2, 2, 1.5] if not actor.is_rep else [1.2, 3.5])
    stage = filters[0].selectbox(
        "Stage", list(STAGE_FILTERS), format_func=STAGE_FILTERS.get, key="deals_stage"
    )
    search = filters[1].text_input(
        "Search", placeholder="Deal or account name", key="deals_search", icon=":material/search:"
    )
    owner_id = None
    if not actor.is_rep:
        members = worklists.visible_members(engine, actor)
        names = forms.choices(members, "user_id", "display_name")
        owner_id = filters[2].selectbox(
            "Owner",
            [None, *names],
            format_func=lambda u: "Everyone" if u is None else names[u],
            key="deals_owner",
        )
    first = worklists.deal_rows(engine, actor, stage=stage, owner_id=owner_id, search=search, limit=0)
    offset = forms.pager(first.total, PAGE_SIZE, "deals_page")
    page = worklists.deal_rows(
        engine, actor, stage=stage, owner_id=owner_id, search=search, limit=PAGE_SIZE, offset=offset
    )
    if page.empty:
        if search:
            st.info(f"No deal matches “{search}” in {STAGE_FILTERS[stage].lower()}.")
        elif actor.is_rep and stage == "open":
            st.info("You have no open deals. Convert a qualified lead on the Leads page to start one.")
            st.page_link("pages/leads.py", label="Go to Leads", icon=":material/person_add:")
        else:
            st.info(f"No deals in {STAGE_FILTERS[stage].lower()}.")
        return
    rows = page.rows.copy()
    rows["flag"] = ["⚠ stale" if s else "" for s in rows["stale"]]
    rows["stage"] = rows["stage"].map(forms.label)
    rows["touched"] = [forms.ago(d) for d in rows["days_since_touch"]]
    shown = rows[
        ["deal_id", "name", "account", "owner", "amount", "stage", "expected_close_date", "touched", "flag"]
    ]
    st.caption(forms.showing(page.total, offset, len(rows), "deals"))
    LINK.pick_from(
        shown,
        "deal_id",
        key="deals_table",
        column_config={
            "deal_id": st.column_config.NumberColumn("#", format="%d", width="small"),
            "name": st.column_config.TextColumn("Deal", width="large"),
            "account": "Account",
            "owner": "Owner",
            "amount": st.column_config.NumberColumn("Amount", format="dollar"),
            "stage": "Stage",
            "expected_close_date": st.column_config.DateColumn("Expected close"),
            "touched": "Last touch",
            "flag": st.column_config.TextColumn("", help="No activity for more than 14 days", width="small"),
        },
    )


# -- record view ---------------------------------------------------------------------------------


def stage_path(stage: str) -> str:
    """prospecting › qualification › **proposal** › negotiation › won/lost, for the header."""
    steps = []
    for step in OPEN_STAGES:
        text = step.capitalize()
        steps.append(f":blue-background[**{text}**]" if step == stage else f":gray[{text}]")
    if stage == "won":
        steps.append(":green-background[**Won**]")
    elif stage == "lost":
        steps.append(":red-background[**Lost**]")
    else:
        steps.append(":gray[Won / Lost]")
    return " › ".join(steps)


def deal_record(deal_id: int) -> None:
    LINK.back_button("All deals")
    deal = worklists.deal_detail(engine, actor, deal_id)
    if deal is None:
        forms.denied_panel("deal")
        return
    scope = f"deal-{deal_id}"
    record = forms.Record(scope, deal["version"])
    head, reload = st.columns([5, 1], vertical_alignment="bottom")
    head.title(deal["name"], anchor=False)
    with reload:
        record.reload_button()
    bits = [f"#{deal_id}", forms.plain(deal["account"]), f"owner {forms.plain(deal['owner'])}"]
    if deal["product"]:
        bits.append(forms.plain(deal["product"]))
    st.caption(" · ".join(bits))
    st.markdown(stage_path(deal["stage"]))
    record.changed_notice("deal")

    closed = deal["stage"] in ("won", "lost")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Amount", forms.amount(deal["amount"]), border=True)
    close_label = "Closed" if closed else "Expected close"
    close_value = forms.when(deal["closed_at"].date()) if closed else forms.when(deal["expected_close_date"])
    overdue = (
        not closed and deal["expected_close_date"] is not None and deal["expected_close_date"] < date.today()
    )
    m2.metric(
        close_label,
        close_value,
        delta="overdue" if overdue else None,
        delta_color="inverse",
        delta_arrow="off",
        border=True,
    )
    end = deal["closed_at"] or utcnow()
    age = max((end - deal["created_at"]).days, 0)
    m3.metric(
        "Sales cycle" if closed else "Age",
        f"{age:,} day{'s' if age != 1 else ''}",
        help="From creation to close." if closed else "Days since the deal was created.",
        border=True,
    )
    m4.metric(
        "Last touch",
        forms.ago(deal["days_since_touch"]),
        delta="stale: no activity for 14+ days" if deal["stale"] else None,
        delta_color="inverse",
        delta_arrow="off",
        border=True,
    )
    if deal["stage"] == "lost" and deal["lost_reason"]:
        st.caption(f"Lost because: {forms.plain(deal['lost_reason'])}")

    stage_actions(deal, record)
    tabs = st.tabs(["Details", "Won / lost" if not closed else "Reopen", "Activity", "History"])
    with tabs[0]:
        edit_form(deal, record)
    with tabs[1]:
        if closed:
            reopen_form(deal, record)
        else:
            close_forms(deal, record)
    with tabs[2]:
        activity_panel(deal)
    with tabs[3]:
        history_panel("opportunity", deal_id, names=lambda ids: worklists.user_names(engine, ids))


def stage_actions(deal: dict, record: forms.Record) -> None:
    """Advance / move back among the open stages."""
    if deal["stage"] not in OPEN_STAGES:
        return
    form = forms.Form("stage", scope=record.scope)
    position = OPEN_STAGES.index(deal["stage"])
    row = st.container(horizontal=True, vertical_alignment="center")
    back = forward = row
    if position > 0:
        previous = OPEN_STAGES[position - 1]
        if back.button(f"Back to {previous}", icon=":material/chevron_left:", key=form.key("back")):
            form.save(
                lambda: deals.move_stage(
                    engine, actor, deal_id=deal["deal_id"], expected_version=record.version, to_stage=previous
                ),
                f"Moved back to {previous}.",
            )
    if position < len(OPEN_STAGES) - 1:
        following = OPEN_STAGES[position + 1]
        if forward.button(
            f"Advance to {following}",
            icon=":material/chevron_right:",
            key=form.key("advance"),
            type="primary",
        ):
            form.save(
                lambda: deals.move_stage(
                    engine,
                    actor,
                    deal_id=deal["deal_id"],
                    expected_version=record.version,
                    to_stage=following,
                ),
                f"Advanced to {following}.",
            )
    else:
        forward.caption("Last open stage: mark it won or lost in the Won / lost tab.")
    form.feedback()


def edit_form(deal: dict, record: forms.Record) -> None:
    form = forms.Form("edit", scope=record.scope)
    products = worklists.product_options(engine)
    product_names = forms.choices(products, "product_id", lambda p: f"{p['name']} ({p['product_line']})")
    with st.form(form.form_key, border=False):
        name = st.text_input("Deal name", value=deal["name"], max_chars=200, key=form.key("name"))
        form.error("name")
        c1, c2 = st.columns(2)
        with c1:
            amount = st.number_input(
                "Amount ($)",
                min_value=0.0,
                value=float(deal["amount"]),
                step=1000.0,
                format="%.2f",
                key=form.key("amount"),
            )
            form.error("amount")
        with c2:
            close = st.date_input(
                "Expected close",
                value=deal["expected_close_date"],
                min_value=date(2000, 1, 1),
                max_value=date(2099, 12, 31),
                key=form.key("expected_close_date"),
            )
            form.error("expected_close_date")
        options = [None, *product_names]
        product = st.selectbox(
            "Product",
            options,
            index=options.index(deal["product_id"]) if deal["product_id"] in options else 0,
            format_func=lambda p: "No product" if p is None else product_names[p],
            key=form.key("product_id"),
        )
        form.error("product_id")
        submitted = st.form_submit_button("Save changes", type="primary", icon=":material/save:")
    form.feedback()
    if submitted:
        form.save(
            lambda: deals.update(
                engine,
                actor,
                deal_id=deal["deal_id"],
                expected_version=record.version,
                name=name,
                amount=_money_value(amount),
                expected_close_date=close,
                product_id=product,
            ),
            "Deal saved.",
        )


def close_forms(deal: dict, record: forms.Record) -> None:
    won_col, lost_col = st.columns(2)
    with won_col:
        st.markdown("**Mark as won**")
        form = forms.Form("won", scope=record.scope)
        with st.form(form.form_key):
            final = st.number_input(
                "Final amount ($)",
                min_value=0.0,
                value=float(deal["amount"]),
                step=1000.0,
                format="%.2f",
                key=form.key("amount"),
                help="A won deal needs an amount greater than 0.",
            )
            form.error("amount")
            won = st.form_submit_button("Mark won", type="primary", icon=":material/emoji_events:")
        form.feedback()
        if won:
            form.save(
                lambda: deals.mark_won(
                    engine,
                    actor,
                    deal_id=deal["deal_id"],
                    expected_version=record.version,
                    amount=_money_value(final),
                ),
                lambda d: f"Won! {forms.amount(d.amount)} booked.",
            )
    with lost_col:
        st.markdown("**Mark as lost**")
        form = forms.Form("lost", scope=record.scope)
        with st.form(form.form_key):
            choice = st.selectbox(
                "Reason",
                [*LOST_REASONS, OTHER],
                index=None,
                placeholder="Why was it lost?",
                key=form.key("choice"),
            )
            other = st.text_input(
                "Other reason", max_chars=200, key=form.key("other"), placeholder="If Other…"
            )
            form.error("lost_reason")
            lost = st.form_submit_button("Mark lost", icon=":material/thumb_down:")
        form.feedback()
        if lost:
            reason = other if choice == OTHER or (choice is None and other) else (choice or "")
            form.save(
                lambda: deals.mark_lost(
                    engine,
                    actor,
                    deal_id=deal["deal_id"],
                    expected_version=record.version,
                    lost_reason=reason,
                ),
                "Marked lost.",
            )


def reopen_form(deal: dict, record: forms.Record) -> None:
    form = forms.Form("reopen", scope=record.scope)
    st.markdown(f"This deal is **{deal['stage']}**. Reopen it to work it again.")
    with st.form(form.form_key):
        to_stage = st.selectbox(
            "Reopen into",
            OPEN_STAGES,
            index=OPEN_STAGES.index("negotiation"),
            format_func=str.capitalize,
            key=form.key("to_stage"),
        )
        form.error("to_stage", "stage")
        reopen = st.form_submit_button("Reopen deal", icon=":material/undo:")
    form.feedback()
    if reopen:
        form.save(
            lambda: deals.reopen(
                engine, actor, deal_id=deal["deal_id"], expected_version=record.version, to_stage=to_stage
            ),
            f"Deal reopened in {to_stage}.",
        )


def activity_panel(deal: dict) -> None:
    forms.activity_panel(
        f"deal-{deal['deal_id']}-activity",
        lambda kind, subject, at: activities.log(
            engine, actor, type=kind, subject=subject, occurred_at=at, deal_id=deal["deal_id"]
        ),
        worklists.activity_rows(engine, actor, deal_id=deal["deal_id"], limit=20),
        what="deal",
    )


LINK.route(deal_list, deal_record, back_label="All deals", denied=lambda: forms.denied_panel("deal"))
