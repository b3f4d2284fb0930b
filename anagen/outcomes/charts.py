"""Server-rendered SVG charts of a patient's measurements over time.

No JavaScript and no chart library: the same SVG string goes inline into the patient page and
into the PDF report (WeasyPrint draws SVG), so what the clinician sees is what the patient gets.
Nothing here imports Django; text is escaped with :func:`html.escape`.

A chart plots one measurement (density in hairs/cm², hair count in the target area, or mean
shaft diameter in µm) against the visit date, with

- a dashed horizontal line at the baseline value,
- a dotted vertical line at every treatment session (procedure), labelled with its modality,
- each point labelled with its value, and a ``<title>`` on hover.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

# Colours from anagen.css (text, accent, muted), so the chart sits in the page.
INK = "#1f2933"
ACCENT = "#0b6e69"
MUTED = "#7b8794"
MARKER = "#b45309"
GRID = "#e4e7eb"


@dataclass(frozen=True)
class Marker:
    """A vertical line at ``on``: a treatment session."""

    on: date
    label: str


@dataclass(frozen=True)
class Chart:
    key: str          # "density", "hair_count", "diameter"
    title: str
    unit: str
    svg: str
    note: str = ""


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten).

    Examples
    --------
    >>> nice_ticks(93, 131)
    [90.0, 100.0, 110.0, 120.0, 130.0, 140.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return [float(t) for t in ticks]


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def line_chart_svg(*, title: str, unit: str, points: Sequence[tuple[date, float]],
                   markers: Sequence[Marker] = (), baseline: float | None = None,
                   decimals: int = 1, width: int = 640, height: int = 260,
                   flagged: Sequence[date] = (), y_from_zero: bool = False, font_size: int = 11) -> str:
    """One measurement against date, as a standalone ``<svg>`` string.

    Parameters
    ----------
    title, unit
        Shown above the plot and on the y axis.
    points
        ``(visit_date, value)`` pairs; they are sorted by date.
    markers
        Treatment sessions drawn as vertical lines.
    baseline
        Drawn as a dashed horizontal line labelled "baseline".
    flagged
        Visit dates whose values are implausible: drawn as hollow warning-coloured points
        with a "?" so a reader does not take them at face value.
    y_from_zero
        Start the y axis at zero (for values that cannot be negative), so a small change does not
        look like a large one: the patient's report uses it.
    font_size
        Of the axis and point labels (the title is 2 larger, session labels 2 smaller): larger
        where the chart is printed small.
    """
    pts = sorted(((d, float(v)) for d, v in points if v is not None and math.isfinite(float(v))),
                 key=lambda p: p[0])
    label = f"{title} ({unit})" if unit else title
    fs = font_size
    left, right, top, bottom = 14 + 4 * fs, 40, 17 + fs, 29 + fs
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="{fs}" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<text x="{left}" y="{fs + 5}" font-size="{fs + 2}" font-weight="bold" fill="{INK}">{escape(label)}</text>',
    ]
    if not pts:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}">'
                     "No measurements yet</text></svg>")
        return "".join(parts)

    dates = [d for d, _ in pts] + [m.on for m in markers]
    d0, d1 = min(dates), max(dates)
    span = max((d1 - d0).days, 1)
    values = [v for _, v in pts] + ([baseline] if baseline is not None else [])
    lowest = min(values)
    ticks = nice_ticks(0.0 if y_from_zero and lowest >= 0 else lowest, max(values))
    y_lo, y_hi = ticks[0], ticks[-1]

    def x(d: date) -> float:
        if d1 == d0:
            return left + plot_w / 2
        return left + (d - d0).days / span * plot_w

    def y(v: float) -> float:
        return top + plot_h - (v - y_lo) / (y_hi - y_lo) * plot_h

    # Grid and y-axis labels.
    for t in ticks:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y(t) + fs * 0.35:.1f}" text-anchor="end" fill="{MUTED}">{t:g}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{MUTED}"/>')

    # Treatment sessions, numbered; a label close to the previous one drops a line so they do not overlap.
    label_x, level = None, 0
    for i, m in enumerate(sorted(markers, key=lambda m: m.on), start=1):
        mx = x(m.on)
        parts.append(f'<line class="session" x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{top + plot_h}" '
                     f'stroke="{MARKER}" stroke-dasharray="2 3"><title>Session {i}: {escape(m.label)} '
                     f'{m.on:%d/%m/%Y}</title></line>')
        text = f"{i} {m.label}"
        level = level + 1 if label_x is not None and mx - label_x < len(text) * (fs - 2) * 0.55 + 6 else 0
        label_x = mx
        parts.append(f'<text x="{mx + 3:.1f}" y="{top + fs - 1 + (fs - 1) * (level % 4)}" fill="{MARKER}" '
                     f'font-size="{fs - 2}">{escape(text)}</text>')

    # Baseline.
    if baseline is not None:
        by = y(baseline)
        parts.append(f'<line class="baseline" x1="{left}" x2="{left + plot_w}" y1="{by:.1f}" y2="{by:.1f}" '
                     f'stroke="{MUTED}" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{left + plot_w - 2}" y="{by - 4:.1f}" text-anchor="end" fill="{MUTED}">'
                     f"baseline {_fmt(baseline, decimals)}</text>")

    # X-axis date labels: every point, thinned when crowded.
    step = max(1, math.ceil(len(pts) / max(2, int(8 * 11 / fs))))
    last = len(pts) - 1
    label_w = 9 * fs * 0.6  # "05 Nov 26"

    def labelled(i: int) -> bool:
        """Every ``step``-th point and the last, none so close to the last that they overlap."""
        if i == last:
            return True
        return i % step == 0 and x(pts[last][0]) - x(pts[i][0]) >= label_w

    for i, (d, _) in enumerate(pts):
        if labelled(i):
            parts.append(f'<text x="{x(d):.1f}" y="{top + plot_h + fs + 5}" text-anchor="middle" fill="{MUTED}">'
                         f"{d:%d/%m/%y}</text>")

    # The line and its points.
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(pts))
    parts.append(f'<path d="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    odd = set(flagged)
    for i, (d, v) in enumerate(pts):
        if d in odd:
            parts.append(f'<circle class="point flagged" cx="{x(d):.1f}" cy="{y(v):.1f}" r="5" fill="#fff" '
                         f'stroke="{MARKER}" stroke-width="2"><title>{d:%d/%m/%Y}: {_fmt(v, decimals)} '
                         f"{escape(unit)} (flagged as implausible)</title></circle>")
            parts.append(f'<text x="{x(d):.1f}" y="{y(v) - fs * 0.7:.1f}" text-anchor="middle" fill="{MARKER}">'
                         f"{_fmt(v, decimals)} ?</text>")
            continue
        parts.append(f'<circle class="point" cx="{x(d):.1f}" cy="{y(v):.1f}" r="4" fill="{ACCENT}">'
                     f"<title>{d:%d/%m/%Y}: {_fmt(v, decimals)} {escape(unit)}</title></circle>")
        if labelled(i):
            parts.append(f'<text x="{x(d):.1f}" y="{y(v) - fs * 0.7:.1f}" text-anchor="middle" fill="{INK}">{_fmt(v, decimals)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def measurement_charts(points: Sequence, markers: Sequence[Marker] = (), *, y_from_zero: bool = False,
                       font_size: int = 11) -> list[Chart]:
    """The patient's charts: density (or hair count while uncalibrated), hair count, diameter.

    ``points`` are objects with ``visit_date``, ``is_baseline``, ``density_per_cm2``,
    ``hair_count`` and ``mean_diameter_um`` (the assessments app's ``MeasurementPoint``); points
    with ``flags`` are drawn as flagged.
    When no visit has a density (the image was not calibrated, so the area is unknown) the
    first chart is hair count with a note saying that density needs calibration.
    """
    baseline = next((p for p in points if p.is_baseline), points[0] if points else None)

    def series(attr):
        return [(p.visit_date, getattr(p, attr)) for p in points if getattr(p, attr) is not None]

    def base(attr):
        return getattr(baseline, attr) if baseline is not None else None

    flagged = [p.visit_date for p in points if getattr(p, "flags", ())]
    style = {"y_from_zero": y_from_zero, "font_size": font_size}

    charts = []
    density = series("density_per_cm2")
    missing_density = any(p.density_per_cm2 is None for p in points)
    if density:
        note = ("Some visits have no density: their images were not calibrated, so the target area is unknown."
                if missing_density else "")
        charts.append(Chart("density", "Density", "hairs/cm²",
                            line_chart_svg(title="Density", unit="hairs/cm²", points=density, markers=markers,
                                           baseline=base("density_per_cm2"), flagged=flagged, **style), note))
    charts.append(Chart("hair_count", "Hair count", "hairs in target area",
                        line_chart_svg(title="Hair count", unit="hairs in target area", points=series("hair_count"),
                                       markers=markers, baseline=base("hair_count"), decimals=0, flagged=flagged, **style),
                        "" if density or not points else
                        "Density needs calibration: the images have no scale, so hair count is charted instead."))
    charts.append(Chart("diameter", "Mean shaft diameter", "µm",
                        line_chart_svg(title="Mean shaft diameter", unit="µm", points=series("mean_diameter_um"),
                                       markers=markers, baseline=base("mean_diameter_um"), flagged=flagged, **style)))
    return charts
