"""Study visits against the protocol's windows, and protocol deviations (found and reported)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from anagen.core.errors import ActionError
from anagen.studies import deviations
from anagen.studies.models import Deviation
from anagen.studies.randomization import subject_randomize
from anagen.studies.schedule import match_visits, visit_windows

pytestmark = pytest.mark.django_db

VISITS = [{"code": "baseline", "label": "Baseline", "week": 0, "window_days": 0},
          {"code": "w4", "label": "Week 4", "week": 4, "window_days": 7},
          {"code": "w12", "label": "Week 12", "week": 12, "window_days": 7}]


# --- pure matching ---------------------------------------------------------------------------------

def test_held_visits_go_to_the_nearest_protocol_visit_and_out_of_window_ones_are_deviations():
    anchor = date(2026, 1, 5)
    ws = visit_windows(VISITS, anchor)
    states = match_visits(ws, [("b", anchor), ("late4", anchor + timedelta(days=28 + 10))],
                          today=anchor + timedelta(weeks=14))
    assert [s.state for s in states] == ["done", "out_of_window", "missed"]
    assert states[1].held_key == "late4" and states[1].timing == "late"


def test_a_second_visit_near_the_same_target_is_an_extra_visit_not_a_deviation():
    anchor = date(2026, 1, 5)
    ws = visit_windows(VISITS, anchor)
    w4 = anchor + timedelta(weeks=4)
    states = match_visits(ws, [("b", anchor), ("x", w4 + timedelta(days=6)), ("y", w4 + timedelta(days=1))],
                          today=w4 + timedelta(days=20))
    assert states[1].held_key == "y" and states[1].state == "done"
    assert states[2].state == "upcoming"


def test_windows_after_the_end_of_participation_are_not_expected():
    anchor = date(2026, 1, 5)
    states = match_visits(visit_windows(VISITS, anchor), [("b", anchor)], today=anchor + timedelta(weeks=20),
                          ended_on=anchor + timedelta(days=10))
    assert [s.state for s in states] == ["done", "not_expected", "not_expected"]


# --- with the records --------------------------------------------------------------------------------

@pytest.fixture
def randomized(subject, recruiting_study, clinician):
    subject_randomize(actor=clinician, subject=subject)
    subject.refresh_from_db()
    # The schedule comes from the protocol version the subject was enrolled under.
    subject.protocol_version.content = {**subject.protocol_version.content, "visits": VISITS}
    type(subject.protocol_version).objects.filter(pk=subject.protocol_version.pk).update(
        content=subject.protocol_version.content)
    return subject


def _visit(subject, on, clinician):
    from anagen.assessments.models import AssessmentVisit

    return AssessmentVisit.objects.create(patient=subject.patient, clinic=subject.site, visit_date=on,
                                          performed_by=clinician)


def _anchor(subject):
    return timezone.localtime(subject.allocation.randomized_at).date()


def test_refresh_records_missed_and_late_visits_once_and_closes_what_no_longer_applies(randomized, clinician,
                                                                                          statistician):
    anchor = _anchor(randomized)
    _visit(randomized, anchor, clinician)
    late = _visit(randomized, anchor + timedelta(days=28 + 9), clinician)
    today = anchor + timedelta(weeks=14)

    assert deviations.deviations_refresh(actor=statistician, study=randomized.study, today=today) == (2, 0)
    found = {(d.category, d.visit_code) for d in Deviation.objects.filter(subject=randomized)}
    assert found == {("visit_out_of_window", "w4"), ("missed_visit", "w12")}
    assert deviations.deviations_refresh(actor=statistician, study=randomized.study, today=today) == (0, 0)

    # The week-12 visit is held after all (late): the missed-visit deviation closes, a late one opens.
    _visit(randomized, anchor + timedelta(weeks=12, days=8), clinician)
    late.delete()
    _visit(randomized, anchor + timedelta(weeks=4), clinician)
    assert deviations.deviations_refresh(actor=statistician, study=randomized.study, today=today) == (1, 2)
    open_ = {(d.category, d.visit_code) for d in Deviation.objects.filter(subject=randomized, closed_at__isnull=True)}
    assert open_ == {("visit_out_of_window", "w12")}
    closed = Deviation.objects.get(subject=randomized, category="missed_visit")
    assert closed.closing_note == "No longer found in the visit records." and closed.closed_by == statistician


def test_a_reported_wrong_treatment_that_reveals_the_arm_is_masked_for_blinded_members(randomized, pharmacist,
                                                                                        clinician, login):
    d = deviations.deviation_report(actor=pharmacist, subject=randomized, category="wrong_treatment",
                                    description="Active syringe given on the placebo side.",
                                    reveals_allocation=True)
    assert deviations.description_for(pharmacist, d) == "Active syringe given on the placebo side."
    assert deviations.description_for(clinician, d) == deviations.MASKED
    client = login(clinician)
    for url in (reverse("studies:deviations", kwargs={"pk": randomized.study.pk}),
                reverse("studies:subject", kwargs={"pk": randomized.study.pk, "subject_pk": randomized.pk}),
                f"/api/v1/studies/{randomized.study.pk}/deviations"):
        body = client.get(url).content.decode()
        assert "placebo side" not in body and "Active syringe" not in body
        assert "unblinded team" in body


def test_reports_need_a_category_a_description_and_a_team_role(randomized, pharmacist, evaluator):
    with pytest.raises(ActionError, match="found from the records"):
        deviations.deviation_report(actor=pharmacist, subject=randomized, category="missed_visit", description="x")
    with pytest.raises(ActionError, match="Describe"):
        deviations.deviation_report(actor=pharmacist, subject=randomized, category="other", description="  ")
    with pytest.raises(ActionError, match="No visit"):
        deviations.deviation_report(actor=pharmacist, subject=randomized, category="other", description="x",
                                    visit_code="w99")
    with pytest.raises((ActionError, PermissionDenied)):
        deviations.deviation_report(actor=evaluator, subject=randomized, category="other", description="x")
    assert not Deviation.objects.exists()


def test_closing_needs_a_note_and_a_closing_role(randomized, pharmacist, clinician):
    d = deviations.deviation_report(actor=pharmacist, subject=randomized, category="procedure",
                                    description="Injected 0.5 ml less than the protocol says.")
    with pytest.raises((ActionError, PermissionDenied)):
        deviations.deviation_close(actor=pharmacist, deviation=d, note="done")
    with pytest.raises(ActionError, match="how the deviation was handled"):
        deviations.deviation_close(actor=clinician, deviation=d, note="")
    deviations.deviation_close(actor=clinician, deviation=d, note="Analysed per protocol; injector retrained.")
    d.refresh_from_db()
    assert not d.is_open and d.closed_by == clinician
    with pytest.raises(ActionError, match="already closed"):
        deviations.deviation_close(actor=clinician, deviation=d, note="again")


def test_the_dashboard_lists_due_overdue_and_missing_data_and_the_subject_page_offers_booking(
        randomized, clinician, coordinator, login):
    anchor = _anchor(randomized)
    _visit(randomized, anchor, clinician)  # held, but no measurement
    client = login(clinician)
    page = client.get(reverse("studies:dashboard", kwargs={"pk": randomized.study.pk})).content.decode()
    assert "held without a usable measurement" in page and randomized.code in page
    subject_page = client.get(reverse("studies:subject", kwargs={"pk": randomized.study.pk,
                                                                 "subject_pk": randomized.pk})).content.decode()
    assert "no measurement" in subject_page
    target = (anchor + timedelta(weeks=4)).isoformat()
    assert f"starts_at={target}T09:00" in subject_page


def test_the_visits_api_says_where_each_protocol_visit_stands(randomized, clinician, login):
    _visit(randomized, _anchor(randomized), clinician)
    client = login(clinician)
    rows = client.get(f"/api/v1/studies/{randomized.study.pk}/subjects/{randomized.pk}/visits").json()
    assert [r["code"] for r in rows] == ["baseline", "w4", "w12"]
    assert rows[0]["state"] == "done" and rows[1]["state"] == "upcoming"


def test_a_stranger_or_an_evaluator_gets_no_deviations(randomized, evaluator, stranger, login):
    for user, codes in ((evaluator, {403, 404}), (stranger, {403, 404})):
        client = login(user)
        assert client.get(reverse("studies:deviations", kwargs={"pk": randomized.study.pk})).status_code in codes
        assert client.get(f"/api/v1/studies/{randomized.study.pk}/deviations").status_code in codes


def test_the_nightly_check_finds_deviations_without_an_actor(randomized, clinician):
    anchor = _anchor(randomized)
    _visit(randomized, anchor, clinician)
    assert deviations.refresh_all_studies(today=anchor + timedelta(weeks=14)) == "2 deviation(s) found, 0 no longer found"
    assert set(Deviation.objects.values_list("reported_by", flat=True)) == {None}


def test_a_locked_study_takes_no_new_deviation_and_the_results_list_those_on_file(randomized_subject, statistician,
                                                                                   clinician):
    from anagen.studies.datasets import build
    from anagen.studies.lock import study_lock
    from conftest import PASSWORD

    deviations.deviation_report(actor=clinician, subject=randomized_subject, category="procedure",
                                description="Half the dose on the left side.")
    study_lock(actor=statistician, study=randomized_subject.study, password=PASSWORD)
    with pytest.raises(ActionError, match="locked"):
        deviations.deviation_report(actor=clinician, subject=randomized_subject, category="other", description="x")
    assert deviations.deviations_refresh(actor=None, study=randomized_subject.study,
                                         today=date.today() + timedelta(weeks=30)) == (0, 0)
    from anagen.studies.analysis_services import listing

    rows = listing(build(randomized_subject.study))
    assert {"subject": randomized_subject.code, "kind": "Protocol deviation: Procedure not per protocol",
            "detail": "Half the dose on the left side."} in rows
