"""Bounded memory: an upload is checked with a JPEG decoded at reduced scale, and at most
ANALYSIS_SLOTS full-resolution analyses run at once."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from anagen.trichoscopy import io as tio


def _jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    img = Image.fromarray(pixels)
    if orientation:
        exif = img.getexif()
        exif[0x0112] = orientation
        img.save(buf, "JPEG", quality=80, exif=exif.tobytes())
    else:
        img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def test_a_probe_decodes_a_large_jpeg_at_reduced_scale():
    data = _jpeg(4000, 3000)
    img, _ = tio._decode(data, reduce_to=tio.PROBE_SIDE_PX)
    assert img.size == (500, 375)  # 1/8 scale: 0.6 MB of pixels instead of 36 MB
    info = tio.probe_image(data)
    assert (info.format, info.width, info.height) == ("JPEG", 4000, 3000)


def test_a_probe_reports_the_size_as_seen_after_exif_rotation():
    info = tio.probe_image(_jpeg(640, 480, orientation=6))
    assert (info.width, info.height) == (480, 640)
    assert tio.read_image(_jpeg(640, 480, orientation=6)).shape[:2] == (640, 480)


def test_a_probe_still_refuses_a_truncated_jpeg():
    data = _jpeg(2000, 1500)
    with pytest.raises(tio.ImageError, match="cut off"):
        tio.probe_image(data[: len(data) // 2])


def test_a_probe_refuses_more_pixels_than_any_dermoscope():
    # A header claiming 9000 x 8000 (72 MP): refused before any pixel is decoded.
    buf = io.BytesIO()
    Image.new("L", (9000, 8000)).save(buf, "PNG")
    with pytest.raises(tio.ImageError, match="far more than any dermoscope"):
        tio.probe_image(buf.getvalue())


def test_at_most_analysis_slots_run_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    def work():
        with tio.analysis_slot():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(tio.ANALYSIS_SLOTS + 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == tio.ANALYSIS_SLOTS
