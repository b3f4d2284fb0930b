"""Manual corrections: a clinician adds missed hairs and removes false ones.

The automatic result is never changed: `apply_corrections` returns a new
`ImageAnalysis`, flagged ``corrected=True``, in which removed hairs are gone and added
hairs (``source="manual"``) carry new ids after the automatic ones. Keeping both lets a
study report the automatic count, the corrected count and the difference between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .measure import classify, follicular_units
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
    )


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
        none is given) when the analysis is calibrated.
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
