"""Measuring a trichoscopy image: count, classify and size every hair.

`analyze` is the engine's entry point for one image. It finds the regions to ignore,
checks the photograph's quality, detects the hair shafts, and turns them into `Hair`
records in the pixels of the original image: centre line, length, width, diameter in
micrometres when the profile gives a scale, whether the border cuts the shaft, and
terminal or vellus by the profile's threshold. Hairs whose ends meet are grouped into
follicular units. Density is derived as ``hair_count / field_area_cm2``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from .version import ENGINE_VERSION
from .detect import (
    DEFAULT_SETTINGS,
    WORKING_UM_PER_PX,
    DetectorSettings,
    Shaft,
    _principal_polyline,
    _NEIGHBOURS,
    _skeleton,
    cross_section_width,
    darkness_maps,
    detect_shafts,
    hair_mask,
    to_working,
)
from .ignore import ignore_mask
from .profiles import Profile, load_profile
from .quality import assess_quality
from .results import FollicularUnit, Hair, ImageAnalysis

#: Hair ends closer than this (in mm, or in single-hair widths when uncalibrated)
#: leave the skin through one follicular opening.
FOLLICULAR_UNIT_GAP_MM = 0.25
FOLLICULAR_UNIT_GAP_WIDTHS = 2.5

#: Typical diameter of a terminal scalp hair shaft, used to estimate the scale of an
#: uncalibrated image from its measured shaft widths. Adult scalp hair measures
#: about 50 to 90 µm (thinner in fair, thicker in East Asian hair); 70 µm is the
#: middle of that range, and ``TYPICAL_SHAFT_REL_SD`` (one standard deviation, a
#: fifth) its spread between people, which dominates the estimate's uncertainty.
TYPICAL_SHAFT_UM = 70.0
TYPICAL_SHAFT_REL_SD = 0.2

#: The counting rule, in words (docs/trichoscopy.md, "Counting rule"). A hair counts
#: when its exit point (the follicle opening) lies inside the field and its shaft is
#: not cut by the bottom or right edge of the field (an unbiased counting frame: top
#: and left are the inclusion edges, bottom and right the exclusion edges; an ignored
#: region adjoining the bottom or right edge, such as a device bar, belongs to the
#: exclusion edge). A detected hair's opening is not known; a hair cut by the top or
#: left edge is taken to have its opening inside when it shows most of a typical
#: clipped length (the detector's border-stub rule: at least 0.8 of the field's
#: median hair). Each hair of a follicular unit counts; fragments shorter than the
#: length rule (0.35 of the median) do not.
COUNTING_RULE = (
    "a hair counts when its exit point lies inside the field and its shaft is not cut by "
    "the bottom or right edge; each hair of a follicular unit counts; fragments and "
    "border stubs do not"
)
#: The short statement printed on every overlay.
COUNTING_RULE_CAPTION = (
    "Counted: hairs whose exit point is inside the field; "
    "hairs cut by the bottom/right edge (dashed) not counted"
)


@dataclass(frozen=True)
class ScaleEstimate:
    """The scale an image was analysed at, and where it came from.

    ``source`` is ``"profile"`` (a calibrated device: exact as far as the
    calibration is) or ``"shaft width"`` (estimated from the image's typical shaft
    width and `TYPICAL_SHAFT_UM`; ``rel_uncertainty`` is one standard deviation as a
    fraction of the estimate). ``shafts`` is how many shafts the estimate rests on.
    """

    px_per_mm: float
    source: str
    rel_uncertainty: float = 0.0
    shafts: int = 0


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Accept grayscale or RGB(A), 8 or 16 bit or float in [0, 1]; return RGB uint8."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an (h, w) or (h, w, 3) image, got shape {arr.shape}")
    arr = arr[:, :, :3]
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype == np.uint16:
        return (arr.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        return (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)


def classify(diameter_um: float | None, profile: Profile) -> str:
    """``terminal``, ``vellus``, or ``unclassified`` without a diameter."""
    if diameter_um is None:
        return "unclassified"
    return "vellus" if diameter_um < profile.vellus_threshold_um else "terminal"


def _polyline_length(points: np.ndarray) -> float:
    return float(np.sum(np.hypot(*np.diff(points, axis=0).T))) if len(points) > 1 else 0.0


def _near_edge(
    point: np.ndarray,
    shape: tuple[int, int],
    regions: tuple[tuple[int, int, int, int], ...],
    margin: float,
) -> bool:
    h, w = shape
    x, y = point
    if x < margin or y < margin or x > w - 1 - margin or y > h - 1 - margin:
        return True
    for x0, y0, x1, y1 in regions:
        if x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin:
            return True
    return False


def exclusion_regions(
    shape: tuple[int, int], regions: tuple[tuple[int, int, int, int], ...] | list = ()
) -> list[tuple[float, float, float, float]]:
    """The ignored regions that adjoin the bottom or right edge of the image.

    With the bottom and right edges they form the exclusion edge of the counting
    frame: a hair cut by them is not counted. Regions adjoining only the top or
    left edge (a banner) extend the inclusion edge; regions inside the field (a
    drawn mark) hide part of a hair without deciding whether it counts.
    """
    h, w = shape
    # A band along the whole top also touches the right edge: a region belongs to the
    # bottom (right) edge when it touches it and lies mostly in the lower (right) half.
    return [
        tuple(float(v) for v in r)
        for r in regions
        if (r[3] >= h - 2 and r[1] + r[3] > h) or (r[2] >= w - 2 and r[0] + r[2] > w)
    ]


def counted_by_rule(
    ends: tuple[tuple[float, float], tuple[float, float]] | np.ndarray,
    shape: tuple[int, int],
    regions: tuple[tuple[int, int, int, int], ...] | list = (),
    margin: float = 2.0,
) -> bool:
    """Whether a hair with these two ends counts by the counting rule.

    It does not when either end lies within ``margin`` pixels of the bottom or right
    edge of the image, or of an ignored region adjoining them (`exclusion_regions`).
    Hairs cut by the top or left edge count (the detector has already left out the
    border stubs, whose opening lies outside the field).
    """
    h, w = shape
    excluded = exclusion_regions(shape, regions)
    for x, y in ends:
        if x > w - 1 - margin or y > h - 1 - margin:
            return False
        for x0, y0, x1, y1 in excluded:
            if x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin:
                return False
    return True


def _hairs_from_shafts(
    shafts: list[Shaft],
    factor: float,
    shape: tuple[int, int],
    regions: tuple[tuple[int, int, int, int], ...],
    profile: Profile,
) -> list[Hair]:
    hairs = []
    for i, shaft in enumerate(shafts, start=1):
        # Working pixel centres map to the centres of factor x factor blocks.
        pts = (shaft.points + 0.5) * factor - 0.5
        width_px = shaft.width_px * factor
        # The skeleton stops about half a width short of each rounded end.
        length_px = _polyline_length(pts) + width_px
        margin = width_px / 2 + 2 * max(1.0, factor)
        cut = _near_edge(pts[0], shape, regions, margin) or _near_edge(pts[-1], shape, regions, margin)
        counted = not cut or counted_by_rule((pts[0], pts[-1]), shape, regions, margin)
        if profile.px_per_mm:
            diameter_um = width_px / profile.px_per_mm * 1000.0
            length_mm = length_px / profile.px_per_mm
        else:
            diameter_um = length_mm = None
        hairs.append(
            Hair(
                id=i,
                centreline=tuple((float(x), float(y)) for x, y in pts),
                length_px=length_px,
                width_px=width_px,
                diameter_um=diameter_um,
                length_mm=length_mm,
                cut_by_border=cut,
                hair_class=classify(diameter_um, profile),
                counted=counted,
                multiplicity=shaft.multiplicity,
                evidence=shaft.evidence,
            )
        )
    return hairs


def follicular_units(hairs: tuple[Hair, ...] | list[Hair], px_per_mm: float | None) -> tuple[FollicularUnit, ...]:
    """Group hairs whose ends meet into follicular units.

    Two hairs share an opening when one end of each lies within
    ``FOLLICULAR_UNIT_GAP_MM`` (or ``FOLLICULAR_UNIT_GAP_WIDTHS`` hair widths when
    uncalibrated) of the other, or when their centre lines run side by side closer
    than that along their whole length (a tuft that has not yet spread).
    """
    hairs = list(hairs)
    if not hairs:
        return ()
    widths = np.array([h.width_px for h in hairs])
    gap = FOLLICULAR_UNIT_GAP_MM * px_per_mm if px_per_mm else FOLLICULAR_UNIT_GAP_WIDTHS * float(np.median(widths))
    parent = list(range(len(hairs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ends = [np.array([h.centreline[0], h.centreline[-1]]) for h in hairs]
    all_ends = np.array(ends, dtype=np.float64)  # (n, 2, 2)
    diff = all_ends[:, None, :, None, :] - all_ends[None, :, None, :, :]
    close = np.sqrt((diff**2).sum(axis=-1)).min(axis=(2, 3)) <= gap
    for i in range(len(hairs)):
        for j in np.flatnonzero(close[i, i + 1 :]) + i + 1:
            parent[find(i)] = find(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(hairs)):
        groups.setdefault(find(i), []).append(i)
    units = []
    for k, members in enumerate(sorted(groups.values(), key=lambda m: m[0]), start=1):
        pts = np.vstack([ends[i] for i in members])
        if len(members) > 1:
            # The opening is where the members' ends crowd together.
            centre_pts = []
            for i in members:
                others = np.vstack([ends[j] for j in members if j != i])
                dists = [np.min(np.hypot(*(others - e).T)) for e in ends[i]]
                centre_pts.append(ends[i][int(np.argmin(dists))])
            centre = np.mean(centre_pts, axis=0)
        else:
            centre = pts[0]
        units.append(
            FollicularUnit(
                id=k,
                hair_ids=tuple(hairs[i].id for i in members),
                centre=(float(centre[0]), float(centre[1])),
            )
        )
    return tuple(units)


def summarize(
    hairs: list[Hair] | tuple[Hair, ...],
    *,
    quality,
    image_shape: tuple[int, int],
    valid_px: int,
    regions: tuple[tuple[int, int, int, int], ...],
    profile: Profile,
    elapsed_ms: float,
    corrected: bool = False,
    scale: ScaleEstimate | None = None,
) -> ImageAnalysis:
    """Assemble an `ImageAnalysis` from measured hairs (also used by corrections)."""
    hairs = tuple(hairs)
    calibrated = profile.px_per_mm is not None
    diameters = tuple(h.diameter_um for h in hairs if h.diameter_um is not None)
    if calibrated:
        field_area_cm2 = valid_px / (profile.px_per_mm**2) / 100.0
        density = len(hairs) / field_area_cm2 if field_area_cm2 > 0 else None
        terminal = sum(h.hair_class == "terminal" for h in hairs)
        vellus = sum(h.hair_class == "vellus" for h in hairs)
    else:
        field_area_cm2 = density = None
        terminal = vellus = None
    return ImageAnalysis(
        usable=quality.usable,
        quality=quality,
        hair_count=len(hairs),
        terminal_count=terminal,
        vellus_count=vellus,
        field_area_cm2=field_area_cm2,
        density_per_cm2=density,
        mean_diameter_um=float(np.mean(diameters)) if diameters else None,
        diameters_um=diameters,
        hairs=hairs,
        follicular_units=follicular_units(hairs, profile.px_per_mm),
        image_shape=image_shape,
        ignored_regions=regions,
        px_per_mm=profile.px_per_mm,
        profile=profile.name,
        engine_version=ENGINE_VERSION,
        elapsed_ms=elapsed_ms,
        corrected=corrected,
        scale_source=scale.source if scale else ("profile" if calibrated else None),
        estimated_px_per_mm=scale.px_per_mm if scale and scale.source != "profile" else None,
        estimated_scale_rel_uncertainty=(
            scale.rel_uncertainty if scale and scale.source != "profile" else None
        ),
    )


def analyze(
    image: np.ndarray,
    profile: Profile | None = None,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> ImageAnalysis:
    """Count and measure the hairs of one trichoscopy image.

    Parameters
    ----------
    image : ndarray, shape (h, w) or (h, w, 3)
        The photograph (as from `read_image`); grayscale, 16-bit and float images
        are accepted.
    profile : Profile, optional
        The device profile; the default shipped profile when omitted.
    settings : DetectorSettings, optional
        Detector constants (for experiments; the defaults are the supported ones).

    Returns
    -------
    ImageAnalysis
        Counts, hairs, quality verdict and, when the profile has a scale, physical
        measurements. Coordinates are in pixels of ``image``.

    Examples
    --------
    >>> from anagen.trichoscopy import analyze, Profile
    >>> from anagen.trichoscopy.synthetic import generate_scalp
    >>> sample = generate_scalp(seed=1, n_hairs=12, px_per_mm=200)
    >>> result = analyze(sample.image, Profile(name="demo", px_per_mm=200))
    >>> result.hair_count > 0
    True
    """
    start = time.perf_counter()
    profile = profile or load_profile()
    rgb = as_rgb_uint8(image)
    h, w = rgb.shape[:2]
    # Banners and marks are found, and quality judged, on a preview of at most
    # about 800 pixels a side (their own constants are in such pixels).
    small, pfactor = to_working(rgb)
    ignore_small, regions_small = ignore_mask(small, profile)
    if profile.px_per_mm:
        scale = ScaleEstimate(px_per_mm=float(profile.px_per_mm), source="profile")
    else:
        scale = estimate_scale(small, ignore_small, pfactor, settings)
    work, factor = to_physical_working(rgb, scale.px_per_mm)
    wh, ww = work.shape[:2]
    ignore_work = cv2.resize(ignore_small.astype(np.uint8), (ww, wh), interpolation=cv2.INTER_NEAREST) > 0
    shafts, mask = detect_shafts(work, ignore_work, settings.at_scale(1000.0 / scale.px_per_mm * factor))
    mask_small = cv2.resize(mask.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    quality = assess_quality(small, mask_small, ignore_small)
    regions = tuple(
        (x0 * pfactor, y0 * pfactor, min(w, x1 * pfactor), min(h, y1 * pfactor))
        for x0, y0, x1, y1 in regions_small
    )
    hairs = _hairs_from_shafts(shafts, factor, (h, w), regions, profile)
    valid_px = int(round(int((~ignore_work).sum()) * factor * factor))
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    return summarize(
        hairs,
        quality=quality,
        image_shape=(h, w),
        valid_px=valid_px,
        regions=regions,
        profile=profile,
        elapsed_ms=elapsed_ms,
        scale=scale,
    )


def to_physical_working(rgb: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, float]:
    """The image at the working scale (`WORKING_UM_PER_PX`), never enlarged.

    Images finer than the working scale are reduced by area averaging (the
    factor need not be an integer); coarser ones, and those within a quarter of
    it, are analysed as they are, the
    detector's physical constants converted to their pixels. Returns the working
    image and the size of one working pixel in original pixels.
    """
    um_per_px = 1000.0 / px_per_mm
    ratio = WORKING_UM_PER_PX / um_per_px
    # Within a quarter of the working scale the image is analysed as it is: so small
    # a reduction saves little time, and averaging over a fraction of a pixel blurs.
    if ratio <= 1.25:
        return rgb, 1.0
    h, w = rgb.shape[:2]
    if abs(ratio - round(ratio)) <= 0.05 * ratio:
        # Close to a whole factor: block averaging, several times faster.
        ratio = float(round(ratio))
    ww, wh = max(1, int(round(w / ratio))), max(1, int(round(h / ratio)))
    work = cv2.resize(rgb, (ww, wh), interpolation=cv2.INTER_AREA)
    return work, w / ww


def estimate_scale(
    small: np.ndarray,
    ignore: np.ndarray,
    factor: float,
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> ScaleEstimate:
    """Estimate the scale of an uncalibrated image from its typical shaft width.

    The preview ``small`` (``factor`` original pixels per pixel) is searched for
    dark elongated regions with a closing window of a tenth of its shorter side
    (wider than any hair at any usual magnification), and each region's full width
    at half maximum is measured across its centre line. The lower-middle width
    (40th percentile, so that touching pairs do not raise it) is taken to be a
    typical shaft of `TYPICAL_SHAFT_UM`. With no shaft to measure, the working scale
    itself is assumed (the image is analysed as it is) with 100 % uncertainty.
    """
    h, w = small.shape[:2]
    window_px = max(15.0, min(h, w) / 10.0)
    probe = settings.at_scale(settings.closing_um / window_px)
    darkness, fine = darkness_maps(small, probe)
    mask = hair_mask(darkness, ignore, probe)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    widths = []
    for lab in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[lab])
        if max(bw, bh) < 8 or area < 12:
            continue
        comp = labels[y : y + bh, x : x + bw] == lab
        skel = _skeleton(comp)
        # Only simple shafts (two skeleton ends): crossings, forks and clumps of
        # touching hairs would widen the typical width.
        s8 = skel.astype(np.uint8)
        nb = cv2.filter2D(s8, -1, _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT)
        if int(((s8 == 1) & (nb == 1)).sum()) > 2:
            continue
        ys, xs = np.nonzero(skel)
        xy = np.stack([xs + x, ys + y], axis=1).astype(np.float64)
        poly, length = _principal_polyline(xy, n_nodes=4)
        rough = area / max(length + 1.0, 1.0)
        if length < 3.0 * rough:
            continue
        widths.append(cross_section_width(fine, poly, rough))
    if len(widths) < 3:
        # The preview's pixels taken as working pixels (the scale used before any
        # physical one was known), flagged as a guess.
        return ScaleEstimate(px_per_mm=1000.0 / WORKING_UM_PER_PX * factor,
                             source="shaft width", rel_uncertainty=1.0, shafts=len(widths))
    widths_a = np.array(widths) * factor
    typical = float(np.percentile(widths_a, 40))
    q1, q3 = np.percentile(widths_a, [25, 75])
    # Sampling error of the percentile (about 1.25 IQR/1.35/sqrt(n)) and the spread
    # of typical diameters between people, combined.
    sampling = 1.25 * (q3 - q1) / 1.35 / np.sqrt(len(widths_a)) / typical
    rel = float(np.hypot(TYPICAL_SHAFT_REL_SD, sampling))
    return ScaleEstimate(
        px_per_mm=typical / TYPICAL_SHAFT_UM * 1000.0,
        source="shaft width",
        rel_uncertainty=rel,
        shafts=len(widths),
    )
