"""The caption under the overlay stays inside the image, however narrow the image."""

import numpy as np

from anagen.trichoscopy import analyze, load_profile
from anagen.trichoscopy.overlay import draw_overlay


def test_the_caption_fits_a_narrow_image():
    image = np.full((200, 120, 3), 190, np.uint8)
    image[60:140, 58:62] = 40  # one dark shaft
    analysis = analyze(image, load_profile(None))
    canvas = draw_overlay(image, analysis)
    bar = canvas[-20:, :, :]
    # no white caption pixel in the last three columns: the text ends inside the image
    assert (bar[:, -3:] > 200).sum() == 0


def test_the_caption_is_drawn_below_the_image_not_over_it():
    image = np.full((200, 160, 3), 190, np.uint8)
    image[150:199, 78:82] = 40  # a shaft reaching the lower border
    analysis = analyze(image, load_profile(None))
    canvas = draw_overlay(image, analysis)
    assert canvas.shape[1] == 160 and canvas.shape[0] > 200
    # The image's last rows are still the image (not a black banner) ...
    assert canvas[195:200, :40].mean() > 100  # (shaded where the profile ignores the border)
    # ... and the strip below holds the caption: black with white text.
    strip = canvas[200:]
    assert (strip < 30).mean() > 0.6 and (strip > 200).sum() > 0


def test_hair_numbers_do_not_overlap_even_when_hairs_crowd():
    from anagen.trichoscopy.overlay import place_labels

    anchors = [(50.0 + i, 50.0 + (i % 3)) for i in range(12)]  # twelve hairs within a few pixels
    sizes = [(14, 10)] * len(anchors)
    origins = place_labels(anchors, sizes, (200, 200))
    boxes = [(x, y - 10, x + 14, y) for x, y in origins]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= 200 and 0 <= a[1] and a[3] <= 200
        for b in boxes[:i]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_hairs_of_a_shaft_read_as_several_are_edged_in_white_and_the_caption_says_so():
    from dataclasses import replace

    from anagen.trichoscopy.overlay import SHARED_SHAFT_CAPTION

    image = np.full((240, 240, 3), 150, np.uint8)
    image[40:200, 118:122] = 40  # one dark vertical shaft
    analysis = analyze(image, load_profile(None))
    hair = analysis.hairs[0]
    single = analysis.replace(hairs=(replace(hair, multiplicity=1),))
    pair = analysis.replace(hairs=(replace(hair, multiplicity=2),))
    plain, edged = draw_overlay(image, single), draw_overlay(image, pair)

    def white_beside_the_shaft(canvas):
        # white pixels in the columns just beside the drawn centre line, within the photograph
        x = int(round(np.mean([p[0] for p in hair.centreline])))
        band = canvas[60:180, x - 6 : x + 7]
        return int((band.min(axis=2) > 235).sum())

    assert white_beside_the_shaft(plain) == 0
    assert white_beside_the_shaft(edged) > 100
    # one caption line more, and only when some hair is edged
    assert edged.shape[0] > plain.shape[0]
    assert "pressed together or crossing" in SHARED_SHAFT_CAPTION
