"""Overlay: the analysis drawn on the photograph, for a clinician to check at a glance.

Every hair is drawn along its centre line and numbered with its id; terminal hairs in
green, vellus in yellow, unclassified (no scale) in cyan, hairs added by hand in
magenta. Hairs the counting rule does not count (cut by the bottom or right edge) are
drawn dashed. Hairs of one detected shaft read as two or three (pressed together from
one opening, or crossing) are edged in white, and a caption line says so. Ignored regions are shaded grey. The numbers are placed so that no two
overlap (`place_labels`), and the caption (count, count by the counting rule, density in
hairs/cm², quality verdict, then the counting rule itself) is drawn on a strip *below*
the photograph, so it never covers hairs near the lower border: the overlay is the
image's width and taller than the image by that strip, and its top rows are the
image's rows (pixel coordinates are the same). The result is a PNG.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from .measure import COUNTING_RULE_CAPTION, as_rgb_uint8
from .profiles import Profile
from .results import ImageAnalysis

COLOURS = {
    "terminal": (40, 220, 60),
    "vellus": (255, 220, 0),
    "unclassified": (0, 220, 255),
    "manual": (255, 0, 255),
}
#: Edge drawn under the hairs of a shaft read as several hairs (`Hair.multiplicity`).
SHARED_SHAFT_EDGE = (255, 255, 255)
SHARED_SHAFT_CAPTION = "White edge: one shaft read as 2 or 3 hairs (pressed together or crossing)"

FONT = cv2.FONT_HERSHEY_SIMPLEX


def _boxes_overlap(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def place_labels(
    anchors: list[tuple[float, float]],
    sizes: list[tuple[int, int]],
    shape: tuple[int, int],
    gap_px: int = 3,
) -> list[tuple[int, int]]:
    """Where to draw each hair's number so that no two numbers overlap.

    A greedy placement: each label, in order, takes the first of a ring of candidate
    positions around its anchor (above right, above left, below right, below left, then
    the same further out) that stays inside the image and overlaps no label placed
    before it; when every candidate collides it takes the one with the least overlap.

    Parameters
    ----------
    anchors : list of (float, float)
        Point ``(x, y)`` each label belongs to (a hair's midpoint), in pixels.
    sizes : list of (int, int)
        ``(width, height)`` of each label's text box, in pixels.
    shape : (int, int)
        ``(height, width)`` of the image.
    gap_px : int
        Space kept between a label and its anchor, in pixels.

    Returns
    -------
    list of (int, int)
        The bottom-left corner (OpenCV's text origin) of each label.
    """
    h, w = shape
    placed: list[tuple[int, int, int, int]] = []
    origins = []
    for (ax, ay), (tw, th) in zip(anchors, sizes):
        candidates = []
        for ring in (1, 2, 3, 4):
            d = gap_px + (ring - 1) * (th + gap_px)
            for dx, dy in ((d, -d), (-tw - d, -d), (d, th + d), (-tw - d, th + d),
                           (-tw // 2, -d - (ring - 1) * th), (-tw // 2, th + d + (ring - 1) * th)):
                x0 = int(min(max(ax + dx, 0), max(w - tw, 0)))
                y_base = int(min(max(ay + dy, th), h - 1))
                candidates.append((x0, y_base - th, x0 + tw, y_base))
        best, best_overlap = candidates[0], None
        for box in candidates:
            overlap = sum(max(0, min(box[2], o[2]) - max(box[0], o[0])) * max(0, min(box[3], o[3]) - max(box[1], o[1]))
                          for o in placed)
            if overlap == 0:
                best = box
                break
            if best_overlap is None or overlap < best_overlap:
                best, best_overlap = box, overlap
        placed.append(best)
        origins.append((best[0], best[3]))
    return origins


def _caption(analysis: ImageAnalysis) -> list[tuple[str, bool]]:
    """The caption as text runs, ``(text, superscript)``: the Hershey fonts have no "²"."""
    verdict = "usable" if analysis.usable else "RETAKE: " + ", ".join(analysis.quality.flags)
    runs = [(f"{analysis.hair_count} hairs ({analysis.rule_count} by the counting rule)", False)]
    if analysis.density_per_cm2 is not None:
        runs += [(f", {analysis.density_per_cm2:.0f} hairs/cm", False), ("2", True)]
    runs.append((f" | {verdict}" + (" | corrected" if analysis.corrected else ""), False))
    return runs


def _dashed_polyline(canvas, pts: np.ndarray, colour, thickness: int, dash: float) -> None:
    """A polyline drawn as dashes of ``dash`` pixels with gaps of the same length."""
    pts = pts.reshape(-1, 2).astype(np.float64)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    start = 0.0
    while start < total:
        stop = min(total, start + dash)
        xs = np.interp([start, stop], cum, pts[:, 0])
        ys = np.interp([start, stop], cum, pts[:, 1])
        cv2.line(canvas, (int(round(xs[0])), int(round(ys[0]))), (int(round(xs[1])), int(round(ys[1]))),
                 colour, thickness, cv2.LINE_AA)
        start += 2 * dash


def _runs_width(runs, font_scale: float, thickness: int) -> int:
    return sum(cv2.getTextSize(t, FONT, font_scale * (0.6 if sup else 1.0), thickness)[0][0] for t, sup in runs)


def draw_overlay(image: np.ndarray, analysis: ImageAnalysis, profile: Profile | None = None) -> np.ndarray:
    """The overlay as an RGB array (see `render_overlay`): the image's width, and taller
    than the image by the caption strip below it."""
    canvas = as_rgb_uint8(image).copy()
    h, w = canvas.shape[:2]
    scale = max(1.0, max(h, w) / 1000.0)
    thickness = max(1, int(round(2 * scale)))
    shaded = canvas.copy()
    regions = list(analysis.ignored_regions)
    if profile is not None:
        for x0, y0, x1, y1 in profile.ignore_regions:
            regions.append((int(x0 * w), int(y0 * h), int(x1 * w), int(y1 * h)))
    for x0, y0, x1, y1 in regions:
        cv2.rectangle(shaded, (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1), (90, 90, 90), -1)
    canvas = cv2.addWeighted(shaded, 0.6, canvas, 0.4, 0) if regions else canvas
    font_scale = 0.5 * scale
    label_sizes = []
    for hair in analysis.hairs:
        colour = COLOURS["manual"] if hair.source == "manual" else COLOURS.get(hair.hair_class, (255, 255, 255))
        pts = np.round(np.array(hair.centreline)).astype(np.int32).reshape(-1, 1, 2)
        if hair.multiplicity >= 2:
            # One detected shaft read as several hairs (pressed together or crossing):
            # edged in white, the place a clinician checks first.
            cv2.polylines(canvas, [pts], False, SHARED_SHAFT_EDGE, thickness + 4, cv2.LINE_AA)
        if hair.counted:
            cv2.polylines(canvas, [pts], False, colour, thickness, cv2.LINE_AA)
        else:
            _dashed_polyline(canvas, pts, colour, thickness, dash=6.0 * scale)
        if hair.cut_by_border:
            end = pts[0, 0] if _edge_distance(pts[0, 0], w, h) < _edge_distance(pts[-1, 0], w, h) else pts[-1, 0]
            cv2.circle(canvas, (int(end[0]), int(end[1])), thickness * 3, colour, thickness, cv2.LINE_AA)
        (tw, th), _ = cv2.getTextSize(str(hair.id), FONT, font_scale, thickness + 2)
        label_sizes.append((tw, th))
    origins = place_labels([hair.midpoint for hair in analysis.hairs], label_sizes, (h, w))
    for hair, org in zip(analysis.hairs, origins):
        colour = COLOURS["manual"] if hair.source == "manual" else COLOURS.get(hair.hair_class, (255, 255, 255))
        cv2.putText(canvas, str(hair.id), org, FONT, font_scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
        cv2.putText(canvas, str(hair.id), org, FONT, font_scale, colour, thickness, cv2.LINE_AA)

    # The caption goes on a strip below the photograph, never over it: the counts and
    # verdict on one line, the counting rule on the next.
    text_thickness = max(1, thickness - 1)
    strips = []
    rule_lines = [(part if k == 0 else part[0].upper() + part[1:], 0.45)
                  for k, part in enumerate(COUNTING_RULE_CAPTION.split("; "))]
    if any(hair.multiplicity >= 2 for hair in analysis.hairs):
        rule_lines.append((SHARED_SHAFT_CAPTION, 0.45))
    lines = [(_caption(analysis), 0.55)] + [([(text, False)], size) for text, size in rule_lines]
    for runs, size in lines:
        bar = int(24 * scale * size / 0.55) + int(4 * scale)
        font_scale = size * scale
        text_w = _runs_width(runs, font_scale, text_thickness)
        if text_w > w - 12:  # small images: shrink the caption rather than cut it off
            font_scale *= (w - 12) / text_w
        strip = np.zeros((bar, w, 3), np.uint8)
        x, base = 6, bar - int(7 * scale)
        for text, sup in runs:
            fs = font_scale * (0.6 if sup else 1.0)
            y = base - int(0.45 * cv2.getTextSize("0", FONT, font_scale, text_thickness)[0][1]) if sup else base
            cv2.putText(strip, text, (x, y), FONT, fs, (255, 255, 255), text_thickness, cv2.LINE_AA)
            x += cv2.getTextSize(text, FONT, fs, text_thickness)[0][0]
        strips.append(strip)
    return np.vstack([canvas, *strips])


def _edge_distance(p: np.ndarray, w: int, h: int) -> float:
    return float(min(p[0], p[1], w - 1 - p[0], h - 1 - p[1]))


def render_overlay(image: np.ndarray, analysis: ImageAnalysis, profile: Profile | None = None) -> bytes:
    """Draw every detected hair, numbered and coloured by class, as PNG bytes.

    Parameters
    ----------
    image : ndarray
        The photograph the analysis was made on.
    analysis : ImageAnalysis
        Automatic or corrected result.
    profile : Profile, optional
        Its fixed ignore regions are shaded too (those found on the image already
        are, from the analysis).

    Returns
    -------
    bytes
        A PNG file.
    """
    buf = io.BytesIO()
    Image.fromarray(draw_overlay(image, analysis, profile)).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()
