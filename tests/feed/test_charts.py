"""Charts as inline SVG: labels escaped, bars scaled to the axis, gaps for months without a
value, an empty chart says so."""

from __future__ import annotations

import re

from services.feed.charts import bar_chart, line_chart


def test_bars_are_scaled_and_labels_escaped() -> None:
    svg = str(bar_chart([("<script>", 2), ("b", 4)], title="Volume & meer"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Volume &amp; meer" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"', svg)]
    assert len(heights) == 2 and abs(heights[1] - 2 * heights[0]) < 0.2


def test_a_line_leaves_a_gap_and_an_empty_chart_says_so() -> None:
    svg = str(
        line_chart([("01", 90), ("02", None), ("03", 95), ("04", 97)], title="SLA", maximum=100)
    )
    assert svg.count("<circle") == 3 and svg.count("<polyline") == 1  # 03-04 joined, 01 alone
    for empty in (line_chart([("01", None)], title="Leeg"), bar_chart([], title="Leeg")):
        assert "geen gegevens" in str(empty) and "g-lijn" not in str(empty)  # no empty axes
