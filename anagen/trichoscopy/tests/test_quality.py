import numpy as np

from anagen.trichoscopy import analyze
from anagen.trichoscopy.synthetic import generate_scalp


def test_a_good_photograph_is_usable(sample, calibrated):
    r = analyze(sample.image, calibrated)
    assert r.usable and r.quality.flags == ()


def test_a_blurred_photograph_is_flagged(calibrated):
    s = generate_scalp(seed=8, n_hairs=12, blur_px=6.0, noise=0.5)
    r = analyze(s.image, calibrated)
    assert "blurred" in r.quality.flags and not r.usable


def test_under_and_over_exposure_are_flagged(sample, calibrated):
    dark = (sample.image * 0.1).astype(np.uint8)
    assert "underexposed" in analyze(dark, calibrated).quality.flags
    bright = np.clip(sample.image.astype(int) * 3, 0, 255).astype(np.uint8)
    r = analyze(bright, calibrated)
    assert "overexposed" in r.quality.flags and not r.usable


def test_glare_is_flagged(sample, calibrated):
    img = sample.image.copy()
    img[100:180, 100:260] = 255
    assert "glare" in analyze(img, calibrated).quality.flags


def test_too_little_skin_is_flagged(sample, calibrated):
    img = sample.image.copy()
    img[:, :400] = 5  # lens lifted: most of the field black
    r = analyze(img, calibrated)
    assert "too_little_skin" in r.quality.flags and not r.usable
