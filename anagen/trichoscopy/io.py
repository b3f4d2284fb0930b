"""Reading trichoscopy photographs safely.

Dermoscope images arrive as JPEG, PNG or TIFF, 8 or 16 bit, colour or grayscale, and
sometimes rotated by an EXIF tag. They also arrive broken: cut off during upload, empty,
renamed documents, or crafted to exhaust memory ("decompression bombs"). `read_image`
returns a plain ``uint8`` RGB array for every good file and raises `ImageError`, with a
message a person can act on, for every bad one.

Memory is bounded: `probe_image` checks a file the way `read_image` does but decodes a JPEG at
reduced scale (libjpeg's DCT scaling through Pillow's ``draft``), so checking an 8000 x 6000
upload costs a few megabytes instead of the 144 MB of its full-resolution pixels; and at most
`ANALYSIS_SLOTS` full-resolution decodes and analyses run at once in a process
(`analysis_slot`).
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

#: Largest accepted image, in pixels (about 64 megapixels; a dermoscope gives 1 to 20).
MAX_PIXELS = 64_000_000
#: Largest accepted side, in pixels.
MAX_SIDE_PX = 20_000
#: Largest accepted file, in bytes.
MAX_FILE_BYTES = 200 * 1024 * 1024
ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF", "MPO")
#: A probe decodes a JPEG at the smallest of 1/2, 1/4 or 1/8 scale that keeps both sides at least this long.
PROBE_SIDE_PX = 256
#: Full-resolution decodes and analyses that may run at once in one process (ANAGEN_ANALYSIS_SLOTS).
ANALYSIS_SLOTS = max(1, int(os.environ.get("ANAGEN_ANALYSIS_SLOTS", "2")))
_analysis_slots = threading.BoundedSemaphore(ANALYSIS_SLOTS)


class ImageError(ValueError):
    """A file that cannot be analysed; the message says why and what to do."""


def _open_bytes(source: str | os.PathLike | bytes | BinaryIO) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "the uploaded data"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = os.path.basename(path)
        try:
            size = os.path.getsize(path)
        except FileNotFoundError:
            raise ImageError(f"{name}: file not found.") from None
        except OSError as exc:
            raise ImageError(f"{name}: cannot be read ({exc.strerror}).") from None
        if os.path.isdir(path):
            raise ImageError(f"{name}: is a folder, not an image file.")
        if size > MAX_FILE_BYTES:
            raise ImageError(
                f"{name}: file is {size / 1e6:.0f} MB, more than the "
                f"{MAX_FILE_BYTES / 1e6:.0f} MB accepted. Export the photograph again "
                "at the dermoscope's normal resolution."
            )
        try:
            with open(path, "rb") as fh:
                return fh.read(), name
        except OSError as exc:
            raise ImageError(f"{name}: cannot be read ({exc.strerror}).") from None
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImageError("The uploaded file is larger than the 200 MB accepted.")
    return data, getattr(source, "name", None) or "the uploaded file"


def _to_uint8_rgb(img: Image.Image, name: str) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(arr[:, :, None], 3, axis=2)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = np.nanmin(arr), np.nanmax(arr)
        arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        arr = (np.nan_to_num(arr) * 255 + 0.5).astype(np.uint8)
        return np.repeat(arr[:, :, None], 3, axis=2)
    if mode == "RGB":
        return np.asarray(img, dtype=np.uint8).copy()
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


_strict_load_lock = threading.Lock()


def _load_strictly(img: Image.Image) -> None:
    """Decode ``img``, refusing truncated data whatever the process-wide Pillow setting.

    Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` is one global, and some libraries switch it on
    when imported (WeasyPrint does), after which a cut-off photograph would decode with its
    missing part filled in grey and be counted. The lock keeps two decodes from racing on it.
    """
    with _strict_load_lock:
        saved = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            img.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _decode(source, reduce_to: int | None = None) -> tuple[Image.Image, str]:
    """Open, check and decode; with ``reduce_to``, a JPEG is decoded at reduced scale."""
    data, name = _open_bytes(source)
    if not data:
        raise ImageError(f"{name}: the file is empty (0 bytes). Upload the photograph again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format
            width, height = img.size
            if fmt not in ACCEPTED_FORMATS:
                raise ImageError(
                    f"{name}: {fmt} images are not accepted (JPEG, PNG or TIFF expected)."
                )
            if width <= 0 or height <= 0:
                raise ImageError(f"{name}: the image has no pixels ({width} x {height}).")
            if width > MAX_SIDE_PX or height > MAX_SIDE_PX or width * height > MAX_PIXELS:
                raise ImageError(
                    f"{name}: the image claims {width} x {height} pixels, far more than "
                    "any dermoscope produces; the file is damaged or not a photograph."
                )
            if width < 32 or height < 32:
                raise ImageError(
                    f"{name}: the image is only {width} x {height} pixels, too small to "
                    "count hairs. Use the dermoscope's full-resolution photograph."
                )
            if reduce_to and fmt in ("JPEG", "MPO"):
                # DCT scaling: the whole stream is still decoded (truncation is still found),
                # at 1/2, 1/4 or 1/8 of the pixels.
                img.draft("RGB", (reduce_to, reduce_to))
            _load_strictly(img)
            orientation = img.getexif().get(0x0112, 1)
            img = ImageOps.exif_transpose(img)
            img.info["anagen_format"] = fmt
            img.info["anagen_size"] = (width, height)
            img.info["anagen_swapped"] = orientation in (5, 6, 7, 8)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{name}: the image is too large to decode safely (possible decompression bomb)."
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (JPEG, PNG or TIFF expected).") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc)
        if "truncated" in text.lower() or "broken" in text.lower() or isinstance(exc, EOFError):
            raise ImageError(
                f"{name}: the file is cut off (truncated); upload or copy it again."
            ) from None
        raise ImageError(f"{name}: the image data is damaged ({text}).") from None
    except MemoryError:  # pragma: no cover - depends on the machine
        raise ImageError(f"{name}: the image is too large to decode.") from None
    return img, name


class analysis_slot:
    """``with analysis_slot():`` waits for one of the ANALYSIS_SLOTS places, so that a burst of
    uploads or re-analyses holds at most that many full-resolution images in memory at once."""

    def __enter__(self):
        _analysis_slots.acquire()
        return self

    def __exit__(self, *exc) -> None:
        _analysis_slots.release()


class ImageInfo:
    """What `probe_image` learns: the format and the size as the picture is meant to be seen."""

    def __init__(self, fmt: str, width: int, height: int):
        self.format, self.width, self.height = fmt, width, height

    def __repr__(self) -> str:
        return f"ImageInfo({self.format!r}, {self.width} x {self.height})"


def probe_image(source: str | os.PathLike | bytes | BinaryIO) -> ImageInfo:
    """Check a file as `read_image` does (format, size limits, truncation, decompression bombs)
    and return its format and oriented size, decoding a JPEG at reduced scale only.

    >>> from anagen.trichoscopy.io import probe_image
    >>> probe_image(b"not an image")
    Traceback (most recent call last):
    ...
    anagen.trichoscopy.io.ImageError: the uploaded data: not an image (JPEG, PNG or TIFF expected).
    """
    img, name = _decode(source, reduce_to=PROBE_SIDE_PX)
    width, height = img.info["anagen_size"]
    if img.info.get("anagen_swapped"):
        width, height = height, width
    return ImageInfo(img.info["anagen_format"], width, height)


def read_image(source: str | os.PathLike | bytes | BinaryIO) -> np.ndarray:
    """Read a photograph into an RGB ``uint8`` array, refusing bad files.

    Parameters
    ----------
    source : path, bytes or binary file object
        A JPEG, PNG or TIFF file, 8 or 16 bit, RGB, RGBA or grayscale.

    Returns
    -------
    image : ndarray of uint8, shape (height, width, 3)
        The picture as it is meant to be seen: the EXIF orientation is applied,
        16-bit samples are scaled to 8 bit, transparency is flattened on white.

    Raises
    ------
    ImageError
        For a missing, empty, truncated or non-image file, an unsupported format, a
        zero-size or absurdly large image, or a decompression bomb. The message names
        the file and says what to do.

    Examples
    --------
    >>> from anagen.trichoscopy import read_image, ImageError
    >>> try:
    ...     read_image(b"not an image")
    ... except ImageError as exc:
    ...     print(exc)
    the uploaded data: not an image (JPEG, PNG or TIFF expected).
    """
    img, name = _decode(source)
    return _to_uint8_rgb(img, name)
