"""A treated patient built through the real services: identity and contact details, consents,
a stage and a diagnosis, a booked follow-up, a procedure with an exosome lot and a PRP kit lot
in two zones, an adverse event, and a baseline visit whose target-area and regrowth images the
engine analysed (plus a global photograph)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from anagen.assessments.tests.conftest import png_bytes, upload


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    settings.ANAGEN_TASKS_EAGER = True


@pytest.fixture(scope="session")
def scalp_png() -> bytes:
    from anagen.trichoscopy.synthetic import generate_scalp

    return png_bytes(generate_scalp(seed=7, n_hairs=8, px_per_mm=100.0, shape=(200, 240), crossings=0,
                                    parallel_pairs=0).image)


@pytest.fixture(scope="session")
def regrowth_pngs() -> tuple[bytes, bytes]:
    from anagen.trichoscopy.synthetic import generate_regrowth_pair

    clipped, later = generate_regrowth_pair(seed=3, n_hairs=10, px_per_mm=100.0, shape=(320, 400))
    return png_bytes(clipped.image), png_bytes(later.image)


@pytest.fixture
def device(clinic):
    from anagen.assessments.models import DeviceProfile

    return DeviceProfile.objects.create(clinic=clinic, name="Room 2 dermoscope", engine_profile="default",
                                        px_per_mm=100.0, vellus_threshold_um=40.0, is_default=True)


@pytest.fixture
def patient(clinic, coordinator, clinician):
    from anagen.patients.services import consent_record, patient_register, patient_update, staging_record

    p = patient_register(actor=coordinator, clinic=clinic, first_name="Harriet", last_name="Hale", sex="female",
                         date_of_birth=date(1980, 3, 4), email="harriet@example.test", phone="07700 900123",
                         address="2 Temple Row, Birmingham B2 5LG")
    consent_record(actor=clinician, patient=p, kind="treatment", document_version="v3 2025-01")
    consent_record(actor=clinician, patient=p, kind="photography", document_version="v1 2025-01")
    staging_record(actor=clinician, patient=p, scale="ludwig", stage="II", assessed_on=timezone.localdate() - timedelta(days=30),
                   notes="Widened part since 2023")
    return patient_update(actor=clinician, patient=p, diagnosis="female_aga", diagnosis_detail="diffuse thinning")


@pytest.fixture
def patient_b(clinic_b, coordinator_b):
    from anagen.patients.services import patient_register

    return patient_register(actor=coordinator_b, clinic=clinic_b, first_name="Brian", last_name="Bishop",
                            date_of_birth=date(1975, 6, 7))


@pytest.fixture
def record(patient, clinic, clinician, coordinator, device, scalp_png, regrowth_pngs):
    """Everything about ``patient``; returns a dict of the records made."""
    from anagen.assessments.services import global_photo_upload, trichogram_image_upload, visit_create
    from anagen.scheduling.models import ClinicianAvailability
    from anagen.scheduling.services import appointment_book
    from anagen.treatments import services as tx
    from anagen.treatments.models import Modality

    today = timezone.localdate()
    exosome = tx.product_create(actor=clinician, name="ExoRenew 10B", manufacturer="Regen Labs", kind="exosome",
                                unit="vial")
    kit = tx.product_create(actor=clinician, name="PRP Pro kit", manufacturer="Kitco", kind="prp_kit", unit="kit")
    exo_lot = tx.lot_receive(actor=clinician, product=exosome, clinic=clinic, lot_number="EXR-2405",
                             expires_on=today + timedelta(days=200), quantity=Decimal("3"))
    kit_lot = tx.lot_receive(actor=clinician, product=kit, clinic=clinic, lot_number="KIT-77",
                             expires_on=today + timedelta(days=100), quantity=Decimal("5"))
    procedure = tx.procedure_record(actor=clinician, patient=patient, modality=Modality.objects.get(code="exosomes"),
                                    performed_on=today - timedelta(days=20),
                                    zones={"vertex": "2.0", "frontal": "1.5"},
                                    lots=[(exo_lot, "1"), (kit_lot, "1")], notes="Tolerated well; patient Harriet.")
    event = tx.adverse_event_record(actor=clinician, patient=patient, description="Scalp swelling near Harriet's parting",
                                    onset_on=today - timedelta(days=19), severity=2, relation="probable",
                                    procedure=procedure, outcome="recovered", resolved_on=today - timedelta(days=15))
    for wd in range(7):
        ClinicianAvailability.objects.create(clinician=clinician, clinic=clinic, weekday=wd, start_time=time(8),
                                             end_time=time(18), valid_from=today - timedelta(days=1))
    day = today + timedelta(days=14)
    appointment = appointment_book(actor=coordinator, patient=patient, clinician=clinician, clinic=clinic,
                                   kind="follow_up", room=clinic.rooms.get(name="Consulting 1"), starts_at=timezone.make_aware(
                                       timezone.datetime.combine(day, time(10)), clinic.tz),
                                   notes="Bring Harriet's previous photos")
    visit = visit_create(actor=clinician, patient=patient, visit_date=today - timedelta(days=21), is_baseline=True,
                         investigator_global=0, patient_global=1)
    target, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))
    clipped, later = regrowth_pngs
    visit2 = visit_create(actor=clinician, patient=patient, visit_date=today - timedelta(days=7))
    trichogram_image_upload(actor=clinician, visit=visit2, file=upload(clipped, "clipped.png"))
    trichogram_image_upload(actor=clinician, visit=visit2, file=upload(later, "later.png"), kind="regrowth")
    photo, _ = global_photo_upload(actor=clinician, visit=visit, view="vertex", file=upload(scalp_png, "vertex.png"))
    visit.refresh_from_db()
    visit2.refresh_from_db()
    return {"procedure": procedure, "event": event, "appointment": appointment, "visits": [visit, visit2],
            "target": target, "photo": photo, "lots": [exo_lot, kit_lot]}
