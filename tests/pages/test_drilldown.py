from pages.components.drilldown import selected_category, selected_points

STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won")


def _event(*points):
    return {"selection": {"points": list(points), "box": [], "lasso": []}}


def test_no_event_or_empty_selection_selects_nothing():
    assert selected_points(None) == []
    assert selected_points({}) == []
    assert selected_category(_event(), "y", STAGES) is None


def test_clicked_bar_gives_its_category():
    event = _event({"y": "proposal", "x": 42, "point_index": 2, "curve_number": 0})
    assert selected_category(event, "y", STAGES) == "proposal"


def test_first_valid_point_wins_and_unknown_values_are_ignored():
    event = _event({"y": "DROP TABLE"}, {"y": 7}, {"y": "won"})
    assert selected_category(event, "y", STAGES) == "won"
    assert selected_category(_event({"y": "lost"}), "y", STAGES) is None


def test_axis_matters():
    event = _event({"x": "qualification", "y": 10})
    assert selected_category(event, "x", STAGES) == "qualification"
    assert selected_category(event, "y", STAGES) is None


def test_attribute_style_event_is_read_too():
    class Selection:
        points = [{"x": "negotiation"}]

    class Event:
        selection = Selection()

    assert selected_category(Event(), "x", STAGES) == "negotiation"
