"""Hairs under drawn marks are bridged across the mark, not broken (fixed seeds)."""

import cv2
import numpy as np
import pytest

from anagen.trichoscopy import Profile, analyze
from anagen.trichoscopy.detect import DetectorSettings
from anagen.trichoscopy.synthetic import _draw_hair, _finish, _skin


def _marked_scene(seed):
    """Seven long hairs; a filled measurement label is drawn across the middle of
    the first four, a circle across the last two (the way a reviewer marks a
    photograph)."""
    rng = np.random.default_rng(seed)
    canvas = _skin(rng, (512, 640), (200, 160, 140))
    xs = []
    for i in range(7):
        x = 70 + 80 * i + rng.uniform(-8, 8)
        ang = np.radians(90 + rng.uniform(-8, 8))
        d = np.array([np.cos(ang), np.sin(ang)])
        root = np.array([x, 256.0]) - 110 * d
        _draw_hair(canvas, root, root + 220 * d, rng.uniform(12, 16), (40, 30, 25), 1.0)
        xs.append(x)
    image = _finish(rng, canvas, 1.0, 2.0, None, 0)
    cv2.rectangle(image, (40, 230), (330, 280), (30, 40, 230), -1)
    cv2.putText(image, "0.52 mm", (60, 265), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
    cv2.circle(image, (int(xs[5]) + 40, 256), 55, (230, 30, 30), 8)
    return image, len(xs)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_hairs_crossing_a_drawn_mark_are_bridged_and_counted_once(seed):
    profile = Profile(name="synthetic-200", px_per_mm=200.0)
    image, n_true = _marked_scene(seed)
    result = analyze(image, profile)
    assert result.hair_count == n_true
    bridged = [h for h in result.hairs if h.evidence and h.evidence.get("bridged_mark")]
    assert len(bridged) >= 5
    # Each bridged hair is reported at about its full length (220 px plus a width).
    assert all(h.length_px >= 200 for h in bridged)
    # Without the bridge, the label and the circle break the hairs into pieces
    # that count separately.
    broken = analyze(image, profile, DetectorSettings(mark_bridge_um=0.0))
    assert broken.hair_count > n_true


def test_pieces_side_by_side_are_not_bridged_across_a_mark():
    from anagen.trichoscopy.detect import Shaft, join_collinear

    ignore = np.zeros((200, 300), dtype=bool)
    ignore[90:130, :] = True  # a label band across the field
    a = Shaft(points=np.array([[100.0, 20.0], [100.0, 88.0]]), width_px=10.0)
    b = Shaft(points=np.array([[100.0, 132.0], [100.0, 190.0]]), width_px=10.0)
    beside = Shaft(points=np.array([[140.0, 132.0], [140.0, 190.0]]), width_px=10.0)
    assert len(join_collinear([a, b], ignore=ignore)) == 1
    assert len(join_collinear([a, beside], ignore=ignore)) == 2
    # Not across skin: the same gap with nothing drawn in it stays a gap.
    assert len(join_collinear([a, b], ignore=np.zeros_like(ignore))) == 2
