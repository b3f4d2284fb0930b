"""Fixtures of the assessments tests: patients at two clinics, a visit, a calibrated dermoscope
and small synthetic phototrichograms (a few kilobytes, analysed in tens of milliseconds)."""

from __future__ import annotations

import io
from datetime import date

import pytest


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    settings.ANAGEN_TASKS_EAGER = True


def png_bytes(array) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(data: bytes, name: str = "target.png", content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture(scope="session")
def scalp_png() -> bytes:
    from anagen.trichoscopy.synthetic import generate_scalp

    return png_bytes(generate_scalp(seed=7, n_hairs=8, px_per_mm=100.0, shape=(200, 240), crossings=0,
                                    parallel_pairs=0).image)


@pytest.fixture(scope="session")
def other_scalp_png() -> bytes:
    from anagen.trichoscopy.synthetic import generate_scalp

    return png_bytes(generate_scalp(seed=8, n_hairs=8, px_per_mm=100.0, shape=(200, 240), crossings=0,
                                    parallel_pairs=0).image)


@pytest.fixture(scope="session")
def regrowth_pngs() -> tuple[bytes, bytes]:
    from anagen.trichoscopy.synthetic import generate_regrowth_pair

    clipped, later = generate_regrowth_pair(seed=3, n_hairs=10, px_per_mm=100.0, shape=(320, 400))
    return png_bytes(clipped.image), png_bytes(later.image)


@pytest.fixture
def patient(clinic, coordinator):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator, clinic=clinic, first_name="Harriet", last_name="Hale",
                            date_of_birth=date(1980, 3, 4))


@pytest.fixture
def patient_b(clinic_b, coordinator_b):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator_b, clinic=clinic_b, first_name="Brian", last_name="Bishop",
                            date_of_birth=date(1975, 6, 7))


@pytest.fixture
def device(clinic):
    from anagen.assessments.models import DeviceProfile

    return DeviceProfile.objects.create(clinic=clinic, name="Room 2 dermoscope", engine_profile="default",
                                        px_per_mm=100.0, vellus_threshold_um=40.0, is_default=True)


@pytest.fixture
def visit(patient, clinician):
    from anagen.assessments.services import visit_create

    return visit_create(actor=clinician, patient=patient, visit_date=date(2025, 1, 10), is_baseline=True)


@pytest.fixture
def visit_b(patient_b, clinician_b):
    from anagen.assessments.services import visit_create

    return visit_create(actor=clinician_b, patient=patient_b, visit_date=date(2025, 1, 11))


@pytest.fixture
def analysed(visit, device, clinician, scalp_png):
    """A target-area image of ``visit``, analysed with the calibrated device."""
    from anagen.assessments.services import trichogram_image_upload

    image, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))
    image.analysis.refresh_from_db()
    return image
