"""The SVG charts (no database)."""

from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree as ET

from anagen.outcomes import charts


@dataclass
class P:
    visit_date: date
    is_baseline: bool
    hair_count: int | None
    density_per_cm2: float | None
    mean_diameter_um: float | None


def _parse(svg):
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_chart_has_a_point_per_measurement_a_baseline_and_session_markers():
    svg = charts.line_chart_svg(title="Density", unit="hairs/cm²",
                                points=[(date(2025, 1, 6), 120.0), (date(2025, 4, 7), 131.5), (date(2025, 7, 7), 140.0)],
                                markers=[charts.Marker(date(2025, 1, 13), "Micrograft")], baseline=120.0)
    root = _parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}circle")) == 3
    assert len([e for e in root.iter(f"{ns}line") if e.get("class") == "session"]) == 1
    assert len([e for e in root.iter(f"{ns}line") if e.get("class") == "baseline"]) == 1
    assert "131.5" in svg and "baseline 120.0" in svg and "Micrograft" in svg


def test_chart_escapes_labels():
    svg = charts.line_chart_svg(title="A<b>", unit="", points=[(date(2025, 1, 1), 1.0)],
                                markers=[charts.Marker(date(2025, 1, 2), "<script>")])
    _parse(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_empty_chart_says_so():
    svg = charts.line_chart_svg(title="Density", unit="hairs/cm²", points=[])
    _parse(svg)
    assert "No measurements yet" in svg


def test_single_point_and_flat_values_do_not_divide_by_zero():
    _parse(charts.line_chart_svg(title="x", unit="", points=[(date(2025, 1, 1), 5.0)], baseline=5.0))
    _parse(charts.line_chart_svg(title="x", unit="", points=[(date(2025, 1, 1), 0.0), (date(2025, 1, 1), 0.0)]))


def test_uncalibrated_measurements_chart_hair_count_and_say_density_needs_calibration():
    pts = [P(date(2025, 1, 1), True, 80, None, 55.0), P(date(2025, 4, 1), False, 92, None, 58.0)]
    out = charts.measurement_charts(pts)
    assert [c.key for c in out] == ["hair_count", "diameter"]
    assert "calibration" in out[0].note


def test_calibrated_measurements_chart_density_first():
    pts = [P(date(2025, 1, 1), True, 80, 123.1, 55.0), P(date(2025, 4, 1), False, 92, 141.5, 58.0)]
    out = charts.measurement_charts(pts)
    assert [c.key for c in out] == ["density", "hair_count", "diameter"]
    assert "baseline 123.1" in out[0].svg


def test_nice_ticks_cover_the_range():
    t = charts.nice_ticks(93, 131)
    assert t[0] <= 93 and t[-1] >= 131


def test_the_docstring_examples_hold():
    import doctest

    result = doctest.testmod(charts)
    assert result.failed == 0 and result.attempted > 0
