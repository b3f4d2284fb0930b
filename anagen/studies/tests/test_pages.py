"""Study pages and API routes: who may open what (wrong role 403, off the team or another clinic
404), and the journeys through them with their refusals."""

from __future__ import annotations

import pytest

from anagen.studies.models import Signature, Study, Subject

from conftest import PASSWORD

from .conftest import ARMS, CRITERIA

pytestmark = pytest.mark.django_db


def _json(client, method, url, body=None):
    return getattr(client, method)(url, body or {}, content_type="application/json")


@pytest.mark.parametrize("persona", ["stranger", "lab_scientist"])
def test_roles_without_studies_get_403(persona, request, login, draft_study):
    client = login(request.getfixturevalue(persona))
    for url in ("/studies/", f"/studies/{draft_study.pk}/", "/studies/new"):
        assert client.get(url).status_code == 403, url


def test_people_off_the_team_and_other_clinics_get_404(login, api_client, recruiting_study, subject, clinician_b):
    client = login(clinician_b)
    assert client.get(f"/studies/{recruiting_study.pk}/").status_code == 404
    assert client.get(f"/studies/{recruiting_study.pk}/subjects/{subject.pk}/").status_code == 404
    assert api_client(clinician_b).get(f"/api/v1/studies/{recruiting_study.pk}").status_code == 404
    assert recruiting_study.title.encode() not in client.get("/studies/").content


def test_a_team_member_at_another_clinic_does_not_see_its_subjects(login, recruiting_study, subject, statistician,
                                                                   clinic_b, clinician_b):
    from anagen.studies.services import member_add

    recruiting_study.sites.add(clinic_b)
    member_add(actor=statistician, study=recruiting_study, user=clinician_b, role="investigator")
    client = login(clinician_b)
    assert client.get(f"/studies/{recruiting_study.pk}/").status_code == 200
    assert client.get(f"/studies/{recruiting_study.pk}/subjects/{subject.pk}/").status_code == 404
    assert subject.code.encode() not in client.get(f"/studies/{recruiting_study.pk}/subjects/").content


def test_a_statistician_creates_a_study_on_the_page_and_a_clinician_may_not(login, statistician, clinician, clinic):
    form = {"title": "Exosomes by micro-needling", "sites": [clinic.pk], "design": "parallel",
            "arms": "EX | Exosome micro-needling | active | 2\nPL | Saline | placebo | 1", "target_enrolment": "40",
            "sexes": ["male", "female"], "criteria_rules": "[]", "age_min_years": "18", "age_max_years": "70",
            "visits": "baseline | Baseline | 0 | 0\nw12 | Week 12 | 12 | 7", "algorithm": "minimization",
            "block_multiples": "1, 2", "minimization_factors": ["sex", "site"], "p_best": "0.8"}
    assert login(clinician).post("/studies/new", form).status_code == 403
    r = login(statistician).post("/studies/new", form)
    assert r.status_code == 302, r.content.decode()[:3000]
    study = Study.objects.get(title="Exosomes by micro-needling")
    content = study.versions.get().content
    assert [a["ratio"] for a in content["arms"]] == [2, 1]
    assert content["randomization"]["minimization_factors"] == ["sex", "site"]
    bad = login(statistician).post("/studies/new", {**form, "arms": "EX | only one"})
    assert bad.status_code == 400 and b"at least two arms" in bad.content


def test_signing_on_the_page_with_a_wrong_password_is_refused(login, team, statistician):
    client = login(statistician)
    r = client.post(f"/studies/{team.pk}/sign", {"meaning": "statistical_approval", "password": "guess"})
    assert r.status_code == 400 and b"password is not correct" in r.content
    assert not Signature.objects.exists()
    r = client.post(f"/studies/{team.pk}/sign", {"meaning": "statistical_approval", "password": PASSWORD})
    assert r.status_code == 302 and Signature.objects.count() == 1


def test_a_signed_protocol_page_offers_an_amendment_not_an_edit(login, recruiting_study, statistician):
    client = login(statistician)
    r = client.get(f"/studies/{recruiting_study.pk}/edit")
    assert r.status_code == 302
    r = client.post(f"/studies/{recruiting_study.pk}/amend", {"reason": "Add a week-8 visit"})
    assert r.status_code == 302 and r["Location"] == f"/studies/{recruiting_study.pk}/edit"
    assert client.get(r["Location"]).status_code == 200
    assert client.get(f"/studies/{recruiting_study.pk}/versions/1/").status_code == 200
    assert b"Add a week-8 visit" in client.get(f"/studies/{recruiting_study.pk}/versions/2/").content


def test_enrolling_an_ineligible_patient_on_the_page_shows_the_reasons_and_writes_nothing(
        login, recruiting_study, clinician, clinic, make_patient):
    patient = make_patient(clinic, age=70, anticoagulants=True)
    client = login(clinician)
    page = client.get(f"/studies/{recruiting_study.pk}/enrol/{patient.pk}")
    assert page.status_code == 200
    assert b"Age 70 is outside" in page.content and b"Exclusion met: Takes anticoagulants" in page.content
    r = client.post(f"/studies/{recruiting_study.pk}/enrol/{patient.pk}", {"action": "enrol"})
    assert r.status_code == 400 and b"Not eligible" in r.content
    assert not Subject.objects.exists()
    r = client.post(f"/studies/{recruiting_study.pk}/enrol/{patient.pk}", {"action": "screen_fail"})
    assert r.status_code == 302
    assert Subject.objects.get().status == "screen_failed"


def test_the_patient_page_offers_enrolment_to_the_investigator(login, recruiting_study, clinician, eligible_patient,
                                                               coordinator):
    page = login(clinician).get(f"/patients/{eligible_patient.pk}/")
    assert f"/studies/{recruiting_study.pk}/enrol/{eligible_patient.pk}".encode() in page.content
    assert b"Clinical studies" not in login(coordinator).get(f"/patients/{eligible_patient.pk}/").content


def test_enrol_randomize_and_end_on_the_pages(login, recruiting_study, clinician, eligible_patient):
    client = login(clinician)
    r = client.post(f"/studies/{recruiting_study.pk}/enrol/{eligible_patient.pk}", {"action": "enrol"})
    assert r.status_code == 302
    subject = Subject.objects.get()
    r = client.post(f"/studies/{recruiting_study.pk}/subjects/{subject.pk}/randomize", follow=True)
    assert b"is randomized" in r.content and b"Blinded" in r.content
    r = client.post(f"/studies/{recruiting_study.pk}/subjects/{subject.pk}/end",
                    {"end-status": "lost_to_follow_up", "end-on": "2000-01-01", "end-reason": "No answer"})
    assert r.status_code == 400 and b"before the subject was enrolled" in r.content
    subject.refresh_from_db()
    assert subject.status == "randomized"


def test_the_dashboard_counts_per_site_not_per_arm(login, recruiting_study, clinician, subject, statistician):
    from anagen.studies.randomization import subject_randomize

    subject_randomize(actor=clinician, subject=subject)
    r = login(statistician).get(f"/studies/{recruiting_study.pk}/dashboard")
    assert r.status_code == 200
    assert b"1 enrolled of a target of 30 (3 %); 1 randomized" in r.content
    for arm in ARMS:
        assert arm["name"].encode() not in r.content
    api = login(statistician).get(f"/api/v1/studies/{recruiting_study.pk}/enrolment").json()
    assert api == [{"site": "Birmingham", "screened": 1, "screen_failed": 0, "enrolled": 1, "randomized": 1}]


def test_the_evaluators_home_is_their_reading_page(login, recruiting_study, evaluator):
    client = login(evaluator)
    r = client.get("/", follow=True)
    assert r.redirect_chain[-1][0] == "/studies/reading/"
    assert recruiting_study.title.encode() in r.content


def test_the_api_runs_the_protocol_journey_with_clear_refusals(api_client, statistician, clinician, clinic,
                                                               make_patient):
    stats, doc = api_client(statistician), api_client(clinician)
    body = {"title": "API study", "site_ids": [clinic.pk], "arms": ARMS, "criteria": CRITERIA,
            "research_consent_version": "research v2 2026-01"}
    assert _json(doc, "post", "/api/v1/studies", body).status_code == 403
    r = _json(stats, "post", "/api/v1/studies", body)
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    assert _json(stats, "post", f"/api/v1/studies/{sid}/members",
                 {"user_email": clinician.email, "role": "investigator"}).status_code == 201
    r = _json(stats, "post", f"/api/v1/studies/{sid}/signatures", {"password": "x", "meaning": "statistical_approval"})
    assert r.status_code == 400 and r.json()["code"] == "bad_password"
    for client, meaning in ((stats, "statistical_approval"), (doc, "clinical_approval")):
        r = _json(client, "post", f"/api/v1/studies/{sid}/signatures", {"password": PASSWORD, "meaning": meaning})
        assert r.status_code == 201
    assert r.json()["approved"] is True
    r = _json(stats, "patch", f"/api/v1/studies/{sid}", {"target_enrolment": 5})
    assert r.status_code == 409 and "amendment" in r.json()["detail"]
    unconsented = make_patient(clinic, consent=False)
    r = _json(doc, "post", f"/api/v1/studies/{sid}/subjects", {"patient_id": unconsented.pk})
    assert r.status_code == 400 and r.json()["code"] == "no_consent"
    assert doc.get(f"/api/v1/studies/{sid}/eligibility/{unconsented.pk}").json()["research_consent"] is None
    ok = make_patient(clinic)
    r = _json(doc, "post", f"/api/v1/studies/{sid}/subjects", {"patient_id": ok.pk})
    assert r.status_code == 201 and r.json()["code"] == "S-001"
    r = _json(doc, "post", f"/api/v1/studies/{sid}/subjects/{r.json()['id']}/randomization")
    assert r.status_code == 201 and r.json()["randomization"]["assignment"] == "Blinded"
    r = _json(stats, "post", f"/api/v1/studies/{sid}/amendments", {"reason": "More sites"})
    assert r.status_code == 201 and r.json()["number"] == 2
    assert stats.get(f"/api/v1/studies/{sid}/versions/1").json()["approved_at"] is not None


def test_the_balance_page_of_a_draft_says_why_there_is_nothing(login, team, statistician, clinic):
    from anagen.accounts.services import staff_create
    from anagen.studies.services import member_add

    independent = staff_create(email="indep@birmingham.test", password="an-independent-statistician", roles=["statistician"], clinics=[clinic])
    member_add(actor=statistician, study=team, user=independent, role="unblinded_statistician")
    r = login(independent).get(f"/studies/{team.pk}/balance", follow=True)
    assert r.status_code == 200 and b"not signed off yet" in r.content


def test_arms_and_scheme_cannot_change_in_an_amendment_once_subjects_are_randomized(recruiting_study, statistician,
                                                                                     clinician, subject):
    from anagen.core.errors import Conflict
    from anagen.studies.randomization import subject_randomize
    from anagen.studies.services import protocol_amend, study_update

    subject_randomize(actor=clinician, subject=subject)
    protocol_amend(actor=statistician, study=recruiting_study, reason="Add a third arm")
    with pytest.raises(Conflict, match="can no longer change"):
        study_update(actor=statistician, study=recruiting_study, arms=ARMS + [{"code": "X", "name": "Third"}])
    with pytest.raises(Conflict, match="can no longer change"):
        study_update(actor=statistician, study=recruiting_study, strata_factors=["site"])
    study_update(actor=statistician, study=recruiting_study, target_enrolment=36)


def test_api_refuses_wrong_roles_and_hides_other_clinics_subjects(api_client, recruiting_study, subject, evaluator,
                                                                  clinician_b, statistician, clinic_b):
    from anagen.studies.services import member_add

    r = _json(api_client(evaluator), "post",
              f"/api/v1/studies/{recruiting_study.pk}/subjects/{subject.pk}/code-break",
              {"reason": "An emergency that needs the product."})
    assert r.status_code == 403
    recruiting_study.sites.add(clinic_b)
    member_add(actor=statistician, study=recruiting_study, user=clinician_b, role="investigator")
    other = api_client(clinician_b)
    assert other.get(f"/api/v1/studies/{recruiting_study.pk}/subjects/{subject.pk}").status_code == 404
    assert other.get(f"/api/v1/studies/{recruiting_study.pk}/subjects").json() == []


def test_an_amendment_through_the_edit_page_works_after_randomization(login, recruiting_study, statistician,
                                                                      clinician, subject):
    from anagen.studies.forms import StudyForm
    from anagen.studies.randomization import subject_randomize
    from anagen.studies.services import protocol_amend

    subject_randomize(actor=clinician, subject=subject)
    protocol_amend(actor=statistician, study=recruiting_study, reason="Larger target after the interim look")
    data = StudyForm.initial_for(recruiting_study)
    data.update(target_enrolment="48", principal_investigator="", sites=[s.pk for s in recruiting_study.sites.all()],
                age_min_years="18", age_max_years="65", p_best="0.8")
    client = login(statistician)
    r = client.post(f"/studies/{recruiting_study.pk}/edit", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert recruiting_study.versions.get(number=2).content["target_enrolment"] == 48
    changed = {**data, "arms": data["arms"].replace("Saline placebo", "Saline")}
    r = client.post(f"/studies/{recruiting_study.pk}/edit", changed)
    assert r.status_code == 400 and b"can no longer change (arms)" in r.content


def test_the_subject_page_shows_the_visit_windows_from_the_randomization_date(login, recruiting_study, clinician,
                                                                              subject):
    from datetime import timedelta

    from django.utils import timezone

    from anagen.studies.randomization import subject_randomize

    allocation = subject_randomize(actor=clinician, subject=subject)
    day = timezone.localtime(allocation.randomized_at).date()
    r = login(clinician).get(f"/studies/{recruiting_study.pk}/subjects/{subject.pk}/")
    w23 = day + timedelta(weeks=23)
    assert (f"<td>Week 23</td><td>{w23:%d/%m/%Y}</td><td>{w23 - timedelta(days=14):%d/%m/%Y} to "
            f"{w23 + timedelta(days=14):%d/%m/%Y}</td>").encode() in r.content
