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

import numpy as np

from .version import ENGINE_VERSION
from .detect import DEFAULT_SETTINGS, DetectorSettings, Shaft, detect_shafts, to_working
from .ignore import ignore_mask
from .profiles import Profile, load_profile
from .quality import assess_quality
from .results import FollicularUnit, Hair, ImageAnalysis

#: Hair ends closer than this (in mm, or in single-hair widths when uncalibrated)
#: leave the skin through one follicular opening.
FOLLICULAR_UNIT_GAP_MM = 0.25
FOLLICULAR_UNIT_GAP_WIDTHS = 2.5


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


def _hairs_from_shafts(
    shafts: list[Shaft],
    factor: int,
    shape: tuple[int, int],
    regions: tuple[tuple[int, int, int, int], ...],
    profile: Profile,
) -> list[Hair]:
    hairs = []
    for i, shaft in enumerate(shafts, start=1):
        # Working pixel centres map to the centres of factor x factor blocks.
        pts = shaft.points * factor + (factor - 1) / 2.0
        width_px = shaft.width_px * factor
        # The skeleton stops about half a width short of each rounded end.
        length_px = _polyline_length(pts) + width_px
        margin = width_px / 2 + 2 * factor
        cut = _near_edge(pts[0], shape, regions, margin) or _near_edge(pts[-1], shape, regions, margin)
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
    for i in range(len(hairs)):
        for j in range(i + 1, len(hairs)):
            d = np.hypot(*(ends[i][:, None, :] - ends[j][None, :, :]).transpose(2, 0, 1))
            if d.min() <= gap:
                parent[find(i)] = find(j)
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
    small, factor = to_working(rgb)
    ignore_small, regions_small = ignore_mask(small, profile)
    shafts, mask = detect_shafts(small, ignore_small, settings)
    quality = assess_quality(small, mask, ignore_small)
    regions = tuple(
        (x0 * factor, y0 * factor, min(w, x1 * factor), min(h, y1 * factor))
        for x0, y0, x1, y1 in regions_small
    )
    hairs = _hairs_from_shafts(shafts, factor, (h, w), regions, profile)
    valid_px = int((~ignore_small).sum()) * factor * factor
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    return summarize(
        hairs,
        quality=quality,
        image_shape=(h, w),
        valid_px=valid_px,
        regions=regions,
        profile=profile,
        elapsed_ms=elapsed_ms,
    )
