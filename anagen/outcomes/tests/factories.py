"""Test data built through the other apps' services (and, for measurements, their models).

Measurements normally come from the image engine; tests write the Measurement row directly so
the numbers are known exactly.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

START = timezone.localdate() - timedelta(days=420)  # first session: far enough back for a week-58 visit


def day(weeks: float = 0, days: int = 0) -> date:
    return START + timedelta(days=round(weeks * 7) + days)


def make_patient(*, coordinator, clinician, first="Maya", last="Patel", sex="male", stage=("norwood", "IV"),
                 consent=True):
    from anagen.patients.services import consent_record, patient_register, staging_record

    clinic = coordinator.clinics.first()
    patient = patient_register(actor=coordinator, clinic=clinic, first_name=first, last_name=last, sex=sex,
                               date_of_birth=date(1984, 5, 17), allow_duplicate=True)
    if consent:
        consent_record(actor=clinician, patient=patient, kind="treatment", document_version="v3 2025-01")
    if stage:
        staging_record(actor=clinician, patient=patient, scale=stage[0], stage=stage[1], assessed_on=day(days=-10))
    return patient


def modality(code: str):
    from anagen.treatments.models import Modality

    return Modality.objects.get(code=code)


def treat(*, clinician, patient, code="exosomes", on=None, lots=None):
    from anagen.treatments.services import procedure_record

    return procedure_record(actor=clinician, patient=patient, modality=modality(code), performed_on=on or START,
                            zones={"vertex": "2.0"}, lots=lots)


def adverse_event(*, clinician, patient, procedure=None, on=None, serious=False, severity=1):
    from anagen.treatments.services import adverse_event_record

    extra = {"action": "hospitalised"} if serious else {}
    return adverse_event_record(actor=clinician, patient=patient, description="Scalp swelling and tenderness",
                                onset_on=on or day(days=1), severity=severity, relation="probable", serious=serious,
                                procedure=procedure, **extra)


def measure(*, clinician, patient, on, hair_count, area=0.65, baseline=False, weeks=None, diameter=60.0,
            investigator_global=None, patient_global=None):
    """An assessment visit with its measurement (``area=None``: images not calibrated)."""
    from anagen.assessments.models import Measurement
    from anagen.assessments.services import visit_create

    visit = visit_create(actor=clinician, patient=patient, visit_date=on, is_baseline=baseline,
                         weeks_after_last_session=weeks, investigator_global=investigator_global,
                         patient_global=patient_global)
    Measurement.objects.create(visit=visit, hair_count=hair_count, field_area_cm2=area, terminal_count=hair_count - 10,
                               vellus_count=10, mean_diameter_um=diameter, hair_count_auto=hair_count)
    return visit


def png_bytes(color=(120, 80, 60), size=(40, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def attach_target_image(visit, *, with_overlay=True):
    """A target-area image and a finished analysis with an overlay, stored like the upload service does."""
    from anagen.assessments.models import Measurement, TrichogramAnalysis, TrichogramImage

    data = png_bytes()
    name = default_storage.save(f"assessments/{visit.clinic_id}/{visit.patient_id}/{visit.pk}/target.png",
                                ContentFile(data))
    image = TrichogramImage.objects.create(visit=visit, kind="target", file=name, sha256=f"{visit.pk:064d}",
                                           width=40, height=30, profile_name="default")
    overlay = ""
    if with_overlay:
        overlay = default_storage.save(f"assessments/{visit.clinic_id}/{visit.patient_id}/{visit.pk}/overlay.png",
                                       ContentFile(png_bytes((200, 30, 30))))
    TrichogramAnalysis.objects.create(image=image, status="done", progress=100, profile_name="default",
                                      overlay=overlay)
    Measurement.objects.filter(visit=visit).update(source_image=image)
    return image
