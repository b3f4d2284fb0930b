"""Plausibility of a patient's phototrichogram measurements, against their own series and the device.

A count is only as good as its scale: a wrong device profile (the wrong magnification, an
uncalibrated loupe), a photograph of another spot, or a slip during correction gives numbers
that look like data. These rules find such values so the pages can flag them and a clinician
can exclude them from the series with a reason. Nothing here imports Django: the rules take
plain numbers and return reasons, so they are tested in milliseconds.

Rules, each naming what is wrong:

- **density far outside the series**: more than :data:`DENSITY_OUTLIER_SHARE` away from the
  median of the patient's series (at least three visits not excluded). Treatments move density by
  about 10 to 20 %; a 50 % jump in weeks is a different spot, a different scale or a miscount.
- **field area unlike the other visits**: differs by more than :data:`AREA_MISMATCH_SHARE`
  from the median area of the series (at least two visits not excluded). The same device photographs the same area; a
  different area means a different magnification or profile.
- **field area outside what a dermoscope images**: outside :data:`DERMOSCOPE_FIELD_CM2`.
  At 20x to 70x the field is a few millimetres across; an area outside this range means the
  profile's scale (px_per_mm) does not fit the image.
- **diameters outside the human range**: a mean shaft diameter outside
  :data:`HUMAN_DIAMETER_UM`. Scalp hairs are about 20 to 180 µm thick (vellus below 30 to
  40 µm, terminal typically 60 to 80 µm); a mean outside the range is a scale error.

References
----------
The typical values are those of the project brief (docs and DESIGN): normal terminal density
about 165 to 225 hairs/cm², vellus cut-off 30 µm (histology) to 40 µm (TrichoScan), terminal
hairs 60 to 80 µm, dermoscopes at 20x to 70x photographing a target area of 0.5 to 1 cm² or
less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

#: Relative distance from the median of the other visits beyond which a density is flagged.
DENSITY_OUTLIER_SHARE = 0.5
#: Relative difference from the other visits' median field area beyond which the area is flagged.
AREA_MISMATCH_SHARE = 0.25
#: Field areas a dermoscope at 20x to 70x can plausibly image, in cm² (min, max).
DERMOSCOPE_FIELD_CM2 = (0.005, 4.0)
#: Mean shaft diameters a human scalp can plausibly show, in µm (min, max).
HUMAN_DIAMETER_UM = (15.0, 200.0)


@dataclass(frozen=True)
class SeriesValue:
    """One visit's numbers as the rules see them.

    Attributes
    ----------
    density_per_cm2 : float or None
        Hairs per cm² (None when the image was not calibrated).
    field_area_cm2 : float or None
        Area of the counted field in cm².
    mean_diameter_um : float or None
        Mean shaft diameter in µm.
    excluded : bool
        Excluded from the series by a clinician: checked itself, but not used as a reference
        for the others.
    """

    density_per_cm2: float | None = None
    field_area_cm2: float | None = None
    mean_diameter_um: float | None = None
    excluded: bool = False


def _relative(value: float, reference: float) -> float:
    return abs(value - reference) / reference if reference else float("inf")


def device_flags(value: SeriesValue) -> list[str]:
    """Reasons one visit's numbers cannot come from a correctly scaled image.

    Examples
    --------
    >>> device_flags(SeriesValue(mean_diameter_um=4.0))
    ['mean diameter 4.0 µm is outside the human range (15 to 200 µm): check the device profile']
    """
    flags = []
    lo, hi = DERMOSCOPE_FIELD_CM2
    if value.field_area_cm2 is not None and not lo <= value.field_area_cm2 <= hi:
        flags.append(f"field area {value.field_area_cm2:.3g} cm² is outside what a dermoscope images "
                     f"({lo:g} to {hi:g} cm²): the profile's magnification does not fit the image")
    lo, hi = HUMAN_DIAMETER_UM
    if value.mean_diameter_um is not None and not lo <= value.mean_diameter_um <= hi:
        flags.append(f"mean diameter {value.mean_diameter_um:.1f} µm is outside the human range "
                     f"({lo:g} to {hi:g} µm): check the device profile")
    return flags


def series_flags(values: Sequence[SeriesValue]) -> list[list[str]]:
    """Reasons each visit of one patient's series is implausible (an empty list when it is not).

    Parameters
    ----------
    values : sequence of SeriesValue
        The patient's visits, in any order. Excluded visits are checked but are left out of
        the median they are checked against.

    Returns
    -------
    list of list of str
        For each value, in order, the reasons it is flagged.

    Examples
    --------
    >>> flags = series_flags([SeriesValue(150, 0.5), SeriesValue(160, 0.5), SeriesValue(400, 0.5)])
    >>> flags[0], flags[2]
    ([], ['density 400 hairs/cm² is 150 % away from the series median 160'])
    """
    kept = [v for v in values if not v.excluded]
    densities = [v.density_per_cm2 for v in kept if v.density_per_cm2 is not None]
    areas = [v.field_area_cm2 for v in kept if v.field_area_cm2 is not None]
    # The median of the series is the reference: one odd visit cannot move it, as it moves a mean.
    density_ref = median(densities) if len(densities) >= 3 else None
    area_ref = median(areas) if len(areas) >= 2 else None
    out = []
    for v in values:
        flags = device_flags(v)
        if v.density_per_cm2 is not None and density_ref is not None:
            share = _relative(v.density_per_cm2, density_ref)
            if share > DENSITY_OUTLIER_SHARE:
                flags.append(f"density {v.density_per_cm2:.0f} hairs/cm² is {share * 100:.0f} % away from "
                             f"the series median {density_ref:.0f}")
        if v.field_area_cm2 is not None and area_ref is not None:
            if _relative(v.field_area_cm2, area_ref) > AREA_MISMATCH_SHARE:
                flags.append(f"field area {v.field_area_cm2:.3g} cm² differs from the series' "
                             f"{area_ref:.3g} cm²: another device, magnification or profile?")
        out.append(flags)
    return out
