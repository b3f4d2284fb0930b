"""Result types of the trichoscopy engine.

Every analysis returns small frozen dataclasses that serialize to plain JSON with
``to_dict()`` and come back with ``from_dict()``, so a result can be stored next to the
image it describes, sent over an API or compared between engine versions.

Conventions
-----------
Image coordinates are ``(x, y)`` in pixels of the analysed image, origin at the top-left
corner, ``x`` to the right and ``y`` down. Quantities carry their unit in their name
(``length_px``, ``diameter_um``, ``area_cm2``). Physical quantities are ``None`` when the
profile gives no scale (``px_per_mm``): they are never guessed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

HAIR_CLASSES = ("terminal", "vellus", "unclassified")


def _round(value: float | None, ndigits: int = 3) -> float | None:
    return None if value is None else round(float(value), ndigits)


@dataclass(frozen=True)
class Hair:
    """One hair shaft seen in the field.

    Attributes
    ----------
    id : int
        Number of the hair in its analysis, starting at 1 (shown on the overlay).
    centreline : tuple of (float, float)
        Points ``(x, y)`` along the shaft's centre line, from one end to the other.
    length_px : float
        Length of the visible shaft along its centre line, in pixels.
    width_px : float
        Shaft width across the centre line, in pixels.
    diameter_um : float or None
        Shaft diameter in micrometres; ``None`` when the image is not calibrated.
    length_mm : float or None
        Visible length in millimetres; ``None`` when the image is not calibrated.
    cut_by_border : bool
        True when the shaft runs into the border of the field, so its length is a
        lower bound.
    hair_class : str
        ``"terminal"`` or ``"vellus"`` by the profile's vellus threshold, or
        ``"unclassified"`` when the diameter is unknown.
    source : str
        ``"auto"`` for a detected hair, ``"manual"`` for one added by a correction.
    counted : bool
        Whether the counting rule counts the hair (see ``COUNTING_RULE`` in
        `anagen.trichoscopy.measure`): False for a hair cut by the bottom or right
        edge of the field, or by an ignored region adjoining them. Results stored
        before engine 1.4.0 read as True.
    multiplicity : int
        How many hairs the detected region this hair comes from was decided to hold
        (1 for a lone shaft; 2 or 3 for hairs pressed together or crossing, each of
        them reported as its own hair).
    evidence : dict or None
        What that decision was made on: skeleton ends, straight lines, darkness
        peaks across the shaft, their spacing and the depth of the line between
        them, widths over the typical single hair, length over the median (see
        `anagen.trichoscopy.detect.ShaftEvidence`); ``None`` for manual hairs.
    """

    id: int
    centreline: tuple[tuple[float, float], ...]
    length_px: float
    width_px: float
    diameter_um: float | None
    length_mm: float | None
    cut_by_border: bool
    hair_class: str
    source: str = "auto"
    counted: bool = True
    multiplicity: int = 1
    evidence: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def midpoint(self) -> tuple[float, float]:
        """Point half way along the centre line (by index), ``(x, y)``."""
        pts = self.centreline
        if len(pts) % 2:
            return pts[len(pts) // 2]
        a, b = pts[len(pts) // 2 - 1], pts[len(pts) // 2]
        return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "centreline": [[round(x, 1), round(y, 1)] for x, y in self.centreline],
            "length_px": _round(self.length_px, 1),
            "width_px": _round(self.width_px, 2),
            "diameter_um": _round(self.diameter_um, 1),
            "length_mm": _round(self.length_mm, 3),
            "cut_by_border": self.cut_by_border,
            "hair_class": self.hair_class,
            "source": self.source,
            "counted": self.counted,
            "multiplicity": self.multiplicity,
            "evidence": dict(self.evidence) if self.evidence is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hair:
        return cls(
            id=int(data["id"]),
            centreline=tuple((float(x), float(y)) for x, y in data["centreline"]),
            length_px=float(data["length_px"]),
            width_px=float(data["width_px"]),
            diameter_um=data.get("diameter_um"),
            length_mm=data.get("length_mm"),
            cut_by_border=bool(data["cut_by_border"]),
            hair_class=data["hair_class"],
            source=data.get("source", "auto"),
            counted=bool(data.get("counted", True)),
            multiplicity=int(data.get("multiplicity", 1)),
            evidence=dict(data["evidence"]) if data.get("evidence") is not None else None,
        )


@dataclass(frozen=True)
class QualityReport:
    """Whether a photograph can be counted, and why not.

    Attributes
    ----------
    usable : bool
        False when any blocking flag is raised: the photograph should be retaken.
    flags : tuple of str
        Problems found, among ``blurred``, ``underexposed``, ``overexposed``,
        ``glare`` and ``too_little_skin``. ``glare`` alone does not block.
    metrics : dict
        The measurements behind the flags: ``sharpness`` (variance of the Laplacian
        of the contrast-normalised image), ``mean_brightness`` (0 to 1),
        ``dark_fraction``, ``bright_fraction``, ``glare_fraction``, ``skin_fraction``.
    """

    usable: bool
    flags: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "usable": self.usable,
            "flags": list(self.flags),
            "metrics": {k: _round(v, 4) for k, v in self.metrics.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityReport:
        return cls(
            usable=bool(data["usable"]),
            flags=tuple(data["flags"]),
            metrics=dict(data.get("metrics", {})),
        )


@dataclass(frozen=True)
class FollicularUnit:
    """Hairs that leave the skin from one follicular opening.

    Attributes
    ----------
    id : int
        Number of the unit in its analysis, starting at 1.
    hair_ids : tuple of int
        The hairs of the unit.
    centre : (float, float)
        Estimated position of the opening, ``(x, y)`` in pixels.
    """

    id: int
    hair_ids: tuple[int, ...]
    centre: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hair_ids": list(self.hair_ids),
            "centre": [round(self.centre[0], 1), round(self.centre[1], 1)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FollicularUnit:
        return cls(
            id=int(data["id"]),
            hair_ids=tuple(int(i) for i in data["hair_ids"]),
            centre=(float(data["centre"][0]), float(data["centre"][1])),
        )


@dataclass(frozen=True)
class ImageAnalysis:
    """Everything measured on one trichoscopy image.

    ``hair_count`` includes the hairs cut by the field border that the detector
    keeps (long enough to lie mostly inside the field); ``rule_count`` counts only
    the hairs the written counting rule counts (``Hair.counted``: not cut by the
    bottom or right edge). ``density_per_cm2`` is always derived from
    ``hair_count / field_area_cm2``, never stored on its own.

    Attributes
    ----------
    usable : bool
        The quality verdict (see `QualityReport`).
    quality : QualityReport
    hair_count, terminal_count, vellus_count : int or None
        ``terminal_count`` and ``vellus_count`` are ``None`` when uncalibrated.
    field_area_cm2 : float or None
        Area analysed (image minus ignored regions), when calibrated.
    density_per_cm2 : float or None
        ``hair_count / field_area_cm2``, when calibrated.
    mean_diameter_um : float or None
    diameters_um : tuple of float
        Diameters of all hairs, when calibrated (empty otherwise).
    hairs : tuple of Hair
    follicular_units : tuple of FollicularUnit
    image_shape : (int, int)
        ``(height, width)`` of the analysed image in pixels.
    ignored_regions : tuple of (int, int, int, int)
        Rectangles ``(x0, y0, x1, y1)`` left out of the analysis: the profile's fixed
        regions plus overlays found on the image.
    px_per_mm : float or None
        The scale used.
    profile : str
        Name of the profile used.
    engine_version : str
    elapsed_ms : float
    corrected : bool
        True for a result produced by `apply_corrections`.
    scale_source : str or None
        ``"profile"`` when the device's calibration gave the scale, ``"shaft width"``
        when the working scale was estimated from the image's typical shaft width.
    estimated_px_per_mm, estimated_scale_rel_uncertainty : float or None
        That estimate and its uncertainty (one standard deviation, as a fraction),
        for uncalibrated images. It only sets the scale the detector works at:
        physical quantities stay ``None`` until the device is calibrated.
    """

    usable: bool
    quality: QualityReport
    hair_count: int
    terminal_count: int | None
    vellus_count: int | None
    field_area_cm2: float | None
    density_per_cm2: float | None
    mean_diameter_um: float | None
    diameters_um: tuple[float, ...]
    hairs: tuple[Hair, ...]
    follicular_units: tuple[FollicularUnit, ...]
    image_shape: tuple[int, int]
    ignored_regions: tuple[tuple[int, int, int, int], ...]
    px_per_mm: float | None
    profile: str
    engine_version: str
    elapsed_ms: float
    corrected: bool = False
    scale_source: str | None = None
    estimated_px_per_mm: float | None = None
    estimated_scale_rel_uncertainty: float | None = None

    @property
    def rule_count(self) -> int:
        """Hairs counted by the counting rule (``Hair.counted``): ``hair_count`` less
        the hairs cut by the bottom or right edge of the field."""
        return sum(1 for h in self.hairs if h.counted)

    @property
    def diameters(self) -> tuple[float, ...]:
        """Alias of ``diameters_um``."""
        return self.diameters_um

    def diameter_distribution(self, bin_um: float = 10.0) -> dict[str, int]:
        """Histogram of diameters in bins of ``bin_um`` micrometres.

        Returns a mapping such as ``{"40-50": 3, "50-60": 7}``; empty when
        uncalibrated.
        """
        counts: dict[str, int] = {}
        # Binned as reported (to 0.1 µm), so a stored result bins the same way.
        for d in sorted(round(v, 1) for v in self.diameters_um):
            lo = int(d // bin_um * bin_um)
            key = f"{lo}-{lo + int(bin_um)}"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "usable": self.usable,
            "quality": self.quality.to_dict(),
            "hair_count": self.hair_count,
            "rule_count": self.rule_count,
            "terminal_count": self.terminal_count,
            "vellus_count": self.vellus_count,
            "field_area_cm2": _round(self.field_area_cm2, 5),
            "density_per_cm2": _round(self.density_per_cm2, 1),
            "mean_diameter_um": _round(self.mean_diameter_um, 1),
            "diameters_um": [round(d, 1) for d in self.diameters_um],
            "diameter_distribution": self.diameter_distribution(),
            "hairs": [h.to_dict() for h in self.hairs],
            "follicular_units": [u.to_dict() for u in self.follicular_units],
            "image_shape": list(self.image_shape),
            "ignored_regions": [list(r) for r in self.ignored_regions],
            "px_per_mm": self.px_per_mm,
            "profile": self.profile,
            "engine_version": self.engine_version,
            "elapsed_ms": _round(self.elapsed_ms, 1),
            "corrected": self.corrected,
            "scale_source": self.scale_source,
            "estimated_px_per_mm": _round(self.estimated_px_per_mm, 1),
            "estimated_scale_rel_uncertainty": _round(self.estimated_scale_rel_uncertainty, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageAnalysis:
        return cls(
            usable=bool(data["usable"]),
            quality=QualityReport.from_dict(data["quality"]),
            hair_count=int(data["hair_count"]),
            terminal_count=data.get("terminal_count"),
            vellus_count=data.get("vellus_count"),
            field_area_cm2=data.get("field_area_cm2"),
            density_per_cm2=data.get("density_per_cm2"),
            mean_diameter_um=data.get("mean_diameter_um"),
            diameters_um=tuple(float(d) for d in data.get("diameters_um", ())),
            hairs=tuple(Hair.from_dict(h) for h in data["hairs"]),
            follicular_units=tuple(
                FollicularUnit.from_dict(u) for u in data.get("follicular_units", ())
            ),
            image_shape=(int(data["image_shape"][0]), int(data["image_shape"][1])),
            ignored_regions=tuple(
                tuple(int(v) for v in r) for r in data.get("ignored_regions", ())
            ),
            px_per_mm=data.get("px_per_mm"),
            profile=data["profile"],
            engine_version=data["engine_version"],
            elapsed_ms=float(data.get("elapsed_ms", 0.0)),
            corrected=bool(data.get("corrected", False)),
            scale_source=data.get("scale_source"),
            estimated_px_per_mm=data.get("estimated_px_per_mm"),
            estimated_scale_rel_uncertainty=data.get("estimated_scale_rel_uncertainty"),
        )

    def replace(self, **changes: Any) -> ImageAnalysis:
        """A copy with some fields changed (the original stays untouched)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class HairGrowth:
    """One hair followed from the clipped image to the later one.

    Attributes
    ----------
    before_id, after_id : int or None
        Hair ids in the clipped and the later analysis (``None`` when unmatched).
    growth_px : float or None
        Change of visible length, in pixels of the clipped image.
    growth_mm : float or None
        The same in millimetres, when calibrated.
    phase : str
        ``"anagen"`` (grew at least the profile's threshold), ``"telogen"``,
        ``"unmatched"``, or ``"unknown"`` when growth cannot be judged (no scale).
    """

    before_id: int | None
    after_id: int | None
    growth_px: float | None
    growth_mm: float | None
    phase: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["growth_px"] = _round(self.growth_px, 1)
        d["growth_mm"] = _round(self.growth_mm, 3)
        return d


@dataclass(frozen=True)
class RegrowthResult:
    """Anagen/telogen split from a clipped image and the same area days later.

    Attributes
    ----------
    anagen_pct, telogen_pct : float or None
        Shares of the matched hairs that grew (anagen) or did not (telogen), in
        percent; ``None`` when no hair was matched or the image is uncalibrated.
    matched : int
        Hairs found in both images.
    hairs : tuple of HairGrowth
    offset_px : (float, float)
        Translation ``(dx, dy)`` that maps the clipped image onto the later one.
    before, after : ImageAnalysis
    """

    anagen_pct: float | None
    telogen_pct: float | None
    matched: int
    hairs: tuple[HairGrowth, ...]
    offset_px: tuple[float, float]
    before: ImageAnalysis
    after: ImageAnalysis

    def to_dict(self) -> dict[str, Any]:
        return {
            "anagen_pct": _round(self.anagen_pct, 1),
            "telogen_pct": _round(self.telogen_pct, 1),
            "matched": self.matched,
            "hairs": [h.to_dict() for h in self.hairs],
            "offset_px": [round(v, 2) for v in self.offset_px],
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
        }


@dataclass(frozen=True)
class VisitComparison:
    """The same tattooed target area at baseline and at a follow-up visit.

    Attributes
    ----------
    kept : tuple of (int, int)
        Pairs ``(baseline_id, followup_id)`` of hairs found at both visits.
    lost : tuple of int
        Baseline hair ids not found at follow-up.
    new : tuple of int
        Follow-up hair ids not present at baseline.
    offset_px : (float, float)
        Translation ``(dx, dy)`` mapping the baseline image onto the follow-up.
    baseline, followup : ImageAnalysis
    """

    kept: tuple[tuple[int, int], ...]
    lost: tuple[int, ...]
    new: tuple[int, ...]
    offset_px: tuple[float, float]
    baseline: ImageAnalysis
    followup: ImageAnalysis

    @property
    def net_change(self) -> int:
        """Follow-up count minus baseline count."""
        return self.followup.hair_count - self.baseline.hair_count

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": [list(p) for p in self.kept],
            "lost": list(self.lost),
            "new": list(self.new),
            "net_change": self.net_change,
            "offset_px": [round(v, 2) for v in self.offset_px],
            "baseline": self.baseline.to_dict(),
            "followup": self.followup.to_dict(),
        }
