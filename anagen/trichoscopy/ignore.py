"""Regions of a photograph that are not scalp: burned-in banners and drawn marks.

Dermoscope software writes a banner of text boxes (device, resolution, date, scale)
into the picture, or pads it with a flat grey bar; reviewers draw arrows and circles on
it. Dark text and lines look like hairs to a detector, so they are found here and left
out, together with the fixed regions a profile declares.

A banner row is recognised by what photographs never have: a large share of pixels that
are exactly flat (no sensor noise) and colourless, in a band touching the top or the
bottom edge. Drawn marks are recognised by a saturation no skin, hair or dye reaches.
"""

from __future__ import annotations

import cv2
import numpy as np

from .profiles import Profile

#: Share of a row that must be flat and grey for the row to count as banner.
BANNER_ROW_FRACTION = 0.3
#: Banners are searched in this share of the height from the top and the bottom edge.
BANNER_SEARCH_FRACTION = 0.12
#: Chroma (max minus min channel, 0 to 255) above which a pixel is a drawn mark.
MARK_CHROMA = 150


def _chroma(image: np.ndarray) -> np.ndarray:
    """Max minus min channel per pixel (0 to 255), with OpenCV's per-channel kernels,
    which are many times faster than reductions over numpy's last axis."""
    r, g, b = cv2.split(image)
    return cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))


def _banner_rows(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the share of its pixels at its dominant grey level, and that level.

    A banner row is dominated by one exact grey level (the fill of the text boxes or
    of the padding bar), colourless; photographed skin varies along any row.
    """
    chroma = _chroma(image)
    gray = image[:, :, 1]
    rows, n = gray.shape
    # Every row's histogram of its colourless pixels' grey levels in one bincount,
    # then the count within two levels either side of each level.
    flat = chroma <= 6
    hist = np.bincount(np.nonzero(flat)[0] * 256 + gray[flat], minlength=rows * 256).reshape(rows, 256)
    padded = np.zeros((rows, 260), dtype=np.int64)
    padded[:, 2:258] = hist
    window = padded[:, 0:256] + padded[:, 1:257] + padded[:, 2:258] + padded[:, 3:259] + padded[:, 4:260]
    level = np.argmax(window, axis=1).astype(np.int16)
    score = window[np.arange(rows), level] / n
    return score, level


def find_banners(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Find banners along the top and bottom edges.

    A banner may span the whole width, or only one half of it: a device that writes
    its banner into one corner of the frame (the FDU images' device puts it over the
    top-left quarter of its 1280 x 1024 frames, about 40 % of a row) has too few flat
    pixels in a full row, so each half of the width is searched too, and a banner
    found in one half only masks that half.

    Parameters
    ----------
    image : ndarray of uint8, shape (h, w, 3)

    Returns
    -------
    list of (x0, y0, x1, y1)
        Rectangles in pixels, end-exclusive: the full width, or the half that holds
        the banner.
    """
    h, w = image.shape[:2]
    band = max(4, int(h * BANNER_SEARCH_FRACTION))
    found: list[tuple[int, int, int, int]] = []
    spans = ((0, w), (0, w // 2), (w // 2, w)) if w >= 64 else ((0, w),)
    for edge in ("top", "bottom"):
        strip = image[:band] if edge == "top" else image[h - band :][::-1]
        for x0, x1 in spans:
            depth = _band_depth(*_banner_rows(strip[:, x0:x1]))
            if depth:
                if edge == "top":
                    found.append((x0, 0, x1, min(h, depth + 3)))
                else:
                    found.append((x0, max(0, h - depth - 3), x1, h))
                if (x0, x1) == (0, w):
                    break
    return found


def _band_depth(
    score: np.ndarray, levels: np.ndarray, max_gap: int = 3, min_rows: int = 4
) -> int:
    """Depth of the banner band that starts at the edge (index 0), or 0.

    Rows of one banner share their fill level. Rows crossed by text have a lower
    score, so they join the band when their level matches the strong rows'.
    """
    edge = 12
    strong = score >= BANNER_ROW_FRACTION
    if not strong[: edge + max_gap * 4].any():
        return 0
    common = np.median(levels[strong])
    # A strongly flat grey row is banner whatever its level (a text box's fill may
    # differ from the bar's by a few grey levels); weaker rows must match the level.
    member = strong | ((score >= BANNER_ROW_FRACTION / 3) & (np.abs(levels - common) <= 3))
    starts = np.flatnonzero(member[:edge])
    if starts.size == 0:
        return 0
    last = int(starts[0])
    for i in range(last, len(member)):
        if member[i]:
            last = i
        elif i - last > max_gap:
            break
    depth = last + 1
    if depth - starts[0] < min_rows or member[starts[0] : depth].mean() < 0.6:
        return 0
    return depth


def find_marks(image: np.ndarray) -> np.ndarray:
    """Mask of strongly saturated drawn marks (arrows, circles, coloured text)."""
    chroma = _chroma(image)
    marks = (chroma >= MARK_CHROMA).astype(np.uint8)
    if marks.any():
        marks = cv2.dilate(marks, np.ones((5, 5), np.uint8))
    return marks.astype(bool)


def profile_regions(shape: tuple[int, int], profile: Profile) -> list[tuple[int, int, int, int]]:
    """The profile's fixed ignore regions in pixels for an image of ``shape``."""
    h, w = shape
    out = []
    for x0, y0, x1, y1 in profile.ignore_regions:
        out.append((int(round(x0 * w)), int(round(y0 * h)), int(round(x1 * w)), int(round(y1 * h))))
    return out


def ignore_mask(
    image: np.ndarray, profile: Profile
) -> tuple[np.ndarray, tuple[tuple[int, int, int, int], ...]]:
    """Everything to leave out of the analysis.

    Returns
    -------
    mask : ndarray of bool, shape (h, w)
        True where the image is not to be analysed.
    regions : tuple of (x0, y0, x1, y1)
        The rectangles behind the mask (profile regions and banners found), in
        pixels; drawn marks are in the mask only.
    """
    h, w = image.shape[:2]
    rects = profile_regions((h, w), profile)
    mask = np.zeros((h, w), dtype=bool)
    if profile.detect_overlays:
        rects += find_banners(image)
        mask |= find_marks(image)
    for x0, y0, x1, y1 in rects:
        mask[y0:y1, x0:x1] = True
    return mask, tuple(rects)
