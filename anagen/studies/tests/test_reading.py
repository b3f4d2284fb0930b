"""Blinded reading: coded copies (no metadata, the code as file name), a random queue, permissions,
double reading with adjudication over the margin, and agreement equal to the evidence library's."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage

from anagen.core.errors import ActionError, Conflict
from anagen.studies import reading, reading_selectors, reading_services
from anagen.studies.models import CodedImage, Reading
from conftest import PASSWORD

from .reading_fixtures import (  # noqa: F401  (fixtures)
    _eager_tasks,
    adjudicator,
    coded,
    evaluator2,
    outsider_evaluator,
    reading_study,
)

pytestmark = pytest.mark.django_db


# --- pure --------------------------------------------------------------------------------------


def test_codes_are_random_well_formed_and_unique():
    codes = {reading.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(reading.is_code(c) for c in codes)
    assert not reading.is_code("R7K2QX9M") and not reading.is_code("R7K0-QX9M") and not reading.is_code("../etc")


def test_the_margin_is_the_larger_of_hairs_and_per_cent():
    assert reading.margin(10, 12, margin_pct=10, margin_hairs=3) == 3
    assert reading.margin(100, 110, margin_pct=10, margin_hairs=3) == pytest.approx(10.5)
    assert not reading.needs_adjudication(10, 13, margin_pct=10, margin_hairs=3)
    assert reading.needs_adjudication(10, 14, margin_pct=10, margin_hairs=3)
    assert not reading.needs_adjudication(100, 110, margin_pct=10, margin_hairs=3)
    assert reading.needs_adjudication(100, 111, margin_pct=10, margin_hairs=3)


# --- coding ------------------------------------------------------------------------------------


def test_coded_copies_carry_no_metadata_and_are_named_by_their_code(reading_study, coded, statistician):
    from PIL import Image

    from anagen.trichoscopy import read_image

    study, subjects = reading_study
    assert len(coded) == 6
    for c in coded:
        original = default_storage.open(c.source.file.name, "rb").read()
        assert b"Exif" in original and b"2025:" in original and b"DermaCam" in original  # the control
        assert c.file.name == f"reading/{c.code}.png"
        data = default_storage.open(c.file.name, "rb").read()
        for marker in (b"Exif", b"eXIf", b"GPS", b"2025", b"DermaCam", b"tEXt", b"iTXt", b"zTXt", b"tIME", b"iCCP",
                       b"Subject", b"sRGB IEC"):
            assert marker not in data, marker
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        assert not image.getexif() and "icc_profile" not in image.info and "exif" not in image.info
        # Lossless: the engine's hair coordinates are the coded copy's.
        assert (read_image(data) == read_image(original)).all()
        assert c.automatic == c.source.analysis.automatic
    # Coding again codes nothing new.
    assert reading_services.reading_code_images(actor=statistician, study=study) == []


def test_only_the_statistician_or_coordinator_codes(reading_study, evaluator, clinician, stranger):
    from anagen.core.errors import NotFound

    study, _ = reading_study
    with pytest.raises(PermissionDenied):
        reading_services.reading_code_images(actor=evaluator, study=study)
    with pytest.raises(PermissionDenied):
        reading_services.reading_code_images(actor=clinician, study=study)
    with pytest.raises(NotFound):
        reading_services.reading_code_images(actor=stranger, study=study)


def test_the_queue_is_in_random_order_mixing_subjects_and_visits(reading_study, statistician, evaluator,
                                                                monkeypatch):
    study, subjects = reading_study
    keys = iter([50, 10, 40, 0, 30, 20])  # coding order: subject 1 v1, v2, subject 2 v1, v2, ...
    monkeypatch.setattr(reading_services, "new_order_key", lambda: next(keys))
    made = reading_services.reading_code_images(actor=statistician, study=study)
    queue = [i.code for i in reading_selectors.queue(user=evaluator)]
    expected = [c.code for c in sorted(made, key=lambda c: c.order_key)]
    assert queue == expected
    owners = [CodedImage.objects.get(code=c).source.visit.patient_id for c in queue]
    assert owners != sorted(owners) and len(set(owners[:3])) > 1  # not grouped by subject
    # The real keys come from `secrets`: 62 random bits, no order.
    real = [reading.new_order_key() for _ in range(200)]
    assert len(set(real)) == 200 and real != sorted(real)


# --- reading, signing, adjudication ---------------------------------------------------------------


def _two_readings(coded_image, evaluator, evaluator2, removed_2=()):
    reading_services.reading_save(actor=evaluator, coded=coded_image)
    reading_services.reading_sign(actor=evaluator, coded=coded_image, password=PASSWORD)
    reading_services.reading_save(actor=evaluator2, coded=coded_image, removed=removed_2)
    return reading_services.reading_sign(actor=evaluator2, coded=coded_image, password=PASSWORD)


def test_a_reading_applies_corrections_and_is_signed_with_the_password(coded, evaluator):
    c = coded[0]
    n = c.automatic["hair_count"]
    hair = c.automatic["hairs"][0]["id"]
    r = reading_services.reading_save(actor=evaluator, coded=c, removed=[hair], added=[(5, 5, 25, 30)])
    assert r.hair_count == n and r.status == "draft" and r.removed == [hair] and len(r.added) == 1
    area = c.automatic["field_area_cm2"]
    assert r.field_area_cm2 == pytest.approx(area) and r.density_per_cm2 == pytest.approx(n / area)
    with pytest.raises(ActionError) as exc:
        reading_services.reading_sign(actor=evaluator, coded=c, password="wrong")
    assert exc.value.code == "bad_password"
    r = reading_services.reading_sign(actor=evaluator, coded=c, password=PASSWORD)
    assert r.is_signed and r.signed_at
    with pytest.raises(Conflict):
        reading_services.reading_save(actor=evaluator, coded=c, removed=[])


def test_bad_corrections_get_a_clear_message(coded, evaluator):
    c = coded[0]
    for kwargs, text in (({"removed": [9999]}, "No hair numbered 9999"),
                         ({"added": [(0, 0, 5000, 5)]}, "outside"),
                         ({"added": [(5, 5, 5, 5)]}, "no length"),
                         ({"removed": ["x"]}, "numbers on the overlay")):
        with pytest.raises(ActionError) as exc:
            reading_services.reading_save(actor=evaluator, coded=c, **kwargs)
        assert text in exc.value.message


def test_two_readers_within_the_margin_need_no_adjudication(coded, evaluator, evaluator2):
    c = coded[0]
    one_hair = [c.automatic["hairs"][0]["id"]]
    _two_readings(c, evaluator, evaluator2, removed_2=one_hair)
    assert not CodedImage.objects.filter(pk=c.pk, adjudication__isnull=False).exists()
    assert c.code not in [i.code for i in reading_selectors.queue(user=evaluator)]


def test_readings_apart_by_more_than_the_margin_go_to_an_adjudicator(coded, evaluator, evaluator2, adjudicator,
                                                                    outsider_evaluator):
    from anagen.studies.models import Adjudication

    c = max(coded, key=lambda x: x.automatic["hair_count"])
    ids = [h["id"] for h in c.automatic["hairs"]][:4]  # 4 hairs apart: more than max(3, 10 %)
    _two_readings(c, evaluator, evaluator2, removed_2=ids)
    adj = Adjudication.objects.get(coded_image=c)
    assert "more than the margin" in adj.reason and not adj.is_signed
    # A third reader is not taken; the readers themselves may not adjudicate; another evaluator does.
    with pytest.raises(Conflict):
        reading_services.reading_save(actor=adjudicator, coded=c)
    assert [i.task for i in reading_selectors.queue(user=adjudicator) if i.code == c.code] == ["adjudicate"]
    assert c.code not in [i.code for i in reading_selectors.queue(user=evaluator)]
    with pytest.raises(PermissionDenied):
        reading_services.adjudication_sign(actor=evaluator, coded=c, hair_count=10, password=PASSWORD)
    with pytest.raises(ActionError) as exc:
        reading_services.adjudication_sign(actor=adjudicator, coded=c, hair_count=10, password="nope")
    assert exc.value.code == "bad_password"
    final = c.automatic["hair_count"] - 2
    adj = reading_services.adjudication_sign(actor=adjudicator, coded=c, hair_count=final, password=PASSWORD,
                                             note="Two of the removed hairs are real.")
    assert adj.hair_count == final and adj.adjudicator == adjudicator
    assert adj.density_per_cm2 == pytest.approx(final / c.automatic["field_area_cm2"])
    assert c.code not in [i.code for i in reading_selectors.queue(user=adjudicator)]


def test_the_plan_sets_readers_and_margin(reading_study, coded, statistician, evaluator, evaluator2, adjudicator):
    from anagen.studies.models import Adjudication

    study, _ = reading_study
    with pytest.raises(ActionError):
        reading_services.reading_plan_update(actor=statistician, study=study, readers_per_image=0, margin_pct=10,
                                             margin_hairs=3)
    with pytest.raises(PermissionDenied):
        reading_services.reading_plan_update(actor=evaluator, study=study, readers_per_image=3, margin_pct=10,
                                             margin_hairs=3)
    reading_services.reading_plan_update(actor=statistician, study=study, readers_per_image=2, margin_pct=0,
                                         margin_hairs=0)
    c = coded[1]
    _two_readings(c, evaluator, evaluator2, removed_2=[c.automatic["hairs"][0]["id"]])
    assert Adjudication.objects.filter(coded_image=c).exists()  # any difference is over a zero margin


# --- agreement ---------------------------------------------------------------------------------


def test_agreement_equals_the_evidence_library_on_the_same_readings(reading_study, coded, statistician, evaluator,
                                                                   evaluator2, login, api_client):
    from anagen.evidence.agreement import bland_altman, icc

    study, _ = reading_study
    expected = []
    for n, c in enumerate(coded):
        ids = [h["id"] for h in c.automatic["hairs"]][: n % 3]
        _two_readings(c, evaluator, evaluator2, removed_2=ids)
        expected.append((c.code, c.automatic["hair_count"], c.automatic["hair_count"] - len(ids)))
    expected.sort()
    result = reading_selectors.agreement(user=statistician, study=study)
    assert [(c, int(a), int(b)) for c, a, b in result.pairs] == expected
    direct_icc = icc([[a, b] for _, a, b in expected])
    direct_ba = bland_altman([a for _, a, _ in expected], [b for _, _, b in expected])
    assert result.icc.to_dict() == direct_icc.to_dict()
    assert result.bland_altman.to_dict() == direct_ba.to_dict()
    body = api_client(statistician).get(f"/api/v1/studies/{study.pk}/agreement").json()
    assert body["n_pairs"] == 6
    assert body["icc"]["values"][1]["icc"] == pytest.approx(direct_icc.get("ICC(2,1)").icc)
    assert body["bland_altman"]["bias"] == pytest.approx(direct_ba.bias)
    page = login(statistician).get(f"/studies/{study.pk}/agreement")
    assert page.status_code == 200
    assert f"{direct_icc.get('ICC(2,1)').icc:.3f}" in page.content.decode()
    assert f"{direct_ba.bias:.2f}" in page.content.decode()
    # The study results carry the same table (the results have their own access rule).
    same = reading_selectors.agreement_of(study)
    assert same.icc.to_dict() == direct_icc.to_dict() and same.bland_altman.to_dict() == direct_ba.to_dict()


def test_agreement_needs_two_double_readings_and_a_statistician(reading_study, coded, statistician, evaluator, login):
    study, _ = reading_study
    result = reading_selectors.agreement(user=statistician, study=study)
    assert result.icc is None and "at least 2" in result.error
    assert login(evaluator).get(f"/studies/{study.pk}/agreement").status_code == 403


# --- permissions -------------------------------------------------------------------------------


def test_only_the_studys_evaluators_read(coded, reading_study, outsider_evaluator, clinician, statistician,
                                         pharmacist, stranger, evaluator, client, api_client):
    c = coded[0]
    urls = [f"/studies/reading/{c.code}/", f"/studies/reading/{c.code}/image.png",
            f"/studies/reading/{c.code}/overlay.png"]
    api = [f"/api/v1/studies/reading/{c.code}", f"/api/v1/studies/reading/{c.code}/image.png"]
    for user, page_status, api_status in ((outsider_evaluator, 404, 404), (clinician, 403, 403),
                                          (statistician, 403, 403), (pharmacist, 403, 403), (stranger, 403, 403)):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for url in urls:
            assert client.get(url).status_code == page_status, (user, url)
        assert client.post(f"/studies/reading/{c.code}/sign", {"password": PASSWORD}).status_code == page_status
        for url in api:
            assert api_client(user).get(url).status_code == api_status, (user, url)
        r = api_client(user).put(f"/api/v1/studies/reading/{c.code}/reading", {"removed": []},
                                 content_type="application/json")
        assert r.status_code == api_status
    assert not Reading.objects.exists()
    client.force_login(evaluator, backend="django.contrib.auth.backends.ModelBackend")
    for url in urls:
        assert client.get(url).status_code == 200
    assert client.get("/studies/reading/NOPE-NOPE/").status_code == 404
    assert api_client(evaluator).get("/api/v1/studies/reading/../../x").status_code == 404


# --- pages and API ----------------------------------------------------------------------------


def test_the_evaluators_home_is_the_queue_and_a_reading_is_signed_on_the_page(coded, evaluator, login):
    client = login(evaluator)
    r = client.get("/", follow=True)
    assert r.redirect_chain[-1][0].rstrip("/").endswith("/studies/reading")
    text = r.content.decode()
    codes = [c.code for c in sorted(coded, key=lambda c: c.order_key)]
    positions = [text.index(code) for code in codes]
    assert positions == sorted(positions)
    c = CodedImage.objects.get(code=codes[0])
    hair = c.automatic["hairs"][0]["id"]
    r = client.post(f"/studies/reading/{c.code}/", {"removed": [str(hair)], "added": "5,5,25,30\n"})
    assert r.status_code == 302
    r = client.post(f"/studies/reading/{c.code}/", {"added": "not numbers"})
    assert r.status_code == 400 and "four numbers" in r.content.decode()
    r = client.post(f"/studies/reading/{c.code}/sign", {"password": "wrong"})
    assert r.status_code == 400 and "password is not correct" in r.content.decode()
    r = client.post(f"/studies/reading/{c.code}/sign", {"password": PASSWORD})
    assert r.status_code == 302 and r["Location"].endswith(f"/studies/reading/{codes[1]}/")
    mine = Reading.objects.get(reader=evaluator, coded_image=c)
    assert mine.is_signed and mine.removed == [hair] and mine.added == [[5.0, 5.0, 25.0, 30.0]]
    assert mine.hair_count == c.automatic["hair_count"]  # one removed, one added


def test_the_api_reads_and_signs(coded, evaluator, api_client):
    api = api_client(evaluator)
    queue = api.get("/api/v1/studies/reading/queue").json()
    assert [q["code"] for q in queue] == [c.code for c in sorted(coded, key=lambda c: c.order_key)]
    code = queue[0]["code"]
    body = api.get(f"/api/v1/studies/reading/{code}").json()
    assert body["my_reading"] is None and body["automatic"]["hair_count"] >= 1
    r = api.get(f"/api/v1/studies/reading/{code}/image.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["Content-Disposition"] == f'inline; filename="{code}.png"'
    hair = body["automatic"]["hairs"][0]["id"]
    r = api.put(f"/api/v1/studies/reading/{code}/reading", {"removed": [hair]}, content_type="application/json")
    assert r.status_code == 200 and r.json()["hair_count"] == body["automatic"]["hair_count"] - 1
    r = api.put(f"/api/v1/studies/reading/{code}/reading", {"removed": "x"}, content_type="application/json")
    assert r.status_code == 400
    r = api.post(f"/api/v1/studies/reading/{code}/reading/signature", {"password": "bad"},
                 content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "bad_password"
    r = api.post(f"/api/v1/studies/reading/{code}/reading/signature", {"password": PASSWORD},
                 content_type="application/json")
    assert r.status_code == 201 and r.json()["status"] == "signed"
    r = api.post(f"/api/v1/studies/reading/{code}/reading/signature", {"password": PASSWORD},
                 content_type="application/json")
    assert r.status_code == 409


def test_the_api_codes_images_for_the_statistician(reading_study, statistician, evaluator, api_client):
    study, _ = reading_study
    r = api_client(evaluator).post(f"/api/v1/studies/{study.pk}/reading/coding")
    assert r.status_code == 403
    r = api_client(statistician).post(f"/api/v1/studies/{study.pk}/reading/coding")
    assert r.status_code == 201 and r.json()["coded"] == 6
    assert api_client(statistician).post(f"/api/v1/studies/{study.pk}/reading/coding").json()["coded"] == 0


def test_an_analysed_study_visit_image_is_coded_when_its_analysis_commits(reading_study, clinician, clinic,
                                                                         django_capture_on_commit_callbacks):
    from datetime import date

    from django.core.files.uploadedfile import SimpleUploadedFile

    from anagen.assessments.services import trichogram_image_upload, visit_create
    from anagen.trichoscopy.synthetic import generate_scalp

    from .reading_fixtures import exif_jpeg

    study, subjects = reading_study
    assert not CodedImage.objects.exists()  # the fixture's analyses ran inside the test transaction
    patient = subjects[0].patient
    visit = visit_create(actor=clinician, patient=patient, visit_date=date(2025, 8, 1))
    pixels = generate_scalp(seed=99, n_hairs=7, px_per_mm=100.0, shape=(240, 320), crossings=0,
                            parallel_pairs=0).image
    with django_capture_on_commit_callbacks(execute=True):
        image, _ = trichogram_image_upload(actor=clinician, visit=visit,
                                           file=SimpleUploadedFile("x.jpg", exif_jpeg(pixels), "image/jpeg"))
    (c,) = CodedImage.objects.all()
    assert c.source == image and c.study == study and c.file.name == f"reading/{c.code}.png"
    # A visit before screening (the patient's earlier care) is not a study visit: not coded.
    early = visit_create(actor=clinician, patient=patient, visit_date=date(2024, 6, 1))
    with django_capture_on_commit_callbacks(execute=True):
        trichogram_image_upload(actor=clinician, visit=early,
                                file=SimpleUploadedFile("y.jpg", exif_jpeg(pixels[::-1].copy()), "image/jpeg"))
    assert CodedImage.objects.count() == 1


def test_adjudication_and_the_plan_through_the_api_and_pages(reading_study, coded, statistician, evaluator,
                                                             evaluator2, adjudicator, api_client, login):
    study, _ = reading_study
    c = max(coded, key=lambda x: x.automatic["hair_count"])
    _two_readings(c, evaluator, evaluator2, removed_2=[h["id"] for h in c.automatic["hairs"]][:4])
    assert api_client(adjudicator).get(f"/api/v1/studies/reading/{c.code}").json()["adjudication_open"] is True
    url = f"/api/v1/studies/reading/{c.code}/adjudication"
    r = api_client(evaluator).post(url, {"hair_count": 5, "password": PASSWORD}, content_type="application/json")
    assert r.status_code == 403
    r = api_client(adjudicator).post(url, {"hair_count": -1, "password": PASSWORD}, content_type="application/json")
    assert r.status_code == 400
    page = login(adjudicator).get(f"/studies/reading/{c.code}/adjudicate")
    assert page.status_code == 200 and "more than the margin" in page.content.decode()
    assert login(adjudicator).get(f"/studies/reading/{c.code}/overlay.png?which=2")["Content-Type"] == "image/png"
    assert login(evaluator).get(f"/studies/reading/{c.code}/overlay.png?which=2").status_code == 403
    r = api_client(adjudicator).post(url, {"hair_count": 6, "password": PASSWORD, "note": "ok"},
                                     content_type="application/json")
    assert r.status_code == 201 and r.json()["hair_count"] == 6
    client = login(statistician)
    r = client.post(f"/studies/{study.pk}/agreement", {"readers_per_image": "3", "margin_pct": "5",
                                                       "margin_hairs": "2"})
    assert r.status_code == 302
    plan = reading_services.plan_for(study)
    assert (plan.readers_per_image, plan.margin_pct, plan.margin_hairs) == (3, 5.0, 2)
    r = client.post(f"/studies/{study.pk}/agreement", {"readers_per_image": "x", "margin_pct": "5",
                                                       "margin_hairs": "2"})
    assert r.status_code == 400 and "whole numbers" in r.content.decode()
    assert "Blinded reading: agreement" in client.get(f"/studies/{study.pk}/").content.decode()
