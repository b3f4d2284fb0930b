"""Treatment-to-outcome journey in the browser, as the outcomes issue walks it.

A clinician plans PRP for a patient screened as a candidate, records the procedure with a product
lot (treatment consent on file), opens a follow-up visit, uploads the target-area image, sees the
overlay, then the updated density chart, and downloads the progress report.
"""

from __future__ import annotations

import importlib
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(db):
    # Transactional tests empty the tables between tests, seeded rows included: put them back.
    from django.apps import apps

    from anagen.screening.models import RuleSet
    from anagen.screening.rules import seed_rules

    importlib.import_module("anagen.treatments.migrations.0002_seed_catalogue").seed(apps, None)
    RuleSet.objects.get_or_create(version=1, defaults={"rules": seed_rules(), "is_active": True})


@pytest.fixture
def candidate(catalogue, clinic, coordinator, clinician):
    """A consented patient, staged, screened a PRP candidate, with a measured baseline visit."""
    from anagen.assessments.models import Measurement
    from anagen.assessments.services import visit_create
    from anagen.patients.services import consent_record, patient_register, staging_record
    from anagen.screening.services import screening_run

    today = timezone.localdate()
    patient = patient_register(actor=coordinator, clinic=clinic, first_name="Tomasz", last_name="Nowak", sex="male",
                               date_of_birth=today.replace(year=today.year - 41))
    consent_record(actor=clinician, patient=patient, kind="treatment", document_version="v3 2025-01")
    staging_record(actor=clinician, patient=patient, scale="norwood", stage="III vertex",
                   assessed_on=today - timedelta(days=100))
    no = {flag: False for flag in ("target_area_bald", "active_scalp_infection", "scalp_inflammation",
                                   "cancer_under_treatment", "pregnant_or_breastfeeding", "bleeding_disorder",
                                   "anticoagulants", "autoimmune_disease", "keloid_tendency")}
    screenings = screening_run(actor=clinician, patient=patient, answers={"pattern": "thinning", **no},
                               modalities=["prp"])
    assert [s.decision for s in screenings] == ["candidate"]
    baseline = visit_create(actor=clinician, patient=patient, visit_date=today - timedelta(days=100),
                            is_baseline=True)
    # Same dermoscope field as the follow-up image (240 x 200 px at 100 px/mm = 0.048 cm²).
    Measurement.objects.create(visit=baseline, hair_count=6, field_area_cm2=0.048, terminal_count=5,
                               vellus_count=1, mean_diameter_um=55.0, hair_count_auto=6)
    return patient


@pytest.fixture
def prp_lot(clinic, clinician):
    from anagen.treatments.services import lot_receive, product_create

    kit = product_create(actor=clinician, name="RegenKit PRP", manufacturer="Regen Lab", kind="prp_kit", unit="kit")
    return lot_receive(actor=clinician, product=kit, clinic=clinic, lot_number="RK-2611",
                       expires_on=timezone.localdate() + timedelta(days=300), quantity=Decimal("5"))


@pytest.fixture
def dermoscope(clinic):
    from anagen.assessments.models import DeviceProfile

    return DeviceProfile.objects.create(clinic=clinic, name="Room 2 dermoscope", engine_profile="default",
                                        px_per_mm=100.0, vellus_threshold_um=40.0, is_default=True)


@pytest.fixture
def target_png(tmp_path):
    from PIL import Image

    from anagen.trichoscopy.synthetic import generate_scalp

    scalp = generate_scalp(seed=7, n_hairs=8, px_per_mm=100.0, shape=(200, 240), crossings=0, parallel_pairs=0)
    buffer = io.BytesIO()
    Image.fromarray(scalp.image).save(buffer, format="PNG")
    path = tmp_path / "follow-up-target.png"
    path.write_bytes(buffer.getvalue())
    return path


def test_plan_procedure_follow_up_image_chart_and_report(page, browser_login, settings, clinician, candidate,
                                                         prp_lot, dermoscope, target_png):
    from anagen.assessments.models import TrichogramAnalysis
    from anagen.treatments.models import Procedure

    settings.ANAGEN_TASKS_EAGER = True
    today = timezone.localdate()
    performed = today - timedelta(days=84)
    browser_login(clinician)

    # 1. A plan from the candidate screening.
    page.goto(f"/patients/{candidate.pk}/")
    page.click("section[aria-labelledby=treatments-heading] >> text=New plan")
    page.wait_for_url(f"**/treatments/plans/new/{candidate.pk}/")
    page.check("label:has-text('Platelet-rich plasma (PRP)') input[name=modalities]")
    page.fill("#id_start_on", performed.isoformat())
    page.shot("plan-form")
    page.click("main button:has-text('Create plan')")
    page.wait_for_url(re.compile(r"/treatments/plans/\d+/$"))
    assert page.locator("text=Plan created").first.is_visible()
    page.shot("plan")

    # 2. The first session, with the kit's lot and the zones treated.
    page.goto(f"/patients/{candidate.pk}/")
    page.click("section[aria-labelledby=treatments-heading] >> text=Record a procedure")
    page.wait_for_url(f"**/treatments/procedures/new/{candidate.pk}/")
    page.select_option("#id_modality", label="Platelet-rich plasma (PRP)")
    page.select_option("#id_plan", index=1)
    page.fill("#id_performed_on", performed.isoformat())
    page.select_option("#id_delivery", "injection")
    page.select_option("#id_anaesthesia", "topical")
    page.check("input[name=zone_vertex]")
    page.fill("input[name=volume_vertex]", "3")
    page.select_option("#id_lot_1", value=str(prp_lot.pk))
    page.fill("#id_quantity_1", "1")
    page.shot("procedure-form")
    page.click("main button:has-text('Record procedure')")
    page.wait_for_url(re.compile(r"/treatments/procedures/\d+/$"))
    procedure = Procedure.objects.get(patient=candidate)
    assert procedure.plan_id is not None
    assert page.locator("text=RK-2611").first.is_visible()
    page.shot("procedure")

    # 3. The 12-week follow-up: open the visit and upload the target-area image.
    page.goto(f"/assessments/patients/{candidate.pk}/visits/")
    page.fill("input[name=visit_date]", today.isoformat())
    page.fill("input[name=weeks_after_last_session]", "12")
    page.click("main button:has-text('Open visit')")
    page.wait_for_url(re.compile(r"/assessments/visits/\d+/$"))
    page.shot("follow-up-visit")
    page.set_input_files("#image_file", str(target_png))
    page.click("text=Upload and analyse")
    page.wait_for_url("**/assessments/images/*/")
    page.locator("#overlay").wait_for()
    analysis = TrichogramAnalysis.objects.get(image__visit__patient=candidate)
    assert analysis.status == "done"
    page.shot("overlay")

    # 4. The chart gains the follow-up point; the report downloads as a PDF.
    page.goto(f"/outcomes/patients/{candidate.pk}/")
    density = page.locator('figure[data-chart="density"] svg')
    assert density.locator("circle.point").count() == 2
    page.shot("progress")
    page.click("text=Progress report (PDF)")  # made in the background; its page hands it over
    page.wait_for_url("**/jobs/documents/**")
    with page.expect_download() as info:
        page.click("text=Download the document")
    download = info.value
    assert download.suggested_filename.startswith(f"progress-report-{candidate.patient_number}")
    with open(download.path(), "rb") as fh:
        assert fh.read(4) == b"%PDF"
