"""The inline-SVG chart helper: well-formed, escaped, points placed where the data says."""
import xml.etree.ElementTree as ET

from prefkit.plots import Series, line_chart, nice_ticks

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_line_chart_is_well_formed_svg_with_one_polyline_per_series():
    svg = line_chart([Series("loss", [(1, 0.7), (2, 0.5), (3, 0.4)]), Series("eval", [(3, 0.8)], markers=True)],
                     title="Curves", x_label="step", y_label="value")
    root = ET.fromstring(svg)
    assert root.find("svg:title", NS).text == "Curves"
    groups = root.findall(".//svg:g[@class='series']", NS)
    assert [g.get("data-name") for g in groups] == ["loss", "eval"]
    assert [g.get("data-points") for g in groups] == ["3", "1"]
    assert "loss: 1: 0.7, 2: 0.5, 3: 0.4" in root.find("svg:desc", NS).text


def test_higher_values_are_drawn_higher_and_later_steps_further_right():
    svg = line_chart([Series("loss", [(0, 1.0), (10, 0.0)])], title="t")
    polyline = ET.fromstring(svg).find(".//svg:polyline", NS)
    (x0, y0), (x1, y1) = [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]
    assert x1 > x0 and y1 > y0  # SVG y grows downwards: the lower value sits lower on the page


def test_text_is_escaped():
    svg = line_chart([Series("<script>alert(1)</script>", [(0, 1)])], title="a & <b>")
    assert "<script>" not in svg
    ET.fromstring(svg)  # still well-formed


def test_empty_chart_says_so():
    svg = line_chart([Series("loss", [])], title="Loss", empty_text="waiting for the first step")
    assert "waiting for the first step" in svg
    ET.fromstring(svg)


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0, 1) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0.3, 0.71)[0] >= 0.3 and nice_ticks(0.3, 0.71)[-1] <= 0.71
    assert nice_ticks(0, 1000, 6) == [0, 200, 400, 600, 800, 1000]
