"""The inline-SVG chart helpers (line, forest, heatmap): well-formed, escaped, described in words,
marks placed where the data says."""
import xml.etree.ElementTree as ET

from prefkit.plots import Series, forest, heatmap, line_chart, nice_ticks

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


def _figure(value, low=None, high=None, n=10):
    return {"value": value, "ci_low": low, "ci_high": high, "n": n}


def test_forest_draws_one_row_per_estimate_with_its_interval_and_says_it_in_words():
    svg = forest([("alice", _figure(0.8, 0.7, 0.9, 120)), ("bob", _figure(0.3, 0.2, 0.4)), ("carol", _figure(None))],
                 title="Share left", reference=0.5, reference_label="no bias")
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.find("svg:title", NS).text == "Share left"
    rows = root.findall(".//svg:g[@class='estimate']", NS)
    assert [r.get("data-label") for r in rows] == ["alice", "bob"]  # no value, no row
    dots = [float(r.find("svg:circle", NS).get("cx")) for r in rows]
    assert dots[0] > dots[1]  # 0.8 right of 0.3
    interval = rows[0].find("svg:line[@class='interval']", NS)
    assert float(interval.get("x1")) < dots[0] < float(interval.get("x2"))
    assert "alice: 0.800, interval 0.700 to 0.900, n=120" in root.find("svg:desc", NS).text
    reference = root.find("svg:line[@class='reference']", NS)
    assert dots[1] < float(reference.get("x1")) < dots[0]


def test_forest_keeps_values_outside_the_axis_at_its_edge_and_says_when_empty():
    svg = forest([("x", _figure(-0.5, -0.9, 0.1))], title="alpha", lo=-0.2, hi=1.0, reference=0.0)
    root = ET.fromstring(svg)
    cx = float(root.find(".//svg:circle", NS).get("cx"))
    assert cx == 170.0  # the left margin: drawn at -0.2, labelled with its value
    assert "-0.500" in svg
    empty = ET.fromstring(forest([], title="none"))
    assert empty.find("svg:desc", NS).text == "no data"


def test_heatmap_colours_each_pair_both_ways_and_leaves_unknown_pairs_empty():
    svg = heatmap(["a", "b", "c"], {("a", "b"): 1.0, ("c", "b"): -1.0}, title="kappa")
    root = ET.fromstring(svg)
    cells = {c.find("svg:title", NS).text: c.get("fill") for c in root.findall(".//svg:rect[@class='cell']", NS)}
    assert cells == {"a ~ b: 1.000": "rgb(0,0,255)", "b ~ a: 1.000": "rgb(0,0,255)",
                     "b ~ c: -1.000": "rgb(255,0,0)", "c ~ b: -1.000": "rgb(255,0,0)"}
    assert root.find("svg:desc", NS).text == "a ~ b: 1.000; b ~ c: -1.000"


def test_forest_and_heatmap_escape_their_labels():
    name = "<script>alert(1)</script>"
    for svg in (forest([(name, _figure(0.5))], title="a & b"), heatmap([name, "x"], {(name, "x"): 0.2}, title="<t>")):
        assert "<script>" not in svg
        ET.fromstring(svg)
    assert "no pair" in heatmap([], {}, title="kappa")
