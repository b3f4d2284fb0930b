"""Blinded reading, the pure part: random codes, presentation order, metadata-free pixels and
the adjudication margin. No Django here.

A coded image carries nothing but its pixels: :func:`strip_to_png` re-encodes the decoded
pixels as a fresh PNG with no EXIF, ICC profile, text chunks or timestamps, so a reader learns no
date, device or place from the file. The code (:func:`new_code`) and the presentation order key
(:func:`new_order_key`) come from :mod:`secrets`: neither follows the order in which images were
taken or coded, so the queue mixes subjects and visits.
"""

from __future__ import annotations

import io
import secrets

import numpy as np

# No 0/O, 1/I/L: a code read aloud or copied by hand stays unambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    """A random image code such as ``R7K2-QX9M`` (31^8, about 8.5e11 codes)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def is_code(text: str) -> bool:
    """Whether ``text`` has the shape of an image code (checked before any lookup)."""
    if not isinstance(text, str) or len(text) != CODE_LENGTH + 1 or text[4] != "-":
        return False
    return all(c in CODE_ALPHABET for c in text[:4] + text[5:])


def new_order_key() -> int:
    """A random presentation-order key: the queue is sorted by it."""
    return secrets.randbelow(2**62)


def strip_to_png(pixels: np.ndarray) -> bytes:
    """The pixels as a PNG holding nothing else: no EXIF, ICC profile, text or time chunks.

    The array is copied into a new image, so no metadata of the source can travel with it;
    PNG is lossless, so the engine's hair coordinates stay valid on the coded copy.
    """
    from PIL import Image

    array = np.ascontiguousarray(pixels)
    if array.dtype != np.uint8:
        raise ValueError(f"expected 8-bit pixels, got {array.dtype}")
    image = Image.fromarray(array)
    buffer = io.BytesIO()
    # No pnginfo, icc_profile or exif. Level 1: about 4x faster than the default 6 on a photograph
    # (benchmarks/reading_speed.py) for files about a fifth larger.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def margin(a: float, b: float, *, margin_pct: float, margin_hairs: float) -> float:
    """The largest difference two readings may have without adjudication.

    The larger of ``margin_hairs`` and ``margin_pct`` per cent of the readings' mean: on a sparse
    field a few hairs, on a dense one a share of the count.

    >>> margin(40, 44, margin_pct=10, margin_hairs=3)
    4.2
    """
    return max(float(margin_hairs), margin_pct / 100.0 * (a + b) / 2.0)


def needs_adjudication(a: float, b: float, *, margin_pct: float, margin_hairs: float) -> bool:
    """Whether two readings differ by more than the margin.

    >>> needs_adjudication(40, 44, margin_pct=10, margin_hairs=3)
    False
    >>> needs_adjudication(40, 48, margin_pct=10, margin_hairs=3)
    True
    """
    return abs(a - b) > margin(a, b, margin_pct=margin_pct, margin_hairs=margin_hairs)


# The source of an analysed value, as the dataset export names it.
SOURCE_ADJUDICATED = "adjudicated reading"
SOURCE_CLINIC = "clinic measurement"


def source_mean(n: int) -> str:
    return f"blinded reading (mean of {n})"


def final_count(signed_counts: list[int], *, readers_per_image: int, adjudicated: int | None = None,
                adjudication_open: bool = False) -> tuple[float, str] | None:
    """The hair count an image's blinded reading gives the analysis, and its source; None when
    the reading is not final yet (the analysis then keeps the clinic's measurement).

    - a signed adjudication: its count;
    - an adjudication still open (the readings differ by more than the margin): not final;
    - otherwise, once at least the plan's readers per image have signed: the mean of the signed
      readings' counts;
    - fewer signed readings (none, drafts only, or some readers still to sign): not final.

    >>> final_count([40, 44], readers_per_image=2)
    (42.0, 'blinded reading (mean of 2)')
    >>> final_count([40, 52], readers_per_image=2, adjudicated=47)
    (47.0, 'adjudicated reading')
    >>> final_count([40, 52], readers_per_image=2, adjudication_open=True) is None
    True
    >>> final_count([40], readers_per_image=2) is None
    True
    """
    if adjudicated is not None:
        return float(adjudicated), SOURCE_ADJUDICATED
    if adjudication_open or not signed_counts or len(signed_counts) < max(1, readers_per_image):
        return None
    return sum(signed_counts) / len(signed_counts), source_mean(len(signed_counts))
