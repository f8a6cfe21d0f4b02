"""My Pipeline: the open deals you may see, by stage, as cards; a card opens the deal."""

import streamlit as st

from crm_core.enums import OPEN_STAGES
from pages.components import forms
from pages.components.formatting import money
from pages.components.resources import get_engine
from pages.components.session import current_actor
from queries import worklists

PER_STAGE = 25
TITLES = {"rep": "My Pipeline", "manager": "Team Pipeline", "admin": "Pipeline Board"}

actor = current_actor()
engine = get_engine()
forms.flash()

st.title(TITLES[actor.role])
st.caption(
    "Open deals by stage, largest first. ⚠ marks a deal with no activity for more than 14 days; "
    "a red date is an expected close already past."
)

controls = st.columns([2, 1, 3], vertical_alignment="bottom") if not actor.is_rep else [st.container()] * 2
owner_id = None
if not actor.is_rep:
    members = worklists.visible_members(engine, actor)
    names = forms.choices(members, "user_id", "display_name")
    owner_id = controls[0].selectbox(
        "Owner",
        [None, *names],
        format_func=lambda u: "Everyone" if u is None else names[u],
        key="board_owner",
    )
stale_only = controls[1].toggle("Stale only", key="board_stale")

totals = worklists.pipeline_totals(engine, actor, owner_id=owner_id)
open_deals, open_amount, stale = (
    int(totals["deals"].sum()),
    float(totals["amount"].sum()),
    int(totals["stale"].sum()),
)
k1, k2, k3 = st.columns(3)
k1.metric("Open deals", f"{open_deals:,}", border=True)
k2.metric("Open pipeline", money(open_amount), border=True, help=forms.amount(open_amount))
k3.metric(
    "Stale deals",
    f"{stale:,}",
    border=True,
    help="Open deals with no activity for more than 14 days: log a call or email to keep them warm.",
)

if open_deals == 0:
    st.info(
        "No open deals here yet. Qualify and convert a lead on the Leads page to start one."
        if actor.is_rep
        else "No open deals for this selection."
    )
    st.page_link("pages/leads.py", label="Go to Leads", icon=":material/person_add:")
    st.stop()

cards = worklists.pipeline_cards(engine, actor, owner_id=owner_id, per_stage=PER_STAGE)
if stale_only:
    cards = cards[cards["stale"]]
by_stage = {stage: cards[cards["stage"] == stage] for stage in OPEN_STAGES}
counts = dict(zip(totals["stage"], totals["deals"], strict=True))
amounts = dict(zip(totals["stage"], totals["amount"], strict=True))
stale_counts = dict(zip(totals["stage"], totals["stale"], strict=True))

for stage, column in zip(OPEN_STAGES, st.columns(len(OPEN_STAGES)), strict=True):
    with column:
        st.subheader(stage.capitalize(), anchor=False, divider="gray")
        header = f"{counts[stage]:,} deals · {money(amounts[stage])}"
        if stale_counts[stage]:
            header += f" · ⚠ {stale_counts[stage]:,} stale"
        st.caption(header)
        stage_cards = by_stage[stage]
        if stage_cards.empty:
            st.caption("No stale deals in this stage." if stale_only else "No deals in this stage.")
        for card in stage_cards.itertuples():
            with st.container(border=True):
                st.markdown(f"**{forms.plain(card.name)}**")
                who = forms.plain(card.account) + ("" if actor.is_rep else f" · {forms.plain(card.owner)}")
                st.caption(who)
                close = forms.when(card.expected_close_date)
                if card.expected_close_date is None or close == "—":
                    close_text = ":gray[no close date]"
                else:
                    close_text = f":red[close {close}]" if card.overdue else f"close {close}"
                line = f"**{forms.amount(card.amount)}** · {close_text}"
                if card.stale:
                    line += f"  \n:orange[⚠ last touch {forms.ago(card.days_since_touch)}]"
                st.markdown(line)
                if st.button("Open", key=f"board-open-{card.deal_id}", icon=":material/open_in_new:"):
                    st.switch_page("pages/deals.py", query_params={"deal": str(card.deal_id)})
        hidden = counts[stage] - len(stage_cards)
        if hidden > 0 and not stale_only:
            st.caption(f"+{hidden:,} smaller deals: see the Deals page.")
