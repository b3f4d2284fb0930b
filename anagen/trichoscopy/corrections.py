"""Manual corrections: a clinician adds missed hairs and removes false ones.

The automatic result is never changed: `apply_corrections` returns a new
`ImageAnalysis`, flagged ``corrected=True``, in which removed hairs are gone and added
hairs (``source="manual"``) carry new ids after the automatic ones. Keeping both lets a
study report the automatic count, the corrected count and the difference between them.

An added hair is marked by the counting rule as a detected one is
(`manual_hair_counted`): one cut by the bottom or right edge is added but not counted
(``counted=False``, left out of ``rule_count``), never refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .detect import DEFAULT_SETTINGS
from .measure import classify, counted_by_rule, follicular_units
from .profiles import Profile
from .results import Hair, ImageAnalysis

#: Width given to a hand-drawn hair when none is stated, in pixels.
DEFAULT_MANUAL_WIDTH_PX = 8.0


def _manual_hair(
    spec: Sequence | dict, hair_id: int, analysis: ImageAnalysis, profile: Profile
) -> Hair:
    if isinstance(spec, dict):
        x0, y0, x1, y1 = (float(spec[k]) for k in ("x0", "y0", "x1", "y1"))
        hair_class = spec.get("hair_class") or spec.get("class")
        width_px = float(spec.get("width_px") or 0.0)
    else:
        if len(spec) not in (4, 5):
            raise ValueError(
                "an added hair is (x0, y0, x1, y1) or (x0, y0, x1, y1, class), "
                f"got {list(spec)!r}"
            )
        x0, y0, x1, y1 = (float(v) for v in spec[:4])
        hair_class = spec[4] if len(spec) == 5 else None
        width_px = 0.0
    if hair_class is not None and hair_class not in ("terminal", "vellus"):
        raise ValueError(f"hair class must be 'terminal' or 'vellus', got {hair_class!r}")
    if not width_px:
        widths = [h.width_px for h in analysis.hairs]
        width_px = float(np.median(widths)) if widths else DEFAULT_MANUAL_WIDTH_PX
    length_px = float(np.hypot(x1 - x0, y1 - y0))
    px_per_mm = analysis.px_per_mm
    diameter_um = width_px / px_per_mm * 1000.0 if px_per_mm else None
    if hair_class is None:
        hair_class = classify(diameter_um, profile)
    h, w = analysis.image_shape
    cut = any(
        x <= 2 or y <= 2 or x >= w - 3 or y >= h - 3 for x, y in ((x0, y0), (x1, y1))
    )
    counted = manual_hair_counted(analysis, ((x0, y0), (x1, y1)))
    return Hair(
        id=hair_id,
        centreline=((x0, y0), (x1, y1)),
        length_px=length_px,
        width_px=width_px,
        diameter_um=diameter_um,
        length_mm=length_px / px_per_mm if px_per_mm else None,
        cut_by_border=cut,
        hair_class=hair_class,
        source="manual",
        counted=counted,
    )


def manual_hair_counted(analysis: ImageAnalysis, ends) -> bool:
    """Whether the counting rule counts a hair drawn by hand, judged as the engine
    judges a detected one.

    A hand-drawn hair is never refused for where it lies: it is added, and the
    counting rule marks it. It is not counted when an end lies on the bottom or
    right edge (or on an ignored region adjoining them), nor when it is cut only by
    the top or left edge (or the ignored regions there) but shorter than the
    detector's border-stub limit (0.8 of the median length of the analysis' hairs,
    once there are five or more): such a stub's opening lies outside the field.
    """
    (x0, y0), (x1, y1) = ends
    shape = analysis.image_shape
    regions = analysis.ignored_regions
    if not counted_by_rule(ends, shape, regions, margin=3.0):
        return False
    h, w = shape
    at_border = any(
        x <= 3 or y <= 3 or any(rx0 - 3 <= x <= rx1 + 3 and ry0 - 3 <= y <= ry1 + 3 for rx0, ry0, rx1, ry1 in regions)
        for x, y in ends
    )
    lengths = [hr.length_px for hr in analysis.hairs if hr.source == "auto"]
    if at_border and len(lengths) >= 5:
        floor = DEFAULT_SETTINGS.border_relative_length * float(np.median(lengths))
        if float(np.hypot(x1 - x0, y1 - y0)) < floor:
            return False
    return True


def apply_corrections(
    analysis: ImageAnalysis,
    *,
    added: Iterable[Sequence | dict] = (),
    removed: Iterable[int] = (),
    profile: Profile | None = None,
) -> ImageAnalysis:
    """Apply a clinician's corrections to an analysis.

    Parameters
    ----------
    analysis : ImageAnalysis
        The automatic (or an earlier corrected) result; it is not modified.
    added : iterable
        Hairs to add, each a line segment ``(x0, y0, x1, y1)`` in image pixels, or
        ``(x0, y0, x1, y1, class)`` with class ``"terminal"`` or ``"vellus"``, or a
        dict with those keys (and optionally ``width_px``). Without a class, the
        hair is classified from its width (the image's median hair width when
        none is given) when the analysis is calibrated. Each is marked by the
        counting rule (`manual_hair_counted`), as the engine marks a detected hair.
    removed : iterable of int
        Ids of hairs to remove.
    profile : Profile, optional
        For the vellus threshold; a profile with the analysis' scale by default.

    Returns
    -------
    ImageAnalysis
        The corrected result, with ``corrected=True``; counts, diameters, density
        and follicular units are recomputed.

    Raises
    ------
    ValueError
        When a removed id does not exist or an added hair is malformed.
    """
    removed = set(int(i) for i in removed)
    known = {h.id for h in analysis.hairs}
    unknown = removed - known
    if unknown:
        raise ValueError(f"no hair with id {', '.join(map(str, sorted(unknown)))} in this analysis")
    profile = profile or Profile(name=analysis.profile, px_per_mm=analysis.px_per_mm)
    hairs = [h for h in analysis.hairs if h.id not in removed]
    next_id = max(known, default=0) + 1
    for spec in added:
        hairs.append(_manual_hair(spec, next_id, analysis, profile))
        next_id += 1
    hairs_t = tuple(hairs)
    calibrated = analysis.px_per_mm is not None
    diameters = tuple(h.diameter_um for h in hairs_t if h.diameter_um is not None)
    area = analysis.field_area_cm2
    return analysis.replace(
        hair_count=len(hairs_t),
        terminal_count=sum(h.hair_class == "terminal" for h in hairs_t) if calibrated else None,
        vellus_count=sum(h.hair_class == "vellus" for h in hairs_t) if calibrated else None,
        density_per_cm2=len(hairs_t) / area if area else None,
        mean_diameter_um=float(np.mean(diameters)) if diameters else None,
        diameters_um=diameters,
        hairs=hairs_t,
        follicular_units=follicular_units(hairs_t, analysis.px_per_mm),
        corrected=True,
    )


# --- checks before a correction is stored -----------------------------------------------------

#: Highest scalp density a target area can plausibly hold, in hairs per cm². Normal terminal
#: density is about 165 to 225 hairs/cm²; with vellus hairs counts reach about 300/cm²;
#: 400/cm² leaves room for measurement error without admitting a slip of the hand.
MAX_PLAUSIBLE_DENSITY_PER_CM2 = 400.0

#: A corrected count more than this many times the automatic one (or less than its inverse)
#: is a change large enough to need a second look.
MAX_PLAUSIBLE_COUNT_RATIO = 2.0

#: Changes of up to this many hairs are never called implausible, whatever the ratio: on a
#: nearly empty field one or two missed hairs double the count.
MIN_IMPLAUSIBLE_CHANGE = 5


def _point_segment_distance_px(p, a, b) -> float:
    ax, ay = a
    bx, by = b
    px, py = p
    dx, dy = bx - ax, by - ay
    norm2 = dx * dx + dy * dy
    t = 0.0 if norm2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / norm2))
    return float(np.hypot(px - (ax + t * dx), py - (ay + t * dy)))


def _distance_to_polyline_px(p, line) -> float:
    if len(line) == 1:
        return float(np.hypot(p[0] - line[0][0], p[1] - line[0][1]))
    return min(_point_segment_distance_px(p, line[i], line[i + 1]) for i in range(len(line) - 1))


def _polyline_length_px(line) -> float:
    return float(sum(np.hypot(line[i + 1][0] - line[i][0], line[i + 1][1] - line[i][1])
                     for i in range(len(line) - 1)))


def _samples(line, n: int = 11):
    """``n`` points evenly spaced along a polyline, ends included."""
    pts = np.asarray(line, dtype=float)
    if len(pts) == 1:
        return [tuple(pts[0])] * n
    seg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if cum[-1] == 0:
        return [tuple(pts[0])] * n
    at = np.linspace(0.0, cum[-1], n)
    xs = np.interp(at, cum, pts[:, 0])
    ys = np.interp(at, cum, pts[:, 1])
    return list(zip(xs.tolist(), ys.tolist()))


def lines_overlap(a, b, *, tolerance_px: float, share: float = 0.5) -> bool:
    """Whether two drawn hairs are the same shaft drawn twice.

    The shorter line is sampled at 11 evenly spaced points; the lines overlap when at least
    ``share`` of those points lie within ``tolerance_px`` of the longer line. Hairs of one
    follicular unit, which leave the same opening and diverge, share only one end and do not
    overlap by this rule; two touching parallel shafts lie about one shaft width apart.

    Parameters
    ----------
    a, b : sequence of (float, float)
        Centre lines as points ``(x, y)`` in image pixels (two points for a drawn hair).
    tolerance_px : float
        Largest distance between the centre lines, in pixels, still read as one shaft.
    share : float
        Fraction of the shorter line that must lie on the longer one.

    Returns
    -------
    bool
    """
    a = [tuple(map(float, p)) for p in a]
    b = [tuple(map(float, p)) for p in b]
    short, long_ = (a, b) if _polyline_length_px(a) <= _polyline_length_px(b) else (b, a)
    points = _samples(short)
    near = sum(_distance_to_polyline_px(p, long_) <= tolerance_px for p in points)
    return near >= share * len(points)


def added_hair_problems(
    analysis: ImageAnalysis,
    added: Sequence[Sequence[float]],
    removed: Iterable[int] = (),
) -> list[str]:
    """Problems that make a list of added hairs wrong, whatever the reason given.

    An added hair is refused when it repeats another added hair (the same two ends, in
    either order), overlaps another added hair, or lies on a hair of the analysis that is
    kept (not in ``removed``): each would count one shaft twice.

    Parameters
    ----------
    analysis : ImageAnalysis
        The result the correction applies to (normally the automatic one).
    added : sequence of (x0, y0, x1, y1)
        The hairs to add, in image pixels, in the order the user gave them.
    removed : iterable of int
        Ids of the analysis' hairs that the correction removes.

    Returns
    -------
    list of str
        One sentence per problem, naming the lines (numbered from 1) and hairs involved;
        empty when the additions are consistent.
    """
    removed = set(int(i) for i in removed)
    widths = [h.width_px for h in analysis.hairs]
    # Half a shaft width around the centre line: the same shaft, not its touching neighbour.
    tolerance_px = max(2.0, 0.5 * (float(np.median(widths)) if widths else DEFAULT_MANUAL_WIDTH_PX))
    lines = [((float(s[0]), float(s[1])), (float(s[2]), float(s[3]))) for s in added]
    problems: list[str] = []
    for j, line in enumerate(lines):
        for i in range(j):
            other = lines[i]
            if line == other or line == other[::-1]:
                problems.append(f"lines {i + 1} and {j + 1} add the same hair twice")
                break
            if lines_overlap(line, other, tolerance_px=tolerance_px):
                problems.append(f"lines {i + 1} and {j + 1} draw overlapping hairs (one shaft counted twice)")
                break
        for hair in analysis.hairs:
            if hair.id in removed:
                continue
            if lines_overlap(line, hair.centreline, tolerance_px=tolerance_px):
                problems.append(f"line {j + 1} lies on hair #{hair.id}, which is already counted "
                                f"(remove #{hair.id} too if you are redrawing it)")
                break
    return problems


def implausible_change(
    automatic_count: int,
    corrected_count: int,
    *,
    added_count: int = 0,
    field_area_cm2: float | None = None,
) -> list[str]:
    """Why a corrected count is implausibly far from the automatic one, if it is.

    A correction should fix the detector's misses (merged, faint or border hairs; see the
    engine's documented failure modes), which move a count by a few hairs. The change is
    implausible when the corrected count is more than :data:`MAX_PLAUSIBLE_COUNT_RATIO`
    times the automatic one or less than its inverse (and differs by more than
    :data:`MIN_IMPLAUSIBLE_CHANGE` hairs), or when the hairs added alone, or the corrected
    count, exceed what the field can hold at :data:`MAX_PLAUSIBLE_DENSITY_PER_CM2`.

    Parameters
    ----------
    automatic_count, corrected_count : int
        Hair counts before and after the correction.
    added_count : int
        Number of hairs the correction adds.
    field_area_cm2 : float, optional
        Area of the imaged field in cm²; without it the capacity test is skipped.

    Returns
    -------
    list of str
        One sentence per reason; empty when the change is plausible.

    Examples
    --------
    >>> implausible_change(20, 21)
    []
    >>> implausible_change(20, 50)
    ['the count goes from 20 to 50, more than double']
    """
    reasons: list[str] = []
    change = abs(corrected_count - automatic_count)
    if change > MIN_IMPLAUSIBLE_CHANGE:
        if corrected_count > MAX_PLAUSIBLE_COUNT_RATIO * automatic_count:
            reasons.append(f"the count goes from {automatic_count} to {corrected_count}, more than double")
        elif corrected_count * MAX_PLAUSIBLE_COUNT_RATIO < automatic_count:
            reasons.append(f"the count goes from {automatic_count} to {corrected_count}, less than half")
    if field_area_cm2:
        capacity = int(MAX_PLAUSIBLE_DENSITY_PER_CM2 * field_area_cm2)
        if added_count > capacity:
            reasons.append(f"{added_count} hairs are added, more than the {field_area_cm2:.3g} cm² field can "
                           f"hold (about {capacity} at {MAX_PLAUSIBLE_DENSITY_PER_CM2:.0f} hairs/cm²)")
        elif corrected_count > capacity:
            reasons.append(f"{corrected_count} hairs in {field_area_cm2:.3g} cm² is "
                           f"{corrected_count / field_area_cm2:.0f} hairs/cm², above the plausible "
                           f"{MAX_PLAUSIBLE_DENSITY_PER_CM2:.0f}")
    return reasons
