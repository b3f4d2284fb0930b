"""Device profiles: what the engine must know about the dermoscope.

A profile is a small TOML file. It states the magnification, the scale in pixels per
millimetre when the device has been calibrated (only then are areas, densities and
diameters reported in physical units), the diameter below which a hair counts as vellus,
the growth that marks a hair as anagen in a regrowth pair, and regions of the picture to
leave out (a text banner burned in by the device, a logo).

A few profiles ship with the engine (`list_profiles`); a clinic adds its own in the
folder named by the ``ANAGEN_TRICHOSCOPY_PROFILES`` environment variable (default
``~/.config/anagen/trichoscopy/profiles``), for example the one written by
``anagen trichoscopy calibrate``.

Example file::

    name = "clinic-a-70x"
    magnification = 70.0
    px_per_mm = 262.5
    vellus_threshold_um = 40.0
    anagen_growth_threshold_mm = 0.15
    detect_overlays = true
    # x0, y0, x1, y1 as fractions of the image width and height
    ignore_regions = [[0.0, 0.0, 1.0, 0.04]]
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

SHIPPED_DIR = Path(__file__).with_name("profiles")
DEFAULT_PROFILE = "default"


class ProfileError(ValueError):
    """A profile that cannot be found or read; the message says why."""


@dataclass(frozen=True)
class Profile:
    """Settings of one dermoscope.

    Parameters
    ----------
    name : str
        Short name, used in results and on the command line.
    magnification : float, optional
        Optical magnification (informational).
    px_per_mm : float, optional
        Image scale. ``None`` means uncalibrated: physical quantities are reported
        as null, never guessed.
    vellus_threshold_um : float
        Hairs thinner than this are vellus (40 µm as in TrichoScan; histology uses
        30 µm).
    anagen_growth_threshold_mm : float
        Growth between a clipped image and the one 2 to 3 days later above which a
        hair is in anagen (hairs grow about 0.3 to 0.4 mm a day).
    ignore_regions : tuple of (x0, y0, x1, y1)
        Rectangles left out of the analysis, as fractions (0 to 1) of the image
        width and height.
    detect_overlays : bool
        Also find and leave out burned-in banners and drawn marks.
    description : str
    """

    name: str = DEFAULT_PROFILE
    magnification: float | None = None
    px_per_mm: float | None = None
    vellus_threshold_um: float = 40.0
    anagen_growth_threshold_mm: float = 0.15
    ignore_regions: tuple[tuple[float, float, float, float], ...] = ()
    detect_overlays: bool = True
    description: str = ""
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.px_per_mm is not None and not self.px_per_mm > 0:
            raise ProfileError(f"profile {self.name}: px_per_mm must be positive.")
        if not self.vellus_threshold_um > 0:
            raise ProfileError(f"profile {self.name}: vellus_threshold_um must be positive.")
        regions = []
        for region in self.ignore_regions:
            if len(region) != 4:
                raise ProfileError(
                    f"profile {self.name}: each ignore region needs 4 numbers x0, y0, x1, y1."
                )
            x0, y0, x1, y1 = (float(v) for v in region)
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
                raise ProfileError(
                    f"profile {self.name}: ignore region {list(region)} must be fractions "
                    "of the image with x0 < x1 and y0 < y1, all between 0 and 1."
                )
            regions.append((x0, y0, x1, y1))
        object.__setattr__(self, "ignore_regions", tuple(regions))

    @property
    def calibrated(self) -> bool:
        return self.px_per_mm is not None

    def with_scale(self, px_per_mm: float, name: str | None = None) -> Profile:
        """A copy of this profile with a measured scale."""
        return replace(self, px_per_mm=float(px_per_mm), name=name or self.name, source=None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        data["ignore_regions"] = [list(r) for r in self.ignore_regions]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> Profile:
        known = {f for f in cls.__dataclass_fields__ if f != "source"}
        unknown = set(data) - known
        if unknown:
            raise ProfileError(
                f"profile {data.get('name', source)}: unknown setting(s) "
                f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}."
            )
        values = dict(data)
        values["ignore_regions"] = tuple(tuple(r) for r in values.get("ignore_regions", ()))
        try:
            return cls(**values, source=source)
        except TypeError as exc:
            raise ProfileError(f"profile {source}: {exc}") from None


def user_profile_dir() -> Path:
    """Folder where a clinic keeps its own profiles."""
    env = os.environ.get("ANAGEN_TRICHOSCOPY_PROFILES")
    if env:
        return Path(env)
    return Path.home() / ".config" / "anagen" / "trichoscopy" / "profiles"


def list_profiles() -> list[str]:
    """Names of the profiles shipped with the engine."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.toml"))


def _read(path: Path) -> Profile:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ProfileError(f"profile {path}: cannot be read ({exc.strerror}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {path}: not valid TOML ({exc}).") from None
    data.setdefault("name", path.stem)
    return Profile.from_dict(data, source=str(path))


def load_profile(name_or_path: str | os.PathLike | None = None) -> Profile:
    """Load a profile by name or from a TOML file.

    Parameters
    ----------
    name_or_path : str or path, optional
        A path to a ``.toml`` file, or the name of a profile in the user folder
        (`user_profile_dir`) or among the shipped ones. ``None`` gives the default
        shipped profile.

    Raises
    ------
    ProfileError
        When no such profile exists or its file is invalid.
    """
    if name_or_path is None:
        return _read(SHIPPED_DIR / f"{DEFAULT_PROFILE}.toml")
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or os.sep in text or path.is_file():
        if not path.is_file():
            raise ProfileError(f"profile file {text} not found.")
        return _read(path)
    for folder in (user_profile_dir(), SHIPPED_DIR):
        candidate = folder / f"{text}.toml"
        if candidate.is_file():
            return _read(candidate)
    raise ProfileError(
        f"no profile named {text!r}; shipped profiles: {', '.join(list_profiles())}, "
        f"or add {text}.toml to {user_profile_dir()}."
    )


def save_profile(profile: Profile, path: str | os.PathLike | None = None) -> Path:
    """Write a profile as TOML (to the user folder when no path is given)."""
    target = Path(path) if path else user_profile_dir() / f"{profile.name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in profile.to_dict().items() if v is not None}
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, target)
    return target
