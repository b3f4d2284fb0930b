import io

import pytest
from PIL import Image

from anagen.trichoscopy import Profile, analyze, apply_corrections, render_overlay
from anagen.trichoscopy.synthetic import generate_scalp


def test_overlay_is_a_png_of_the_image_width_with_the_caption_strip_below(sample, calibrated):
    r = analyze(sample.image, calibrated)
    png = render_overlay(sample.image, r, calibrated)
    im = Image.open(io.BytesIO(png))
    # The image's 640 x 512 pixels keep their coordinates; the caption (counts, then the
    # counting rule on two lines, and a line on shafts read as several hairs when there
    # are any) adds a strip under them.
    assert im.format == "PNG" and im.size[0] == 640 and 512 < im.size[1] <= 512 + 100


def test_overlay_shades_ignored_regions():
    s = generate_scalp(seed=5, n_hairs=8, banner_px=30)
    profile = Profile(name="p", px_per_mm=200)
    r = analyze(s.image, profile)
    im = Image.open(io.BytesIO(render_overlay(s.image, r, profile))).convert("RGB")
    assert im.getpixel((5, 5)) != tuple(s.image[5, 5])


def test_corrections_keep_the_automatic_result(sample, calibrated):
    auto = analyze(sample.image, calibrated)
    first = auto.hairs[0].id
    fixed = apply_corrections(auto, added=[(10, 10, 60, 40), (100, 300, 180, 330, "vellus")], removed=[first])
    assert fixed.corrected and not auto.corrected
    assert fixed.hair_count == auto.hair_count + 1
    assert first not in {h.id for h in fixed.hairs}
    manual = [h for h in fixed.hairs if h.source == "manual"]
    assert len(manual) == 2 and manual[1].hair_class == "vellus"
    assert min(h.id for h in manual) > max(h.id for h in auto.hairs)
    assert fixed.density_per_cm2 == pytest.approx(fixed.hair_count / fixed.field_area_cm2)
    assert len(auto.hairs) == auto.hair_count  # untouched


def test_corrections_refuse_unknown_ids(sample, calibrated):
    auto = analyze(sample.image, calibrated)
    with pytest.raises(ValueError, match="no hair with id 999"):
        apply_corrections(auto, removed=[999])
