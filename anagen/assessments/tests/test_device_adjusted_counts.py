"""The device's active calibration beside the engine's counts, wherever a clinician reads them.

One rule (anagen.assessments.validation.adjusted_count): an automatic count of an image analysed
with a device profile is adjusted by that device's active adjustment for the analysis' engine
version; a clinician's corrected count never is. Every surface says which version made it.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext

from anagen.assessments.models import (
    AnalysisStatus,
    DeviceAdjustment,
    DeviceProfile,
    TrichogramAnalysis,
    TrichogramImage,
)
from anagen.assessments.validation import (
    adjusted_count,
    device_adjustment_activate,
    device_adjustment_deactivate,
)
from anagen.trichoscopy import ENGINE_VERSION

INTERCEPT, SLOPE = 2.04, 1.1


def _adjustment(device, clinician, *, version=1, engine_version=ENGINE_VERSION, active=True) -> DeviceAdjustment:
    adj = DeviceAdjustment.objects.create(
        device=device, engine_version=engine_version, version=version, n=12, intercept=INTERCEPT,
        intercept_low=0.0, intercept_high=4.0, slope=SLOPE, slope_low=1.0, slope_high=1.2, residual_sd=2.0,
        analysis_ids=[], fitted_by=clinician)
    if active:
        device_adjustment_activate(actor=clinician, adjustment=adj, confirm=True, reason="12 references reviewed")
    return adj


def _expected(auto: int) -> str:
    return floatformat(INTERCEPT + SLOPE * auto, 0)


def _image(visit, device, auto: int, n=[0]) -> TrichogramImage:
    """A finished automatic result of ``auto`` hairs on a 0.25 cm² field, without running the engine."""
    from anagen.assessments.services import measurement_refresh

    n[0] += 1
    sha = hashlib.sha256(f"adjusted-{visit.pk}-{n[0]}".encode()).hexdigest()
    image = TrichogramImage.objects.create(visit=visit, file=f"x/{sha}.png", sha256=sha, width=100, height=100,
                                          device_profile=device, profile_name=device.engine_profile)
    TrichogramAnalysis.objects.create(image=image, status=AnalysisStatus.DONE, engine_version=ENGINE_VERSION,
                                      profile_name=device.engine_profile, px_per_mm=100.0,
                                      automatic={"hair_count": auto, "field_area_cm2": 0.25})
    measurement_refresh(visit=visit)
    return image


def _surfaces(client, analysed) -> dict[str, str]:
    visit = analysed.visit
    patient = visit.patient
    return {
        "image page": client.get(f"/assessments/images/{analysed.pk}/").content.decode(),
        "visit page": client.get(f"/assessments/visits/{visit.pk}/").content.decode(),
        "visit list": client.get(f"/assessments/patients/{patient.pk}/visits/").content.decode(),
        "patient page": client.get(f"/patients/{patient.pk}/").content.decode(),
        "outcomes timeline": client.get(f"/outcomes/patients/{patient.pk}/").content.decode(),
    }


def _report_html(user, patient) -> str:
    from anagen.outcomes.report import progress_report_html

    return progress_report_html(user=user, patient=patient)


def test_the_adjusted_count_is_shown_beside_the_engines_and_goes_when_switched_off(login, analysed, device,
                                                                                  clinician):
    auto = analysed.analysis.automatic["hair_count"]
    client = login(clinician)
    for name, body in _surfaces(client, analysed).items():
        assert "device calibration v" not in body, name
    adj = _adjustment(device, clinician)
    for name, body in _surfaces(client, analysed).items():
        assert any(s in body for s in (f"adjusted {_expected(auto)}", f"{_expected(auto)} hairs",
                                        f"<strong>{_expected(auto)}</strong> hairs")), name
        assert f"device calibration v{adj.version}" in body, name
        assert f"<td>{auto}" in body, name  # the engine's count stays
    report = _report_html(clinician, analysed.visit.patient)
    assert f"adjusted {_expected(auto)}" in report and f"device calibration v{adj.version}" in report
    assert "<dt>Adjusted</dt>" in report
    device_adjustment_deactivate(actor=clinician, adjustment=adj, reason="new lens")
    for name, body in _surfaces(client, analysed).items():
        assert "device calibration v" not in body, name
    report = _report_html(clinician, analysed.visit.patient)
    assert "device calibration v" not in report and "<dt>Adjusted</dt>" not in report


def test_the_visit_page_shows_which_version_adjusted_each_image(login, visit, device, clinician):
    _image(visit, device, 40)
    adj = _adjustment(device, clinician)
    body = login(clinician).get(f"/assessments/visits/{visit.pk}/").content.decode()
    assert f"adjusted {_expected(40)} · {floatformat((INTERCEPT + SLOPE * 40) / 0.25, 1)}/cm²" in body
    assert f"device calibration v{adj.version} of {device.name}" in body
    # The measurement table: the automatic density stays, the adjusted one beside it.
    assert "160.0 /cm²" in body and f"{floatformat((INTERCEPT + SLOPE * 40) / 0.25, 1)} /cm²" in body


def test_before_and_after_shows_each_visits_adjusted_count(login, visit, device, clinician):
    from anagen.assessments.services import visit_create

    later = visit_create(actor=clinician, patient=visit.patient, visit_date=date(2025, 7, 1))
    _image(visit, device, 40)
    _image(later, device, 48)
    url = f"/assessments/patients/{visit.patient_id}/compare/?a={visit.pk}&b={later.pk}"
    client = login(clinician)
    assert "device calibration v" not in client.get(url).content.decode()
    adj = _adjustment(device, clinician)
    body = client.get(url).content.decode()
    assert f"adjusted {_expected(40)}" in body and f"adjusted {_expected(48)}" in body
    assert body.count(f"device calibration v{adj.version}") == 2
    assert "<td>40" in body and "<td>48" in body


def test_a_corrected_count_is_never_adjusted(login, api_client, analysed, device, clinician):
    from anagen.assessments.services import trichogram_analysis_correct

    _adjustment(device, clinician)
    analysis = trichogram_analysis_correct(actor=clinician, analysis=analysed.analysis)
    assert adjusted_count(analysis) is None
    client = login(clinician)
    for name, body in _surfaces(client, analysed).items():
        assert "device calibration v" not in body, name
    assert "Adjusted count" not in client.get(f"/assessments/images/{analysed.pk}/").content.decode()
    assert "device calibration v" not in _report_html(clinician, analysed.visit.patient)
    data = api_client(clinician).get(f"/api/v1/assessments/images/{analysed.pk}").json()
    assert data["analysis"]["adjusted_hair_count"] is None and data["analysis"]["adjustment_version"] is None


def test_only_the_analysis_engine_version_and_device_are_adjusted(visit, device, clinician, clinic):
    image = _image(visit, device, 40)
    _adjustment(device, clinician, engine_version="0.0.1-old")
    assert adjusted_count(image.analysis) is None
    other = DeviceProfile.objects.create(clinic=clinic, name="Loupe", engine_profile="default", px_per_mm=50.0)
    _adjustment(other, clinician, version=1)
    assert adjusted_count(image.analysis) is None
    adj = _adjustment(device, clinician, version=2)
    result = adjusted_count(image.analysis)
    assert result.adjustment == adj and result.version == 2
    assert result.hair_count == pytest.approx(INTERCEPT + SLOPE * 40)
    assert result.density_per_cm2 == pytest.approx((INTERCEPT + SLOPE * 40) / 0.25)


def test_api_fields(api_client, analysed, device, clinician):
    api = api_client(clinician)
    visit, patient = analysed.visit, analysed.visit.patient
    auto = analysed.analysis.automatic["hair_count"]
    data = api.get(f"/api/v1/assessments/images/{analysed.pk}").json()["analysis"]
    assert data["adjusted_hair_count"] is None and data["adjustment_version"] is None
    assert data["adjusted_density_per_cm2"] is None
    adj = _adjustment(device, clinician)
    expected = INTERCEPT + SLOPE * auto
    data = api.get(f"/api/v1/assessments/images/{analysed.pk}").json()["analysis"]
    assert data["adjusted_hair_count"] == pytest.approx(expected) and data["adjustment_version"] == adj.version
    assert data["automatic"]["hair_count"] == auto
    detail = api.get(f"/api/v1/assessments/visits/{visit.pk}").json()
    assert detail["images"][0]["analysis"]["adjustment_version"] == adj.version
    assert detail["measurement"]["adjusted_hair_count"] == pytest.approx(expected)
    assert detail["measurement"]["hair_count_auto"] == auto
    listed = api.get(f"/api/v1/assessments/visits?patient_id={patient.pk}").json()
    assert listed[0]["measurement"]["adjustment_version"] == adj.version
    series = api.get(f"/api/v1/assessments/patients/{patient.pk}/measurements").json()
    assert series[0]["adjusted_hair_count"] == pytest.approx(expected)
    assert series[0]["adjustment_version"] == adj.version
    outcomes = api.get(f"/api/v1/outcomes/patients/{patient.pk}/measurements").json()
    assert outcomes["measurements"][0]["adjustment_version"] == adj.version
    device_adjustment_deactivate(actor=clinician, adjustment=adj, reason="new lens")
    data = api.get(f"/api/v1/assessments/images/{analysed.pk}").json()["analysis"]
    assert data["adjusted_hair_count"] is None and data["adjustment_version"] is None


def test_another_clinics_user_sees_no_adjusted_count(login, api_client, analysed, device, clinician, clinician_b):
    _adjustment(device, clinician)
    assert login(clinician_b).get(f"/assessments/visits/{analysed.visit_id}/").status_code == 404
    assert api_client(clinician_b).get(f"/api/v1/assessments/images/{analysed.pk}").status_code == 404


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_lists_fetch_the_adjustments_once(login, api_client, visit, device, clinician, clinic):
    from anagen.assessments.services import visit_create

    loupe = DeviceProfile.objects.create(clinic=clinic, name="Loupe", engine_profile="default", px_per_mm=50.0)
    _adjustment(device, clinician)
    _adjustment(loupe, clinician, version=1)
    for d in (device, loupe):
        _image(visit, d, 40)
    patient = visit.patient
    client, api = login(clinician), api_client(clinician)
    api.get(f"/api/v1/assessments/images/{visit.trichogram_images.first().pk}")  # the token's first use is recorded
    pages = [f"/assessments/visits/{visit.pk}/", f"/assessments/patients/{patient.pk}/visits/",
             f"/patients/{patient.pk}/", f"/outcomes/patients/{patient.pk}/"]
    apis = [f"/api/v1/assessments/visits/{visit.pk}", f"/api/v1/assessments/visits?patient_id={patient.pk}",
            f"/api/v1/assessments/patients/{patient.pk}/measurements"]
    before = {u: _count_queries(client, u) for u in pages} | {u: _count_queries(api, u) for u in apis}
    for i in range(4):
        _image(visit, device if i % 2 else loupe, 50 + i)
    later = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 6, 1))
    for i in range(3):
        _image(later, loupe, 60 + i)
    after = {u: _count_queries(client, u) for u in pages} | {u: _count_queries(api, u) for u in apis}
    body = client.get(f"/assessments/visits/{visit.pk}/").content.decode()
    assert body.count("device calibration v1") >= 6
    assert after == before

