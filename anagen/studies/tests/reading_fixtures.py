"""Fixtures of the blinded-reading tests: a recruiting study whose randomized subjects each have
two analysed target-area visits (JPEGs carrying EXIF date, GPS and a named file), and the team's
evaluators (two readers and an adjudicator)."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone as dt_tz

import pytest

from conftest import PASSWORD

VISIT_DATES = (date(2025, 2, 13), date(2025, 5, 8))
EXIF_WHEN = "2025:02:13 09:41:07"


def exif_jpeg(pixels, when: str = EXIF_WHEN) -> bytes:
    """A JPEG with an EXIF date, a GPS position, a camera make and an ICC profile: what a reader must not get."""
    from PIL import Image, ImageCms

    image = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x0132] = when  # DateTime
    exif[0x010F] = "DermaCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 28.0, 48.0)
    gps[3] = "W"
    gps[4] = (1.0, 53.0, 24.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif, icc_profile=icc)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    settings.ANAGEN_TASKS_EAGER = True


def staff(email, roles, clinic, first="Rea", last="Der"):
    from anagen.accounts.services import staff_create

    return staff_create(email=email, password=PASSWORD, roles=roles, clinics=[clinic], first_name=first, last_name=last)


@pytest.fixture
def evaluator2(clinic):
    return staff("evaluator2@birmingham.test", ["evaluator"], clinic, "Ella", "Second")


@pytest.fixture
def adjudicator(clinic):
    return staff("evaluator3@birmingham.test", ["evaluator"], clinic, "Ada", "Third")


@pytest.fixture
def outsider_evaluator(clinic):
    return staff("evaluator4@birmingham.test", ["evaluator"], clinic, "Otto", "Outside")


@pytest.fixture
def reading_study(recruiting_study, statistician, clinician, clinic, make_patient, evaluator2, adjudicator):
    """``(study, subjects)``: 3 randomized subjects, each with 2 visits with an analysed target image."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from anagen.assessments.models import DeviceProfile
    from anagen.assessments.services import trichogram_image_upload, visit_create
    from anagen.studies.models import Subject
    from anagen.studies.randomization import subject_randomize
    from anagen.studies.services import member_add, subject_enrol
    from anagen.trichoscopy.synthetic import generate_scalp

    member_add(actor=statistician, study=recruiting_study, user=evaluator2, role="evaluator")
    member_add(actor=statistician, study=recruiting_study, user=adjudicator, role="evaluator")
    DeviceProfile.objects.create(clinic=clinic, name="Room 2 dermoscope", engine_profile="default", px_per_mm=100.0,
                                 vellus_threshold_um=40.0, is_default=True)
    subjects = []
    for i in range(3):
        patient = make_patient(clinic)
        subject = subject_enrol(actor=clinician, study=recruiting_study, patient=patient)
        subject_randomize(actor=clinician, subject=subject)
        Subject.objects.filter(pk=subject.pk).update(screened_at=datetime(2025, 1, 2, 10, tzinfo=dt_tz.utc))
        for j, when in enumerate(VISIT_DATES):
            visit = visit_create(actor=clinician, patient=patient, visit_date=when, is_baseline=j == 0)
            pixels = generate_scalp(seed=40 + 10 * i + j, n_hairs=6 + 3 * j + i, px_per_mm=100.0, shape=(240, 320),
                                    crossings=0, parallel_pairs=0).image
            name = f"{patient.last_name}-{patient.patient_number}-{when:%Y%m%d}.jpg"
            trichogram_image_upload(actor=clinician, visit=visit,
                                    file=SimpleUploadedFile(name, exif_jpeg(pixels, f"{when:%Y:%m:%d} 09:41:07"),
                                                            "image/jpeg"))
        subject.refresh_from_db()
        subjects.append(subject)
    return recruiting_study, subjects


@pytest.fixture
def coded(reading_study, statistician):
    from anagen.studies.reading_services import reading_code_images

    from anagen.studies.models import CodedImage

    study, _ = reading_study
    reading_code_images(actor=statistician, study=study)
    # Coded by the run above, or already when each analysis committed (transactional tests).
    return list(CodedImage.objects.filter(study=study).order_by("pk"))
