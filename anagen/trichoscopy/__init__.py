"""Trichoscopy engine: hair counts and measurements from dermoscope photographs.

A pure library (numpy arrays in, small frozen dataclasses out; no Django) for
phototrichograms of a clipped target area of the scalp:

- `read_image` reads JPEG, PNG or TIFF safely, refusing broken or hostile files with
  an `ImageError` a person can read;
- `load_profile` / `Profile` describe the dermoscope (scale, vellus threshold, regions
  to ignore); `calibrate_scale` measures the scale from a photographed ruler;
- `analyze` checks quality and counts, classifies and measures every hair;
- `compare_regrowth` gives the anagen and telogen shares from a clipped image and the
  same area 2 to 3 days later; `compare_visits` matches the hairs of a baseline and a
  follow-up of a tattooed target area (kept, lost, new); `match_visits` registers a
  follow-up to its baseline (rigid, then local), checks each lost and new hair
  against the other image and gives the matched and the independent-count change;
- `render_overlay` draws the result for a clinician to check, and
  `apply_corrections` records manual additions and removals beside the automatic
  result;
- `anagen.trichoscopy.synthetic` renders scalp images with known ground truth.
"""

from .version import ENGINE_VERSION
from .io import ImageError, read_image
from .profiles import Profile, ProfileError, list_profiles, load_profile, save_profile
from .results import (
    FollicularUnit,
    Hair,
    HairGrowth,
    ImageAnalysis,
    QualityReport,
    RegrowthResult,
    VisitComparison,
)
from .measure import analyze
from .calibrate import CalibrationError, calibrate_scale
from .compare import compare_regrowth, compare_visits, register
from .matching import VisitMatch, match_visits
from .corrections import apply_corrections
from .overlay import render_overlay

__all__ = [
    "ENGINE_VERSION",
    "CalibrationError",
    "FollicularUnit",
    "Hair",
    "HairGrowth",
    "ImageAnalysis",
    "ImageError",
    "Profile",
    "ProfileError",
    "QualityReport",
    "RegrowthResult",
    "VisitComparison",
    "VisitMatch",
    "analyze",
    "apply_corrections",
    "calibrate_scale",
    "compare_regrowth",
    "compare_visits",
    "list_profiles",
    "load_profile",
    "match_visits",
    "read_image",
    "register",
    "render_overlay",
    "save_profile",
]
