import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from anagen.trichoscopy import ImageError, read_image


def _save(arr, fmt, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_with_size(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def test_it_reads_jpeg_png_and_tiff(sample):
    for fmt in ("JPEG", "PNG", "TIFF"):
        img = read_image(_save(sample.image, fmt))
        assert img.shape == sample.image.shape and img.dtype == np.uint8


def test_it_reads_grayscale_and_16_bit(tmp_path):
    gray = (np.arange(64 * 64).reshape(64, 64) % 256).astype(np.uint8)
    assert read_image(_save(gray, "PNG")).shape == (64, 64, 3)
    deep = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(deep).save(path)
    img = read_image(path)
    assert img.shape == (64, 64, 3)
    assert img.max() > 200  # scaled from 16 bit, not clipped or wrapped


def test_it_applies_exif_orientation():
    arr = np.zeros((40, 60, 3), np.uint8)
    arr[:, :10] = 255
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif, quality=95)
    img = read_image(buf.getvalue())
    assert img.shape == (60, 40, 3)
    assert img[:10].mean() > 200  # the white left band is now at the top


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"%PDF-1.4 not a photograph at all", "not an image"),
        (_png_with_size(100_000, 100_000), "claims 100000 x 100000|decompression bomb"),
        (_png_with_size(8, 8), "too small"),
    ],
    ids=["empty", "not-an-image", "huge-dimensions", "tiny"],
)
def test_it_refuses_bad_data_with_a_clear_message(data, message):
    with pytest.raises(ImageError, match=message):
        read_image(data)


def test_it_refuses_a_truncated_jpeg(jpeg_bytes):
    with pytest.raises(ImageError, match="truncated|damaged"):
        read_image(jpeg_bytes[: len(jpeg_bytes) // 2])


def test_it_refuses_a_truncated_jpeg_even_when_another_library_allows_them(jpeg_bytes, monkeypatch):
    # WeasyPrint, imported by the web app for PDF reports, switches this global on.
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(ImageError, match="truncated|damaged"):
        read_image(jpeg_bytes[: len(jpeg_bytes) // 2])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the setting is put back


def test_it_refuses_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


def test_it_refuses_a_decompression_bomb(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(ImageError, match="decompression bomb|too large"):
        read_image(_save(np.zeros((100, 100, 3), np.uint8), "PNG"))


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)
