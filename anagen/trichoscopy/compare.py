"""Following the same hairs across photographs: regrowth and visit comparison.

*Phototrichogram (anagen/telogen).* A target area is clipped and photographed, then
photographed again 2 to 3 days later. Hairs in anagen grow about 0.3 to 0.4 mm a day;
telogen hairs do not. `compare_regrowth` registers the two images, matches every hair
and reports its growth and the anagen and telogen shares.

*Visit comparison.* A tattooed target area photographed at baseline and at follow-up:
`compare_visits` registers the two, matches hairs and reports which were kept, lost and
new. Following the same hairs removes most of the count-to-count noise that otherwise
hides small treatment effects.

Registration is a translation found by phase correlation [1]_ of the two darkness maps
(hair shafts are the landmarks; skin tone and lighting drop out). Matching is an optimal
assignment [2]_ on a cost that is small when one hair's ends lie on the other's shaft,
so a hair that grew still matches its clipped self.

References
----------
.. [1] Kuglin, C. D., Hines, D. C. (1975). The phase correlation image alignment
       method. Proc. IEEE Int. Conf. Cybernetics and Society, 163-165.
.. [2] Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval
       Research Logistics Quarterly 2, 83-97. :DOI:`10.1002/nav.3800020109`
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .detect import darkness_map, to_working
from .measure import analyze, as_rgb_uint8
from .profiles import Profile, load_profile
from .results import Hair, HairGrowth, ImageAnalysis, RegrowthResult, VisitComparison

#: Hairs whose direction differs by more than this are never the same hair.
MAX_ANGLE_DEG = 20.0


def register(reference: np.ndarray, moving: np.ndarray) -> tuple[float, float]:
    """Translation ``(dx, dy)`` in pixels such that ``moving(x + dx, y + dy)`` shows
    what ``reference(x, y)`` shows.

    Parameters
    ----------
    reference, moving : ndarray
        RGB or grayscale photographs of the same area (same size expected; the
        common top-left part is used otherwise).
    """
    a, fa = to_working(as_rgb_uint8(reference))
    b, fb = to_working(as_rgb_uint8(moving))
    h = min(a.shape[0], b.shape[0])
    w = min(a.shape[1], b.shape[1])
    da = darkness_map(a[:h, :w])
    db = darkness_map(b[:h, :w])
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), _response = cv2.phaseCorrelate(da.astype(np.float32), db.astype(np.float32), window)
    return float(dx * fa), float(dy * fa)


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point to the segment a-b."""
    ab = b - a
    denom = float(ab @ ab) or 1.0
    t = np.clip(((points - a) @ ab) / denom, 0.0, 1.0)
    proj = a + t[:, None] * ab
    return np.hypot(*(points - proj).T)


def _ends(hair: Hair, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    pts = np.array([hair.centreline[0], hair.centreline[-1]], dtype=float)
    return pts + np.array(shift)


def _angle_ok(p: np.ndarray, q: np.ndarray) -> bool:
    u, v = p[1] - p[0], q[1] - q[0]
    nu, nv = np.hypot(*u), np.hypot(*v)
    if nu < 1e-6 or nv < 1e-6:
        return True
    return abs(float(u @ v)) / (nu * nv) >= np.cos(np.radians(MAX_ANGLE_DEG))


def match_hairs(
    first: tuple[Hair, ...],
    second: tuple[Hair, ...],
    offset: tuple[float, float],
    max_distance_px: float,
    contained: bool = False,
) -> list[tuple[int, int]]:
    """Pair hairs of two analyses after shifting the first by ``offset``.

    With ``contained`` (regrowth), the cost is how far the first hair's ends lie from
    the second hair's shaft: a grown hair contains its clipped self. Otherwise the
    cost is symmetric. Pairs costing more than ``max_distance_px`` are not matched.

    Returns
    -------
    list of (int, int)
        Index pairs into ``first`` and ``second``.
    """
    if not first or not second:
        return []
    big = 1e6
    cost = np.full((len(first), len(second)), big)
    ends_a = [_ends(h, offset) for h in first]
    ends_b = [_ends(h) for h in second]
    for i, ea in enumerate(ends_a):
        for j, eb in enumerate(ends_b):
            if not _angle_ok(ea, eb):
                continue
            a_on_b = float(_segment_distance(ea, eb[0], eb[1]).max())
            if contained:
                c = a_on_b
            else:
                b_on_a = float(_segment_distance(eb, ea[0], ea[1]).max())
                c = min(a_on_b, b_on_a)
            if c <= max_distance_px:
                cost[i, j] = c
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] < big]


def _match_tolerance(a: ImageAnalysis, b: ImageAnalysis) -> float:
    widths = [h.width_px for h in a.hairs + b.hairs]
    w = float(np.median(widths)) if widths else 8.0
    return max(8.0, 2.0 * w)


def compare_regrowth(
    clipped_image: np.ndarray,
    later_image: np.ndarray,
    profile: Profile | None = None,
) -> RegrowthResult:
    """Anagen and telogen shares from a clipped area and the same area days later.

    Parameters
    ----------
    clipped_image : ndarray
        Photograph taken just after clipping.
    later_image : ndarray
        The same area 2 to 3 days later.
    profile : Profile, optional
        Its ``anagen_growth_threshold_mm`` decides anagen; its scale turns growth
        into millimetres. Without a scale, growth is reported in pixels and the
        shares are ``None``.

    Returns
    -------
    RegrowthResult
    """
    profile = profile or load_profile()
    before = analyze(clipped_image, profile)
    after = analyze(later_image, profile)
    offset = register(clipped_image, later_image)
    pairs = match_hairs(before.hairs, after.hairs, offset, _match_tolerance(before, after), contained=True)
    matched_before = {i for i, _ in pairs}
    records = []
    anagen = 0
    for i, j in pairs:
        hb, ha = before.hairs[i], after.hairs[j]
        growth_px = ha.length_px - hb.length_px
        if profile.px_per_mm:
            growth_mm = growth_px / profile.px_per_mm
            phase = "anagen" if growth_mm >= profile.anagen_growth_threshold_mm else "telogen"
            anagen += phase == "anagen"
        else:
            growth_mm, phase = None, "unknown"
        records.append(HairGrowth(hb.id, ha.id, growth_px, growth_mm, phase))
    for i, hb in enumerate(before.hairs):
        if i not in matched_before:
            records.append(HairGrowth(hb.id, None, None, None, "unmatched"))
    matched = len(pairs)
    if matched and profile.px_per_mm:
        anagen_pct = 100.0 * anagen / matched
        telogen_pct = 100.0 - anagen_pct
    else:
        anagen_pct = telogen_pct = None
    return RegrowthResult(
        anagen_pct=anagen_pct,
        telogen_pct=telogen_pct,
        matched=matched,
        hairs=tuple(records),
        offset_px=offset,
        before=before,
        after=after,
    )


def compare_visits(
    baseline_image: np.ndarray,
    followup_image: np.ndarray,
    profile: Profile | None = None,
) -> VisitComparison:
    """Hairs kept, lost and new between two visits of the same target area.

    Parameters
    ----------
    baseline_image, followup_image : ndarray
        Photographs of the same tattooed target area.
    profile : Profile, optional

    Returns
    -------
    VisitComparison
    """
    profile = profile or load_profile()
    baseline = analyze(baseline_image, profile)
    followup = analyze(followup_image, profile)
    offset = register(baseline_image, followup_image)
    pairs = match_hairs(baseline.hairs, followup.hairs, offset, _match_tolerance(baseline, followup))
    kept = tuple((baseline.hairs[i].id, followup.hairs[j].id) for i, j in pairs)
    mb = {i for i, _ in pairs}
    mf = {j for _, j in pairs}
    lost = tuple(h.id for i, h in enumerate(baseline.hairs) if i not in mb)
    new = tuple(h.id for j, h in enumerate(followup.hairs) if j not in mf)
    return VisitComparison(kept=kept, lost=lost, new=new, offset_px=offset, baseline=baseline, followup=followup)
