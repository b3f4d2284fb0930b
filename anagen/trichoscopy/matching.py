"""Hair-to-hair matching across visits: which hairs were kept, lost and new.

A follow-up photograph of a tattooed target area is registered to the baseline of
the same area, first *rigidly* (a rotation searched by phase correlation [1]_ of the
two darkness maps, checked against a vote of the hairs, then refined by least squares
[2]_ on the ends of the hairs matched so far) and then *locally* (each hair is moved by
the median leftover shift of its nearest matched neighbours, which absorbs a little
skin stretch or lens distortion). Hairs are then paired by an optimal assignment
(`match_hairs`). When the hairs of a field all run the same way, phase correlation can
lock onto a wrong peak; the rigid step therefore also lets the hairs vote (every pair
of a baseline and a follow-up hair of the same direction proposes a shift) and keeps
whichever transform brings more hairs onto a partner.

Only the field that both photographs cover counts. A baseline hair left without a
partner is *lost* only when the follow-up image shows no shaft where it should be,
and a follow-up hair without a partner is *new* only when the baseline image shows
none; a hair that is visible in both images but detected in one only (a faint hair,
two crossing hairs merged into one) is *kept*. The matched change, ``new - lost``, and
``count_change`` (follow-up count minus baseline count over the same field: what two
independent counts give) therefore differ only where a hair is detected at one visit
and missed at the other; on the synthetic pairs of the benchmark they agree, and both
are far closer to the truth than the difference of the two whole-image counts, whose
fields differ by the shift and turn of the dermoscope.

Every pair, lost and new hair carries a ``confidence`` from 0 to 1; the clinician
confirms the lost and new ones (see `VisitMatch.with_confirmations`).

References
----------
.. [1] Kuglin, C. D., Hines, D. C. (1975). The phase correlation image alignment
       method. Proc. IEEE Int. Conf. Cybernetics and Society, 163-165.
.. [2] Umeyama, S. (1991). Least-squares estimation of transformation parameters
       between two point patterns. IEEE TPAMI 13(4), 376-380. :DOI:`10.1109/34.88573`
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from .compare import _match_tolerance, match_hairs
from .detect import darkness_map, to_working
from .measure import analyze, as_rgb_uint8
from .profiles import Profile, load_profile
from .results import Hair, ImageAnalysis
from .version import ENGINE_VERSION

#: Rotations tried (degrees) before the hair-based refinement.
ROTATION_SEARCH_DEG = 6.0
#: A hair is visible at the other visit when the darkness along its expected path is
#: at least this share of its own darkness.
VISIBLE_SHARE = 0.45
#: Neighbours used by the local step.
LOCAL_NEIGHBOURS = 4
#: The two photographs show the same area when at least this share of the baseline hairs
#: in the common field (and at least `SAME_AREA_MIN_PAIRS`) are linked to a follow-up hair,
#: and the common field is at least `SAME_AREA_MIN_OVERLAP` of the follow-up.
SAME_AREA_MIN_SHARE = 0.4
SAME_AREA_MIN_PAIRS = 3
SAME_AREA_MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class HairPair:
    """A hair found at both visits.

    ``followup_id`` (or ``baseline_id``) is ``None`` when the hair is visible in that
    image but was not detected there, so it is kept without a partner.
    """

    baseline_id: int | None
    followup_id: int | None
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"baseline_id": self.baseline_id, "followup_id": self.followup_id,
                "confidence": round(float(self.confidence), 3)}


@dataclass(frozen=True)
class HairFate:
    """A lost (baseline) or new (follow-up) hair, with how sure the engine is."""

    hair_id: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"hair_id": self.hair_id, "confidence": round(float(self.confidence), 3)}


@dataclass(frozen=True)
class VisitMatch:
    """The result of `match_visits`.

    Attributes
    ----------
    pairs : tuple of HairPair
        Kept hairs inside the common field.
    lost, new : tuple of HairFate
        Lost baseline hairs and new follow-up hairs inside the common field.
    baseline_count, followup_count : int
        Each analysis's own count over the common field.
    matched_change : int
        ``len(new) - len(lost)``.
    count_change : int
        ``followup_count - baseline_count``: the change two independent counts give.
    transform : list of list of float
        2 x 3 matrix mapping a baseline pixel ``(x, y, 1)`` to the follow-up (rigid).
    rotation_deg, shift_px
        The rigid part in words.
    overlap_fraction : float
        Share of the follow-up field that the baseline also covers.
    overlap_area_cm2 : float or None
        The common field in cm², when calibrated.
    outside_baseline, outside_followup : tuple of int
        Hair ids left out because they lie outside the common field.
    baseline_points, followup_points : dict
        Hair id to midpoint ``(x, y)`` in its own image, for drawing the links.
    """

    pairs: tuple[HairPair, ...]
    lost: tuple[HairFate, ...]
    new: tuple[HairFate, ...]
    baseline_count: int
    followup_count: int
    transform: tuple[tuple[float, ...], ...]
    rotation_deg: float
    shift_px: tuple[float, float]
    overlap_fraction: float
    overlap_area_cm2: float | None
    outside_baseline: tuple[int, ...]
    outside_followup: tuple[int, ...]
    baseline_points: dict[int, tuple[float, float]] = field(default_factory=dict)
    followup_points: dict[int, tuple[float, float]] = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION
    elapsed_ms: float = 0.0

    @property
    def kept(self) -> int:
        return len(self.pairs)

    @property
    def linked(self) -> int:
        """Pairs whose hair was detected in both photographs."""
        return sum(1 for p in self.pairs if p.baseline_id is not None and p.followup_id is not None)

    @property
    def same_area(self) -> bool:
        """Whether the two photographs show the same target area.

        Unrelated fields (a wrong tattoo mark, a mixed-up upload) still register somewhere
        and give a "change"; on such pairs a few hairs link by chance (at most 3 of 17 on
        synthetic fields), against 70 % or more for the same area. A change from a match
        that is not the same area must not be used.
        """
        return (self.linked >= SAME_AREA_MIN_PAIRS and self.linked >= SAME_AREA_MIN_SHARE * self.baseline_count
                and self.overlap_fraction >= SAME_AREA_MIN_OVERLAP)

    @property
    def matched_change(self) -> int:
        return len(self.new) - len(self.lost)

    @property
    def count_change(self) -> int:
        return self.followup_count - self.baseline_count

    def _pct(self, change: int) -> float | None:
        return round(100.0 * change / self.baseline_count, 2) if self.baseline_count else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": self.kept,
            "same_area": self.same_area,
            "linked": self.linked,
            "lost": len(self.lost),
            "new": len(self.new),
            "matched_change": self.matched_change,
            "count_change": self.count_change,
            "matched_change_pct": self._pct(self.matched_change),
            "count_change_pct": self._pct(self.count_change),
            "baseline_count": self.baseline_count,
            "followup_count": self.followup_count,
            "pairs": [p.to_dict() for p in self.pairs],
            "lost_hairs": [f.to_dict() for f in self.lost],
            "new_hairs": [f.to_dict() for f in self.new],
            "transform": [[round(v, 5) for v in row] for row in self.transform],
            "rotation_deg": round(self.rotation_deg, 3),
            "shift_px": [round(v, 2) for v in self.shift_px],
            "overlap_fraction": round(self.overlap_fraction, 4),
            "overlap_area_cm2": None if self.overlap_area_cm2 is None else round(self.overlap_area_cm2, 5),
            "outside_baseline": list(self.outside_baseline),
            "outside_followup": list(self.outside_followup),
            "baseline_points": {str(k): [round(v[0], 1), round(v[1], 1)] for k, v in self.baseline_points.items()},
            "followup_points": {str(k): [round(v[0], 1), round(v[1], 1)] for k, v in self.followup_points.items()},
            "engine_version": self.engine_version,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def confirmed_change(match: dict[str, Any], rejected_lost: list[int] | tuple[int, ...] = (),
                     rejected_new: list[int] | tuple[int, ...] = ()) -> int:
    """The matched change once the clinician has rejected some lost or new hairs.

    A rejected lost hair was in fact kept (the engine missed it at follow-up); a
    rejected new hair was already there. ``match`` is `VisitMatch.to_dict()`.
    """
    lost = [f["hair_id"] for f in match["lost_hairs"] if f["hair_id"] not in set(rejected_lost)]
    new = [f["hair_id"] for f in match["new_hairs"] if f["hair_id"] not in set(rejected_new)]
    return len(new) - len(lost)


# --------------------------------------------------------------------------- geometry


def _rigid(angle_deg: float, shift: tuple[float, float], centre: np.ndarray) -> np.ndarray:
    a = np.radians(angle_deg)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    t = centre - r @ centre + np.asarray(shift, dtype=float)
    return np.hstack([r, t[:, None]])


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, dtype=float).reshape(-1, 2)
    return pts @ m[:, :2].T + m[:, 2]


def _invert(m: np.ndarray) -> np.ndarray:
    r = m[:, :2]
    ri = np.linalg.inv(r)
    return np.hstack([ri, (-ri @ m[:, 2])[:, None]])


def _search_rigid(base_dark: np.ndarray, follow_dark: np.ndarray, factor: int) -> tuple[np.ndarray, float]:
    """Rotation (searched) and translation (phase correlation) at working scale."""
    h, w = base_dark.shape
    fh, fw = follow_dark.shape
    hh, ww = min(h, fh), min(w, fw)
    a = base_dark[:hh, :ww].astype(np.float32)
    b = follow_dark[:hh, :ww].astype(np.float32)
    window = cv2.createHanningWindow((ww, hh), cv2.CV_32F)
    centre = np.array([ww / 2, hh / 2])

    def score(angle: float) -> tuple[float, tuple[float, float]]:
        rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), -angle, 1.0)
        turned = cv2.warpAffine(a, rot, (ww, hh), flags=cv2.INTER_LINEAR)
        (dx, dy), response = cv2.phaseCorrelate(turned, b, window)
        return float(response), (float(dx), float(dy))

    best = max(((score(ang), ang) for ang in np.arange(-ROTATION_SEARCH_DEG, ROTATION_SEARCH_DEG + 0.01, 1.0)),
               key=lambda t: t[0][0])
    coarse = best[1]
    best = max(((score(ang), ang) for ang in np.arange(coarse - 0.75, coarse + 0.76, 0.25)), key=lambda t: t[0][0])
    (response, (dx, dy)), angle = best
    m = _rigid(angle, (dx * factor, dy * factor), centre * factor)
    return m, response


def _hair_geometry(hairs) -> tuple[np.ndarray, np.ndarray]:
    mids = np.array([h.midpoint for h in hairs], dtype=float).reshape(-1, 2)
    ends = np.array([[h.centreline[-1][0] - h.centreline[0][0], h.centreline[-1][1] - h.centreline[0][1]]
                     for h in hairs], dtype=float).reshape(-1, 2)
    return mids, np.arctan2(ends[:, 1], ends[:, 0])


def _consensus(m: np.ndarray, a_mid, a_ang, b_mid, b_ang, tol: float) -> float:
    """How many baseline hairs land on a follow-up hair of the same direction under ``m``
    (less a little for the distance, so the tighter of two equal counts wins)."""
    if not len(a_mid) or not len(b_mid):
        return 0.0
    moved = _apply(m, a_mid)
    turn = np.arctan2(m[1, 0], m[0, 0])
    d = np.hypot(*(moved[:, None, :] - b_mid[None, :, :]).transpose(2, 0, 1))
    same = np.abs(np.cos(a_ang[:, None] + turn - b_ang[None, :])) >= np.cos(np.radians(20.0))
    d = np.where(same, d, np.inf)
    best = d.min(axis=1)
    hit = best < tol
    return float(hit.sum() - 0.01 * (best[hit].mean() / tol if hit.any() else 0.0))


def _search_by_hairs(base: ImageAnalysis, follow: ImageAnalysis, centre: np.ndarray, tol: float) -> tuple[np.ndarray, float]:
    """Rigid transform voted by the hairs: every pairing of a baseline and a follow-up hair of
    the same direction proposes a translation (for each searched rotation); the proposal that
    brings most hairs onto a partner wins. Phase correlation can lock onto a wrong peak when
    the hairs of a field all run the same way; the hairs' own positions settle it."""
    a_mid, a_ang = _hair_geometry(base.hairs)
    b_mid, b_ang = _hair_geometry(follow.hairs)
    best_m, best_score = np.hstack([np.eye(2), np.zeros((2, 1))]), -1.0
    if not len(a_mid) or not len(b_mid):
        return best_m, best_score
    for angle in np.arange(-ROTATION_SEARCH_DEG, ROTATION_SEARCH_DEG + 0.01, 0.5):
        r = _rigid(angle, (0.0, 0.0), centre)
        turned = _apply(r, a_mid)
        same = np.abs(np.cos(a_ang[:, None] + np.radians(angle) - b_ang[None, :])) >= np.cos(np.radians(20.0))
        ii, jj = np.nonzero(same)
        if not len(ii):
            continue
        shifts = b_mid[jj] - turned[ii]
        # Score every proposed shift at once: (proposals, baseline hairs, follow-up hairs).
        moved = turned[None, :, :] + shifts[:, None, :]
        d = np.hypot(moved[..., None, 0] - b_mid[None, None, :, 0], moved[..., None, 1] - b_mid[None, None, :, 1])
        d = np.where(same[None], d, np.inf).min(axis=2)
        hits = (d < tol).sum(axis=1)
        k = int(np.argmax(hits))
        if hits[k] > best_score:
            m = r.copy()
            m[:, 2] += shifts[k]
            best_m, best_score = m, _consensus(m, a_mid, a_ang, b_mid, b_ang, tol)
    return best_m, best_score


def _fit_rigid(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation and translation taking ``src`` onto ``dst`` [2]_."""
    ms, md = src.mean(0), dst.mean(0)
    u, _s, vt = np.linalg.svd((dst - md).T @ (src - ms))
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    r = u @ np.diag([1.0, d]) @ vt
    return np.hstack([r, (md - r @ ms)[:, None]])


def _moved(hair: Hair, m: np.ndarray, local: np.ndarray | None = None) -> Hair:
    pts = _apply(m, np.array(hair.centreline))
    if local is not None:
        pts = pts + local
    return replace(hair, centreline=tuple((float(x), float(y)) for x, y in pts))


def _ends(hair: Hair) -> np.ndarray:
    return np.array([hair.centreline[0], hair.centreline[-1]], dtype=float)


def _pair_cost(a: Hair, b: Hair) -> float:
    from .compare import _segment_distance

    ea, eb = _ends(a), _ends(b)
    return min(float(_segment_distance(ea, eb[0], eb[1]).max()), float(_segment_distance(eb, ea[0], ea[1]).max()))


def _mid(hair: Hair) -> np.ndarray:
    return np.array(hair.midpoint, dtype=float)


def _refine(baseline: ImageAnalysis, followup: ImageAnalysis, m: np.ndarray, tol: float) -> np.ndarray:
    """Re-fit the rigid transform on the ends of the hairs it matches, twice."""
    for _ in range(2):
        moved = tuple(_moved(h, m) for h in baseline.hairs)
        pairs = match_hairs(moved, followup.hairs, (0.0, 0.0), tol)
        if len(pairs) < 3:
            return m
        src, dst = [], []
        for i, j in pairs:
            a, b = _ends(baseline.hairs[i]), _ends(followup.hairs[j])
            ma = _apply(m, a)
            if np.hypot(*(ma[0] - b[0])) + np.hypot(*(ma[1] - b[1])) > np.hypot(*(ma[0] - b[1])) + np.hypot(*(ma[1] - b[0])):
                b = b[::-1]
            # Ends may differ (a hair grew or is cut by the border): the midpoints are
            # steadier, the ends give the rotation; both go into the fit.
            src.extend([a[0], a[1], a.mean(0)])
            dst.extend([b[0], b[1], b.mean(0)])
        m = _fit_rigid(np.array(src), np.array(dst))
    return m


def _local_shifts(baseline: ImageAnalysis, followup: ImageAnalysis, m: np.ndarray, tol: float) -> np.ndarray:
    """Per baseline hair, the median leftover shift of its nearest matched neighbours."""
    moved = tuple(_moved(h, m) for h in baseline.hairs)
    pairs = match_hairs(moved, followup.hairs, (0.0, 0.0), tol)
    shifts = np.zeros((len(baseline.hairs), 2))
    if len(pairs) < LOCAL_NEIGHBOURS + 1:
        return shifts
    mids = np.array([_mid(moved[i]) for i, _ in pairs])
    residual = np.array([_mid(followup.hairs[j]) - _mid(moved[i]) for i, j in pairs])
    # A shaft's midpoint slides along it when an end changes: keep only the part of
    # the residual across the shaft by using the median of several neighbours.
    for k, hair in enumerate(moved):
        d = np.hypot(*(mids - _mid(hair)).T)
        near = np.argsort(d)[:LOCAL_NEIGHBOURS]
        shifts[k] = np.median(residual[near], axis=0)
    limit = tol / 2
    norms = np.hypot(*shifts.T)
    scale = np.where(norms > limit, limit / np.maximum(norms, 1e-9), 1.0)
    return shifts * scale[:, None]


# --------------------------------------------------------------------------- evidence


def _darkness_full(image: np.ndarray) -> tuple[np.ndarray, int]:
    small, factor = to_working(as_rgb_uint8(image))
    dark = darkness_map(small)
    # A small grey dilation forgives a pixel or two of registration error.
    return cv2.dilate(dark.astype(np.float32), np.ones((3, 3), np.uint8)), factor


def _darkness_along(dark: np.ndarray, factor: int, pts: np.ndarray, samples: int = 15) -> float | None:
    """Median darkness along a polyline (full-resolution points), or None if outside."""
    pts = np.asarray(pts, dtype=float)
    seg = np.linspace(0, 1, samples)
    idx = seg * (len(pts) - 1)
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, len(pts) - 1)
    t = (idx - lo)[:, None]
    line = (pts[lo] * (1 - t) + pts[hi] * t) / factor
    h, w = dark.shape
    inside = (line[:, 0] >= 0) & (line[:, 0] <= w - 1) & (line[:, 1] >= 0) & (line[:, 1] <= h - 1)
    if inside.sum() < samples // 2:
        return None
    xs = np.clip(np.round(line[inside, 0]).astype(int), 0, w - 1)
    ys = np.clip(np.round(line[inside, 1]).astype(int), 0, h - 1)
    return float(np.median(dark[ys, xs]))


def _visible_share(hair: Hair, own_dark, own_factor, other_dark, other_factor, m: np.ndarray) -> float:
    """Darkness where the hair should be in the other image, as a share of its own."""
    own = _darkness_along(own_dark, own_factor, np.array(hair.centreline))
    other = _darkness_along(other_dark, other_factor, _apply(m, np.array(hair.centreline)))
    if not own or other is None:
        return 0.0
    return float(np.clip(other / own, 0.0, 2.0))


# --------------------------------------------------------------------------- field


def _inside(pt: np.ndarray, shape: tuple[int, int], margin: float, ignored) -> bool:
    h, w = shape
    x, y = float(pt[0]), float(pt[1])
    if not (margin <= x <= w - 1 - margin and margin <= y <= h - 1 - margin):
        return False
    return not any(x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin for x0, y0, x1, y1 in ignored)


def _overlap_fraction(m: np.ndarray, base_shape, follow_shape, base_ignored, follow_ignored) -> float:
    fh, fw = follow_shape
    step = 8.0
    ys, xs = np.mgrid[0:fh:step, 0:fw:step]
    q = np.column_stack([xs.ravel(), ys.ravel()]).astype(float)
    p = _apply(_invert(m), q)
    ok = [(_inside(qq, follow_shape, 0, follow_ignored) and _inside(pp, base_shape, 0, base_ignored)) for qq, pp in zip(q, p)]
    return float(np.mean(ok)) if ok else 0.0


# --------------------------------------------------------------------------- main


def match_visits(
    baseline: np.ndarray | ImageAnalysis,
    followup: np.ndarray | ImageAnalysis,
    profile: Profile | None = None,
    *,
    baseline_image: np.ndarray | None = None,
    followup_image: np.ndarray | None = None,
) -> VisitMatch:
    """Match the hairs of a follow-up photograph to the baseline of the same area.

    Parameters
    ----------
    baseline, followup : ndarray or ImageAnalysis
        The photographs (analysed here with ``profile``) or analyses already made
        (then give the photographs as ``baseline_image`` / ``followup_image``: they are
        needed for the registration and for checking lost and new hairs).
    profile : Profile, optional
        Used to analyse photographs and to turn the common field into cm².

    Returns
    -------
    VisitMatch
    """
    t0 = time.perf_counter()
    profile = profile or load_profile()
    if isinstance(baseline, ImageAnalysis):
        base_result, base_img = baseline, baseline_image
    else:
        base_img = as_rgb_uint8(baseline)
        base_result = analyze(base_img, profile)
    if isinstance(followup, ImageAnalysis):
        follow_result, follow_img = followup, followup_image
    else:
        follow_img = as_rgb_uint8(followup)
        follow_result = analyze(follow_img, profile)
    if base_img is None or follow_img is None:
        raise ValueError("both photographs are needed to register the visits")
    base_dark, bf = _darkness_full(base_img)
    follow_dark, ff = _darkness_full(follow_img)
    if bf != ff:
        raise ValueError("the baseline and follow-up photographs differ in size too much to be registered")

    tol = _match_tolerance(base_result, follow_result)
    m, _response = _search_rigid(base_dark, follow_dark, bf)
    a_mid, a_ang = _hair_geometry(base_result.hairs)
    b_mid, b_ang = _hair_geometry(follow_result.hairs)
    centre = np.array([base_img.shape[1] / 2, base_img.shape[0] / 2])
    by_hairs, hair_score = _search_by_hairs(base_result, follow_result, centre, tol)
    if hair_score > _consensus(m, a_mid, a_ang, b_mid, b_ang, tol) + 0.5:
        m = by_hairs
    m = _refine(base_result, follow_result, m, tol)
    local = _local_shifts(base_result, follow_result, m, tol)
    moved = tuple(_moved(h, m, local[k]) for k, h in enumerate(base_result.hairs))
    pairs = match_hairs(moved, follow_result.hairs, (0.0, 0.0), tol)
    inv = _invert(m)

    base_shape = tuple(base_result.image_shape)
    follow_shape = tuple(follow_result.image_shape)
    margin = tol

    def base_in_field(k: int) -> bool:
        mid = _mid(base_result.hairs[k])
        return _inside(mid, base_shape, margin, base_result.ignored_regions) and _inside(
            _apply(m, mid)[0], follow_shape, margin, follow_result.ignored_regions)

    def follow_in_field(k: int) -> bool:
        mid = _mid(follow_result.hairs[k])
        return _inside(mid, follow_shape, margin, follow_result.ignored_regions) and _inside(
            _apply(inv, mid)[0], base_shape, margin, base_result.ignored_regions)

    kept: list[HairPair] = []
    outside_b: list[int] = []
    outside_f: list[int] = []
    paired_b, paired_f = set(), set()
    base_count = follow_count = 0
    for i, j in pairs:
        paired_b.add(i)
        paired_f.add(j)
        hb, hf = base_result.hairs[i], follow_result.hairs[j]
        if not base_in_field(i):
            outside_b.append(hb.id)
            outside_f.append(hf.id)
            continue
        cost = _pair_cost(moved[i], hf)
        closeness = max(0.0, 1.0 - cost / tol)
        lengths = sorted([hb.length_px, hf.length_px])
        similar = lengths[0] / lengths[1] if lengths[1] > 0 else 0.0
        kept.append(HairPair(hb.id, hf.id, 0.6 + 0.25 * closeness + 0.15 * similar))
        base_count += 1
        follow_count += 1
    lost: list[HairFate] = []
    new: list[HairFate] = []
    for i, hb in enumerate(base_result.hairs):
        if i in paired_b:
            continue
        if not base_in_field(i):
            outside_b.append(hb.id)
            continue
        base_count += 1
        share = _visible_share(hb, base_dark, bf, follow_dark, ff, m)
        if share >= VISIBLE_SHARE:
            kept.append(HairPair(hb.id, None, min(1.0, share) * 0.6))
        else:
            lost.append(HairFate(hb.id, 1.0 - share / VISIBLE_SHARE * 0.5))
    for j, hf in enumerate(follow_result.hairs):
        if j in paired_f:
            continue
        if not follow_in_field(j):
            outside_f.append(hf.id)
            continue
        follow_count += 1
        share = _visible_share(hf, follow_dark, ff, base_dark, bf, inv)
        if share >= VISIBLE_SHARE:
            kept.append(HairPair(None, hf.id, min(1.0, share) * 0.6))
        else:
            new.append(HairFate(hf.id, 1.0 - share / VISIBLE_SHARE * 0.5))

    overlap = _overlap_fraction(m, base_shape, follow_shape, base_result.ignored_regions, follow_result.ignored_regions)
    area = None
    if follow_result.px_per_mm:
        area = overlap * follow_shape[0] * follow_shape[1] / (follow_result.px_per_mm ** 2) / 100.0
    angle = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    centre = np.array([follow_shape[1] / 2, follow_shape[0] / 2])
    shift = _apply(m, centre)[0] - centre
    return VisitMatch(
        pairs=tuple(kept),
        lost=tuple(lost),
        new=tuple(new),
        baseline_count=base_count,
        followup_count=follow_count,
        transform=tuple(tuple(float(v) for v in row) for row in m),
        rotation_deg=angle,
        shift_px=(float(shift[0]), float(shift[1])),
        overlap_fraction=overlap,
        overlap_area_cm2=area,
        outside_baseline=tuple(sorted(outside_b)),
        outside_followup=tuple(sorted(outside_f)),
        baseline_points={h.id: tuple(map(float, h.midpoint)) for h in base_result.hairs},
        followup_points={h.id: tuple(map(float, h.midpoint)) for h in follow_result.hairs},
        elapsed_ms=(time.perf_counter() - t0) * 1000.0,
    )
