"""The issue's study journey in Chromium, end to end: a statistician creates the protocol, the
statistician and a clinician sign it off, the clinician enrols and randomizes a patient, the
unblinded pharmacist prepares the split-scalp syringes and the blinded clinician records each
side's injection, the evaluator reads and signs a coded image, the clinician breaks the code with
a reason, the statistician locks the database and opens the CONSORT diagram and the study report.

What is not part of the journey is seeded through the services: the team, the lots received
and set aside, the treatment consent, and the visit with its target-area image. Screenshots land
in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from tests.browser.waiting import until

from conftest import PASSWORD

from . import delivery_fixtures as fx
from .reading_fixtures import _eager_tasks, exif_jpeg  # noqa: F401  (autouse fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logout(page):
    page.click("text=Log out")
    page.wait_for_load_state()


def _sign(page, meaning):
    page.check(f"input[name=meaning][value={meaning}]")
    page.fill("#id_password", PASSWORD)
    page.click("button:text('Sign')")
    page.wait_for_load_state()


def _target_image(patient, clinician, clinic):
    """A visit today with an analysed target-area image: coded for blinded reading as it commits."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from anagen.assessments.models import DeviceProfile
    from anagen.assessments.services import trichogram_image_upload, visit_create
    from anagen.trichoscopy.synthetic import generate_scalp

    DeviceProfile.objects.create(clinic=clinic, name="Room 2 dermoscope", engine_profile="default", px_per_mm=100.0,
                                 vellus_threshold_um=40.0, is_default=True)
    today = timezone.localdate()
    visit = visit_create(actor=clinician, patient=patient, visit_date=today, is_baseline=True)
    pixels = generate_scalp(seed=41, n_hairs=8, px_per_mm=100.0, shape=(240, 320), crossings=0,
                            parallel_pairs=0).image
    trichogram_image_upload(actor=clinician, visit=visit, file=SimpleUploadedFile(
        "target.jpg", exif_jpeg(pixels, f"{today:%Y:%m:%d} 09:41:07"), "image/jpeg"))


def test_protocol_to_blinded_treatment_reading_code_break_lock_and_report(
        page, browser_login, clinic, statistician, clinician, pharmacist, evaluator, admin_user, make_patient):
    from anagen.studies.models import CodedImage, Reading, Study, Subject, Syringe
    from anagen.studies.services import member_add

    patient = make_patient(clinic, consent="research v2 2026-01")
    fx.treatment_consent(patient, clinician)

    # 1. The protocol, written by the statistician.
    browser_login(statistician)
    page.goto("/studies/new")
    page.fill("#id_title", "Split-scalp micrograft pilot")
    page.fill("#id_registry_id", "ISRCTN99887766")
    page.check("#id_sites_0")
    page.select_option("#id_design", "split_scalp")
    page.fill("#id_arms", "MG | Micrograft suspension | active | 1\nPL | Saline placebo | placebo | 1")
    page.fill("#id_target_enrolment", "30")
    page.fill("#id_research_consent_version", "research v2 2026-01")
    page.fill("#id_primary_endpoint", "Change in target-area density (hairs/cm²) at week 23, treated minus placebo side")
    page.click("button:text('Create the study')")
    page.wait_for_load_state()
    study = Study.objects.get()
    for user, role in ((clinician, "investigator"), (pharmacist, "unblinded_pharmacist"), (evaluator, "evaluator")):
        member_add(actor=statistician, study=study, user=user, role=role)
    lots = fx.study_lots(study, pharmacist=pharmacist, receiver=admin_user, clinic=clinic)

    # 2. Sign-off: the statistician, then a clinician.
    page.goto(f"/studies/{study.pk}/")
    _sign(page, "statistical_approval")
    _logout(page)
    browser_login(clinician)
    page.goto(f"/studies/{study.pk}/")
    _sign(page, "clinical_approval")
    assert "Recruiting" in page.content()
    page.shot("signed-off")

    # 3. Enrol and randomize from the patient page.
    page.goto(f"/patients/{patient.pk}/")
    page.click("text=Check eligibility and enrol")
    page.wait_for_load_state()
    page.click("button:text('Enrol')")
    page.wait_for_load_state()
    page.click("button:text('Randomize')")
    page.wait_for_load_state()
    assert page.locator("#assignment").inner_text().endswith("Blinded")
    subject = Subject.objects.get(study=study)
    _logout(page)

    # 4. The unblinded pharmacist prepares and labels the syringes, per side.
    treatment_url = f"/studies/{study.pk}/subjects/{subject.pk}/treatment"
    browser_login(pharmacist)
    page.goto(treatment_url)
    page.select_option("#id_prep-visit_code", "baseline")
    page.select_option("#id_prep-modality", label="Exosome product")
    for side in ("L", "R"):
        page.select_option(f"#id_prep-lot_{side}", index=1)
        page.fill(f"#id_prep-quantity_{side}", "4")
    page.shot("preparation-unblinded")
    page.click("button:text('Record the preparation')")
    page.wait_for_load_state()
    assert "Prepared and labelled" in page.content()
    assert fx.ACTIVE_LOT in page.content() and fx.PLACEBO_LOT in page.content()
    page.shot("prepared-unblinded")
    _logout(page)

    # 5. The blinded clinician records each side's injection, seeing only the labels.
    browser_login(clinician)
    page.goto(treatment_url)
    assert not any(s in page.content() for s in fx.SECRETS)
    for side in ("L", "R"):
        page.click(f"text=Record the injection of 'study product, side {side}' >> nth=0")
        page.fill(f"#id_inject_{side}-zone_frontal", "2")
        page.fill(f"#id_inject_{side}-zone_mid_scalp", "2")
        page.click(f"button:text(\"Record the injection of 'study product, side {side}'\")")
        page.wait_for_load_state()
        assert "Injection recorded" in page.content()
    content = page.content()
    assert content.count("procedure ") >= 2 and not any(s in content for s in fx.SECRETS)
    page.shot("injected-blinded")
    procedure_id = Syringe.objects.get(side="L").procedure_id
    page.goto(f"/treatments/procedures/{procedure_id}/")
    assert "study product, side L" in page.locator("#study-product").inner_text()
    assert not any(s in page.content() for s in fx.SECRETS)
    page.shot("procedure-blinded")
    _logout(page)

    # 6. The evaluator reads the subject's coded image and signs the reading.
    _target_image(patient, clinician, clinic)
    coded = CodedImage.objects.get(study=study)
    browser_login(evaluator)
    page.click(f"text={coded.code}")
    page.wait_for_load_state()
    until(page, "document.getElementById('overlay').complete && document.getElementById('overlay').naturalWidth > 0")
    page.fill("#id_password", PASSWORD)
    page.click("#sign-form button")
    page.wait_for_load_state()
    assert Reading.objects.get(coded_image=coded, reader=evaluator).is_signed
    page.shot("reading-signed")
    _logout(page)

    # 7. The clinician breaks the code of the subject, with the reason.
    browser_login(clinician)
    page.goto(f"/studies/{study.pk}/subjects/{subject.pk}/")
    page.click("text=Emergency code-break")
    page.fill("#id_code_break-reason", "Severe scalp reaction on one side; the dermatology registrar needs the product.")
    page.click("button:text('Break the code')")
    page.wait_for_load_state()
    assert "Micrograft suspension on the" in page.locator("#assignment").inner_text()
    _logout(page)

    # 8. The statistician locks the database, signs the unblinding of the analysis, then opens the CONSORT
    # diagram and the report.
    browser_login(statistician)
    page.goto(f"/studies/{study.pk}/quality")
    page.fill("#id_password", PASSWORD)
    page.click("button:text('Lock the database')")
    page.wait_for_load_state()
    assert "Locked" in page.content()
    page.fill("#unblind_password", PASSWORD)
    page.click("button:text('Sign the unblinding of the analysis')")
    page.wait_for_load_state()
    assert "Analysis unblinded" in page.content()
    page.goto(f"/studies/{study.pk}/results/")
    assert "INTERIM" not in page.content()
    page.shot("results-after-lock")
    svg = page.request.get(f"/studies/{study.pk}/results/consort.svg")
    assert svg.status == 200 and b"<svg" in svg.body() and b"INTERIM" not in svg.body()
    page.goto(f"/studies/{study.pk}/results/consort.png")
    page.shot("consort")
    report = page.request.get(f"/studies/{study.pk}/results/report.pdf")
    assert report.status == 200 and report.headers["content-type"] == "application/pdf"
    assert report.body()[:5] == b"%PDF-"
