"""Images are checked before anything is written, stored by checksum and never overwritten."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib

import pytest
from django.conf import settings as dj_settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from anagen.assessments import services
from anagen.assessments.models import GlobalPhoto, Measurement, TrichogramAnalysis, TrichogramImage
from anagen.assessments.services import global_photo_upload, trichogram_image_upload
from anagen.core.errors import ActionError

from .conftest import upload


def stored_files() -> list[str]:
    root = dj_settings.MEDIA_ROOT
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def nothing_written():
    assert TrichogramImage.objects.count() == 0
    assert TrichogramAnalysis.objects.count() == 0
    assert GlobalPhoto.objects.count() == 0
    assert Measurement.objects.count() == 0
    assert [f for f in stored_files() if f.startswith("assessments")] == []


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def test_an_image_is_stored_under_its_checksum(analysed, scalp_png):
    digest = hashlib.sha256(scalp_png).hexdigest()
    assert analysed.sha256 == digest
    assert digest in analysed.file.name
    with default_storage.open(analysed.file.name, "rb") as fh:
        assert fh.read() == scalp_png
    assert (analysed.width, analysed.height) == (240, 200)


def test_uploading_the_same_bytes_twice_keeps_the_stored_image(analysed, clinician, scalp_png):
    before = stored_files()
    again, created = trichogram_image_upload(actor=clinician, visit=analysed.visit, file=upload(scalp_png, "renamed.png"))
    assert not created and again.pk == analysed.pk
    assert TrichogramImage.objects.count() == 1 and TrichogramAnalysis.objects.count() == 1
    assert stored_files() == before


def test_a_changed_file_is_stored_beside_the_first(analysed, clinician, other_scalp_png, scalp_png):
    second, created = trichogram_image_upload(actor=clinician, visit=analysed.visit, file=upload(other_scalp_png, "target.png"))
    assert created and second.file.name != analysed.file.name
    with default_storage.open(analysed.file.name, "rb") as fh:
        assert fh.read() == scalp_png  # the first file is untouched
    # The visit's measurement follows the latest target image.
    assert Measurement.objects.get(visit=analysed.visit).source_image_id == second.pk


def test_global_photos_are_kept_per_view_and_never_overwritten(visit, clinician, scalp_png, other_scalp_png):
    first, created = global_photo_upload(actor=clinician, visit=visit, view="vertex", file=upload(scalp_png, "v.png"))
    assert created
    same, created = global_photo_upload(actor=clinician, visit=visit, view="vertex", file=upload(scalp_png, "v.png"))
    assert not created and same.pk == first.pk
    second, created = global_photo_upload(actor=clinician, visit=visit, view="vertex", file=upload(other_scalp_png, "v.png"))
    assert created and second.file.name != first.file.name
    assert default_storage.exists(first.file.name) and default_storage.exists(second.file.name)
    assert GlobalPhoto.objects.filter(visit=visit, view="vertex").count() == 2


def test_an_unknown_view_is_refused(visit, clinician, scalp_png):
    with pytest.raises(ActionError, match="Unknown view"):
        global_photo_upload(actor=clinician, visit=visit, view="chin", file=upload(scalp_png))
    nothing_written()


def test_a_pdf_is_refused_with_the_engines_message(visit, clinician, device):
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    with pytest.raises(ActionError) as exc:
        trichogram_image_upload(actor=clinician, visit=visit, file=upload(pdf, "report.pdf", "application/pdf"))
    assert "report.pdf" in exc.value.message and "not an image" in exc.value.message
    assert exc.value.code == "bad_image"
    nothing_written()


def test_a_text_file_renamed_jpg_is_refused(visit, clinician, device):
    with pytest.raises(ActionError) as exc:
        trichogram_image_upload(actor=clinician, visit=visit, file=upload(b"just some notes\n" * 20, "scalp.jpg", "image/jpeg"))
    assert "scalp.jpg" in exc.value.message and "JPEG, PNG or TIFF" in exc.value.message
    nothing_written()


def test_a_file_over_the_size_limit_is_refused_before_reading(visit, clinician, settings, scalp_png):
    settings.ANAGEN_MAX_IMAGE_BYTES = 1000
    with pytest.raises(ActionError) as exc:
        trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png, "big.png"))
    assert exc.value.code == "too_large" and "MB" in exc.value.message
    nothing_written()


@pytest.mark.parametrize("width, height, message", [
    (25000, 100, "claims 25000 x 100 pixels"),  # the engine's dimension check
    (30000, 30000, "too large to decode safely"),  # a decompression bomb, caught on opening
])
def test_absurd_dimensions_are_refused_before_decoding(visit, clinician, width, height, message):
    with pytest.raises(ActionError) as exc:
        trichogram_image_upload(actor=clinician, visit=visit, file=upload(png_claiming(width, height), "bomb.png"))
    assert exc.value.message.startswith("bomb.png: ") and message in exc.value.message
    nothing_written()


def test_a_regrowth_image_needs_the_target_image_first(visit, clinician, scalp_png):
    with pytest.raises(ActionError, match="target-area image"):
        trichogram_image_upload(actor=clinician, visit=visit, kind="regrowth", file=upload(scalp_png))
    nothing_written()


def test_a_failure_after_the_file_is_written_leaves_no_rows_and_no_files(visit, clinician, scalp_png, monkeypatch):
    def broken_enqueue(*args, **kwargs):
        raise RuntimeError("queue down")

    monkeypatch.setattr(services.tasks, "enqueue", broken_enqueue)
    with pytest.raises(RuntimeError):
        trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))
    nothing_written()


def test_another_clinics_device_profile_is_refused(visit, clinician, clinic_b, scalp_png):
    from anagen.assessments.models import DeviceProfile

    foreign = DeviceProfile.objects.create(clinic=clinic_b, name="Solihull scope", px_per_mm=100)
    with pytest.raises(ActionError, match="another clinic"):
        trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png), device_profile=foreign)
    nothing_written()


def test_a_clinician_of_another_clinic_cannot_upload(visit, clinician_b, scalp_png):
    with pytest.raises(PermissionDenied):
        trichogram_image_upload(actor=clinician_b, visit=visit, file=upload(scalp_png))
    nothing_written()


def test_a_coordinator_cannot_upload(visit, coordinator, scalp_png):
    with pytest.raises(PermissionDenied):
        global_photo_upload(actor=coordinator, visit=visit, view="top", file=upload(scalp_png))
    nothing_written()
