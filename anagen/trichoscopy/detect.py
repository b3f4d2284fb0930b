"""Hair shaft detection: from a photograph to centre lines.

Clipped hairs in a dermoscope picture are dark, elongated bars on brighter skin. The
detector works in four steps:

1. *Darkness map.* The brightest channel (so coloured ink and pigment, dark in one
   channel only, stay bright) is compared with a morphological closing that erases every
   dark structure narrower than the closing window: the relative difference, a
   normalised black top-hat [1]_, is high on hair shafts and near zero on skin,
   whatever the illumination.
2. *Hair mask.* Hysteresis thresholding [2]_ keeps faint, thin parts of a shaft when
   they touch a clearly dark part. Regions to ignore (banners, drawn marks) are removed.
3. *Shafts.* Each connected region is thinned to its skeleton. The region's width comes
   from the distance transform along the skeleton; its length from the skeleton. Short
   or blob-like regions (follicle openings, ink dots, skin texture) are dropped.
4. *How many hairs, and joining.* Each region gets one decision on how many hairs it
   holds (`shaft_multiplicity`) from one evidence record (`ShaftEvidence`): crossing
   hairs make a skeleton with more than two ends, one hair per straight line through
   it (sequential RANSAC [3]_); touching parallel hairs show one darkness peak each
   across the region and are wider than one hair, in the image's typical width and
   in physical width; a third end with no second line long enough is a forked tip
   (two hairs pressed together, spreading where they were cut). Pieces of one hair
   split by glare, a bubble or a drawn mark are joined when they are collinear.
   Faint thin hairs under the thresholds are found by a second, lower threshold and
   counted only when verified (`find_faint_shafts`). Fragments, and stubs cut by the
   field border, much shorter than the image's median hair are dropped.

References
----------
.. [1] Soille, P. (2003). Morphological Image Analysis, 2nd ed., Springer, ch. 4.4
       (top-hat transforms). :DOI:`10.1007/978-3-662-05088-0`
.. [2] Canny, J. (1986). A computational approach to edge detection. IEEE TPAMI 8(6),
       679-698. :DOI:`10.1109/TPAMI.1986.4767851`
.. [3] Fischler, M. A., Bolles, R. C. (1981). Random sample consensus. Commun. ACM
       24(6), 381-395. :DOI:`10.1145/358669.358692`
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from skimage.morphology import skeletonize

#: Images are analysed with their longer side at most this many pixels by the
#: registration helpers (`to_working`); counting uses a physical working scale instead.
WORKING_MAX_SIDE_PX = 800

#: Size of a working pixel for counting, in micrometres. A 20 µm vellus hair then
#: spans about four pixels, the fewest on which a half-maximum width can be read to
#: about a pixel; finer pixels only cost time. The detector's constants were first
#: chosen on 70x dermoscope frames at about this scale (a 1 mm scale bar spans about
#: 182 pixels), which is why it is this value and not, say, 5 µm.
WORKING_UM_PER_PX = 5.5


#: Smoothing of the map on which widths are measured: under a fifth of the thinnest
#: hair, so that it barely widens what it measures.
FINE_SMOOTHING_UM = 3.85
#: Bright specks inside a shaft up to this area (glare on the cuticle, about a
#: 30 µm disc) are filled.
GLARE_SPECK_UM2 = 900.0


@dataclass(frozen=True)
class DetectorSettings:
    """Constants of the detector (defaults suit 20x to 70x dermoscopy).

    Lengths are physical, in micrometres of skin, and converted to pixels through
    the working image's scale (see `DetectorSettings.px`). Each was chosen as a
    multiple of what it must exceed or stay under: ``closing_um`` is wider than two
    touching terminal hairs (2 x 100 µm); ``smoothing_um`` is well under the thinnest
    hair; ``min_length_um`` is about twice a thick hair's diameter (shorter dark
    spots are follicle openings or debris); ``spur_um`` is half a hair diameter
    (skeleton spurs from a rounded end); ``join_gap_um`` about one hair diameter
    (glare or a bubble interrupting a shaft). Thresholds and ratios have no unit.
    """

    closing_um: float = 225.0
    smoothing_um: float = 11.0
    high_threshold: float = 0.42
    low_threshold: float = 0.26
    #: Grey hair on light skin is less dark than the thresholds above were set
    #: for (black and brown hair): a grey shaft on light skin reaches a relative
    #: darkness of about 0.35, never 0.42. When the image's darkest thin structures
    #: (the ``contrast_percentile`` of the darkness map) stay under
    #: ``contrast_reference``, both thresholds are lowered in proportion, never
    #: below ``contrast_min_factor`` of their value (bare skin's texture, 0.11 at
    #: that percentile, stays under them), and a region found only under the lowered
    #: thresholds must be one straight ridge (`_light_region_is_a_shaft`): on bare
    #: dark skin, follicle openings and the rims of bubbles reach them too. Images
    #: of dark hair, whose percentile is above the reference, are not affected (299
    #: of the 300 fdu-dev images; the other's count does not change).
    adaptive_contrast: bool = True
    contrast_percentile: float = 99.8
    contrast_reference: float = 0.5
    contrast_min_factor: float = 0.6
    min_length_um: float = 143.0
    min_elongation: float = 2.5
    spur_um: float = 33.0
    parallel_min_ratio: float = 1.3
    parallel_prominence: float = 0.05
    join_gap_um: float = 77.0
    join_angle_deg: float = 12.0
    min_relative_length: float = 0.35
    border_relative_length: float = 0.8
    forked_pairs: bool = True
    #: A region of one straight line and at least ``pair_min_length_ratio`` of the
    #: median length holds two hairs pressed together when its sub-pixel width is at
    #: least ``pair_physical_sure_ratio`` times `SINGLE_HAIR_UM` (no lighter line
    #: needed), or at least ``pair_physical_ratio`` times with some of its
    #: cross-sections showing two peaks ``pair_physical_gap`` single widths apart
    #: (a thick single hair, blurred, reaches 1.4 to 1.6 without them), or when its
    #: cross-sections show two peaks at least ``pair_peak_gap`` single widths apart
    #: (two hairs' centres, not the flanks of one glossy hair).
    pair_physical_ratio: float = 1.4
    pair_physical_sure_ratio: float = 1.8
    pair_physical_gap: float = 0.7
    pair_peak_gap: float = 0.9
    #: ... and, for that last rule, whose sub-pixel width is at least this many of
    #: the image's single widths: two hairs side by side are that wide even pressed
    #: into each other, while a glossy single hair, whose dark flanks either side
    #: of the highlight also lie about a width apart, is 1.2 to 1.45 (engine 1.5.0).
    pair_peak_min_subpixel_ratio: float = 1.5
    pair_min_length_ratio: float = 0.8
    #: Pieces of a shaft on either side of a drawn mark (a circle, a box, text) are
    #: joined across it when collinear, up to this gap: the mark hides the shaft,
    #: it does not cut it.
    mark_bridge_um: float = 450.0
    #: Faint hairs: thin, light or grey shafts under the hysteresis thresholds,
    #: found by a second, lower threshold away from the hairs already found and
    #: counted only when verified (see `find_faint_shafts`).
    faint_hairs: bool = True
    faint_low_threshold: float = 0.10
    faint_high_threshold: float = 0.15
    faint_max_width_um: float = 45.0
    faint_min_length_um: float = 250.0
    #: Micrometres per pixel of the image handed to the detector.
    um_per_px: float = WORKING_UM_PER_PX

    def px(self, um: float) -> float:
        """A length in micrometres as pixels of the working image."""
        return um / self.um_per_px

    @property
    def closing_px(self) -> int:
        # Odd, at least 3: a closing window centred on its pixel.
        return max(3, int(round(self.px(self.closing_um))) | 1)

    @property
    def smoothing_px(self) -> float:
        return max(0.5, self.px(self.smoothing_um))

    @property
    def min_length_px(self) -> float:
        return self.px(self.min_length_um)

    @property
    def spur_px(self) -> float:
        return self.px(self.spur_um)

    @property
    def join_gap_px(self) -> float:
        return self.px(self.join_gap_um)

    def at_scale(self, um_per_px: float) -> "DetectorSettings":
        """The same physical settings for a working image of another scale."""
        return replace(self, um_per_px=float(um_per_px))


DEFAULT_SETTINGS = DetectorSettings()


@dataclass(frozen=True)
class Shaft:
    """One detected hair in working-image pixels (before measurement).

    ``multiplicity`` is the number of hairs the detected region it comes from was
    decided to hold (see `shaft_multiplicity`), and ``evidence`` the record that
    decision was made on (a plain dict, see `ShaftEvidence.to_dict`), so that an
    overlay or a clinician can see why a region counts as one, two or three hairs.
    """

    points: np.ndarray  # (n, 2) float, x and y along the centre line
    width_px: float
    multiplicity: int = 1
    evidence: dict | None = None


def working_scale(shape: tuple[int, int]) -> int:
    """Integer down-sampling factor that brings the image to the working size."""
    side = max(shape[:2])
    return max(1, int(np.ceil(side / WORKING_MAX_SIDE_PX)))


def to_working(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Down-sample an RGB image by an integer factor (area averaging)."""
    factor = working_scale(image.shape)
    if factor == 1:
        return image, 1
    h, w = image.shape[:2]
    small = cv2.resize(image, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    return small, factor


def channel_max(image: np.ndarray) -> np.ndarray:
    """Brightest channel of an RGB image (faster than ``image.max(axis=2)``)."""
    r, g, b = cv2.split(image)
    return cv2.max(cv2.max(r, g), b)


def darkness_map(
    image: np.ndarray,
    settings: DetectorSettings = DEFAULT_SETTINGS,
    smoothing_px: float | None = None,
) -> np.ndarray:
    """Relative darkness of thin structures, 0 on skin, towards 1 on black hair.

    Parameters
    ----------
    image : ndarray of uint8, shape (h, w, 3)

    Returns
    -------
    ndarray of float32, shape (h, w)
        ``(closing(v) - v) / closing(v)``, with ``v`` the brightest channel.
    """
    value = channel_max(image)
    return _relative_darkness(value, _background(value, settings), smoothing_px or settings.smoothing_px)


def darkness_maps(image: np.ndarray, settings: DetectorSettings = DEFAULT_SETTINGS) -> tuple[np.ndarray, np.ndarray]:
    """The detection map and a lightly smoothed one for measuring, on one background.

    Both compare the brightest channel with the same skin background (the closing is
    the expensive step; computing it once halves the cost of the two maps).
    """
    value = channel_max(image)
    bg = _background(value, settings)
    fine_px = max(0.35, settings.px(FINE_SMOOTHING_UM))
    return _relative_darkness(value, bg, settings.smoothing_px), _relative_darkness(value, bg, fine_px)


def _background(value: np.ndarray, settings: DetectorSettings) -> np.ndarray:
    """Skin brightness under the hairs: closing of the smoothed brightest channel."""
    # Smoothing first keeps bright skin speckle from lifting the background.
    smooth = cv2.GaussianBlur(value, (0, 0), settings.smoothing_px)
    k = settings.closing_px
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    background = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, kernel)
    # The closing is smooth at the scale of the window: blur it on a grid four
    # times coarser (the same result within a grey level, at a sixteenth of the cost).
    h, w = background.shape
    if min(h, w) >= 64:
        small = cv2.resize(background, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), k / 16)
        bg = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        bg = cv2.GaussianBlur(background.astype(np.float32), (0, 0), k / 4)
    return np.maximum(bg, 1.0)


def _relative_darkness(value: np.ndarray, bg: np.ndarray, smoothing_px: float) -> np.ndarray:
    v = cv2.GaussianBlur(value, (0, 0), smoothing_px).astype(np.float32)
    return np.clip((bg - v) / bg, 0.0, 1.0)


def hair_contrast(darkness: np.ndarray, ignore: np.ndarray, percentile: float = 99.8) -> float:
    """How dark the image's darkest thin structures are: a high percentile of the
    darkness map outside the ignored regions (on every fourth pixel each way: a
    shaft is several pixels wide, so the sample sees it)."""
    sample = darkness[::4, ::4][~ignore[::4, ::4]]
    if sample.size == 0:
        return 0.0
    return float(np.percentile(sample, percentile))


def for_contrast(settings: DetectorSettings, darkness: np.ndarray, ignore: np.ndarray) -> DetectorSettings:
    """The settings with the hysteresis thresholds lowered for an image of light hair
    (see ``DetectorSettings.adaptive_contrast``); unchanged for dark hair."""
    if not settings.adaptive_contrast:
        return settings
    contrast = hair_contrast(darkness, ignore, settings.contrast_percentile)
    factor = min(1.0, max(settings.contrast_min_factor, contrast / settings.contrast_reference))
    if factor >= 1.0:
        return settings
    return replace(settings, high_threshold=settings.high_threshold * factor,
                   low_threshold=settings.low_threshold * factor)


def _light_region_is_a_shaft(
    values: np.ndarray, xy: np.ndarray, n_ends: int, length: float, full_high: float, settings: DetectorSettings
) -> bool:
    """With thresholds lowered for a low-contrast image, a region that never reaches the
    ordinary high threshold counts only when it looks like a hair and nothing else: one
    straight ridge (two ends, every skeleton point within 1.5 pixels or 3 % of its
    length of its principal axis), at least ``faint_min_length_um`` long. The rims
    of bubbles, the edges of flakes and the shadows of openings on bare dark skin reach
    the lowered thresholds too, and they are curved, blotchy or short."""
    if values.size == 0 or float(values.max()) >= full_high:
        return True
    if n_ends > 2 or length < settings.px(settings.faint_min_length_um):
        return False
    centre = xy.mean(axis=0)
    d = xy - centre
    _, vecs = np.linalg.eigh(d.T @ d)
    off_axis = np.abs(d @ vecs[:, 0])
    return float(off_axis.max()) <= max(1.5, 0.03 * length)


def hair_mask(
    darkness: np.ndarray, ignore: np.ndarray, settings: DetectorSettings = DEFAULT_SETTINGS
) -> np.ndarray:
    """Binary mask of hair pixels by hysteresis thresholding of the darkness map."""
    low = (darkness >= settings.low_threshold).astype(np.uint8)
    low[ignore] = 0
    # An opening about 11 µm wide removes single-pixel speckle, never a hair.
    k_open = int(round(settings.px(11.0)))
    if k_open >= 2:
        low = cv2.morphologyEx(low, cv2.MORPH_OPEN, np.ones((k_open, k_open), np.uint8))
    n, labels = cv2.connectedComponents(low, connectivity=8)
    high = darkness >= settings.high_threshold
    keep = np.zeros(n, dtype=bool)
    keep[labels[high & (low > 0)]] = True
    keep[0] = False
    mask = keep[labels]
    # Small bright specks inside a shaft (glare on the cuticle) are part of it.
    inv = (~mask).astype(np.uint8)
    n_holes, hole_labels, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] <= GLARE_SPECK_UM2 / settings.um_per_px**2
    small[0] = False
    # The background component is the largest one; never fill it.
    small[int(np.argmax(stats[:, cv2.CC_STAT_AREA]))] = False
    return mask | small[hole_labels]


def _regions(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected regions of a uint8 image with their boxes and areas.

    Grana's block-based labelling numbers the regions in the same order as OpenCV's
    default (Spaghetti, also block-based: a region takes its number from its first
    2 x 2 block in raster order) and is about twice as fast when statistics are
    gathered on one core.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_BBDT)
    return n, labels, stats


_NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)


def _skeleton(region: np.ndarray) -> np.ndarray:
    """Skeleton of a boolean region, thinned inside a one-pixel empty frame so that
    it may reach the region's box (``np.pad`` does the same at several times the
    cost on these small boxes)."""
    h, w = region.shape
    framed = np.zeros((h + 2, w + 2), dtype=bool)
    framed[1:-1, 1:-1] = region
    return skeletonize(framed)[1:-1, 1:-1]


def _skeleton_ends(skel: np.ndarray, spur_px: float) -> tuple[np.ndarray, int]:
    """End points of a skeleton, ignoring spurs shorter than ``spur_px``.

    Returns the coordinates (row, col) of the kept ends and their number.
    """
    s = skel.astype(np.uint8)
    nb = cv2.filter2D(s, -1, _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)
    ends = (s == 1) & (nb == 1)
    junctions = (s == 1) & (nb >= 3)
    if not junctions.any():
        pts = np.argwhere(ends)
        return pts, len(pts)
    # Branches are the skeleton minus (dilated) junctions; a spur is a short branch
    # holding an end point.
    jd = cv2.dilate(junctions.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    branches = (s == 1) & ~jd
    n, labels, stats, _ = cv2.connectedComponentsWithStats(branches.astype(np.uint8), connectivity=8)
    pts = np.argwhere(ends)
    lab = labels[pts[:, 0], pts[:, 1]]
    pts = pts[(lab == 0) | (stats[lab, cv2.CC_STAT_AREA] >= spur_px)].astype(np.int64)
    return pts, len(pts)


def _principal_polyline(points: np.ndarray, n_nodes: int = 8, node_px: float = 10.0) -> tuple[np.ndarray, float]:
    """Centre line through skeleton points ``(x, y)`` as a short polyline.

    The points are ordered along their principal axis and averaged in bins, which
    follows gently curved hairs. Returns the polyline and its length.
    """
    centre = points.mean(axis=0)
    d = points - centre
    cov = d.T @ d
    evals, evecs = np.linalg.eigh(cov)
    axis = evecs[:, -1]
    t = d @ axis
    lo, hi = t.min(), t.max()
    nodes = max(2, min(n_nodes, int((hi - lo) // node_px) + 2))
    edges = np.linspace(lo, hi, nodes + 1)
    idx = np.minimum(np.maximum(np.searchsorted(edges, t, side="right") - 1, 0), nodes - 1)
    # Mean of each non-empty bin (summed in point order, as a per-bin mean is).
    count = np.bincount(idx, minlength=nodes)
    filled = count > 0
    sx = np.bincount(idx, weights=points[:, 0], minlength=nodes)[filled]
    sy = np.bincount(idx, weights=points[:, 1], minlength=nodes)[filled]
    poly = np.stack([sx, sy], axis=1) / count[filled][:, None]
    # Stretch the end nodes out to the extreme projections so the ends are kept.
    perp = np.array([-axis[1], axis[0]])
    first = centre + lo * axis + ((poly[0] - centre) @ perp) * perp
    last = centre + hi * axis + ((poly[-1] - centre) @ perp) * perp
    poly = np.vstack([first, poly[1:-1], last]) if len(poly) > 2 else np.vstack([first, last])
    length = float(np.sum(np.hypot(*np.diff(poly, axis=0).T)))
    return poly, length


def _ransac_lines(
    points: np.ndarray, n_lines: int, tol_px: float, rng: np.random.Generator, min_pair_px: float = 4.0
) -> list[np.ndarray]:
    """Fit up to ``n_lines`` straight segments through ``points`` (x, y) in turn."""
    remaining = points.astype(np.float64)
    segments = []
    for _ in range(n_lines):
        if len(remaining) < 6:
            break
        best = None
        best_count = 0
        trials = min(60, len(remaining) * 2)
        # All candidate lines (through pairs of points) are scored at once.
        i, j = rng.integers(0, len(remaining), size=(2, trials))
        v = remaining[j] - remaining[i]
        norm = np.hypot(v[:, 0], v[:, 1])
        good = norm >= min_pair_px
        if good.any():
            i, v, norm = i[good], v[good], norm[good]
            normal = np.stack([-v[:, 1], v[:, 0]], axis=1) / norm[:, None]
            dist = np.abs((remaining[None, :, :] - remaining[i][:, None, :]) @ normal[:, :, None])[:, :, 0]
            inl = dist <= tol_px
            counts = inl.sum(axis=1)
            k = int(np.argmax(counts))
            best_count, best = int(counts[k]), inl[k]
        if best is None or best_count < 6:
            break
        inliers = remaining[best]
        poly, _length = _principal_polyline(inliers, n_nodes=2)
        segments.append(poly)
        remaining = remaining[~best]
    return segments


def _half_max_width(
    fine: np.ndarray, labels: np.ndarray, lab: int, stat: np.ndarray, skel: np.ndarray
) -> float:
    """Shaft width at half its darkness, measured along the skeleton.

    The hysteresis mask of a blurred shaft is wider than the shaft; the full width at
    half maximum of the lightly smoothed darkness is not, and does not depend on the
    detection thresholds.
    """
    x, y, w, h = (int(v) for v in stat[:4])
    pad = 3
    y0, x0 = max(0, y - pad), max(0, x - pad)
    y1, x1 = min(labels.shape[0], y + h + pad), min(labels.shape[1], x + w + pad)
    comp = (labels[y0:y1, x0:x1] == lab).astype(np.uint8)
    region = fine[y0:y1, x0:x1]
    peak = float(np.percentile(region[comp > 0], 90))
    near = cv2.dilate(comp, np.ones((5, 5), np.uint8)) > 0
    half = ((region >= 0.5 * peak) & near).astype(np.uint8)
    dist = cv2.distanceTransform(half, cv2.DIST_L2, 5)
    sk = np.zeros_like(comp, dtype=bool)
    sk[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = skel
    radii = dist[sk]
    radii = radii[radii > 0]
    if radii.size == 0:
        return 1.0
    return float(max(1.0, 2.0 * np.median(radii) - 1.0))


def count_side_by_side(
    darkness: np.ndarray, xy: np.ndarray, width: float, settings: DetectorSettings
) -> int:
    """Number of hairs lying side by side in a wide region (median peak count).

    See `cross_section_peaks`.
    """
    return cross_section_peaks(darkness, xy, width, settings)[0]


def cross_section_peaks(
    darkness: np.ndarray, xy: np.ndarray, width: float, settings: DetectorSettings
) -> tuple[int, float, float]:
    """Darkness peaks across a region, read at several places along it.

    Cross-sections of the darkness map are taken across the region's axis at seven
    places between 15 % and 85 % of its length; touching parallel shafts show one
    darkness peak each, separated by the lighter line where they meet. A glossy
    single hair also shows two peaks, either side of the highlight along its axis,
    but they lie closer together than two hairs' centres (about half a width).

    Returns
    -------
    peaks : int
        Median number of peaks (at least 1).
    gap_px : float
        Median distance between the outermost peaks of the cross-sections with two
        or more peaks, in pixels (0 when none has two).
    dip : float
        Median depth of the lightest point between those two peaks below the lower
        of them, as a fraction of it (0 when none has two): a lighter line between
        two hairs goes deeper than a highlight on one.
    """
    centre = xy.mean(axis=0)
    d = xy - centre
    evals, evecs = np.linalg.eigh(d.T @ d)
    axis = evecs[:, -1]
    normal = np.array([-axis[1], axis[0]])
    t = d @ axis
    lo, hi = np.percentile(t, [15, 85])
    if hi - lo < 4:
        return 1, 0.0, 0.0
    half = width * 0.75 + settings.px(11.0)
    step = 0.5
    offsets = np.arange(-half, half + 0.01, step)
    near_px = settings.px(11.0)
    # Follow the region's own centre at each position, not the global axis.
    at = []
    for ti in np.linspace(lo, hi, 7):
        near = np.abs(t - ti) <= near_px
        at.append(xy[near].mean(axis=0) if near.any() else centre + ti * axis)
    at = np.array(at)
    # All seven cross-sections are read at once (nearest pixel).
    h, w = darkness.shape
    ix = np.round(at[:, 0:1] + (offsets * normal[0])[None, :]).astype(int)
    iy = np.round(at[:, 1:2] + (offsets * normal[1])[None, :]).astype(int)
    # np.minimum/np.maximum: np.clip's wrapper costs more than the clipping here.
    np.minimum(np.maximum(ix, 0, out=ix), w - 1, out=ix)
    np.minimum(np.maximum(iy, 0, out=iy), h - 1, out=iy)
    sections = darkness[iy, ix]
    counts = []
    gaps, dips = [], []
    for profile in sections:
        values = profile.tolist()
        where = _peak_positions(profile, settings.parallel_prominence, settings.low_threshold, values)
        counts.append(len(where))
        if len(where) >= 2:
            a, b = where[0], where[-1]
            gaps.append((b - a) * step)
            low_peak = min(values[a], values[b])
            dips.append((low_peak - min(values[a : b + 1])) / max(low_peak, 1e-6))
    counts = [c for c in counts if c > 0]
    if not counts:
        return 1, 0.0, 0.0
    peaks = max(1, int(np.floor(_median(counts) + 0.5)))
    return peaks, float(_median(gaps)) if gaps else 0.0, float(_median(dips)) if dips else 0.0


def _median(values: list) -> float:
    """``np.median`` of a short list of Python numbers, without its overhead (the same
    value: the middle one, or the mean of the middle two)."""
    s = sorted(values)
    n = len(s)
    m = n // 2
    return s[m] / 1 if n % 2 else (s[m - 1] + s[m]) / 2


def _count_peaks(profile: np.ndarray, prominence: float, floor: float) -> int:
    """Peaks of a 1-D profile above ``floor`` separated by dips of ``prominence``."""
    return len(_peak_positions(profile, prominence, floor))


def _peak_positions(
    profile: np.ndarray, prominence: float, floor: float, values: list[float] | None = None
) -> list[int]:
    """Indices of the maxima of the peaks counted by `_count_peaks`.

    The profile is walked as a list of Python floats (``values``, its ``tolist()``,
    may be passed in); the thresholds a value is compared with are computed, when
    they change, in the profile's own precision, as arithmetic on its elements would
    be, so float32 profiles give the same peaks as element-by-element numpy.
    """
    profile = np.asarray(profile)
    if values is None:
        values = profile.tolist()
    kind = profile.dtype.type if profile.dtype.kind == "f" else np.float64
    # Comparing an element with a Python float compares in the element's precision.
    floor_v = float(kind(floor))
    where: list[int] = []
    current_max = -1.0
    current_min = 0.0
    rise = float(kind(0.0) + prominence)  # current_min + prominence
    fall = 0.0  # current_max - prominence
    in_peak = False
    for i, v in enumerate(values):
        if not in_peak:
            if v >= floor_v and (current_max < 0 or v >= rise):
                in_peak = True
                current_max = v
                fall = float(kind(v) - prominence)
                where.append(i)
            elif current_max >= 0 and v < current_min:
                current_min = v
                rise = float(kind(v) + prominence)
        else:
            if v > current_max:
                current_max = v
                fall = float(kind(v) - prominence)
                where[-1] = i
            elif v <= fall:
                in_peak = False
                current_min = v
                rise = float(kind(v) + prominence)
    return where


@dataclass(frozen=True)
class ShaftEvidence:
    """What a detected region shows about how many hairs it holds.

    Attributes
    ----------
    ends : int
        Skeleton ends (spurs from rounded ends pruned): 2 for a lone shaft, 3 for a
        forked tip, 4 for two crossing hairs.
    lines : int
        Straight lines long enough to stand alone found through the skeleton
        (crossing hairs give one each).
    peaks : int
        Median number of darkness peaks across the region.
    peak_gap : float
        Median distance between the outermost peaks, over the image's typical
        single-hair width (about 1 for two hairs side by side, about 0.5 for the
        two flanks of one glossy hair's central highlight); 0 with one peak.
    dip : float
        Median depth of the lighter line between those peaks (see
        `cross_section_peaks`); 0 with one peak.
    width_ratio : float
        Whole-pixel half-maximum width over the image's typical single-hair width.
    subpixel_ratio : float
        Sub-pixel half-maximum width across the centre line over the same.
    physical_ratio : float
        Sub-pixel width in micrometres over `SINGLE_HAIR_UM`, the width of one adult
        scalp hair (only meaningful when the scale is calibrated).
    length_ratio : float
        Length over the median length of the image's detected regions.
    """

    ends: int
    lines: int
    peaks: int
    peak_gap: float
    dip: float
    width_ratio: float
    subpixel_ratio: float
    physical_ratio: float
    length_ratio: float

    def to_dict(self) -> dict:
        return {
            "ends": int(self.ends),
            "lines": int(self.lines),
            "peaks": int(self.peaks),
            "peak_gap": round(float(self.peak_gap), 2),
            "dip": round(float(self.dip), 2),
            "width_ratio": round(float(self.width_ratio), 2),
            "subpixel_ratio": round(float(self.subpixel_ratio), 2),
            "physical_ratio": round(float(self.physical_ratio), 2),
            "length_ratio": round(float(self.length_ratio), 2),
        }


#: Width of one adult scalp hair for the multiplicity decision, in micrometres: the
#: middle of the 50 to 90 µm adult measures, a little above the typical 70 µm the
#: uncalibrated scale estimate assumes, since touching pairs are what it must rule out.
SINGLE_HAIR_UM = 80.0


def shaft_multiplicity(ev: ShaftEvidence, settings: DetectorSettings = DEFAULT_SETTINGS) -> int:
    """How many hairs one detected region holds: one decision from all its evidence.

    - hairs lying side by side: a region wider than ``parallel_min_ratio`` single
      widths holds one hair per darkness peak across it, capped by its width in
      single widths (a glossy hair's central highlight also makes two peaks, but
      such a hair is not twice as wide);
    - a forked tip: a third skeleton end with no second line long enough to stand
      alone is two hairs from one opening pressed together, spreading only where
      they were cut;
    - a pair pressed together with no lighter line between: a straight region of
      ordinary length (``pair_min_length_ratio`` of the median) whose sub-pixel
      width is ``pair_physical_sure_ratio`` times the physical width of one hair,
      or ``pair_physical_ratio`` times with a hint of two peaks in some
      cross-sections (``pair_physical_gap``), or whose cross-sections show two
      peaks a single hair's width apart (``pair_peak_gap``) in a region at least
      ``pair_peak_min_subpixel_ratio`` single widths wide: the image's own
      typical width fails when most of its units are pairs, the physical one does
      not;
    - crossing hairs: each straight line through the skeleton is a hair; hairs side
      by side along the main line add to the others.
    """
    side = 1
    if ev.width_ratio >= settings.parallel_min_ratio:
        by_width = max(1, int(np.floor(ev.width_ratio + 0.5)))
        side = min(by_width, ev.peaks)
    if settings.forked_pairs and ev.ends >= 3:
        side = max(side, 2)
    lines = max(1, ev.lines)
    if side == 1 and lines == 1 and ev.length_ratio >= settings.pair_min_length_ratio:
        if ev.physical_ratio >= settings.pair_physical_ratio and (
            ev.physical_ratio >= settings.pair_physical_sure_ratio or ev.peak_gap >= settings.pair_physical_gap
        ):
            side = 2
        elif (ev.peaks >= 2 and ev.peak_gap >= settings.pair_peak_gap
              and ev.subpixel_ratio >= settings.pair_peak_min_subpixel_ratio):
            side = 2
    return lines if side <= lines else lines - 1 + side


def _offset(poly: np.ndarray, distance: float) -> np.ndarray:
    v = poly[-1] - poly[0]
    norm = np.hypot(*v) or 1.0
    normal = np.array([-v[1], v[0]]) / norm
    return poly + distance * normal


def shaft_evidence(
    fine: np.ndarray,
    xy: np.ndarray,
    width: float,
    n_ends: int,
    lines: list[np.ndarray],
    length: float,
    single_width: float,
    median_length: float,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> ShaftEvidence:
    """The evidence record of one detected region (see `ShaftEvidence`)."""
    peaks, gap, dip = cross_section_peaks(fine, xy, width, settings)
    main = max(lines, key=lambda ln: np.hypot(*(ln[-1] - ln[0])))
    sub = cross_section_width(fine, main, width) if len(lines) == 1 else width
    single = max(single_width, 1e-6)
    return ShaftEvidence(
        ends=int(n_ends),
        lines=len(lines),
        peaks=int(peaks),
        peak_gap=gap / single,
        dip=dip,
        width_ratio=width / single,
        subpixel_ratio=sub / single,
        physical_ratio=sub * settings.um_per_px / SINGLE_HAIR_UM,
        length_ratio=length / max(median_length, 1e-6),
    )


def detect_shafts(
    image: np.ndarray,
    ignore: np.ndarray,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> tuple[list[Shaft], np.ndarray]:
    """Find hair shafts in a working-size RGB image.

    Parameters
    ----------
    image : ndarray of uint8, shape (h, w, 3)
        The working-size image (see `to_working`).
    ignore : ndarray of bool, shape (h, w)
        Pixels to leave out.

    Returns
    -------
    shafts : list of Shaft
        Centre lines and widths in working-image pixels.
    mask : ndarray of bool
        The hair mask they were found in.
    """
    # The detection map, and a lightly smoothed one for measuring widths and telling
    # side-by-side hairs apart.
    darkness, fine = darkness_maps(image, settings)
    full_high = settings.high_threshold
    settings = for_contrast(settings, darkness, ignore)
    lowered = settings.high_threshold < full_high
    mask = hair_mask(darkness, ignore, settings)
    n, labels, stats = _regions(mask.astype(np.uint8))
    if n <= 1:
        return [], mask
    rng = np.random.default_rng(0)

    candidates = []  # (label, skeleton points xy, width, n_ends)
    for lab in range(1, n):
        x, y, w, h, area = stats[lab]
        if max(w, h) < settings.min_length_px * 0.7:
            continue
        sl = (slice(y, y + h), slice(x, x + w))
        # Thinning each candidate's own box skips the many small specks.
        comp_skel = _skeleton(labels[sl] == lab)
        rc = np.argwhere(comp_skel)
        if len(rc) < 3:
            continue
        width = _half_max_width(fine, labels, lab, stats[lab], comp_skel)
        length = len(rc) + width
        if length < settings.min_length_px or length < settings.min_elongation * width:
            continue
        ends, n_ends = _skeleton_ends(comp_skel, settings.spur_px)
        xy = rc[:, ::-1].astype(np.float64) + (x, y)
        if lowered and not _light_region_is_a_shaft(darkness[sl][labels[sl] == lab], xy, n_ends, length, full_high,
                                                     settings):
            continue
        candidates.append((xy, width, n_ends, area, length))

    if not candidates:
        return [], mask
    # Typical width of one hair: the widths of simple shafts (two ends), lower half,
    # so that merged parallel pairs do not raise it.
    simple = np.array([c[1] for c in candidates if c[2] <= 2])
    widths = simple if len(simple) >= 3 else np.array([c[1] for c in candidates])
    single_width = float(np.percentile(widths, 40))

    median_length = float(np.median([c[4] for c in candidates]))

    shafts: list[Shaft] = []
    side_by_side: dict[int, Shaft] = {}  # by id; holding them keeps the ids unique
    for xy, width, n_ends, area, length in candidates:
        n_cross = max(1, int(round(n_ends / 2)))
        if n_cross == 1:
            poly, _ = _principal_polyline(xy, node_px=settings.px(55.0))
            lines = [poly]
        else:
            lines = _ransac_lines(xy, n_cross, max(settings.px(11.0), width), rng, settings.px(22.0)) or [
                _principal_polyline(xy, node_px=settings.px(55.0))[0]
            ]
        lines = [ln for ln in lines if np.hypot(*(ln[-1] - ln[0])) >= settings.min_length_px * 0.6] or lines[:1]
        evidence = shaft_evidence(fine, xy, width, n_ends, lines, length, single_width, median_length, settings)
        n_hairs = shaft_multiplicity(evidence, settings)
        record = evidence.to_dict()
        if n_hairs > len(lines):
            # Hairs side by side: spread copies of the main line across the width.
            n_side = n_hairs - len(lines) + 1
            main = max(lines, key=lambda ln: np.hypot(*(ln[-1] - ln[0])))
            per = width / n_side
            extra = [_offset(main, (k - (n_side - 1) / 2) * per) for k in range(n_side)]
            lines = [ln for ln in lines if ln is not main] + extra
            # Each hair's share of the joint width. Hairs pressed together with no
            # lighter line between them (fewer darkness peaks than hairs) take the
            # sub-pixel width where that is wider: their half-maximum width in whole
            # pixels can read as one hair's, and half of it as a vellus hair. Hairs
            # whose peaks show keep the region's width (a cross-section over two
            # separate peaks is no measure of the pair).
            joint = width
            if evidence.peaks < n_side:
                joint = min(max(width, evidence.subpixel_ratio * single_width), 2.5 * width)
            w_each = joint / n_side
        else:
            w_each = width
        for ln in lines:
            shafts.append(Shaft(points=ln, width_px=w_each, multiplicity=n_hairs, evidence=record))
            if n_hairs > 1 and w_each < width:
                side_by_side[id(shafts[-1])] = shafts[-1]
    if settings.faint_hairs:
        shafts += find_faint_shafts(darkness, fine, mask, ignore, settings)
    shafts = drop_fragments(join_collinear(shafts, settings, ignore), settings)
    shafts = drop_border_stubs(shafts, ignore, settings)
    # Report each lone shaft's width as the sub-pixel full width at half maximum of
    # its cross-sections (hairs side by side keep their share of the joint width).
    return [
        s if id(s) in side_by_side else replace(s, width_px=cross_section_width(fine, s.points, s.width_px))
        for s in shafts
    ], mask


def find_faint_shafts(
    darkness: np.ndarray,
    fine: np.ndarray,
    mask: np.ndarray,
    ignore: np.ndarray,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> list[Shaft]:
    """Thin, light hairs under the detection thresholds, each verified before it counts.

    Candidates are regions of the darkness map above ``faint_low_threshold`` that
    reach ``faint_high_threshold`` somewhere, away from the hairs already found and
    from ignored regions. One counts as a hair only when it is

    - a single straight ridge: two skeleton ends, its skeleton within about a pixel
      of its principal axis;
    - at least ``faint_min_length_um`` long and at most ``faint_max_width_um`` wide
      (vellus width), and at least six times as long as wide;
    - of consistent width along its length (the half-maximum widths of its
      cross-sections vary by under a third);
    - darker than the skin on both sides: each cross-section's centre stands out
      from both flanks by at least half its own darkness (a shadow edge or a skin
      fold is dark on one side only);
    - not touching an ignored region (a drawn mark's faint halo).
    """
    low = (darkness >= settings.faint_low_threshold).astype(np.uint8)
    # Away from found hairs: their blurred flanks also pass a low threshold.
    guard = int(round(settings.px(22.0)))
    near_hair = cv2.dilate(mask.astype(np.uint8), np.ones((2 * guard + 1, 2 * guard + 1), np.uint8)) > 0
    near_ignore = cv2.dilate(ignore.astype(np.uint8), np.ones((2 * guard + 1, 2 * guard + 1), np.uint8)) > 0
    low[near_hair] = 0
    n, labels, stats = _regions(low)
    if n <= 1:
        return []
    high = darkness >= settings.faint_high_threshold
    min_len = settings.px(settings.faint_min_length_um)
    max_w = settings.px(settings.faint_max_width_um)
    found = []
    for lab in range(1, n):
        x, y, w, h, area = stats[lab]
        if max(w, h) < 0.7 * min_len:
            continue
        sl = (slice(y, y + h), slice(x, x + w))
        comp = labels[sl] == lab
        if not (high[sl] & comp).any() or (near_ignore[sl] & comp).any():
            continue
        skel = _skeleton(comp)
        rc = np.argwhere(skel)
        if len(rc) < min_len * 0.7:
            continue
        # The straightness test first: it is cheaper than finding the ends.
        xy = rc[:, ::-1].astype(np.float64) + (x, y)
        d = xy - xy.mean(axis=0)
        evals, evecs = np.linalg.eigh(d.T @ d)
        spread = float(np.sqrt(evals[0] / len(xy)))
        if spread > max(1.0, settings.px(5.5)):
            continue
        _ends, n_ends = _skeleton_ends(skel, settings.spur_px)
        if n_ends != 2:
            continue
        poly, length = _principal_polyline(xy, n_nodes=2)
        widths, contrast = _cross_sections(fine, poly, max_w)
        if len(widths) < 5:
            continue
        width = float(np.median(widths))
        if not (1.0 <= width <= max_w) or length + width < min_len or length < 6 * width:
            continue
        if np.std(widths) > width / 3 or np.median(contrast) < 0.5:
            continue
        found.append(Shaft(points=poly, width_px=width, evidence={"faint": True}))
    return found


def _cross_sections(fine: np.ndarray, points: np.ndarray, max_width: float) -> tuple[list[float], list[float]]:
    """Half-maximum widths and both-sided contrast of cross-sections of a thin ridge.

    Contrast is ``1 - max(left flank, right flank) / centre`` with the flanks read
    at 1.5 widths either side of the centre: 1 for a ridge on clean skin, near 0
    for an edge (dark on one side).
    """
    seg = points[-1] - points[0]
    total = float(np.hypot(*seg))
    if total < 4:
        return [], []
    tangent = seg / total
    normal = np.array([-tangent[1], tangent[0]])
    step = 0.25
    half = 2.0 * max_width + 2.0
    offs = np.arange(-half, half + step / 2, step, dtype=np.float32)
    where = np.linspace(0.15, 0.85, 12)
    centres = points[0][None, :] + where[:, None] * seg[None, :]
    mx = (centres[:, 0:1] + offs[None, :] * normal[0]).astype(np.float32)
    my = (centres[:, 1:2] + offs[None, :] * normal[1]).astype(np.float32)
    prof = cv2.remap(fine, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    c = len(offs) // 2
    reach = max(2, int(round(0.5 * max_width / step)))
    widths, contrast = [], []
    for row in prof:
        p = c - reach + int(np.argmax(row[c - reach : c + reach + 1]))
        peak = float(row[p])
        if peak <= 0.02:
            continue
        level = 0.5 * peak
        left = np.flatnonzero(row[:p] < level)
        right = np.flatnonzero(row[p:] < level)
        if left.size == 0 or right.size == 0:
            continue
        wdt = (p + int(right[0]) - int(left[-1])) * step
        flank = int(round(1.5 * max(wdt, 1.0) / step))
        lo_i, hi_i = max(0, p - flank), min(len(row) - 1, p + flank)
        widths.append(wdt)
        contrast.append(1.0 - max(float(row[lo_i]), float(row[hi_i])) / peak)
    return widths, contrast


def cross_section_width(fine: np.ndarray, points: np.ndarray, fallback: float) -> float:
    """Full width at half maximum across a shaft, to a fraction of a pixel.

    Profiles of the lightly smoothed darkness map are sampled (bilinear) across the
    centre line at up to 15 places in the middle 70 % of its length, away from the
    rounded ends; on each, the half-maximum crossings either side of the local peak
    are found by linear interpolation. The thresholded distance-transform width used
    for detection counts whole pixels and loses about a pixel on each side; this
    does not. Returns ``fallback`` when no profile can be read.
    """
    seg = np.diff(points, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    total = float(seg_len.sum())
    if total < 4:
        return fallback
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    where = np.linspace(0.15 * total, 0.85 * total, 15)
    k = np.minimum(np.maximum(np.searchsorted(cum, where, side="right") - 1, 0), len(seg) - 1)
    frac = (where - cum[k]) / np.maximum(seg_len[k], 1e-9)
    centres = points[k] + seg[k] * frac[:, None]
    tangent = seg[k] / np.maximum(seg_len[k], 1e-9)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    half = max(4.0, 1.5 * fallback + 3.0)
    step = 0.25
    offs = np.arange(-half, half + step / 2, step, dtype=np.float32)
    mx = (centres[:, 0:1] + offs[None, :] * normal[:, 0:1]).astype(np.float32)
    my = (centres[:, 1:2] + offs[None, :] * normal[:, 1:2]).astype(np.float32)
    prof = cv2.remap(fine, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    centre_i = len(offs) // 2
    reach = max(2, int(round((0.5 * fallback + 1.5) / step)))
    # All profiles at once: the local peak near the centre, the level half way
    # between it and the lower end of the profile, the last sample under that level
    # before the peak and the first one after it.
    lo_i = max(0, centre_i - reach)
    rows = np.arange(len(prof))
    p = lo_i + np.argmax(prof[:, lo_i : centre_i + reach + 1], axis=1)
    peak = prof[rows, p].astype(np.float64)
    base = np.minimum(prof[:, 0], prof[:, -1]).astype(np.float64)
    level = base + 0.5 * (peak - base)
    # Compared and interpolated in the map's precision, as per-sample arithmetic is.
    level_f = level.astype(prof.dtype)
    under = prof < level_f[:, None]
    idx = np.arange(prof.shape[1])
    before = idx[None, :] < p[:, None]
    i = np.where(under & before, idx[None, :], -1).max(axis=1)
    j = np.where(under & ~before, idx[None, :], prof.shape[1]).min(axis=1)
    ok = (peak - base >= 0.05) & (i >= 0) & (j < prof.shape[1])
    if np.count_nonzero(ok) < 3:
        return fallback
    rows, i, j, level_f = rows[ok], i[ok], j[ok], level_f[ok]
    ri, ri1 = prof[rows, i], prof[rows, i + 1]
    rj1, rj = prof[rows, j - 1], prof[rows, j]
    xl = i.astype(prof.dtype) + (level_f - ri) / (ri1 - ri)
    xr = (j - 1).astype(prof.dtype) + (rj1 - level_f) / (rj1 - rj)
    widths = (xr - xl) * prof.dtype.type(step)
    return float(max(1.0, np.median(widths)))


def drop_fragments(shafts: list[Shaft], settings: DetectorSettings = DEFAULT_SETTINGS) -> list[Shaft]:
    """Leave out pieces much shorter than the image's typical hair.

    A phototrichogram's target area is clipped in one go, so its hairs show similar
    lengths; a detection shorter than ``min_relative_length`` times the image's
    median is a fragment (glare, a drawn mark, a broken skeleton), a stub cut by
    the field border, or skin texture. Needs a handful of hairs to know the median.
    """
    if len(shafts) < 5 or settings.min_relative_length <= 0:
        return shafts
    lengths = np.array([_len(s.points) + s.width_px for s in shafts])
    floor = settings.min_relative_length * float(np.median(lengths))
    return [s for s, length in zip(shafts, lengths) if length >= floor]


def drop_border_stubs(
    shafts: list[Shaft], ignore: np.ndarray, settings: DetectorSettings = DEFAULT_SETTINGS
) -> list[Shaft]:
    """Leave out hairs cut by the field border that show less than most of their length.

    A hair whose end touches the image edge (or an ignored region) and that is
    shorter than ``border_relative_length`` times the image's median hair lies
    mostly outside the field; whether it belongs to the target area is a counting
    -frame question, and counting every stub inflates sparse fields. Hairs cut by
    the border but shown at nearly full length are kept. Needs a handful of hairs
    to know the median.
    """
    if len(shafts) < 5 or settings.border_relative_length <= 0:
        return shafts
    lengths = np.array([_len(s.points) + s.width_px for s in shafts])
    floor = settings.border_relative_length * float(np.median(lengths))
    kept = []
    for s, length in zip(shafts, lengths):
        if length < floor:
            margin = s.width_px / 2 + settings.px(11.0)
            if _at_border(s.points[0], margin, ignore) or _at_border(s.points[-1], margin, ignore):
                continue
        kept.append(s)
    return kept


def _at_border(point: np.ndarray, margin: float, ignore: np.ndarray) -> bool:
    h, w = ignore.shape
    x, y = float(point[0]), float(point[1])
    if x < margin or y < margin or x > w - 1 - margin or y > h - 1 - margin:
        return True
    m = int(np.ceil(margin))
    x0, x1 = max(0, int(x) - m), min(w, int(x) + m + 1)
    y0, y1 = max(0, int(y) - m), min(h, int(y) + m + 1)
    return bool(ignore[y0:y1, x0:x1].any())


def join_collinear(
    shafts: list[Shaft], settings: DetectorSettings = DEFAULT_SETTINGS, ignore: np.ndarray | None = None
) -> list[Shaft]:
    """Join pieces of one hair separated by glare, a bubble or a gap in the mask.

    With ``ignore`` (the regions left out: drawn marks, banners), pieces on either
    side of an ignored stretch are also joined across it, up to ``mark_bridge_um``,
    when the stretch between their ends is mostly ignored and both pieces and the
    gap run along one line: a mark drawn over a hair hides part of it, and without
    the bridge the hair would count as two pieces (or as two border stubs).
    """
    items = list(shafts)
    bridge = settings.px(settings.mark_bridge_um) if ignore is not None and ignore.any() else 0.0
    changed = True
    while changed:
        changed = False
        # Ends and the widest allowed gap per piece, so that far-apart pairs (nearly
        # all of them in a frame of many hairs) are passed over without the full test.
        if len(items) < 2:
            break
        ends = np.array([[s.points[0], s.points[-1]] for s in items], dtype=np.float64)  # (n, 2, 2)
        reach = np.array([max(settings.join_gap_px, 2.5 * s.width_px, bridge) for s in items])
        d = ends[:, None, :, None, :] - ends[None, :, None, :, :]
        gap = np.sqrt((d**2).sum(axis=-1)).min(axis=(2, 3))
        near = gap <= np.maximum(reach[:, None], reach[None, :])
        for i in range(len(items)):
            for j in np.flatnonzero(near[i, i + 1 :]) + i + 1:
                joined = _try_join(items[i], items[j], settings, ignore if bridge else None)
                if joined is not None:
                    items[i] = joined
                    del items[j]
                    changed = True
                    break
            if changed:
                break
    return items


def _direction(points: np.ndarray) -> np.ndarray:
    v = points[-1] - points[0]
    return v / (np.hypot(*v) or 1.0)


def _masked_share(p: np.ndarray, q: np.ndarray, ignore: np.ndarray) -> float:
    """Share of the straight stretch from ``p`` to ``q`` that lies on ignored pixels."""
    n = max(2, int(np.hypot(*(q - p))) + 1)
    t = np.linspace(0.0, 1.0, n)[1:-1] if n > 2 else np.array([0.5])
    pts = p[None, :] + t[:, None] * (q - p)[None, :]
    h, w = ignore.shape
    x = np.minimum(np.maximum(np.round(pts[:, 0]).astype(int), 0), w - 1)
    y = np.minimum(np.maximum(np.round(pts[:, 1]).astype(int), 0), h - 1)
    return float(ignore[y, x].mean())


def _try_join(a: Shaft, b: Shaft, settings: DetectorSettings, ignore: np.ndarray | None = None) -> Shaft | None:
    da, db = _direction(a.points), _direction(b.points)
    cos = abs(float(da @ db))
    if cos < np.cos(np.radians(settings.join_angle_deg)):
        return None
    ends_a = (a.points[0], a.points[-1])
    ends_b = (b.points[0], b.points[-1])
    best = min(
        ((np.hypot(*(p - q)), ia, ib) for ia, p in enumerate(ends_a) for ib, q in enumerate(ends_b)),
        key=lambda t: t[0],
    )
    gap, ia, ib = best
    tol = max(settings.join_gap_px, 2.5 * max(a.width_px, b.width_px))
    p, q = ends_a[ia], ends_b[ib]
    # Across a drawn mark: a gap mostly on ignored pixels may be longer, and the
    # ends next to it are less sure (the mark hides part of the shaft's width and
    # pulls the centre line sideways), so the pieces may be offset by more.
    bridged = (
        ignore is not None
        and gap <= settings.px(settings.mark_bridge_um)
        and _masked_share(p, q, ignore) >= 0.5
    )
    if gap > tol and not bridged:
        return None
    # The gap must run along the hairs, not sideways (parallel neighbours): the
    # far end lies on the line of each piece, within the lateral tolerance.
    lateral = max(settings.px(11.0), (1.5 if bridged else 0.8) * max(a.width_px, b.width_px))
    normal = np.array([-da[1], da[0]])
    if abs(float((q - p) @ normal)) > lateral:
        return None
    if bridged and abs(float((q - p) @ np.array([-db[1], db[0]]))) > lateral:
        return None
    # And the pieces must not overlap along their length (that is two hairs).
    pa = a.points if ia == 1 else a.points[::-1]
    pb = b.points if ib == 0 else b.points[::-1]
    if float((pb[-1] - pa[-1]) @ da * np.sign((pa[-1] - pa[0]) @ da)) <= 0:
        return None
    width = (a.width_px * _len(a.points) + b.width_px * _len(b.points)) / (_len(a.points) + _len(b.points))
    longer = a if _len(a.points) >= _len(b.points) else b
    evidence = longer.evidence
    if bridged:
        evidence = dict(evidence or {}, bridged_mark=True)
    return Shaft(points=np.vstack([pa, pb]), width_px=width, multiplicity=longer.multiplicity, evidence=evidence)


def _len(points: np.ndarray) -> float:
    return float(np.sum(np.hypot(*np.diff(points, axis=0).T)))
