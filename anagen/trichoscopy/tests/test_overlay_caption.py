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
