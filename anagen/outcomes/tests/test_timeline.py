"""A patient's timeline and progress page."""

import pytest
from django.urls import reverse

from anagen.outcomes import selectors

from . import factories as f

pytestmark = pytest.mark.django_db


def _url(patient):
    return reverse("outcomes:patient", kwargs={"pk": patient.pk})


def test_timeline_lists_every_event_in_order(treated_patient, clinician):
    events = selectors.patient_timeline(user=clinician, patient=treated_patient)
    kinds = [e.kind for e in events]
    for kind in ("registration", "consent", "staging", "procedure", "adverse_event", "assessment"):
        assert kind in kinds, kind
    keys = [e.sort_key for e in events]
    assert keys == sorted(keys)
    procedures = [e for e in events if e.kind == "procedure"]
    assert [e.on for e in procedures] == [f.day(0), f.day(4)]
    visits = [e for e in events if e.kind == "assessment"]
    assert visits[0].title == "Baseline assessment"
    assert "density 141.5 hairs/cm²" in visits[1].detail


def test_timeline_shows_the_lot_used_in_a_procedure(coordinator, clinician, clinic, admin_user):
    from anagen.treatments.services import lot_receive, product_create

    p = f.make_patient(coordinator=coordinator, clinician=clinician)
    product = product_create(actor=admin_user, name="ExoVital", manufacturer="Exo Labs", kind="exosome")
    lot = lot_receive(actor=admin_user, product=product, clinic=clinic, lot_number="EX-2291",
                      expires_on=f.day(days=900), quantity="10", received_on=f.day(days=-30))
    f.treat(clinician=clinician, patient=p, on=f.day(0), lots=[(lot, "2")])
    detail = next(e for e in selectors.patient_timeline(user=clinician, patient=p) if e.kind == "procedure").detail
    assert "lot EX-2291" in detail


def test_progress_has_change_from_baseline_and_session_markers(treated_patient, clinician):
    progress = selectors.patient_progress(user=clinician, patient=treated_patient)
    assert progress.baseline.hair_count == 80
    last = progress.rows[-1]
    assert last.density_change.absolute == pytest.approx(99 / 0.65 - 80 / 0.65)
    assert last.density_change.percent == pytest.approx(23.75)
    assert last.count_change.absolute == 19
    assert [m.on for m in progress.sessions] == [f.day(0), f.day(4)]
    assert [c.key for c in progress.charts] == ["density", "hair_count", "diameter"]
    assert progress.charts[0].svg.count('class="session"') == 2


def test_clinician_sees_the_chart_numbers_and_the_pdf_link(treated_patient, clinician, login):
    r = login(clinician).get(_url(treated_patient))
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html and 'class="session"' in html and "baseline 123.1" in html
    assert "+29.2 (+23.8 %)" in html
    assert "Progress report (PDF)</button>" in html  # asked for in the background (docs/jobs.md)
    assert reverse("outcomes:report_prepare", kwargs={"pk": treated_patient.pk}) in html
    assert "Maya Patel" in html


def test_uncalibrated_images_chart_hair_count_and_say_density_needs_calibration(coordinator, clinician, login):
    p = f.make_patient(coordinator=coordinator, clinician=clinician)
    f.measure(clinician=clinician, patient=p, on=f.day(days=-3), hair_count=80, area=None, baseline=True)
    f.treat(clinician=clinician, patient=p, on=f.day(0))
    f.measure(clinician=clinician, patient=p, on=f.day(12), hair_count=90, area=None, weeks=12)
    progress = selectors.patient_progress(user=clinician, patient=p)
    assert progress.charts[0].key == "hair_count"
    html = login(clinician).get(_url(p)).content.decode()
    assert "Density needs calibration" in html
    assert "needs calibration" in html


def test_a_patient_with_nothing_measured_yet_gets_a_page(coordinator, clinician, login):
    p = f.make_patient(coordinator=coordinator, clinician=clinician, stage=None, consent=False)
    r = login(clinician).get(_url(p))
    assert r.status_code == 200
    assert "No measured assessment visits yet" in r.content.decode()


@pytest.mark.parametrize("persona", ["clinician", "coordinator", "admin_user"])
def test_staff_of_the_patients_clinic_see_the_timeline(persona, treated_patient, login, request):
    assert login(request.getfixturevalue(persona)).get(_url(treated_patient)).status_code == 200


@pytest.mark.parametrize("persona", ["evaluator", "lab_scientist", "statistician", "stranger"])
def test_other_roles_are_refused_the_timeline(persona, treated_patient, login, request):
    r = login(request.getfixturevalue(persona)).get(_url(treated_patient))
    assert r.status_code == 403
    assert b"Maya" not in r.content


@pytest.mark.parametrize("persona", ["coordinator_b", "clinician_b"])
def test_another_clinics_staff_get_404(persona, treated_patient, login, request):
    assert login(request.getfixturevalue(persona)).get(_url(treated_patient)).status_code == 404


def test_anonymous_visitor_is_sent_to_login(treated_patient, client):
    r = client.get(_url(treated_patient))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_timeline_and_progress_section_is_registered_for_the_patient_page(treated_patient, clinician, rf):
    from django.template.loader import render_to_string

    from anagen.outcomes.sections import patient_section
    from anagen.patients import sections

    request = rf.get("/")
    request.user = clinician
    assert any(func is patient_section for _, _, func in sections._registry)
    section = patient_section(request, treated_patient)
    html = render_to_string(section["template"], {"section": section, "patient": treated_patient}, request=request)
    assert 'id="outcomes-section"' in html
    assert _url(treated_patient) in html
    assert "+29.2 hairs/cm²" in html


def test_patient_section_is_hidden_from_roles_without_access(treated_patient, evaluator, rf):
    from anagen.outcomes.sections import patient_section

    request = rf.get("/")
    request.user = evaluator
    assert patient_section(request, treated_patient) is None


def test_timeline_starts_with_the_inquiry_and_has_consultation_screening_and_sample(coordinator, clinician):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from anagen.intake.services import inquiry_convert, inquiry_submit
    from anagen.patients.services import consent_record
    from anagen.scheduling.services import availability_add
    from anagen.screening.services import screening_run
    from anagen.treatments.services import sample_harvest

    clinic = coordinator.clinics.first()
    day3 = timezone.localdate() + timedelta(days=3)
    availability_add(actor=coordinator, clinician=clinician, clinic=clinic, weekday=day3.weekday(),
                     start_time=time(9, 0), end_time=time(17, 0), valid_from=timezone.localdate())
    inquiry = inquiry_submit(kind="consultation", name="Nina Brown", email="nina@example.com",
                             concern="Thinning at the crown for two years", preferred_clinic=clinic,
                             consent_to_contact=True, client="test-client")
    starts = timezone.make_aware(datetime.combine(day3, time(10, 0)))
    patient, _ = inquiry_convert(actor=coordinator, inquiry=inquiry, clinic=clinic, clinician=clinician,
                                 starts_at=starts, video=True, first_name="Nina", last_name="Brown")
    consent_record(actor=clinician, patient=patient, kind="treatment", document_version="v3 2025-01")
    screening_run(actor=clinician, patient=patient, answers={}, modalities=["hfsc_micrograft"])
    sample_harvest(actor=clinician, patient=patient, kind="biopsy", biopsy_count=3, biopsy_diameter_mm="2.0")

    events = selectors.patient_timeline(user=clinician, patient=patient)
    kinds = [e.kind for e in events]
    assert kinds.index("inquiry") < kinds.index("registration")
    for kind in ("appointment", "screening", "consent"):
        assert kind in kinds, kind
    assert any(e.kind == "sample" and "harvested" in e.title for e in events)
    assert events[-1].kind == "appointment"  # the consultation is booked in three days


def test_patient_page_shows_the_timeline_and_progress_section(treated_patient, clinician, login):
    html = login(clinician).get(reverse("patients:detail", kwargs={"pk": treated_patient.pk})).content.decode()
    assert 'id="outcomes-section"' in html
    assert _url(treated_patient) in html
    assert "+29.2 hairs/cm²" in html
