"""Overlay: the analysis drawn on the photograph, for a clinician to check at a glance.

Every hair is drawn along its centre line and numbered with its id; terminal hairs in
green, vellus in yellow, unclassified (no scale) in cyan, hairs added by hand in
magenta. Ignored regions are shaded grey, and a banner at the bottom gives the count
and the quality verdict. The result is a PNG.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from .measure import as_rgb_uint8
from .profiles import Profile
from .results import ImageAnalysis

COLOURS = {
    "terminal": (40, 220, 60),
    "vellus": (255, 220, 0),
    "unclassified": (0, 220, 255),
    "manual": (255, 0, 255),
}


def draw_overlay(image: np.ndarray, analysis: ImageAnalysis, profile: Profile | None = None) -> np.ndarray:
    """The overlay as an RGB array (see `render_overlay`)."""
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
    for hair in analysis.hairs:
        colour = COLOURS["manual"] if hair.source == "manual" else COLOURS.get(hair.hair_class, (255, 255, 255))
        pts = np.round(np.array(hair.centreline)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [pts], False, colour, thickness, cv2.LINE_AA)
        if hair.cut_by_border:
            end = pts[0, 0] if _edge_distance(pts[0, 0], w, h) < _edge_distance(pts[-1, 0], w, h) else pts[-1, 0]
            cv2.circle(canvas, (int(end[0]), int(end[1])), thickness * 3, colour, thickness, cv2.LINE_AA)
        mx, my = hair.midpoint
        label = str(hair.id)
        font_scale = 0.5 * scale
        org = (int(mx) + 4, int(my) - 4)
        cv2.putText(canvas, label, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
        cv2.putText(canvas, label, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour, thickness, cv2.LINE_AA)
    verdict = "usable" if analysis.usable else "RETAKE: " + ", ".join(analysis.quality.flags)
    text = f"{analysis.hair_count} hairs"
    if analysis.density_per_cm2 is not None:
        text += f", {analysis.density_per_cm2:.0f}/cm2"
    text += f" | {verdict}" + (" | corrected" if analysis.corrected else "")
    bar = int(24 * scale)
    text_thickness = max(1, thickness - 1)
    font_scale = 0.55 * scale
    text_w = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, text_thickness)[0][0]
    if text_w > w - 12:  # small images: shrink the caption rather than cut it off
        font_scale *= (w - 12) / text_w
    cv2.rectangle(canvas, (0, h - bar), (w, h), (0, 0, 0), -1)
    cv2.putText(canvas, text, (6, h - int(7 * scale)), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), text_thickness, cv2.LINE_AA)
    return canvas


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
