"""Admin: users (create, edit role/team, deactivate, reactivate, reset password) and teams."""

import streamlit as st

from crm_core.enums import ROLES
from crm_core.services import users
from pages.components import forms
from pages.components.history import history_panel
from pages.components.resources import get_engine
from pages.components.session import current_actor
from queries import worklists

ROLE_HELP = "Reps work their own records; managers see and assign their team's; admins see everything."

actor = current_actor()
engine = get_engine()
forms.flash()

st.title("Admin")
if not actor.is_admin:
    st.error("Only admins can manage users and teams.", icon=":material/lock:")
    st.stop()

people = worklists.user_rows(engine, actor)
teams = worklists.team_rows(engine, actor)
team_names = forms.choices(teams, "team_id", "name")
team_options = [None, *team_names]


def _team_label(team_id) -> str:
    return "No team" if team_id is None else team_names.get(team_id, f"Team #{team_id}")


def new_user_form() -> None:
    form = forms.Form("new-user")
    with st.form(form.form_key):
        c1, c2 = st.columns(2)
        with c1:
            username = st.text_input(
                "Username *",
                max_chars=60,
                key=form.key("username"),
                help="3 to 60 characters: lowercase letters, digits, dots, dashes, underscores.",
            )
            form.error("username")
            display_name = st.text_input("Display name *", max_chars=120, key=form.key("display_name"))
            form.error("display_name")
            email = st.text_input("Email", max_chars=254, key=form.key("email"))
            form.error("email")
        with c2:
            role = st.selectbox(
                "Role *",
                ROLES,
                index=ROLES.index("rep"),
                format_func=str.capitalize,
                key=form.key("role"),
                help=ROLE_HELP,
            )
            form.error("role")
            team = st.selectbox(
                "Team",
                team_options,
                format_func=_team_label,
                key=form.key("team_id"),
                help="Reps and managers need a team.",
            )
            form.error("team_id")
            password = st.text_input(
                "Password *", type="password", key=form.key("password"), help="At least 8 characters."
            )
            form.error("password")
            repeat = st.text_input("Repeat password *", type="password", key=form.key("repeat"))
            mismatch_key = form.key("mismatch")
            if st.session_state.get(mismatch_key):
                st.error("The two passwords differ.", icon=":material/error:")
        created = st.form_submit_button("Create user", type="primary", icon=":material/person_add:")
    form.feedback()
    if created:
        st.session_state[mismatch_key] = password != repeat
        if password != repeat:
            st.rerun()
        form.save(
            lambda: users.create_user(
                engine,
                actor,
                username=username,
                display_name=display_name,
                role=role,
                password=password,
                team_id=team,
                email=email,
            ),
            lambda u: f"User {u.username} created.",
        )


def user_panel(user: dict) -> None:
    user = {**user, "user_id": int(user["user_id"])}
    scope = f"user-{user['user_id']}"
    record = forms.Record(scope, int(user["version"]))
    head, reload = st.columns([5, 1], vertical_alignment="bottom")
    state = "active" if user["active"] else "deactivated"
    head.subheader(f"{user['display_name']} · {user['username']} ({state})", anchor=False)
    with reload:
        record.reload_button()
    record.changed_notice("user")
    edit_col, access_col = st.columns([1.4, 1])
    with edit_col:
        form = forms.Form("edit", scope=scope)
        with st.form(form.form_key):
            display_name = st.text_input(
                "Display name", value=user["display_name"], max_chars=120, key=form.key("display_name")
            )
            form.error("display_name")
            email = st.text_input("Email", value=user["email"] or "", max_chars=254, key=form.key("email"))
            form.error("email")
            c1, c2 = st.columns(2)
            with c1:
                role = st.selectbox(
                    "Role",
                    ROLES,
                    index=ROLES.index(user["role"]),
                    format_func=str.capitalize,
                    key=form.key("role"),
                    help=ROLE_HELP,
                )
                form.error("role")
            with c2:
                current_team = (
                    None
                    if user["team_id"] is None or user["team_id"] != user["team_id"]
                    else int(user["team_id"])
                )
                team = st.selectbox(
                    "Team",
                    team_options,
                    index=team_options.index(current_team) if current_team in team_options else 0,
                    format_func=_team_label,
                    key=form.key("team_id"),
                )
                form.error("team_id")
            saved = st.form_submit_button("Save changes", type="primary", icon=":material/save:")
        form.feedback()
        if saved:
            form.save(
                lambda: users.update_user(
                    engine,
                    actor,
                    user_id=user["user_id"],
                    expected_version=record.version,
                    display_name=display_name,
                    email=email,
                    role=role,
                    team_id=team,
                ),
                "User saved.",
            )
    with access_col:
        access = forms.Form("access", scope=scope)
        st.markdown("**Access**")
        if user["active"]:
            st.caption("Deactivating signs the user out everywhere; their records stay.")
            if st.button(
                "Deactivate user",
                icon=":material/person_off:",
                key=access.key("deactivate"),
                disabled=user["user_id"] == actor.user_id,
            ):
                access.save(
                    lambda: users.deactivate_user(
                        engine, actor, user_id=user["user_id"], expected_version=record.version
                    ),
                    f"{user['display_name']} deactivated.",
                )
        elif st.button(
            "Reactivate user", icon=":material/person_check:", key=access.key("reactivate"), type="primary"
        ):
            access.save(
                lambda: users.reactivate_user(
                    engine, actor, user_id=user["user_id"], expected_version=record.version
                ),
                f"{user['display_name']} reactivated.",
            )
        access.feedback()
        reset = forms.Form("password", scope=scope)
        with st.form(reset.form_key):
            new_password = st.text_input(
                "New password",
                type="password",
                key=reset.key("new_password"),
                help="At least 8 characters. The user is signed out everywhere.",
            )
            reset.error("new_password")
            go = st.form_submit_button("Reset password", icon=":material/key:")
        reset.feedback()
        if go:
            reset.save(
                lambda: users.reset_password(
                    engine,
                    actor,
                    user_id=user["user_id"],
                    expected_version=record.version,
                    new_password=new_password,
                ),
                "Password reset; the user was signed out everywhere.",
            )
    with st.expander("History"):
        history_panel("user", int(user["user_id"]), names=lambda ids: worklists.user_names(engine, ids))


def users_tab() -> None:
    with st.expander("New user", icon=":material/person_add:"):
        new_user_form()
    shown = people.assign(
        team=people["team"].fillna("—"),
        role=people["role"].map(str.capitalize),
        status=["Active" if a else "Deactivated" for a in people["active"]],
        locked=[forms.when(t) if t is not None and t == t else "" for t in people["locked_until"]],
    )[["username", "display_name", "role", "team", "email", "status", "locked"]]
    active = int(people["active"].sum())
    st.caption(f"{len(people):,} users, {active:,} active.")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "username": "Username",
            "display_name": "Name",
            "role": "Role",
            "team": "Team",
            "email": "Email",
            "status": "Status",
            "locked": "Locked until (UTC)",
        },
    )
    by_id = {int(r["user_id"]): r for r in people.to_dict("records")}
    chosen = st.selectbox(
        "Edit a user",
        list(by_id),
        index=None,
        placeholder="Choose a user",
        format_func=lambda u: f"{by_id[u]['display_name']} ({by_id[u]['username']})",
        key="admin_user",
    )
    if chosen is not None:
        with st.container(border=True):
            user_panel(by_id[chosen])


def teams_tab() -> None:
    if teams.empty:
        st.info("No teams yet: create the first one below.")
    else:
        st.dataframe(
            teams[["name", "region", "members", "active_members"]],
            hide_index=True,
            width="stretch",
            column_config={
                "name": "Team",
                "region": "Region",
                "members": "Members",
                "active_members": "Active",
            },
        )
    new_col, edit_col = st.columns(2)
    with new_col:
        st.markdown("**New team**")
        form = forms.Form("new-team")
        with st.form(form.form_key):
            name = st.text_input("Name *", max_chars=120, key=form.key("name"))
            form.error("name")
            region = st.text_input(
                "Region",
                max_chars=60,
                key=form.key("region"),
                help="Leads of this region are auto-assigned to the team's reps.",
            )
            form.error("region")
            created = st.form_submit_button("Create team", type="primary", icon=":material/group_add:")
        form.feedback()
        if created:
            form.save(
                lambda: users.create_team(engine, actor, name=name, region=region),
                lambda t: f"Team {t.name} created.",
            )
    with edit_col:
        st.markdown("**Rename a team**")
        if teams.empty:
            st.caption("No team to rename yet.")
            return
        rows = {int(r["team_id"]): r for r in teams.to_dict("records")}
        team_id = st.selectbox("Team", list(rows), format_func=lambda t: rows[t]["name"], key="admin_team")
        scope = f"team-{team_id}"
        record = forms.Record(scope, int(rows[team_id]["version"]))
        record.reload_button()
        record.changed_notice("team")
        form = forms.Form("edit", scope=scope)
        with st.form(form.form_key):
            name = st.text_input("Name", value=rows[team_id]["name"], max_chars=120, key=form.key("name"))
            form.error("name")
            region = st.text_input(
                "Region", value=rows[team_id]["region"] or "", max_chars=60, key=form.key("region")
            )
            form.error("region")
            saved = st.form_submit_button("Save team", icon=":material/save:")
        form.feedback()
        if saved:
            form.save(
                lambda: users.update_team(
                    engine, actor, team_id=team_id, expected_version=record.version, name=name, region=region
                ),
                "Team saved.",
            )


users_tab_, teams_tab_ = st.tabs([f"Users ({len(people):,})", f"Teams ({len(teams):,})"])
with users_tab_:
    users_tab()
with teams_tab_:
    teams_tab()
