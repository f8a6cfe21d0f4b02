"""The one look of every chart: people's names for series, slices and axes."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from pages.components.charts import styled


def test_charts_name_their_series_slices_and_axes_for_people():
    frame = pd.DataFrame(
        {"month": ["2026-01", "2026-02"], "new_customers": [3, 4], "churned_customers": [1, 0]}
    )
    fig = styled(
        px.bar(frame, x="month", y=["new_customers", "churned_customers"], labels={"value": "accounts"})
    )
    assert [t.name for t in fig.data] == ["New customers", "Churned customers"]
    assert "=New customers<" in fig.data[0].hovertemplate
    assert fig.layout.yaxis.title.text == "Accounts"
    assert fig.layout.xaxis.title.text is None  # "month": the dates say it
    pie = styled(go.Figure(go.Pie(labels=["healthy", "at_risk", "critical", "other"], values=[1, 2, 3, 4])))
    assert list(pie.data[0].labels) == ["Healthy", "At risk", "Critical", "other"]
