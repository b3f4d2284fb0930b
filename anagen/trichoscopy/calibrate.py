"""Scale calibration from a photographed ruler or calibration slide.

A ruler or a stage micrometer photographed through the dermoscope shows graduation
lines at a known spacing. Their spacing in pixels is the dominant period of the image:
the strongest peak of the 2-D Fourier power spectrum, away from the lowest frequencies.
A fundamental weaker than its second harmonic (thin lines) is recovered by checking
half the found frequency. ``px_per_mm = period_px / spacing_mm``.
"""

from __future__ import annotations

import numpy as np

from .measure import as_rgb_uint8


class CalibrationError(ValueError):
    """No regular graduation could be found; the message says what to try."""


def calibrate_scale(image: np.ndarray, spacing_mm: float = 1.0) -> float:
    """Measure the image scale from graduation lines.

    Parameters
    ----------
    image : ndarray
        Photograph of a ruler or calibration slide, graduations filling much of
        the field.
    spacing_mm : float
        Distance between neighbouring graduation lines, in millimetres (1 for a
        millimetre ruler, 0.1 or 0.01 for a calibration slide).

    Returns
    -------
    float
        Pixels per millimetre.

    Raises
    ------
    CalibrationError
        When the image shows no clear periodic pattern.
    """
    if not spacing_mm > 0:
        raise CalibrationError("the graduation spacing (--mm) must be a positive number of millimetres.")
    gray = as_rgb_uint8(image).astype(np.float32).mean(axis=2)
    h, w = gray.shape
    gray = gray - gray.mean()
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    power = np.abs(np.fft.fftshift(np.fft.fft2(gray * window))) ** 2
    cy, cx = h // 2, w // 2
    yy, xx = np.mgrid[0:h, 0:w]
    fy = (yy - cy) / h
    fx = (xx - cx) / w
    freq = np.hypot(fx, fy)
    # Periods longer than a third of the image cannot be measured reliably, and
    # periods under 3 pixels are noise.
    valid = (freq >= 3.0 / min(h, w)) & (freq <= 1 / 3.0)
    p = np.where(valid, power, 0.0)
    peak = np.unravel_index(int(np.argmax(p)), p.shape)
    peak_power = p[peak]
    background = float(np.median(power[valid]))
    if peak_power <= 0 or peak_power < 50 * background:
        raise CalibrationError(
            "no regular graduation lines found: photograph the ruler or slide sharply, "
            "lines across most of the field, and give their spacing with --mm."
        )
    f = np.array([fx[peak], fy[peak]])
    # Thin lines: the second harmonic can beat the fundamental; try half the frequency.
    half_y = int(round(cy + f[1] * h / 2))
    half_x = int(round(cx + f[0] * w / 2))
    window_half = p[max(0, half_y - 1) : half_y + 2, max(0, half_x - 1) : half_x + 2]
    if window_half.size and window_half.max() > 0.3 * peak_power:
        iy, ix = np.unravel_index(int(np.argmax(window_half)), window_half.shape)
        f = np.array([fx[max(0, half_y - 1) + iy, max(0, half_x - 1) + ix], fy[max(0, half_y - 1) + iy, max(0, half_x - 1) + ix]])
    # Refine the peak position by a power-weighted centroid in a 3 x 3 neighbourhood.
    py = int(round(cy + f[1] * h))
    px = int(round(cx + f[0] * w))
    ys = slice(max(0, py - 1), py + 2)
    xs = slice(max(0, px - 1), px + 2)
    wts = power[ys, xs]
    fxr = float((fx[ys, xs] * wts).sum() / wts.sum())
    fyr = float((fy[ys, xs] * wts).sum() / wts.sum())
    period_px = 1.0 / np.hypot(fxr, fyr)
    return float(period_px / spacing_mm)
