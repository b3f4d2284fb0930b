"""Photograph quality: can this image be counted, or must it be retaken?

A blurred, badly exposed or glaring photograph silently loses hairs, so every image gets
quality flags and a usable/unusable verdict before its count is trusted.

- *Blur*: the variance of the Laplacian [1]_ of the image, normalised by the image's
  own contrast (standard deviation) so that pale and dark skin are judged alike.
- *Exposure*: mean brightness and the shares of crushed-black and burned-out pixels.
- *Glare*: share of specular highlights (all channels near saturation). A little glare
  is normal with a non-polarised dermoscope; it only blocks when it covers much of
  the field.
- *Skin visible*: share of the analysed field that is neither hair, nor ignored, nor
  black vignette; a lens lifted off the scalp shows little skin.

References
----------
.. [1] Pech-Pacheco, J. L., Cristobal, G., Chamorro-Martinez, J., Fernandez-Valdivia, J.
       (2000). Diatom autofocusing in brightfield microscopy: a comparative study.
       ICPR 2000, vol. 3, 314-317. :DOI:`10.1109/ICPR.2000.903548`
"""

from __future__ import annotations

import cv2
import numpy as np

from .results import QualityReport

#: Normalised Laplacian variance below which the image is blurred.
MIN_SHARPNESS = 0.04
MIN_MEAN_BRIGHTNESS = 0.18
MAX_MEAN_BRIGHTNESS = 0.92
MAX_CLIPPED_FRACTION = 0.25
GLARE_FLAG_FRACTION = 0.02
GLARE_BLOCK_FRACTION = 0.15
MIN_SKIN_FRACTION = 0.35

BLOCKING_FLAGS = ("blurred", "underexposed", "overexposed", "too_little_skin")


def assess_quality(
    image: np.ndarray, hair: np.ndarray | None = None, ignore: np.ndarray | None = None
) -> QualityReport:
    """Quality flags and verdict for one (working-size) RGB image.

    Parameters
    ----------
    image : ndarray of uint8, shape (h, w, 3)
    hair : ndarray of bool, optional
        Hair mask, not counted as skin.
    ignore : ndarray of bool, optional
        Ignored regions, left out of every measure.

    Returns
    -------
    QualityReport
    """
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    valid = np.ones(gray.shape, dtype=bool) if ignore is None else ~ignore
    if not valid.any():
        return QualityReport(False, ("too_little_skin",), {"skin_fraction": 0.0})
    g = gray.astype(np.float32) / 255.0
    values = g[valid]
    contrast = float(values.std()) or 1e-3
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=3)
    # Edges of ignored regions are sharp by construction; leave them out.
    inner = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    lap_values = lap[inner] if inner.any() else lap.ravel()
    sharpness = float(lap_values.var()) / contrast
    mean = float(values.mean())
    dark = float(np.mean(values < 0.04))
    bright = float(np.mean(values > 0.98))
    r, gr, b = cv2.split(image)
    glare_px = (cv2.min(cv2.min(r, gr), b) >= 245) & valid
    glare = float(glare_px.sum() / valid.sum())
    skin = valid & (gray > 25) & ~glare_px
    if hair is not None:
        skin &= ~hair
    skin_fraction = float(skin.sum() / gray.size)

    flags = []
    if sharpness < MIN_SHARPNESS:
        flags.append("blurred")
    if mean < MIN_MEAN_BRIGHTNESS or dark > MAX_CLIPPED_FRACTION:
        flags.append("underexposed")
    if mean > MAX_MEAN_BRIGHTNESS or bright > MAX_CLIPPED_FRACTION:
        flags.append("overexposed")
    if glare > GLARE_FLAG_FRACTION:
        flags.append("glare")
    if skin_fraction < MIN_SKIN_FRACTION:
        flags.append("too_little_skin")
    usable = not any(f in BLOCKING_FLAGS for f in flags) and glare <= GLARE_BLOCK_FRACTION
    metrics = {
        "sharpness": sharpness,
        "mean_brightness": mean,
        "dark_fraction": dark,
        "bright_fraction": bright,
        "glare_fraction": glare,
        "skin_fraction": skin_fraction,
    }
    return QualityReport(usable=usable, flags=tuple(flags), metrics=metrics)
