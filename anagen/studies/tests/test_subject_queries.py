"""Data queries on an assessment visit (page, API, service) and the subject page's section of
queries and source-data verification flags (issue item 8)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError, NotFound

from .test_blinding import leaks, randomized  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def visits(randomized_subject, clinician, make_patient, clinic, clinic_b):
    """The subject's own visit (today, at the clinician's clinic), the same patient's visit at the
    other clinic of the group, and another patient's visit at the clinician's clinic."""
    from anagen.assessments.models import AssessmentVisit
    from anagen.assessments.services import visit_create

    own = visit_create(actor=clinician, patient=randomized_subject.patient, visit_date=date.today())
    elsewhere = AssessmentVisit.objects.create(patient=randomized_subject.patient, clinic=clinic_b,
                                               visit_date=date.today() - timedelta(days=2))
    theirs = visit_create(actor=clinician, patient=make_patient(clinic), visit_date=date.today())
    return own, elsewhere, theirs


# --- the service ---------------------------------------------------------------------------


def test_a_query_names_only_the_subjects_own_visit_at_the_users_clinics(randomized_subject, visits, statistician):
    from anagen.studies import quality_services as q
    from anagen.studies.models import DataQuery

    own, elsewhere, theirs = visits
    with pytest.raises(ActionError, match="not this subject's") as info:
        q.query_raise(actor=statistician, subject=randomized_subject, visit=theirs, data_point="x", question="y")
    assert info.value.status == 400
    with pytest.raises(NotFound, match="No such assessment visit at a clinic you work at"):
        q.query_raise(actor=statistician, subject=randomized_subject, visit=elsewhere, data_point="x", question="y")
    assert not DataQuery.objects.exists()
    query = q.query_raise(actor=statistician, subject=randomized_subject, visit=own,
                          data_point="density_per_cm2", question="Twice the baseline?")
    assert query.visit == own and query.raised_by == statistician


# --- the data-quality page ------------------------------------------------------------------


def test_the_raise_form_offers_the_subjects_visits_and_the_table_shows_the_date(randomized_subject, visits, login,
                                                                               statistician):
    from anagen.core.dates import date_text
    from anagen.studies.models import DataQuery

    own, elsewhere, theirs = visits
    url = f"/studies/{randomized_subject.study_id}/quality"
    client = login(statistician)
    page = client.get(url).content.decode()
    assert "Assessment visit (optional)" in page
    assert f'<option value="{own.pk}">{randomized_subject.code}, visit of {date_text(own.visit_date)}</option>' in page
    # Not the visit at the other clinic, not a stranger's, and no patient name.
    assert f'value="{elsewhere.pk}"' not in page and f'value="{theirs.pk}"' not in page
    assert randomized_subject.patient.first_name not in page
    r = client.post(url, {"action": "raise", "subject": randomized_subject.pk, "visit": own.pk,
                          "data_point": "density_per_cm2", "question": "Twice the baseline: please check."})
    assert r.status_code == 302
    query = DataQuery.objects.get()
    assert query.visit == own
    # Audited with its actor, the visit among the recorded fields.
    from auditlog.models import LogEntry

    entry = LogEntry.objects.get_for_object(query).get()
    assert entry.actor == statistician and "visit" in entry.changes_dict
    page = client.get(url).content.decode()
    assert "<th class=\"nowrap\">Visit</th>" in page and date_text(own.visit_date) in page
    # Without a visit, as before.
    assert client.post(url, {"action": "raise", "subject": randomized_subject.pk, "visit": "",
                             "data_point": "sex", "question": "Recorded as M?"}).status_code == 302
    assert DataQuery.objects.filter(visit__isnull=True).count() == 1


@pytest.mark.parametrize("which, status, message", [
    ("theirs", 400, "That assessment visit is not this subject&#x27;s."),
    ("elsewhere", 404, "No such assessment visit at a clinic you work at."),
    ("missing", 404, "No such assessment visit at a clinic you work at."),
    ("junk", 404, "No such assessment visit at a clinic you work at."),
])
def test_the_raise_form_refuses_another_visit_with_a_message_and_writes_nothing(
        randomized_subject, visits, login, statistician, which, status, message):
    from anagen.studies.models import DataQuery

    own, elsewhere, theirs = visits
    value = {"theirs": theirs.pk, "elsewhere": elsewhere.pk, "missing": theirs.pk + 1000, "junk": "x1"}[which]
    r = login(statistician).post(f"/studies/{randomized_subject.study_id}/quality", {
        "action": "raise", "subject": randomized_subject.pk, "visit": value, "data_point": "density_per_cm2",
        "question": "Please check."})
    assert r.status_code == status and message in r.content.decode()
    assert "Traceback" not in r.content.decode()
    assert not DataQuery.objects.exists()


# --- the API ------------------------------------------------------------------------------


def test_the_api_raises_a_query_on_a_visit_and_refuses_others(randomized_subject, visits, api_client, statistician):
    from anagen.studies.models import DataQuery

    own, elsewhere, theirs = visits
    api = api_client(statistician)
    url = f"/api/v1/studies/{randomized_subject.study_id}/queries"

    def post(**extra):
        return api.post(url, json.dumps({"subject_id": randomized_subject.pk, "data_point": "density_per_cm2",
                                         "question": "Please check.", **extra}), content_type="application/json")

    r = post(visit_id=theirs.pk)
    assert r.status_code == 400 and r.json()["detail"] == "That assessment visit is not this subject's."
    for visit_id in (elsewhere.pk, theirs.pk + 1000):
        r = post(visit_id=visit_id)
        assert r.status_code == 404 and "No such assessment visit at a clinic you work at" in r.json()["detail"]
    assert not DataQuery.objects.exists()
    r = post(visit_id=own.pk)
    assert r.status_code == 201
    body = r.json()
    assert body["visit_id"] == own.pk and body["visit_date"] == own.visit_date.isoformat()
    r = post()
    assert r.status_code == 201 and r.json()["visit_id"] is None and r.json()["visit_date"] is None
    listed = {q["id"]: q for q in api.get(url).json()}
    assert listed[body["id"]]["visit_date"] == own.visit_date.isoformat()
    assert DataQuery.objects.count() == 2


# --- the subject page ------------------------------------------------------------------------


@pytest.fixture
def quality_records(randomized_subject, visits, statistician, clinician):
    from anagen.studies import quality_services as q

    own = visits[0]
    query = q.query_raise(actor=statistician, subject=randomized_subject, visit=own, data_point="density_per_cm2",
                          question="Twice the baseline: please check the image.")
    q.query_answer(actor=clinician, query=query, answer="Checked against the chart: correct.")
    q.query_raise(actor=statistician, subject=randomized_subject, data_point="sex", question="Recorded as M?")
    q.sdv_flag(actor=statistician, subject=randomized_subject, data_point="baseline density_per_cm2",
               note="Matches the clinic record.")
    return randomized_subject


@pytest.mark.parametrize("persona", ["statistician", "unblinded_statistician", "clinician", "coordinator",
                                     "pharmacist"])
def test_the_subject_page_lists_the_subjects_queries_and_flags_for_the_team(quality_records, visits, login, persona,
                                                                           request, make_patient, clinic, clinician):
    from anagen.core.dates import date_text
    from anagen.studies import quality_services as q
    from anagen.studies import services

    subject = quality_records
    # Another subject's query is not on this subject's page.
    other = services.subject_enrol(actor=clinician, study=subject.study, patient=make_patient(clinic))
    q.query_raise(actor=request.getfixturevalue("statistician"), subject=other, data_point="someone else's point",
                  question="?")
    r = login(request.getfixturevalue(persona)).get(f"/studies/{subject.study_id}/subjects/{subject.pk}/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "Data queries and source-data verification" in page
    assert "density_per_cm2" in page and date_text(visits[0].visit_date) in page
    assert "Answered" in page and "Open (raised)" in page and "Checked against the chart" in page
    assert "Stan Statistician" in page and "Clara Clinician" in page
    assert "baseline density_per_cm2" in page and "Matches the clinic record." in page
    assert "someone else&#x27;s point" not in page
    assert f'href="/studies/{subject.study_id}/quality"' in page


def test_the_subject_page_section_is_refused_where_the_subject_is(quality_records, login, evaluator, clinician_b,
                                                                  coordinator_b, clinic_b, statistician):
    from anagen.studies.services import member_add

    subject = quality_records
    url = f"/studies/{subject.study_id}/subjects/{subject.pk}/"
    assert login(evaluator).get(url).status_code == 403  # evaluators see no subject records
    assert login(clinician_b).get(url).status_code == 404  # off the team
    # On the team, at the study's other site: the subject is not theirs to see.
    subject.study.sites.add(clinic_b)
    member_add(actor=statistician, study=subject.study, user=coordinator_b, role="coordinator")
    r = login(coordinator_b).get(url)
    assert r.status_code == 404 and "density_per_cm2" not in r.content.decode()


def test_no_section_on_a_screen_failure(recruiting_study, make_patient, clinic, clinician, login, statistician):
    from anagen.studies import services

    failed = services.subject_screen_fail(actor=clinician, study=recruiting_study, patient=make_patient(clinic),
                                          reason="Declined the visits.")
    with pytest.raises(ActionError, match="screen failure"):
        from anagen.studies import quality_services as q

        q.query_raise(actor=statistician, subject=failed, data_point="x", question="y")
    page = login(statistician).get(f"/studies/{recruiting_study.pk}/subjects/{failed.pk}/").content.decode()
    assert "Data queries and source-data verification" not in page


@pytest.mark.parametrize("persona", ["clinician", "statistician"])
def test_queries_and_flags_reveal_no_arm_to_blinded_members(randomized, persona, request, client, api_client,
                                                            statistician, clinician):
    """The subject page with its queries (one on a visit) and flags, the data-quality page and the
    queries API do not change when the subject's arm does (the blinding crawl's check)."""
    from anagen.assessments.services import visit_create
    from anagen.studies import quality_services as q

    study, subject, allocation = randomized
    visit = visit_create(actor=clinician, patient=subject.patient, visit_date=date.today())
    query = q.query_raise(actor=statistician, subject=subject, visit=visit, data_point="density_per_cm2",
                          question="Please check.")
    q.query_answer(actor=clinician, query=query, answer="Correct.")
    q.sdv_flag(actor=statistician, subject=subject, data_point="baseline density_per_cm2")
    user = request.getfixturevalue(persona)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    pages = [f"/studies/{study.pk}/subjects/{subject.pk}/", f"/studies/{study.pk}/quality"]
    found = leaks(client, api_client(user), study, subject, allocation, extra_pages=pages,
                  extra_api=[f"/api/v1/studies/{study.pk}/queries", f"/api/v1/studies/{study.pk}/verifications"],
                  skip=lambda url: url not in pages and "/queries" not in url and "/verifications" not in url)
    assert found == []
    page = client.get(pages[0]).content.decode()
    assert "density_per_cm2" in page and "baseline density_per_cm2" in page


def test_an_evaluator_gets_no_queries_through_the_service_either(randomized_subject, evaluator):
    from anagen.studies import quality_services as q

    with pytest.raises(PermissionDenied):
        q.query_raise(actor=evaluator, subject=randomized_subject, data_point="x", question="y")
