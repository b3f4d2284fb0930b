"""Synthetic trichoscopy images with known ground truth.

Renders clipped target areas as a dermoscope sees them: skin of a chosen tone with
low-frequency shading and fine texture, hair shafts of known diameter, length and
colour (black to grey), crossings, parallel neighbours, tufts of several hairs from one
follicular opening, thin vellus hairs, glare spots and air bubbles laid over hairs, blur
and JPEG artefacts, a burned-in banner; on request also pairs and triples pressed
together from one opening, glossy shafts with a light central line, blond hairs, hairs
cut by the field border (labelled by the counting rule), empty follicle openings and
scale flakes; and pairs of images: a clipped area and the same
area days later with anagen hairs grown, and a baseline and follow-up of a tattooed
target area with hairs lost and new.

Everything is deterministic from ``seed`` and takes a few tens of milliseconds, so the
images serve tests, benchmarks and demonstration data alike.

Examples
--------
>>> from anagen.trichoscopy.synthetic import generate_scalp
>>> sample = generate_scalp(seed=3, n_hairs=15, px_per_mm=200)
>>> sample.image.shape, len(sample.truth.hairs)
((512, 640, 3), 15)
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image

SKIN_TONES = {
    "light": (226, 190, 176),
    "medium": (198, 150, 120),
    "olive": (180, 140, 100),
    "dark": (120, 84, 62),
}
HAIR_COLOURS = {
    "black": (22, 18, 16),
    "dark_brown": (50, 36, 28),
    "brown": (85, 60, 40),
    "grey": (120, 118, 116),
    "blond": (176, 140, 88),
}


@dataclass(frozen=True)
class TrueHair:
    """A rendered hair. Coordinates in pixels of the generated image.

    ``root`` is where the shaft leaves the skin (its exit point), ``tip`` its clipped
    end; either may lie outside the image for a hair cut by the border. Hairs of one
    follicular opening share ``unit`` (pressed pairs and triples also share ``root``).
    ``counted`` is the counting rule applied to the truth (docs/trichoscopy.md,
    "Counting rule"): the exit point lies inside the field and the shaft reaches
    neither the bottom nor the right edge.
    """

    root: tuple[float, float]
    tip: tuple[float, float]
    diameter_um: float
    width_px: float
    length_px: float
    colour: str
    hair_class: str
    cut_by_border: bool
    unit: int
    growth_mm: float = 0.0
    phase: str = "anagen"
    counted: bool = True


@dataclass(frozen=True)
class SyntheticTruth:
    hairs: tuple[TrueHair, ...]
    px_per_mm: float
    shape: tuple[int, int]
    banner_px: int = 0
    offset_px: tuple[float, float] = (0.0, 0.0)
    notes: dict = field(default_factory=dict)

    @property
    def hair_count(self) -> int:
        return len(self.hairs)

    @property
    def counted_count(self) -> int:
        """Hairs the counting rule counts (``TrueHair.counted``)."""
        return sum(h.counted for h in self.hairs)

    @property
    def vellus_count(self) -> int:
        return sum(h.hair_class == "vellus" for h in self.hairs)

    @property
    def terminal_count(self) -> int:
        return sum(h.hair_class == "terminal" for h in self.hairs)

    @property
    def mean_diameter_um(self) -> float:
        return float(np.mean([h.diameter_um for h in self.hairs])) if self.hairs else 0.0

    @property
    def anagen_pct(self) -> float:
        grown = [h for h in self.hairs if h.phase == "anagen"]
        return 100.0 * len(grown) / len(self.hairs) if self.hairs else 0.0


@dataclass(frozen=True)
class SyntheticImage:
    image: np.ndarray
    truth: SyntheticTruth


# --------------------------------------------------------------------------- skin


def _skin(rng: np.random.Generator, shape: tuple[int, int], tone: tuple[int, int, int]) -> np.ndarray:
    h, w = shape
    base = np.array(tone, dtype=np.float32)
    low = rng.normal(0, 1, (max(2, h // 32), max(2, w // 32), 1)).astype(np.float32)
    low = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)[:, :, None]
    fine = rng.normal(0, 1, (h, w)).astype(np.float32)
    fine = cv2.GaussianBlur(fine, (0, 0), 1.2)[:, :, None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1.0 - 0.12 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 4
    img = base[None, None, :] * (1 + 0.05 * low) * vignette[:, :, None] + 6.0 * fine
    return img


# --------------------------------------------------------------------------- hairs


def _draw_hair(canvas: np.ndarray, root: np.ndarray, tip: np.ndarray, width: float, colour: tuple[int, int, int],
               opacity: float, gloss: float = 0.0, fade_edges: bool = False) -> None:
    """Anti-aliased shaft with cylinder shading, drawn in place (float RGB canvas).

    ``gloss`` (0 to 1) adds the light line a glossy shaft shows along its axis.
    ``fade_edges`` lets the shaft thin into the skin under it towards its edges instead
    of lightening (the shading otherwise turns a light hair's edges lighter than skin)."""
    h, w = canvas.shape[:2]
    r = width / 2 + 2
    x0 = int(max(0, np.floor(min(root[0], tip[0]) - r)))
    x1 = int(min(w, np.ceil(max(root[0], tip[0]) + r) + 1))
    y0 = int(max(0, np.floor(min(root[1], tip[1]) - r)))
    y1 = int(min(h, np.ceil(max(root[1], tip[1]) + r) + 1))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    ab = tip - root
    denom = float(ab @ ab) or 1.0
    t = np.clip(((xx - root[0]) * ab[0] + (yy - root[1]) * ab[1]) / denom, 0, 1)
    dx = xx - (root[0] + t * ab[0])
    dy = yy - (root[1] + t * ab[1])
    dist = np.sqrt(dx * dx + dy * dy)
    cover = np.clip(width / 2 + 0.5 - dist, 0, 1) * opacity
    # Cylinder shading: a little lighter towards the edges.
    rel = np.clip(dist / max(width / 2, 0.5), 0, 1)
    shade = np.array(colour, dtype=np.float32)[None, None, :] * (1 + 0.5 * rel[:, :, None] ** 2)
    if fade_edges:
        edge = rel[:, :, None] ** 2
        shade = np.array(colour, dtype=np.float32)[None, None, :] * (1 - edge) + canvas[y0:y1, x0:x1] * edge
    if gloss > 0:
        # Lighter hairs show less of a highlight against their own colour.
        strength = gloss * (1.0 - float(np.mean(colour)) / 255.0)
        shine = strength * np.exp(-((dist / max(0.2 * width, 0.5)) ** 2))[:, :, None]
        shade = shade * (1 - shine) + 225.0 * shine
    region = canvas[y0:y1, x0:x1]
    region[:] = region * (1 - cover[:, :, None]) + shade * cover[:, :, None]


def _segment_distance(p0, p1, q0, q1, samples: int = 12) -> float:
    ts = np.linspace(0, 1, samples)[:, None]
    a = p0 + ts * (p1 - p0)
    b = q0 + ts * (q1 - q0)
    return float(np.min(np.hypot(*(a[:, None, :] - b[None, :, :]).transpose(2, 0, 1))))


def _place_hairs(
    rng: np.random.Generator,
    n_hairs: int,
    shape: tuple[int, int],
    px_per_mm: float,
    vellus_fraction: float,
    colours: tuple[str, ...],
    crossings: int,
    parallel_pairs: int,
    tufts: int,
    length_mm: tuple[float, float],
    margin_px: float,
    tip_room_px: float = 0.0,
    pressed_pairs: int = 0,
    pressed_triples: int = 0,
) -> list[dict]:
    h, w = shape
    main_angle = rng.uniform(0, np.pi)
    hairs: list[dict] = []
    unit = 0

    def diameter(vellus: bool) -> float:
        return float(rng.uniform(18, 34) if vellus else rng.uniform(55, 95))

    def make(root, angle, d_um, colour, unit_id, length=None):
        length_px = float(length if length is not None else rng.uniform(*length_mm) * px_per_mm)
        r = np.asarray(root, dtype=float)
        tip = r + length_px * np.array([np.cos(angle), np.sin(angle)])
        return {"root": r, "tip": tip, "d": d_um, "colour": colour, "unit": unit_id}

    def grown_tip(c):
        direction = (c["tip"] - c["root"]) / (np.hypot(*(c["tip"] - c["root"])) or 1.0)
        return c["tip"] + tip_room_px * direction

    def fits(candidate, ignore_units=()):
        width = candidate["d"] / 1000 * px_per_mm
        for other in hairs:
            if other["unit"] in ignore_units:
                continue
            ow = other["d"] / 1000 * px_per_mm
            gap = _segment_distance(candidate["root"], grown_tip(candidate), other["root"], grown_tip(other))
            if gap < 1.5 * (width + ow) + 6:
                return False
        return True

    def inside(c):
        # Room for the hair to grow (regrowth pairs) beyond its clipped tip.
        for p in (c["root"], c["tip"], grown_tip(c)):
            if not (margin_px <= p[0] <= w - 1 - margin_px and margin_px <= p[1] <= h - 1 - margin_px):
                return False
        return True

    n_vellus = int(round(vellus_fraction * n_hairs))
    plan = (["tuft"] * tufts + ["pair"] * parallel_pairs + ["cross"] * crossings)
    plan = ["pressed3"] * pressed_triples + ["pressed2"] * pressed_pairs + plan
    sizes = {"tuft": 3, "pair": 2, "cross": 2, "pressed2": 2, "pressed3": 3}
    specials = sum(sizes[p] for p in plan)
    if specials > n_hairs:
        plan, specials = [], 0
    n_single = n_hairs - specials
    vellus_left = n_vellus
    attempts = 0
    for kind in plan + ["single"] * n_single:
        while True:
            attempts += 1
            if attempts > 20_000:
                raise ValueError("cannot place that many hairs in this field; use fewer hairs or a larger shape")
            colour = colours[int(rng.integers(len(colours)))]
            angle = main_angle + rng.normal(0, 0.35)
            root = (rng.uniform(margin_px, w - margin_px), rng.uniform(margin_px, h - margin_px))
            group: list[dict] = []
            if kind == "single":
                vellus = vellus_left > 0
                group.append(make(root, angle, diameter(vellus), "grey" if vellus and rng.random() < 0.5 else colour, unit))
            elif kind == "pair":
                d_um = diameter(False)
                width = d_um / 1000 * px_per_mm
                normal = np.array([-np.sin(angle), np.cos(angle)])
                length = rng.uniform(*length_mm) * px_per_mm
                for k in (0, 1):
                    r = np.asarray(root) + normal * k * (width * 1.05)
                    group.append(make(r, angle, d_um, colour, unit, length * rng.uniform(0.85, 1.0)))
            elif kind in ("pressed2", "pressed3"):
                # Two or three hairs from one opening, pressed into each other along
                # their length: side by side, their centres 0.75 to 0.95 of a shaft
                # width apart (one dark band, wider than one hair, with at most a faint
                # lighter line inside), spreading by a degree or two towards the cut
                # tips. Their exit points lie within the one opening.
                n_in = 2 if kind == "pressed2" else 3
                d_um = diameter(False)
                length = rng.uniform(*length_mm) * px_per_mm
                spread = rng.uniform(0.015, 0.035)
                gap = rng.uniform(0.75, 0.95) * d_um / 1000 * px_per_mm
                normal = np.array([-np.sin(angle), np.cos(angle)])
                for k in range(n_in):
                    at = np.asarray(root, float) + normal * (k - (n_in - 1) / 2) * gap
                    group.append(make(at, angle + (k - (n_in - 1) / 2) * spread, d_um * rng.uniform(0.9, 1.1),
                                      colour, unit, length * rng.uniform(0.9, 1.0)))
            elif kind == "tuft":
                for k in (-1, 0, 1):
                    group.append(make(root, angle + k * 0.28, diameter(False), colour, unit))
            else:  # cross
                group.append(make(root, angle, diameter(False), colour, unit))
                mid = (group[0]["root"] + group[0]["tip"]) / 2
                a2 = angle + rng.choice([-1, 1]) * rng.uniform(0.7, 1.3)
                length = rng.uniform(*length_mm) * px_per_mm
                start = mid - 0.5 * length * np.array([np.cos(a2), np.sin(a2)])
                group.append(make(start, a2, diameter(False), colour, unit + 1, length))
            if all(inside(c) for c in group) and all(fits(c) for c in group):
                break
        if kind == "single" and vellus_left > 0:
            vellus_left -= 1
        hairs.extend(group)
        unit += 2
    return hairs


def _render(
    rng: np.random.Generator,
    skin: np.ndarray,
    hairs: list[dict],
    px_per_mm: float,
    offset: np.ndarray,
) -> np.ndarray:
    canvas = skin.copy()
    for hair in hairs:
        width = hair["d"] / 1000 * px_per_mm
        colour = HAIR_COLOURS[hair["colour"]]
        opacity = {"grey": 0.8, "blond": 0.85}.get(hair["colour"], 1.0)
        # Follicle opening: a soft shadow around the root.
        _draw_hair(canvas, hair["root"] - offset, hair["root"] - offset + 0.01, width * 1.6, tuple(0.8 * np.array(canvas[0, 0])), 0.35)
        # Blond shafts thin into the skin at their edges (see `_draw_hair`); the older
        # colours keep the shading earlier seeds were drawn with.
        _draw_hair(canvas, hair["root"] - offset, hair["tip"] - offset, width, colour, opacity, hair.get("gloss", 0.0),
                   fade_edges=hair["colour"] == "blond")
    return canvas


def _glare_and_bubbles(rng, canvas: np.ndarray, hairs: list[dict], glare: int, bubbles: int, offset: np.ndarray) -> None:
    h, w = canvas.shape[:2]
    for k in range(glare + bubbles):
        if hairs and rng.random() < 0.7:
            hair = hairs[int(rng.integers(len(hairs)))]
            c = hair["root"] + rng.uniform(0.3, 0.7) * (hair["tip"] - hair["root"]) - offset
        else:
            c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        if k < glare:
            mask = np.zeros((h, w), np.float32)
            axes = (int(rng.uniform(3, 7)), int(rng.uniform(2, 4)))
            cv2.ellipse(mask, (int(c[0]), int(c[1])), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
            mask = cv2.GaussianBlur(mask, (0, 0), 0.8)[:, :, None]
            canvas[:] = canvas * (1 - mask) + 255.0 * mask
        else:
            radius = int(rng.uniform(8, 18))
            rim = np.zeros((h, w), np.float32)
            cv2.circle(rim, (int(c[0]), int(c[1])), radius, 1.0, 2, cv2.LINE_AA)
            inner = np.zeros((h, w), np.float32)
            cv2.circle(inner, (int(c[0]), int(c[1])), radius - 2, 1.0, -1, cv2.LINE_AA)
            # A bubble lifts and lightens what is under it; its rim shines.
            canvas[:] = canvas * (1 - 0.35 * inner[:, :, None]) + 0.35 * inner[:, :, None] * 235.0
            canvas[:] = canvas * (1 - 0.8 * rim[:, :, None]) + 0.8 * rim[:, :, None] * 250.0


def _finish(rng, canvas: np.ndarray, blur_px: float, noise: float, jpeg_quality: int | None, banner_px: int) -> np.ndarray:
    if blur_px > 0:
        canvas = cv2.GaussianBlur(canvas, (0, 0), blur_px)
    if noise > 0:
        canvas = canvas + rng.normal(0, noise, canvas.shape).astype(np.float32)
    img = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    if banner_px:
        img[:banner_px] = (70, 70, 70)
        for k, x in enumerate(range(10, img.shape[1] - 60, 90)):
            cv2.rectangle(img, (x - 6, 0), (x + 74, banner_px - 1), (80, 80, 80), -1)
            cv2.putText(img, f"{k}x70", (x, banner_px - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (235, 235, 235), 1, cv2.LINE_AA)
    if jpeg_quality:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=int(jpeg_quality))
        img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).copy()
    return img


def _truth(hairs: list[dict], px_per_mm: float, shape, offset, vellus_um: float = 40.0,
           top_px: float = 0.0) -> tuple[TrueHair, ...]:
    """Truth records; ``top_px`` is where the field starts below a banner."""
    h, w = shape
    out = []
    for hair in hairs:
        width = hair["d"] / 1000 * px_per_mm
        root = hair["root"] - offset
        tip = hair["tip"] - offset
        m = width / 2 + 1
        cut = any(not (m <= p[0] <= w - 1 - m and m + top_px <= p[1] <= h - 1 - m) for p in (root, tip))
        # The counting rule: exit point inside the field, and neither end beyond the
        # bottom or right edge (the shaft is straight, so its ends are its extremes).
        root_inside = 0 <= root[0] <= w - 1 and top_px <= root[1] <= h - 1
        excluded = any(p[0] > w - 1 - m or p[1] > h - 1 - m for p in (root, tip))
        out.append(
            TrueHair(
                root=(float(root[0]), float(root[1])),
                tip=(float(tip[0]), float(tip[1])),
                diameter_um=float(hair["d"]),
                width_px=float(width),
                length_px=float(np.hypot(*(tip - root))),
                colour=hair["colour"],
                hair_class="vellus" if hair["d"] < vellus_um else "terminal",
                cut_by_border=bool(cut),
                unit=int(hair["unit"]),
                growth_mm=float(hair.get("growth_mm", 0.0)),
                phase=hair.get("phase", "anagen"),
                counted=bool(root_inside and not excluded),
            )
        )
    return tuple(out)


def _border_hairs(
    rng: np.random.Generator,
    hairs: list[dict],
    count: int,
    shape: tuple[int, int],
    px_per_mm: float,
    colours: tuple[str, ...],
    length_mm: tuple[float, float],
) -> list[dict]:
    """Hairs cut by the field border, in turn by the top, left, bottom and right edge.

    Every other one has its opening inside the field and shows 88 to 95 % of its
    length (the counting rule counts it when the edge is the top or left one); the
    others have their opening outside and show a stub of 20 to 35 % of a hair (never
    counted). Placed clear of the other hairs.
    """
    h, w = shape
    out: list[dict] = []
    for k in range(count):
        edge = ("top", "left", "bottom", "right")[k % 4]
        root_inside = (k // 4) % 2 == 0
        for _ in range(500):
            along = rng.uniform(0.15, 0.85)
            point, inward = {
                "top": (np.array([along * (w - 1), 0.0]), np.array([0.0, 1.0])),
                "left": (np.array([0.0, along * (h - 1)]), np.array([1.0, 0.0])),
                "bottom": (np.array([along * (w - 1), h - 1.0]), np.array([0.0, -1.0])),
                "right": (np.array([w - 1.0, along * (h - 1)]), np.array([-1.0, 0.0])),
            }[edge]
            turn = rng.uniform(-0.8, 0.8)
            d_in = np.array([inward[0] * np.cos(turn) - inward[1] * np.sin(turn),
                             inward[0] * np.sin(turn) + inward[1] * np.cos(turn)])
            if root_inside:
                total = rng.uniform(0.75, 0.95) * length_mm[1] * px_per_mm
                shown = rng.uniform(0.88, 0.95) * total
                root, tip = point + d_in * shown, point - d_in * (total - shown)
            else:
                total = rng.uniform(*length_mm) * px_per_mm
                shown = rng.uniform(0.2, 0.35) * total
                root, tip = point - d_in * (total - shown), point + d_in * shown
            inner = root if root_inside else tip
            if not (4 <= inner[0] <= w - 5 and 4 <= inner[1] <= h - 5):
                continue
            d_um = float(rng.uniform(55, 95))
            width = d_um / 1000 * px_per_mm
            clear = all(
                _segment_distance(root, tip, o["root"], o["tip"]) >= 1.5 * (width + o["d"] / 1000 * px_per_mm) + 6
                for o in hairs + out
            )
            if clear:
                out.append({"root": root, "tip": tip, "d": d_um,
                            "colour": colours[int(rng.integers(len(colours)))], "unit": 10_000 + k})
                break
    return out


def _openings_and_flakes(
    rng: np.random.Generator, canvas: np.ndarray, openings: int, flakes: int, px_per_mm: float, top_px: int
) -> dict:
    """Empty follicle openings (small dark dots, no shaft) and scale flakes (light,
    irregular patches), drawn in place; returns their positions for the notes."""
    h, w = canvas.shape[:2]
    dots, patches = [], []
    for _ in range(openings):
        c = np.array([rng.uniform(10, w - 10), rng.uniform(top_px + 10, h - 10)])
        d = rng.uniform(60, 110) / 1000 * px_per_mm
        tone = tuple(0.55 * np.array(canvas[int(c[1]), int(c[0])]))
        _draw_hair(canvas, c, c + 0.01, d, tone, rng.uniform(0.45, 0.7))
        dots.append((float(c[0]), float(c[1])))
    for _ in range(flakes):
        c = np.array([rng.uniform(0, w), rng.uniform(top_px, h)])
        radius = rng.uniform(0.04, 0.15) * px_per_mm
        angles = np.sort(rng.uniform(0, 2 * np.pi, 9))
        pts = c + (radius * rng.uniform(0.45, 1.0, 9))[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        mask = np.zeros((h, w), np.float32)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1.0, cv2.LINE_AA)
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)[:, :, None] * rng.uniform(0.55, 0.85)
        canvas[:] = canvas * (1 - mask) + np.array((238, 232, 218), np.float32) * mask
        patches.append((float(c[0]), float(c[1]), float(radius)))
    return {"empty_openings": dots, "flakes": patches}


def generate_scalp(
    seed: int,
    n_hairs: int = 20,
    px_per_mm: float = 200.0,
    shape: tuple[int, int] = (512, 640),
    skin_tone: str = "light",
    hair_colours: tuple[str, ...] = ("black", "dark_brown"),
    vellus_fraction: float = 0.15,
    crossings: int = 1,
    parallel_pairs: int = 1,
    tufts: int = 0,
    glare: int = 0,
    bubbles: int = 0,
    blur_px: float = 0.0,
    noise: float = 2.0,
    jpeg_quality: int | None = None,
    banner_px: int = 0,
    length_mm: tuple[float, float] = (0.35, 0.9),
    pressed_pairs: int = 0,
    pressed_triples: int = 0,
    border_hairs: int = 0,
    glossy_fraction: float = 0.0,
    empty_openings: int = 0,
    flakes: int = 0,
) -> SyntheticImage:
    """Render one clipped target area with known hairs.

    Parameters
    ----------
    seed : int
        Everything is determined by it.
    n_hairs : int
        Hairs in the field (tufts count 3, parallel pairs and crossings 2).
    px_per_mm : float
        Scale; 200 px/mm gives a 3.2 x 2.56 mm field at the default shape.
    shape : (int, int)
        ``(height, width)``.
    skin_tone : str
        One of ``light``, ``medium``, ``olive``, ``dark``.
    hair_colours : tuple of str
        Drawn from ``black``, ``dark_brown``, ``brown``, ``grey``.
    vellus_fraction : float
        Share of single hairs that are vellus (18 to 34 µm; terminal 55 to 95 µm).
    crossings, parallel_pairs, tufts : int
        Hard cases to include: crossing pairs, touching parallel pairs, and tufts of
        three hairs from one opening.
    glare, bubbles : int
        Specular spots and air bubbles, mostly laid over hairs.
    blur_px, noise, jpeg_quality : float, float, int or None
        Gaussian blur sigma, sensor noise sigma, and JPEG re-encoding quality.
    banner_px : int
        Height of a burned-in text banner across the top (hairs are kept below it).
    length_mm : (float, float)
        Range of visible shaft lengths.
    pressed_pairs, pressed_triples : int
        Two or three hairs from one opening (one shared ``root`` and ``unit``),
        pressed together along their whole length; part of ``n_hairs``.
    border_hairs : int
        Hairs cut by the field border, in addition to ``n_hairs``, in turn by the top,
        left, bottom and right edge; every other one with its opening inside the field
        and most of its length shown, the others a stub from an opening outside.
        ``TrueHair.counted`` says which the counting rule counts.
    glossy_fraction : float
        Share of the hairs drawn with a light line along the shaft's axis.
    empty_openings, flakes : int
        Follicle openings without a shaft (small dark dots) and scale flakes (light
        irregular patches); their positions are in ``truth.notes``. Neither is a hair.

    The options after ``length_mm`` are off by default; with them off the image and
    truth are those of earlier versions for the same seed (their random numbers come
    from a second stream, except the pressed groups' placement).

    Returns
    -------
    SyntheticImage
        ``image`` (uint8 RGB) and ``truth``.
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    tone = SKIN_TONES[skin_tone]
    skin = _skin(rng, (h, w), tone)
    margin = 6 + 0.1 * px_per_mm
    hairs = _place_hairs(
        rng, n_hairs, (h - banner_px, w), px_per_mm, vellus_fraction, hair_colours,
        crossings, parallel_pairs, tufts, length_mm, margin,
        pressed_pairs=pressed_pairs, pressed_triples=pressed_triples,
    )
    extra = np.random.default_rng([seed, 7])
    if border_hairs:
        hairs = hairs + _border_hairs(extra, hairs, border_hairs, (h - banner_px, w), px_per_mm,
                                      hair_colours, length_mm)
    if glossy_fraction > 0:
        for hair in hairs:
            if extra.random() < glossy_fraction:
                hair["gloss"] = float(extra.uniform(0.35, 0.6))
    offset = np.array([0.0, -float(banner_px)])
    canvas = _render(rng, skin, hairs, px_per_mm, offset)
    notes = {}
    if empty_openings or flakes:
        notes = _openings_and_flakes(extra, canvas, empty_openings, flakes, px_per_mm, banner_px)
    _glare_and_bubbles(rng, canvas, hairs, glare, bubbles, offset)
    img = _finish(rng, canvas, blur_px, noise, jpeg_quality, banner_px)
    truth = SyntheticTruth(hairs=_truth(hairs, px_per_mm, (h, w), offset, top_px=banner_px), px_per_mm=px_per_mm,
                           shape=(h, w), banner_px=banner_px, notes=notes)
    return SyntheticImage(image=img, truth=truth)


def generate_regrowth_pair(
    seed: int,
    n_hairs: int = 12,
    px_per_mm: float = 120.0,
    shape: tuple[int, int] = (512, 640),
    anagen_fraction: float = 0.85,
    days: float = 2.5,
    growth_mm_per_day: float = 0.35,
    shift_px: tuple[float, float] = (7.0, -5.0),
    skin_tone: str = "light",
    noise: float = 2.0,
) -> tuple[SyntheticImage, SyntheticImage]:
    """A clipped area and the same area ``days`` later.

    Anagen hairs (``anagen_fraction`` of them) grow ``growth_mm_per_day`` times
    ``days`` at their clipped end; telogen hairs do not. The later photograph is
    shifted by ``shift_px`` = ``(dx, dy)``: a point at ``(x, y)`` in the first image is
    at ``(x + dx, y + dy)`` in the second.

    Returns
    -------
    (SyntheticImage, SyntheticImage)
        The truth of the second carries each hair's ``growth_mm`` and ``phase``.
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    pad = int(np.ceil(max(abs(shift_px[0]), abs(shift_px[1])))) + 2
    big = (h + 2 * pad, w + 2 * pad)
    skin = _skin(rng, big, SKIN_TONES[skin_tone])
    growth_px = growth_mm_per_day * days * px_per_mm
    max_len = 0.6
    hairs = _place_hairs(
        rng, n_hairs, (h, w), px_per_mm, 0.0, ("black", "dark_brown"),
        0, 0, 0, (0.25, max_len), margin_px=12, tip_room_px=growth_px * 1.15,
    )
    n_anagen = int(round(anagen_fraction * len(hairs)))
    order = rng.permutation(len(hairs))
    grown = []
    for rank, idx in enumerate(order):
        hair = dict(hairs[idx])
        hair["root"] = hair["root"] + pad
        hair["tip"] = hair["tip"] + pad
        hairs[idx] = hair
    for idx, hair in enumerate(hairs):
        g = dict(hair)
        if idx in set(order[:n_anagen].tolist()):
            direction = (hair["tip"] - hair["root"]) / np.hypot(*(hair["tip"] - hair["root"]))
            g["tip"] = hair["tip"] + growth_px * direction * rng.uniform(0.85, 1.15)
            g["growth_mm"] = float(np.hypot(*(g["tip"] - hair["tip"])) / px_per_mm)
            g["phase"] = "anagen"
        else:
            g["phase"] = "telogen"
        grown.append(g)
    first_offset = np.array([pad, pad], dtype=float)
    second_offset = first_offset - np.array(shift_px, dtype=float)
    images = []
    for hs, off in ((hairs, first_offset), (grown, second_offset)):
        canvas = _render(rng, skin, hs, px_per_mm, np.zeros(2))
        m = cv2.warpAffine(canvas, np.float32([[1, 0, -off[0]], [0, 1, -off[1]]]), (w, h), flags=cv2.INTER_LINEAR)
        img = _finish(rng, m, 0.0, noise, None, 0)
        images.append(SyntheticImage(img, SyntheticTruth(_truth(hs, px_per_mm, (h, w), off), px_per_mm, (h, w), offset_px=tuple(shift_px))))
    # The first image's truth also carries the phase, for convenience.
    first = images[0]
    first_hairs = tuple(replace(a, phase=b.phase, growth_mm=b.growth_mm) for a, b in zip(first.truth.hairs, images[1].truth.hairs))
    return SyntheticImage(first.image, replace(first.truth, hairs=first_hairs)), images[1]


def generate_visit_pair(
    seed: int,
    n_hairs: int = 18,
    lost: int = 3,
    new: int = 4,
    px_per_mm: float = 200.0,
    shape: tuple[int, int] = (512, 640),
    shift_px: tuple[float, float] = (-9.0, 6.0),
    rotation_deg: float = 0.0,
    lighting: float = 0.0,
) -> tuple[SyntheticImage, SyntheticImage]:
    """Baseline and follow-up of the same tattooed target area.

    ``lost`` baseline hairs are gone at follow-up and ``new`` hairs appear; the rest
    are kept. The follow-up is turned by ``rotation_deg`` about the image centre ``c``
    and shifted by ``shift_px``: a baseline point ``p`` is at ``R (p - c) + c + shift``
    in the follow-up. The truths' ``notes`` hold ``kept``, ``lost`` and ``new`` as index
    lists into ``truth.hairs``. With ``lost=0, new=0`` the pair is a test-retest: the
    same area photographed twice.

    ``lighting`` changes the follow-up's illumination as a second session does: the
    whole image ``lighting`` brighter (negative: darker), with a side-to-side ramp of
    half that amount (a dermoscope held at a slightly different tilt). Off by
    default, which keeps the images of earlier versions.
        """
    rng = np.random.default_rng(seed)
    h, w = shape
    pad = int(np.ceil(max(abs(shift_px[0]), abs(shift_px[1])))) + 2
    big = (h + 2 * pad, w + 2 * pad)
    skin = _skin(rng, big, SKIN_TONES["medium"])
    hairs = _place_hairs(
        rng, n_hairs + new, (h, w), px_per_mm, 0.1, ("black", "dark_brown"),
        0, 0, 0, (0.3, 0.8), margin_px=20,
    )
    for hair in hairs:
        hair["root"] = hair["root"] + pad
        hair["tip"] = hair["tip"] + pad
    order = rng.permutation(len(hairs))
    new_idx = set(order[:new].tolist())
    lost_idx = set(order[new : new + lost].tolist())
    base = [hr for i, hr in enumerate(hairs) if i not in new_idx]
    follow = [hr for i, hr in enumerate(hairs) if i not in lost_idx]
    first_offset = np.array([pad, pad], dtype=float)
    second_offset = first_offset - np.array(shift_px, dtype=float)
    base_keys = [i for i in range(len(hairs)) if i not in new_idx]
    follow_keys = [i for i in range(len(hairs)) if i not in lost_idx]
    notes = {
        "kept": [(base_keys.index(i), follow_keys.index(i)) for i in base_keys if i in follow_keys],
        "lost": [base_keys.index(i) for i in lost_idx],
        "new": [follow_keys.index(i) for i in new_idx],
    }
    a = np.radians(rotation_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    centre = np.array([w / 2, h / 2])
    shift = np.array(shift_px, dtype=float)
    # Follow-up pixel q shows canvas point R^-1 (q - c - shift) + c + pad.
    inv = rot.T
    follow_map = np.hstack([inv, (centre + first_offset - inv @ (centre + shift))[:, None]]).astype(np.float32)

    def to_follow(hair):
        moved = dict(hair)
        for key in ("root", "tip"):
            moved[key] = rot @ (hair[key] - first_offset - centre) + centre + shift
        return moved

    images = []
    for hs, matrix, truth_hairs in (
        (base, np.float32([[1, 0, first_offset[0]], [0, 1, first_offset[1]]]), _truth(base, px_per_mm, (h, w), first_offset)),
        (follow, follow_map, _truth([to_follow(hr) for hr in follow], px_per_mm, (h, w), np.zeros(2))),
    ):
        canvas = _render(rng, skin, hs, px_per_mm, np.zeros(2))
        m = cv2.warpAffine(canvas, matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        if lighting and images:
            ramp = 1.0 + lighting + 0.5 * lighting * (np.arange(w, dtype=np.float32) / max(w - 1, 1) - 0.5) * 2
            m = m * ramp[None, :, None]
        img = _finish(rng, m, 0.0, 2.0, None, 0)
        truth = SyntheticTruth(truth_hairs, px_per_mm, (h, w), offset_px=tuple(shift_px),
                               notes={**notes, "rotation_deg": float(rotation_deg)})
        images.append(SyntheticImage(img, truth))
    return images[0], images[1]


class TargetArea:
    """One patient's tattooed target area, photographed visit after visit.

    The skin and a pool of ``max_hairs`` hairs are laid out once from ``seed``; each
    :meth:`photograph` shows ``n_hairs`` of them, keeping the hairs of the previous
    photograph except a few lost (``turnover``) and adding new ones from the pool, with
    the dermoscope put down a little differently each time (a shift of up to
    ``max_shift_px`` and a turn of up to ``max_rotation_deg`` about the image centre) and
    the lighting a little different. A baseline point ``p`` is at
    ``R (p - c) + c + shift`` in a photograph, as for :func:`generate_visit_pair`.

    Each photograph's ``truth.notes`` holds ``ids`` (the pool index of each truth hair),
    ``shift_px``, ``rotation_deg`` and, against the first photograph, ``kept`` (pairs of
    truth indices: first, this), ``lost`` (truth indices of the first) and ``new`` (truth
    indices of this one): the same record as :func:`generate_visit_pair`, so the
    matching can be checked on a whole series. The demo draws its patients' follow-up
    phototrichograms with it, so a follow-up shows the same hairs as the baseline.
    """

    def __init__(self, seed: int, *, max_hairs: int, px_per_mm: float = 200.0, shape: tuple[int, int] = (512, 640),
                 skin_tone: str = "light", hair_colours: tuple[str, ...] = ("black", "dark_brown"),
                 vellus_fraction: float = 0.15, crossings: int = 1, parallel_pairs: int = 1,
                 length_mm: tuple[float, float] = (0.35, 0.9), max_shift_px: float = 12.0,
                 max_rotation_deg: float = 2.0, turnover: float = 0.04) -> None:
        rng = np.random.default_rng([seed, 11])
        h, w = shape
        self.seed, self.px_per_mm, self.shape = seed, float(px_per_mm), (h, w)
        self.max_shift_px, self.max_rotation_deg, self.turnover = float(max_shift_px), float(max_rotation_deg), turnover
        # Room around the field for the shift and for the corners a turn moves.
        turn = np.radians(max_rotation_deg) * np.hypot(h, w) / 2
        self._pad = int(np.ceil(max_shift_px + turn)) + 2
        big = (h + 2 * self._pad, w + 2 * self._pad)
        self._skin = _skin(rng, big, SKIN_TONES[skin_tone])
        margin = 6 + 0.1 * px_per_mm
        pool = _place_hairs(rng, max_hairs, (h, w), px_per_mm, vellus_fraction, hair_colours, crossings,
                            parallel_pairs, 0, length_mm, margin)
        for hair in pool:
            hair["root"] = hair["root"] + self._pad
            hair["tip"] = hair["tip"] + self._pad
        self._pool = pool
        self._order = [int(i) for i in rng.permutation(len(pool))]
        self._present: list[int] = []
        self._first: list[int] | None = None
        self._count = 0

    @property
    def max_hairs(self) -> int:
        return len(self._pool)

    def _next_present(self, n: int, rng: np.random.Generator) -> list[int]:
        n = max(0, min(int(n), len(self._pool)))
        present = [i for i in self._present if rng.random() >= self.turnover] if self._present else []
        if len(present) > n:
            drop = set(rng.choice(present, size=len(present) - n, replace=False).tolist())
            present = [i for i in present if i not in drop]
        shown_before = set(self._present)
        # New hairs come first from the pool never shown; once it is used up, hairs lost
        # earlier may grow back.
        for i in [j for j in self._order if j not in shown_before] + list(self._order):
            if len(present) >= n:
                break
            if i not in present:
                present.append(i)
        return present

    def photograph(self, n_hairs: int, *, seed: int | None = None, lighting: float = 0.06,
                   noise: float = 2.0) -> SyntheticImage:
        """The area with ``n_hairs`` hairs (at most the pool), put down slightly differently."""
        rng = np.random.default_rng([self.seed, 13, self._count if seed is None else seed])
        self._count += 1
        present = self._next_present(n_hairs, rng)
        first = self._first is None
        if first:
            shift, angle = np.zeros(2), 0.0
        else:
            shift = rng.uniform(-self.max_shift_px, self.max_shift_px, size=2)
            angle = float(rng.uniform(-self.max_rotation_deg, self.max_rotation_deg))
        h, w = self.shape
        pad = np.array([self._pad, self._pad], dtype=float)
        a = np.radians(angle)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        centre = np.array([w / 2, h / 2])
        inv = rot.T
        # Photograph pixel q shows canvas point R^-1 (q - c - shift) + c + pad.
        matrix = np.hstack([inv, (centre + pad - inv @ (centre + shift))[:, None]]).astype(np.float32)
        hairs = [self._pool[i] for i in present]
        canvas = _render(rng, self._skin, hairs, self.px_per_mm, np.zeros(2))
        if lighting > 0 and not first:
            canvas = canvas * float(rng.uniform(1 - lighting, 1 + lighting))
        m = cv2.warpAffine(canvas, matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        img = _finish(rng, m, 0.0, noise, None, 0)

        def moved(hair):
            out = dict(hair)
            for key in ("root", "tip"):
                out[key] = rot @ (hair[key] - pad - centre) + centre + shift
            return out

        truth_hairs = _truth([moved(hr) for hr in hairs], self.px_per_mm, (h, w), np.zeros(2))
        if first:
            self._first = list(present)
        base = self._first
        here = {pool_id: k for k, pool_id in enumerate(present)}
        notes = {
            "ids": list(present), "shift_px": [float(shift[0]), float(shift[1])], "rotation_deg": angle,
            "kept": [(k, here[i]) for k, i in enumerate(base) if i in here],
            "lost": [k for k, i in enumerate(base) if i not in here],
            "new": [here[i] for i in present if i not in set(base)],
        }
        self._present = present
        return SyntheticImage(img, SyntheticTruth(truth_hairs, self.px_per_mm, (h, w),
                                                  offset_px=(float(shift[0]), float(shift[1])), notes=notes))


def generate_ruler(
    px_per_mm: float,
    spacing_mm: float = 1.0,
    shape: tuple[int, int] = (512, 640),
    angle_deg: float = 4.0,
    seed: int = 0,
) -> np.ndarray:
    """A photographed ruler: dark graduation lines every ``spacing_mm`` on light plastic."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = np.radians(angle_deg)
    u = xx * np.cos(a) + yy * np.sin(a)
    period = px_per_mm * spacing_mm
    phase = np.mod(u, period)
    line = np.clip(1.5 - np.minimum(phase, period - phase), 0, 1)
    img = 230 - 170 * line + rng.normal(0, 3, (h, w))
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.8)
    return np.repeat(np.clip(img, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
