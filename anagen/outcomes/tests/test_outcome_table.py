"""The outcome table across patients, its filters and its CSV."""

import csv
import io
import math

import pytest
from django.urls import reverse

from anagen.evidence import descriptive, visits
from anagen.outcomes import selectors

from . import factories as f

pytestmark = pytest.mark.django_db

A = 0.65  # cm², the target area in every measurement below


@pytest.fixture
def cohort(coordinator, clinician, coordinator_b, clinician_b):
    """Three exosome patients and one PRP patient at Birmingham, one exosome patient at Solihull."""
    p1 = f.make_patient(coordinator=coordinator, clinician=clinician, first="Maya", last="Patel", sex="male",
                        stage=("norwood", "IV"))
    f.measure(clinician=clinician, patient=p1, on=f.day(days=-3), hair_count=80, baseline=True)
    first = f.treat(clinician=clinician, patient=p1, on=f.day(0))
    f.treat(clinician=clinician, patient=p1, on=f.day(4))
    f.adverse_event(clinician=clinician, patient=p1, procedure=first, on=f.day(days=1))
    f.measure(clinician=clinician, patient=p1, on=f.day(4 + 12), hair_count=92, weeks=12)
    f.measure(clinician=clinician, patient=p1, on=f.day(4 + 23), hair_count=99, weeks=23)

    p2 = f.make_patient(coordinator=coordinator, clinician=clinician, first="Ruth", last="Okafor", sex="female",
                        stage=("ludwig", "II"))
    f.measure(clinician=clinician, patient=p2, on=f.day(days=5), hair_count=100, baseline=True)
    f.treat(clinician=clinician, patient=p2, on=f.day(days=7))
    f.adverse_event(clinician=clinician, patient=p2, on=f.day(days=20), serious=True, severity=3)
    # No weeks recorded: 13 weeks after the session, inside week 12's ±2 window.
    f.measure(clinician=clinician, patient=p2, on=f.day(13, days=7), hair_count=110)

    p5 = f.make_patient(coordinator=coordinator, clinician=clinician, first="Tom", last="Reed", sex="male",
                        stage=("norwood", "IV"))
    f.treat(clinician=clinician, patient=p5, on=f.day(days=60))

    p3 = f.make_patient(coordinator=coordinator, clinician=clinician, first="Ali", last="Khan", sex="male",
                        stage=("norwood", "III"))
    f.measure(clinician=clinician, patient=p3, on=f.day(days=-1), hair_count=70, baseline=True)
    f.treat(clinician=clinician, patient=p3, code="prp", on=f.day(0))
    f.measure(clinician=clinician, patient=p3, on=f.day(12), hair_count=77, weeks=12)

    p4 = f.make_patient(coordinator=coordinator_b, clinician=clinician_b, first="Sol", last="Hull", sex="male")
    f.measure(clinician=clinician_b, patient=p4, on=f.day(days=-1), hair_count=50, baseline=True)
    f.treat(clinician=clinician_b, patient=p4, on=f.day(0))
    f.measure(clinician=clinician_b, patient=p4, on=f.day(12), hair_count=150, weeks=12)
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5}


def _rows(user, **filters):
    table = selectors.outcome_table(user=user, filters=selectors.outcome_filters(user=user, **filters))
    return {r.code: r for r in table.rows}


def _week(row, week):
    return next(v for v in row.visits if v.week == week)


def test_every_catalogue_modality_is_listed_even_with_no_patients(cohort, clinician):
    from anagen.treatments.models import Modality

    rows = _rows(clinician)
    assert set(rows) == set(Modality.objects.values_list("code", flat=True))
    assert rows["hfsc_micrograft"].treated == 0
    assert all(v.followed_up == 0 and v.density_change.n == 0 for v in rows["hfsc_micrograft"].visits)
    assert rows["hfsc_micrograft"].adverse_events.rate is None


def test_counts_treated_followed_up_and_mean_change_with_its_t_interval(cohort, clinician):
    exo = _rows(clinician)["exosomes"]
    assert exo.treated == 3  # Solihull's patient is not counted
    w12 = _week(exo, 12)
    assert w12.followed_up == 2
    changes = [(92 - 80) / A, (110 - 100) / A]
    assert w12.density_change.n == 2
    assert w12.density_change.mean == pytest.approx(sum(changes) / 2)
    expected = descriptive.mean_ci(changes)
    half = 12.706204736174707 * abs(changes[0] - changes[1]) / math.sqrt(2) / math.sqrt(2)  # t(0.975, 1) s/√n
    assert w12.density_change.lower == pytest.approx(expected.lower)
    assert w12.density_change.half_width == pytest.approx(half)
    w23 = _week(exo, 23)
    assert w23.followed_up == 1 and w23.density_change.n == 1
    assert w23.density_change.lower is None and "fewer than two" in w23.density_change.reason
    assert _week(exo, 4).followed_up == 0


def test_adverse_event_rate_with_wilson_interval_and_serious_count(cohort, clinician):
    exo = _rows(clinician)["exosomes"]
    assert exo.adverse_events.events == 2 and exo.adverse_events.n == 3
    lo, hi = descriptive.wilson_interval(2, 3)
    assert exo.adverse_events.lower == pytest.approx(lo) and exo.adverse_events.upper == pytest.approx(hi)
    assert exo.serious_adverse_events == 1
    assert _rows(clinician)["prp"].adverse_events.events == 0


def test_filter_by_sex(cohort, clinician):
    exo = _rows(clinician, sex="female")["exosomes"]
    assert exo.treated == 1 and _week(exo, 12).density_change.mean == pytest.approx(10 / A)


def test_filter_by_stage(cohort, clinician):
    rows = _rows(clinician, scale="norwood", stage="IV")
    assert rows["exosomes"].treated == 2
    assert rows["prp"].treated == 0
    assert _rows(clinician, scale="norwood")["prp"].treated == 1


def test_filter_by_period_of_treatment(cohort, clinician):
    rows = _rows(clinician, date_to=f.day(days=1).isoformat())
    assert rows["exosomes"].treated == 1 and rows["prp"].treated == 1
    assert _rows(clinician, date_from=f.day(days=6), date_to=f.day(days=8))["exosomes"].treated == 1


def test_filter_by_one_of_the_users_clinics(cohort, clinician, clinic):
    assert _rows(clinician, clinic=clinic.pk)["exosomes"].treated == 3


def test_another_clinic_as_a_filter_is_404(cohort, clinician, clinic_b, login):
    r = login(clinician).get(reverse("outcomes:table"), {"clinic": clinic_b.pk})
    assert r.status_code == 404


def test_bad_filters_get_a_message_not_a_500(cohort, clinician, login):
    c = login(clinician)
    r = c.get(reverse("outcomes:table"), {"from": "31/12/2024"})
    assert r.status_code == 400 and "use YYYY-MM-DD" in r.content.decode()
    r = c.get(reverse("outcomes:table"), {"stage": "IV"})
    assert r.status_code == 400 and "scale" in r.content.decode()
    r = c.get(reverse("outcomes:table"), {"from": "2025-05-01", "to": "2025-01-01"})
    assert r.status_code == 400 and "swap the dates" in r.content.decode()
    r = c.get(reverse("outcomes:table_csv"), {"sex": "robot"})
    assert r.status_code == 400


def test_table_page_shows_the_numbers_the_windows_and_no_patient_identity(cohort, statistician, login):
    r = login(statistician).get(reverse("outcomes:table"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Exosome product" in html and "Hair-follicle stem-cell micrograft" in html
    assert f"+{(22 / A) / 2:.1f} hairs/cm²" in html  # mean change at week 12
    assert "no CI: n&lt;2" in html
    assert "±2 weeks" in html and "±4 weeks" in html
    assert "2/3 (66.7 %)" in html
    for p in cohort.values():
        assert p.last_name not in html and p.patient_number not in html


def test_csv_has_the_same_rows_and_no_patient_identity(cohort, clinician, login):
    from anagen.treatments.models import Modality

    r = login(clinician).get(reverse("outcomes:table_csv"), {"sex": "male"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"].startswith("attachment;")
    body = r.content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == Modality.objects.count() * len(visits.DEFAULT_VISIT_WEEKS)
    exo12 = next(x for x in rows if x["modality_code"] == "exosomes" and x["visit_week"] == "12")
    assert exo12["patients_treated"] == "2" and exo12["followed_up"] == "1" and exo12["density_change_n"] == "1"
    assert exo12["density_change_ci95_lower"] == "" and "fewer than two" in exo12["ci_note"]
    assert exo12["visit_window_weeks"] == "2"
    for p in cohort.values():
        assert p.last_name not in body and p.patient_number not in body


@pytest.mark.parametrize("persona", ["clinician", "admin_user", "statistician"])
def test_clinicians_admins_and_statisticians_see_the_table(persona, cohort, login, request):
    c = login(request.getfixturevalue(persona))
    assert c.get(reverse("outcomes:table")).status_code == 200
    assert c.get(reverse("outcomes:table_csv")).status_code == 200


@pytest.mark.parametrize("persona", ["coordinator", "evaluator", "lab_scientist", "stranger"])
def test_other_roles_are_refused_the_table(persona, login, request):
    c = login(request.getfixturevalue(persona))
    assert c.get(reverse("outcomes:table")).status_code == 403
    assert c.get(reverse("outcomes:table_csv")).status_code == 403


def test_each_clinic_counts_only_its_own_patients(cohort, clinician_b):
    exo = _rows(clinician_b)["exosomes"]
    assert exo.treated == 1
    assert _week(exo, 12).density_change.mean == pytest.approx(100 / A)


def test_outcomes_is_in_the_menu_for_the_roles_that_see_it(statistician, coordinator, login, client):
    html = login(statistician).get(reverse("outcomes:table")).content.decode()
    assert f'href="{reverse("outcomes:table")}">Outcomes</a>' in html
    client.logout()
    page = login(coordinator).get(reverse("patients:list")).content.decode()
    assert ">Outcomes</a>" not in page
