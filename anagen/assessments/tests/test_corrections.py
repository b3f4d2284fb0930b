"""Corrections that would count a hair twice are refused; implausible ones need a reason."""

from __future__ import annotations

import pytest

from anagen.assessments.models import Measurement
from anagen.assessments.services import trichogram_analysis_correct
from anagen.core.errors import ActionError


def _far_from_hairs(analysis, n):
    """``n`` short, separate vertical segments in rows (12 px apart) across the 240 x 200 field; detected
    hairs may pass there, so the tests remove every automatic hair alongside."""
    return [(6 + 12 * (i % 19), 5 + 30 * (i // 19), 6 + 12 * (i % 19), 25 + 30 * (i // 19)) for i in range(n)]


def test_the_same_added_hair_twice_is_refused_and_nothing_is_written(analysed, clinician):
    a = analysed.analysis
    with pytest.raises(ActionError, match="lines 1 and 2 add the same hair twice") as exc:
        trichogram_analysis_correct(actor=clinician, analysis=a, added=[(10, 10, 60, 40), (60, 40, 10, 10)])
    assert exc.value.code == "overlapping_hairs"
    a.refresh_from_db()
    assert a.corrected is None and a.corrections is None
    assert not Measurement.objects.get(visit=analysed.visit).is_corrected


def test_an_added_hair_on_a_detected_hair_is_refused(analysed, clinician):
    a = analysed.analysis
    hair = a.automatic["hairs"][0]
    (x0, y0), (x1, y1) = hair["centreline"][0], hair["centreline"][-1]
    with pytest.raises(ActionError, match=f"lies on hair #{hair['id']}"):
        trichogram_analysis_correct(actor=clinician, analysis=a, added=[(x0, y0, x1, y1)])
    # Redrawing it is fine once the detected one is removed.
    trichogram_analysis_correct(actor=clinician, analysis=a, added=[(x0, y0, x1, y1)], removed=[hair["id"]])
    a.refresh_from_db()
    assert a.corrected["hair_count"] == a.automatic["hair_count"]


def test_an_implausible_correction_needs_a_reason_which_is_kept(analysed, clinician):
    a = analysed.analysis
    auto = a.automatic["hair_count"]
    everything = [h["id"] for h in a.automatic["hairs"]]
    added = _far_from_hairs(a, auto * 2 + 6)  # more than doubles the count, more than the field holds
    with pytest.raises(ActionError, match="needs a second look") as exc:
        trichogram_analysis_correct(actor=clinician, analysis=a, added=added, removed=everything)
    assert exc.value.code == "needs_confirmation" and exc.value.field == "confirm_reason"
    assert "more than the" in exc.value.message and "field can hold" in exc.value.message
    a.refresh_from_db()
    assert a.corrected is None
    trichogram_analysis_correct(actor=clinician, analysis=a, added=added, removed=everything,
                                confirm_reason="Dense field, the engine merged most hairs")
    a.refresh_from_db()
    assert a.corrected["hair_count"] == len(added)
    assert a.corrections["confirmed_because"] == "Dense field, the engine merged most hairs"
    assert a.corrections["implausible"]


def test_removing_most_hairs_needs_a_reason_on_the_page(login, analysed, clinician):
    a = analysed.analysis
    ids = [h["id"] for h in a.automatic["hairs"]]
    if len(ids) < 7:
        pytest.skip("the synthetic field has too few hairs to halve by more than five")
    client = login(clinician)
    r = client.post(f"/assessments/images/{analysed.pk}/corrections", {"removed": ids[:-1], "added": ""})
    assert r.status_code == 400
    body = r.content.decode()
    assert "less than half" in body and 'name="confirm_reason"' in body
    a.refresh_from_db()
    assert a.corrected is None
    r = client.post(f"/assessments/images/{analysed.pk}/corrections",
                    {"removed": ids[:-1], "added": "", "confirm_reason": "Scales read as hairs"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.corrected["hair_count"] == 1 and a.corrections["confirmed_because"] == "Scales read as hairs"


def test_the_api_answers_needs_confirmation(api_client, analysed, clinician):
    a = analysed.analysis
    everything = [h["id"] for h in a.automatic["hairs"]]
    added = [list(s) for s in _far_from_hairs(a, a.automatic["hair_count"] * 2 + 6)]
    api = api_client(clinician)
    url = f"/api/v1/assessments/images/{analysed.pk}/corrections"
    r = api.post(url, {"added": added, "removed": everything}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "needs_confirmation"
    r = api.post(url, {"added": added, "removed": everything, "confirm_reason": "checked at 100 %"},
                 content_type="application/json")
    assert r.status_code == 200 and r.json()["analysis"]["corrections"]["confirmed_because"] == "checked at 100 %"


def test_the_overlay_address_and_validator_change_with_each_drawing(login, analysed, clinician):
    client = login(clinician)
    page = client.get(f"/assessments/images/{analysed.pk}/").content.decode()
    a = analysed.analysis
    assert f"overlay.png?v={a.overlay_version}" in page
    r = client.get(f"/assessments/images/{analysed.pk}/overlay.png")
    etag = r["ETag"]
    assert r.status_code == 200 and "no-cache" in r["Cache-Control"]
    assert client.get(f"/assessments/images/{analysed.pk}/overlay.png", HTTP_IF_NONE_MATCH=etag).status_code == 304
    first_hair = a.automatic["hairs"][0]["id"]
    trichogram_analysis_correct(actor=clinician, analysis=a, removed=[first_hair])
    a.refresh_from_db()
    first_version = a.corrected_overlay_version
    page = client.get(f"/assessments/images/{analysed.pk}/").content.decode()
    assert f"corrected=1&amp;v={first_version}" in page
    url = f"/assessments/images/{analysed.pk}/overlay.png?corrected=1"
    corrected_etag = client.get(url)["ETag"]
    trichogram_analysis_correct(actor=clinician, analysis=a, removed=[])
    a.refresh_from_db()
    assert a.corrected_overlay_version != first_version
    # The browser's copy of the first drawing is no longer valid.
    assert client.get(url, HTTP_IF_NONE_MATCH=corrected_etag).status_code == 200
