"""The demo data: a small demo is loaded once for the module (twice, to check it is deterministic).

The full demo (220 patients, about 250 analysed images) is too slow for a test; the small one
runs the same code with fewer patients and images.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.test.utils import override_settings

from anagen.demo import FIELD_AREA_CM2, demo_digest, load_demo
from anagen.demo.split_study import N_VOLUNTEERS, REGISTRY_ID as SPLIT_STUDY

EXOSOME_STUDY = "ISRCTN-DEMO-0002"

# The marker also makes pytest-django create the test database before the module fixture runs.
pytestmark = pytest.mark.django_db

N_PATIENTS = 18
MAX_IMAGES = 8


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Load the small demo twice from an empty database (the first load, without images, rolled back)."""
    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(
            MEDIA_ROOT=str(media), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with transaction.atomic():
            with transaction.atomic():
                # Without images (the slow part): the images draw from their own random stream.
                first = load_demo(seed=1, n_patients=N_PATIENTS, max_images=0, log=lambda _: None)
                first_digest = demo_digest()
                first_study = _study_digest()
                transaction.set_rollback(True)
            summary = load_demo(seed=1, n_patients=N_PATIENTS, max_images=MAX_IMAGES, log=lambda _: None)
            yield {"summary": summary, "first": first, "first_digest": first_digest, "digest": demo_digest(),
                   "first_study": first_study, "study": _study_digest()}
            transaction.set_rollback(True)


def _study_digest() -> list:
    from anagen.studies.models import Subject

    return list(Subject.objects.order_by("code").values_list("code", "patient__patient_number", "status",
                                                              "allocation__arm_code"))


def test_the_same_seed_gives_the_same_patients_and_appointments(demo):
    assert demo["digest"] == demo["first_digest"]
    assert demo["summary"].showcase == demo["first"].showcase
    assert demo["study"] == demo["first_study"]


def test_two_clinics_and_one_staff_member_per_role(demo):
    from anagen.accounts.models import Clinic, Role, User

    assert sorted(Clinic.objects.values_list("name", flat=True)) == ["Birmingham", "Solihull"]
    for role in Role.values:
        holders = [u for u in User.objects.all() if u.has_role(role)]
        # a second clinician (Solihull), and a second evaluator for the double readings
        assert len(holders) == (2 if role in (Role.CLINICIAN, Role.EVALUATOR) else 1), role


def test_every_requested_patient_is_registered_with_a_drama_range_phone(demo):
    from anagen.patients.models import Patient

    assert demo["summary"].failures == 0
    # the requested patients, and the completed study's volunteers
    assert Patient.objects.count() == N_PATIENTS + N_VOLUNTEERS
    assert Patient.objects.filter(study_subjects__study__registry_id=SPLIT_STUDY).count() == N_VOLUNTEERS
    for p in Patient.objects.all():
        assert p.phone.startswith("+447700900"), p.phone
        assert p.email == "" or p.email.endswith("@example.com")
    assert set(Patient.objects.values_list("clinic__slug", flat=True)) == {"birmingham", "solihull"}


def test_every_appointment_kind_is_present_past_and_ahead(demo):
    from anagen.scheduling.models import Appointment, AppointmentKind

    assert set(Appointment.objects.values_list("kind", flat=True)) == set(AppointmentKind.values)
    assert Appointment.objects.filter(status="completed").exists()
    assert demo["summary"].counts["future_appointments"] > 0
    assert Appointment.objects.filter(kind="video_consultation", room__isnull=True).exists()


def test_no_clinician_or_room_is_double_booked(demo):
    from anagen.scheduling.models import Appointment

    live = Appointment.objects.exclude(status="cancelled")
    overlapping = live.exclude(pk=OuterRef("pk")).filter(starts_at__lt=OuterRef("ends_at"),
                                                        ends_at__gt=OuterRef("starts_at"))
    clinician_clash = live.filter(Exists(overlapping.filter(clinician=OuterRef("clinician"))))
    room_clash = live.filter(room__isnull=False).filter(Exists(overlapping.filter(room=OuterRef("room"))))
    assert live.count() > N_PATIENTS
    assert not clinician_clash.exists()
    assert not room_clash.exists()


def test_no_appointment_before_today_is_left_booked(demo):
    from datetime import datetime, time

    from django.utils import timezone

    from anagen.scheduling.models import Appointment

    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time(0)))
    assert not Appointment.objects.filter(status="booked", starts_at__lt=midnight).exists()


def test_screenings_store_the_rule_version(demo):
    from anagen.screening.models import Screening

    assert Screening.objects.exists()
    assert not Screening.objects.filter(rule_set__isnull=True).exists()
    assert set(Screening.objects.values_list("rule_set__version", flat=True)) == {1}


def test_measurements_derive_density_from_count_and_area(demo):
    from anagen.assessments.models import Measurement, TrichogramAnalysis

    assert not TrichogramAnalysis.objects.exclude(status="done").exists()
    measurements = list(Measurement.objects.all())
    assert measurements
    for m in measurements:
        assert m.field_area_cm2 == pytest.approx(FIELD_AREA_CM2, rel=0.01)
        assert m.density_per_cm2 == pytest.approx(m.hair_count / m.field_area_cm2)
        assert 20 < m.density_per_cm2 < 260


def test_the_showcase_patient_is_followed_from_inquiry_to_58_weeks(demo):
    from anagen.assessments.models import AssessmentVisit
    from anagen.patients.models import Patient

    patient = Patient.objects.get(pk=demo["summary"].showcase_pk)
    assert patient.inquiries.filter(status="converted").exists()
    assert patient.stagings.exists()
    assert patient.screenings.filter(modality="hfsc_micrograft", decision="candidate").exists()
    procedure = patient.procedures.get(modality__code="hfsc_micrograft")
    assert procedure.sample.custody.filter(step="implanted").exists()
    assert patient.procedures.filter(product_uses__isnull=False).exists()
    visits = AssessmentVisit.objects.filter(patient=patient)
    assert visits.filter(is_baseline=True).count() == 1
    assert list(visits.filter(is_baseline=False).values_list("weeks_after_last_session", flat=True)) == [4, 12, 23, 44, 58]
    assert all(hasattr(v, "measurement") for v in visits)
    assert visits.filter(measurement__anagen_pct__isnull=False).exists()
    # before and after: every visit has its global photographs by view
    assert all(sorted(v.photos.values_list("view", flat=True)) == ["frontal", "top", "vertex"] for v in visits)


def test_the_audit_trail_names_who_acted_and_when(demo):
    from auditlog.models import LogEntry

    from anagen.patients.models import Patient

    patient = Patient.objects.get(pk=demo["summary"].showcase_pk)
    created = LogEntry.objects.get_for_object(patient).filter(action=LogEntry.Action.CREATE).get()
    assert created.actor.email == "coordinator@anagen.example"
    assert created.timestamp == patient.created_at  # replayed at the time it happened


def test_if_empty_does_nothing_on_a_second_run(demo):
    from anagen.patients.models import Patient

    before = Patient.objects.count()
    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already has data" in out.getvalue()
    assert Patient.objects.count() == before


def test_a_signed_off_study_recruits_from_the_consented_patients(demo):
    from anagen.evidence.randomization import verify_sequence
    from anagen.studies.models import RandomizationSecret, Study
    from anagen.studies.randomization import _spec

    study = Study.objects.get(registry_id=EXOSOME_STUDY)
    assert study.status == "recruiting"
    version = study.versions.get()
    assert version.is_approved and version.signatures.count() == 2
    roles = dict(study.members.values_list("user__email", "role"))
    assert roles["evaluator@anagen.example"] == "evaluator"
    assert roles["coordinator@anagen.example"] == "unblinded_pharmacist"
    subjects = list(study.subjects.all())
    assert subjects, "no patient gave research consent in the small demo"
    for s in subjects:
        assert s.patient.consents.filter(kind="research", withdrawn_at__isnull=True).exists()
        assert (s.status == "screen_failed") == (s.eligibility["decision"] != "eligible")
    allocations = list(study.allocations.select_related("subject").order_by("sequence_number"))
    spec = _spec(study, version.content)
    assert RandomizationSecret.objects.get(study=study).seed == spec.seed
    assert verify_sequence(spec, [(a.subject.factors, a.arm_code) for a in allocations]) == []


def test_each_randomized_subject_got_the_study_product_of_their_arm_blind(demo):
    from anagen.studies.models import Study
    from anagen.studies.models_delivery import Syringe

    study = Study.objects.get(registry_id=EXOSOME_STUDY)
    randomized = study.subjects.filter(allocation__isnull=False)
    syringes = list(Syringe.objects.filter(preparation__subject__study=study)
                    .select_related("preparation__subject__allocation", "arm", "lot", "procedure", "injected_by"))
    assert randomized.exists() and len(syringes) == randomized.count()
    for syringe in syringes:
        subject = syringe.preparation.subject
        assert syringe.arm.code == subject.allocation.arm_code and syringe.lot.clinic_id == subject.site_id
        assert syringe.preparation.prepared_by.email == "coordinator@anagen.example"  # the unblinded pharmacist
        assert syringe.procedure.patient_id == subject.patient_id and syringe.label == "study product"
        assert syringe.injected_by.email.startswith("clinician")  # a blinded investigator


def test_the_studys_randomized_subjects_are_seen_at_their_visits_and_deviations_are_on_file(demo):
    from anagen.assessments.models import AssessmentVisit
    from anagen.studies.deviations import subject_visit_states
    from anagen.studies.models import Deviation, Study

    study = Study.objects.get(registry_id=EXOSOME_STUDY)
    randomized = list(study.subjects.filter(status__in=["randomized", "withdrawn"]).select_related("allocation"))
    if not randomized:
        pytest.skip("nobody randomized in the small demo")
    held = [s for subject in randomized for s in subject_visit_states(subject) if s.held_key is not None]
    assert held, "no study visit held"
    assert all(AssessmentVisit.objects.get(pk=s.held_key).notes.startswith("Study visit") or s.state != "done"
               for s in held if s.window.week == 0)
    assert Deviation.objects.filter(subject__study=study, detected=False, category="procedure").exists()
    # Found deviations agree with the schedule as of the day they were checked.
    for d in Deviation.objects.filter(subject__study=study, detected=True, closed_at__isnull=True):
        assert d.category in ("missed_visit", "visit_out_of_window")
def test_the_evaluator_has_coded_study_images_to_read(demo):
    from anagen.accounts.models import User
    from anagen.studies.models import CodedImage
    from anagen.studies.reading_selectors import queue

    evaluator = User.objects.get(email="evaluator@anagen.example")
    items = queue(user=evaluator)
    assert len(items) >= 3 and {i.task for i in items} == {"read"}
    for c in CodedImage.objects.all():
        assert c.file.name == f"reading/{c.code}.png" and c.automatic["hair_count"] > 0


def test_the_completed_split_scalp_study_is_locked_and_its_images_read_twice(demo):
    from anagen.studies import lock
    from anagen.studies.models import CodedImage, Study

    study = Study.objects.get(registry_id=SPLIT_STUDY)
    assert study.design == "split_scalp" and lock.is_locked(study)
    assert study.allocations.count() == 30
    coded = CodedImage.objects.filter(study=study)
    assert coded.exists()
    assert all(c.readings.filter(status="signed").count() == 2 for c in coded)


def test_the_completed_studys_halves_got_the_subjects_own_micrografts_and_saline_blind(demo):
    from anagen.studies.models import Study
    from anagen.studies.models_delivery import Syringe

    study = Study.objects.get(registry_id=SPLIT_STUDY)
    syringes = list(Syringe.objects.filter(preparation__subject__study=study)
                    .select_related("preparation__subject__allocation", "arm", "lot", "sample", "procedure"))
    assert len(syringes) == 2 * study.allocations.count()
    for s in syringes:
        subject = s.preparation.subject
        active = s.side == subject.allocation.arm_code
        assert s.arm.is_placebo is not active and s.procedure.patient_id == subject.patient_id
        assert s.procedure.sample_id is None and s.procedure.clinician == s.injected_by
        if active:
            assert s.sample.patient_id == subject.patient_id and s.sample.status == "implanted" and s.lot is None
        else:
            assert s.lot.product.name.startswith("Sterile saline") and s.sample is None


def test_the_demo_command_says_where_the_completed_studys_results_are(demo):
    from anagen.studies.models import Study

    out = io.StringIO()
    call_command("demo", "--if-empty", stdout=out)
    study = Study.objects.get(registry_id=SPLIT_STUDY)
    assert f"/studies/{study.pk}/results/" in out.getvalue()
    assert "evaluator2@anagen.example" in out.getvalue()
