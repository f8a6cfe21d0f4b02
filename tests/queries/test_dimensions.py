"""The sidebar's filter choices on hand-made data."""

from sqlalchemy import Engine

from queries.dimensions import FilterChoices, filter_choices


def test_choices_are_sorted_for_people_and_complete(engine: Engine, scenario) -> None:
    s = scenario()
    s.team(1, "beta").team(2, "Alpha").team(3, "Empty team")
    s.user(10, team=1, name="zoe Quinn").user(11, team=2, name="Adam Smith")
    s.user(12, active=False, name="Ben Old").user(13, role="manager", team=1, name="Mia Manager")
    s.product(1, "Services").product(2, "analytics").product(3, "Services")
    s.account(100, owner=10, region="EMEA").account(101, owner=11, region="APAC").account(102, owner=11)
    s.lead(1, "2026-03-01", region="LATAM").lead(2, "2026-03-02", region="EMEA").lead(3, "2026-03-03")
    s.load(engine)

    assert filter_choices(engine) == FilterChoices(
        teams=((2, "Alpha"), (1, "beta"), (3, "Empty team")),
        regions=("APAC", "EMEA", "LATAM"),
        product_lines=("analytics", "Services"),
        reps=((11, "Adam Smith", 2), (12, "Ben Old", None), (10, "zoe Quinn", 1)),
    )


def test_no_data_gives_empty_choices(engine: Engine) -> None:
    assert filter_choices(engine) == FilterChoices(teams=(), regions=(), product_lines=(), reps=())
