"""Teams, users and their demo logins.

The roster (team names, people, usernames) depends only on the size, never on the seed, so the
README's logins work for any `--seed`. Each role shares one password; it is hashed once with
bcrypt and the hash reused, since hashing per user at cost 12 would take minutes at large sizes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from sqlalchemy import Engine, case, select

from crm_core.models import Team, User
from crm_core.passwords import hash_password
from seed.demo_common import Column, SizeSpec, Table, bools, ints, refs, texts

DEMO_PASSWORDS: dict[str, str] = {
    "admin": "warroom-admin",
    "manager": "warroom-manager",
    "rep": "warroom-rep",
}
ADMIN_USERNAME = "admin"

REGIONS = ("North America", "EMEA", "APAC", "LATAM")
TEAM_NAMES = {
    "North America": (
        "North America East",
        "North America West",
        "North America Central",
        "Canada",
        "US Federal",
    ),
    "EMEA": ("EMEA Enterprise", "EMEA DACH", "EMEA Nordics", "EMEA UK & Ireland", "EMEA South"),
    "APAC": ("APAC Growth", "APAC ANZ", "APAC Japan", "APAC India", "APAC South-East Asia"),
    "LATAM": ("LATAM Expansion", "LATAM Brazil", "LATAM Mexico", "LATAM Andes", "LATAM Southern Cone"),
}

# The two reps the demo tells a story about; their names are reserved out of the random roster.
STAR_REP = ("Maya", "Chen")
STRUGGLING_REP = ("Oliver", "Grant")
STAR_REP_USERNAME = "maya.chen"
STRUGGLING_REP_USERNAME = "oliver.grant"
STAR_REGION, STRUGGLING_REGION = "North America", "APAC"

FIRST_NAMES = [
    "Aaliyah",
    "Adam",
    "Aisha",
    "Akira",
    "Alejandro",
    "Amara",
    "Ana",
    "Andre",
    "Arjun",
    "Ava",
    "Beatriz",
    "Ben",
    "Camila",
    "Carlos",
    "Chloe",
    "Chen",
    "Daniel",
    "Diego",
    "Elena",
    "Emeka",
    "Emma",
    "Ethan",
    "Fatima",
    "Felipe",
    "Freya",
    "Gabriel",
    "Grace",
    "Hana",
    "Hannah",
    "Hiro",
    "Ines",
    "Isaac",
    "Isabel",
    "Jack",
    "Jonas",
    "Julia",
    "Kai",
    "Kenji",
    "Laila",
    "Lars",
    "Leila",
    "Liam",
    "Lucas",
    "Lucia",
    "Mateo",
    "Mei",
    "Mia",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Nikhil",
    "Nina",
    "Noah",
    "Omar",
    "Paula",
    "Priya",
    "Rafael",
    "Ravi",
    "Rosa",
    "Ryan",
    "Sara",
    "Sebastian",
    "Sofia",
    "Sven",
    "Tariq",
    "Thandi",
    "Valentina",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
]
LAST_NAMES = [
    "Abbott",
    "Adeyemi",
    "Alvarez",
    "Andersson",
    "Bauer",
    "Bennett",
    "Bianchi",
    "Brooks",
    "Castillo",
    "Costa",
    "Dubois",
    "Edwards",
    "Eriksen",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Ito",
    "Jensen",
    "Kapoor",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Marino",
    "Martins",
    "Mendes",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Ortiz",
    "Patel",
    "Perez",
    "Quinn",
    "Ramos",
    "Reyes",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Suzuki",
    "Tanaka",
    "Torres",
    "Valdez",
    "Wagner",
    "Walsh",
    "Weber",
    "Yamamoto",
    "Zhang",
]


def region_names(codes: np.ndarray) -> Column:
    """Region codes (indexes into REGIONS) as the text column of a table."""
    return texts(np.array(REGIONS, dtype=object)[codes])


class DemoLogin(NamedTuple):
    username: str
    role: str
    team_name: str | None


@dataclass(frozen=True)
class People:
    """Who works here. Arrays over reps are indexed 0 … n_reps-1 (user id = `rep_user_ids[i]`)."""

    team_regions: list[str]
    team_manager_ids: np.ndarray
    rep_user_ids: np.ndarray
    rep_team: np.ndarray  # team index (0-based) of each rep
    rep_region: np.ndarray  # region index of each rep
    star: int  # rep index
    struggler: int  # rep index
    tables: list[Table]


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _names(count: int) -> list[tuple[str, str]]:
    """`count` distinct (first, last) pairs, the same for every seed."""
    reserved = {STAR_REP, STRUGGLING_REP}
    pool = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES if (f, last) not in reserved]
    random.Random(20_240_601).shuffle(pool)
    if count > len(pool):
        raise ValueError(f"the roster has only {len(pool)} distinct names")
    return pool[:count]


def _teams(spec: SizeSpec) -> tuple[list[str], list[str]]:
    names, regions = [], []
    for region in REGIONS:
        for name in TEAM_NAMES[region][: spec.teams_per_region]:
            names.append(name)
            regions.append(region)
    return names, regions


def build_people(spec: SizeSpec) -> People:
    """Teams (one per region per `teams_per_region`), an admin, a manager per team and the reps."""
    team_names, team_regions = _teams(spec)
    n_teams = len(team_names)
    reps_per_team = _split(spec.reps, n_teams)
    names = iter(_names(n_teams + spec.reps))

    star_team = team_regions.index(STAR_REGION)
    struggler_team = team_regions.index(STRUGGLING_REGION)
    users: list[tuple[str, str, str, int]] = [(ADMIN_USERNAME, "War Room Admin", "admin", 0)]
    users += [(*_login(next(names)), "manager", t + 1) for t in range(n_teams)]
    rep_team: list[int] = []
    star = struggler = -1
    for t, count in enumerate(reps_per_team):
        for k in range(count):
            person = next(names)
            if t == star_team and k == 0:
                person, star = STAR_REP, len(rep_team)
            elif t == struggler_team and k == 0:
                person, struggler = STRUGGLING_REP, len(rep_team)
            users.append((*_login(person), "rep", t + 1))
            rep_team.append(t)

    hashes = {role: hash_password(password) for role, password in DEMO_PASSWORDS.items()}
    n_users = len(users)
    user_ids = np.arange(1, n_users + 1)
    usernames = [u[0] for u in users]
    users_table = Table(
        "users",
        {
            "id": ints(user_ids),
            "username": texts(usernames),
            "display_name": texts([u[1] for u in users]),
            "role": texts([u[2] for u in users]),
            "team_id": refs(np.array([u[3] for u in users])),
            "email": texts([f"{name}@warroom.example" for name in usernames]),
            "active": bools(np.ones(n_users, dtype=bool)),
            "password_hash": texts([hashes[u[2]] for u in users]),
        },
    )
    teams_table = Table(
        "teams",
        {
            "id": ints(np.arange(1, n_teams + 1)),
            "name": texts(team_names),
            "region": texts(team_regions),
        },
    )
    rep_team_arr = np.array(rep_team, dtype=np.int64)
    region_index = np.array([REGIONS.index(r) for r in team_regions], dtype=np.int64)
    return People(
        team_regions=team_regions,
        team_manager_ids=np.arange(2, n_teams + 2, dtype=np.int64),
        rep_user_ids=np.arange(n_teams + 2, n_users + 1, dtype=np.int64),
        rep_team=rep_team_arr,
        rep_region=region_index[rep_team_arr],
        star=star,
        struggler=struggler,
        tables=[teams_table, users_table],
    )


def _login(person: tuple[str, str]) -> tuple[str, str]:
    first, last = person
    return f"{first}.{last}".lower(), f"{first} {last}"


def demo_logins(engine: Engine) -> list[DemoLogin]:
    """Every active user who can log in: admin first, then managers, then reps, by team and name.

    The password of each is `DEMO_PASSWORDS[role]` when the database holds the demo data.
    """
    role_order = case({"admin": 0, "manager": 1, "rep": 2}, value=User.role, else_=3)
    stmt = (
        select(User.username, User.role, Team.name)
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.active.is_(True), User.password_hash.is_not(None))
        .order_by(role_order, Team.id, User.username)
    )
    with engine.connect() as conn:
        return [DemoLogin(*row) for row in conn.execute(stmt)]
