"""Validating the engine on the clinic's own dermoscope: references, report, adjustments."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied

from anagen.assessments.models import AnalysisStatus, DeviceAdjustment, Measurement, TrichogramAnalysis, TrichogramImage
from anagen.assessments.validation import (
    device_adjustment_activate,
    device_adjustment_deactivate,
    device_adjustment_fit,
    references,
    report,
    validation_reference_mark,
)
from anagen.core.errors import ActionError
from anagen.trichoscopy import ENGINE_VERSION

# Engine counts and the clinicians' counts of 12 images: the engine misses about one hair in ten.
REF = [52, 61, 75, 80, 90, 97, 104, 118, 126, 133, 141, 150]
AUTO = [47, 56, 66, 73, 80, 88, 95, 105, 112, 121, 127, 134]


def _analysis(visit, device, auto: int, ref: int | None, engine_version: str = ENGINE_VERSION, n=[0]):
    n[0] += 1
    sha = hashlib.sha256(f"{visit.pk}-{n[0]}-{auto}".encode()).hexdigest()
    image = TrichogramImage.objects.create(visit=visit, file=f"x/{sha}.png", sha256=sha, width=100, height=100,
                                          device_profile=device, profile_name=device.engine_profile)
    return TrichogramAnalysis.objects.create(
        image=image, status=AnalysisStatus.DONE, engine_version=engine_version, profile_name=device.engine_profile,
        automatic={"hair_count": auto}, corrected=None if ref is None else {"hair_count": ref})


def _references(visit, device, clinician, auto=AUTO, ref=REF, engine_version=ENGINE_VERSION):
    out = []
    for a, r in zip(auto, ref, strict=True):
        analysis = _analysis(visit, device, a, r, engine_version)
        out.append(validation_reference_mark(actor=clinician, analysis=analysis))
    return out


def test_marking_needs_a_correction_and_is_audited(visit, device, clinician):
    from auditlog.models import LogEntry

    uncorrected = _analysis(visit, device, 40, None)
    with pytest.raises(ActionError, match="save the correction first"):
        validation_reference_mark(actor=clinician, analysis=uncorrected)
    a = validation_reference_mark(actor=clinician, analysis=_analysis(visit, device, 40, 44))
    assert a.validation_reference_by == clinician and a.validation_reference_at is not None
    entry = LogEntry.objects.get_for_object(a).order_by("-pk").first()
    assert entry.actor == clinician and "validation_reference_at" in entry.changes_dict
    a = validation_reference_mark(actor=clinician, analysis=a, reference=False)
    assert a.validation_reference_at is None and a.validation_reference_by is None
    assert LogEntry.objects.get_for_object(a).count() >= 3  # created, marked, unmarked


def test_only_clinicians_of_the_clinic_mark(visit, device, coordinator, clinician_b, admin_user):
    a = _analysis(visit, device, 40, 44)
    for actor in (coordinator, clinician_b, admin_user):
        with pytest.raises(PermissionDenied):
            validation_reference_mark(actor=actor, analysis=a)


def test_voided_excluded_and_other_versions_are_kept_apart(visit, device, clinician):
    from anagen.assessments.services import trichogram_image_void

    refs = _references(visit, device, clinician)
    _references(visit, device, clinician, auto=[10, 20, 30], ref=[12, 22, 35], engine_version="0.0.1-old")
    assert references(device, ENGINE_VERSION).count() == 12
    trichogram_image_void(actor=clinician, image=refs[0].image, reason="Wrong patient")
    assert references(device, ENGINE_VERSION).count() == 11
    reports = report(device, plots=False)
    assert [r.engine_version for r in reports] == [ENGINE_VERSION, "0.0.1-old"]
    assert reports[0].n == 11 and reports[1].n == 3 and reports[0].is_current
    # A measurement excluded from the series takes its visit's images out of the validation.
    m, _ = Measurement.objects.get_or_create(visit=visit)
    m.excluded, m.exclusion_reason = True, "another spot"
    m.save()
    assert references(device).count() == 0


def test_fit_needs_ten_references(visit, device, clinician):
    _references(visit, device, clinician, auto=AUTO[:9], ref=REF[:9])
    with pytest.raises(ActionError, match="Mark at least 10 corrected images as references") as exc:
        device_adjustment_fit(actor=clinician, device=device)
    assert exc.value.code == "too_few_references"
    assert not DeviceAdjustment.objects.exists()


def test_fit_activate_and_versions(visit, device, clinician, admin_user):
    from auditlog.models import LogEntry

    _references(visit, device, clinician)
    v1 = device_adjustment_fit(actor=clinician, device=device)
    slope, intercept = np.polyfit(AUTO, REF, 1)
    assert (v1.version, v1.n, v1.is_active, v1.fitted_by) == (1, 12, False, clinician)
    assert v1.slope == pytest.approx(slope) and v1.intercept == pytest.approx(intercept)
    assert v1.slope_low < v1.slope < v1.slope_high
    with pytest.raises(ActionError, match="Tick the confirmation"):
        device_adjustment_activate(actor=clinician, adjustment=v1, confirm=False, reason="ok")
    with pytest.raises(ActionError, match="Give the reason"):
        device_adjustment_activate(actor=clinician, adjustment=v1, confirm=True, reason="  ")
    device_adjustment_activate(actor=clinician, adjustment=v1, confirm=True, reason="12 references reviewed")
    v2 = device_adjustment_fit(actor=admin_user, device=device)
    assert v2.version == 2 and v2.fitted_by == admin_user
    device_adjustment_activate(actor=admin_user, adjustment=v2, confirm=True, reason="refit")
    v1.refresh_from_db()
    assert not v1.is_active and DeviceAdjustment.objects.filter(device=device).count() == 2
    entry = LogEntry.objects.get_for_object(v2).order_by("-pk").first()
    assert entry.actor == admin_user and entry.changes_dict["is_active"][1] in ("True", True)
    assert LogEntry.objects.get_for_object(v1).order_by("pk").first().actor == clinician
    device_adjustment_deactivate(actor=clinician, adjustment=v2, reason="new dermoscope lens")
    v2.refresh_from_db()
    assert not v2.is_active and "new dermoscope lens" in v2.activation_reason


def test_coordinators_and_other_clinics_cannot_fit(visit, device, clinician, coordinator, clinician_b, lab_scientist):
    _references(visit, device, clinician)
    for actor in (coordinator, clinician_b, lab_scientist):
        with pytest.raises(PermissionDenied):
            device_adjustment_fit(actor=actor, device=device)


def test_report_page_and_api_permissions(login, api_client, visit, device, clinician, admin_user, coordinator,
                                        clinician_b, lab_scientist, stranger):
    url = f"/assessments/devices/{device.pk}/validation/"
    api = f"/api/v1/assessments/devices/{device.pk}/validation"
    for user, status in ((clinician, 200), (admin_user, 200), (coordinator, 403), (lab_scientist, 403),
                         (stranger, 403), (clinician_b, 404)):
        assert login(user).get(url).status_code == status, user
        assert api_client(user).get(api).status_code == status, user


def test_report_page_says_how_many_references_are_missing(login, visit, device, clinician):
    _references(visit, device, clinician, auto=AUTO[:3], ref=REF[:3])
    body = login(clinician).get(f"/assessments/devices/{device.pk}/validation/").content.decode()
    assert "Mark at least 10 corrected images as references to validate this device (7 more needed" in body
    assert "Fit a new adjustment" not in body


def test_report_page_and_api_numbers(login, api_client, visit, device, clinician):
    _references(visit, device, clinician)
    client = login(clinician)
    body = client.get(f"/assessments/devices/{device.pk}/validation/").content.decode()
    d = np.array(AUTO) - np.array(REF)
    assert f"{np.abs(d).mean():.2f} hairs" in body
    assert 'src="data:image/svg+xml;base64,' in body and "Mark at least" not in body
    data = api_client(clinician).get(f"/api/v1/assessments/devices/{device.pk}/validation").json()
    current = data["engine_versions"][0]
    assert current["engine_version"] == ENGINE_VERSION and current["n"] == 12 and current["enough"]
    assert current["bias"] == pytest.approx(d.mean()) and current["icc21"] is not None
    # Fit and activate through the pages.
    r = client.post(f"/assessments/devices/{device.pk}/adjustments", {"engine_version": ENGINE_VERSION})
    assert r.status_code == 302
    adj = DeviceAdjustment.objects.get(device=device)
    r = client.post(f"/assessments/adjustments/{adj.pk}/activation", {"action": "activate", "reason": "ok"})
    assert r.status_code == 400 and "Tick the confirmation" in r.content.decode()
    r = client.post(f"/assessments/adjustments/{adj.pk}/activation", {"action": "activate", "reason": "ok", "confirm": "1"})
    assert r.status_code == 302
    adj.refresh_from_db()
    assert adj.is_active and adj.activated_by == clinician


def test_fit_page_with_too_few_references_explains(login, visit, device, clinician):
    r = login(clinician).post(f"/assessments/devices/{device.pk}/adjustments", {})
    assert r.status_code == 400
    assert "Mark at least 10 corrected images as references" in r.content.decode()


def test_image_page_marks_a_reference_and_shows_the_adjusted_count(login, analysed, device, clinician, visit):
    from anagen.assessments.services import trichogram_analysis_correct

    client = login(clinician)
    analysis = analysed.analysis
    body = client.get(f"/assessments/images/{analysed.pk}/").content.decode()
    assert "Save the correction first" in body
    r = client.post(f"/assessments/images/{analysed.pk}/reference", {"reference": "1"}, follow=True)
    assert "save the correction first" in r.content.decode()
    trichogram_analysis_correct(actor=clinician, analysis=analysis)
    r = client.post(f"/assessments/images/{analysed.pk}/reference", {"reference": "1"}, follow=True)
    assert "Marked as a validation reference" in r.content.decode()
    analysis.refresh_from_db()
    assert analysis.validation_reference_by == clinician
    # An active calibration adjusts the engine's automatic counts only: this image is corrected,
    # so its page shows the engine's and the clinician's counts and no adjusted one.
    _references(visit, device, clinician)
    adj = device_adjustment_fit(actor=clinician, device=device)
    device_adjustment_activate(actor=clinician, adjustment=adj, confirm=True, reason="reviewed")
    body = client.get(f"/assessments/images/{analysed.pk}/").content.decode()
    auto = analysis.automatic["hair_count"]
    assert f"<tr><th>Hairs</th><td>{auto}</td></tr>" in body
    assert "Adjusted count" not in body and "adjusted by device calibration" not in body


def test_another_clinics_image_reference_is_404(login, analysed, clinician_b, coordinator):
    assert login(clinician_b).post(f"/assessments/images/{analysed.pk}/reference", {"reference": "1"}).status_code == 404
    assert login(coordinator).post(f"/assessments/images/{analysed.pk}/reference", {"reference": "1"}).status_code == 403


def test_reanalysing_an_image_drops_its_reference(analysed, device, clinician):
    from anagen.assessments.services import trichogram_analysis_correct, trichogram_analysis_rerun

    analysis = trichogram_analysis_correct(actor=clinician, analysis=analysed.analysis)
    validation_reference_mark(actor=clinician, analysis=analysis)
    trichogram_analysis_rerun(actor=clinician, analysis=analysis, device_profile=device, reason="check")
    analysis.refresh_from_db()
    assert analysis.validation_reference_at is None
