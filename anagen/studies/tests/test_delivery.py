"""Treatment and placebo delivery (issue item 5): the unblinded preparer fills and labels the
syringes from the allocation, the blinded injector records each labelled syringe through the
clinic's procedure record, and nobody else learns which side got which product."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.studies import blinding, delivery, services
from anagen.studies.randomization import subject_randomize

from . import delivery_fixtures as fx
from .conftest import PASSWORD, sign_off

pytestmark = pytest.mark.django_db


def _randomized(team, statistician, clinician, clinic, make_patient, design="split_scalp"):
    if design == "split_scalp":
        services.study_update(actor=statistician, study=team, design="split_scalp")
    study = sign_off(team, statistician, clinician)
    subject = services.subject_enrol(actor=clinician, study=study, patient=make_patient(clinic))
    subject_randomize(actor=clinician, subject=subject)
    subject.refresh_from_db()
    fx.treatment_consent(subject.patient, clinician)
    return study, subject


@pytest.fixture
def split(team, statistician, clinician, clinic, make_patient, pharmacist, admin_user):
    study, subject = _randomized(team, statistician, clinician, clinic, make_patient)
    lots = fx.study_lots(study, pharmacist=pharmacist, receiver=admin_user, clinic=clinic)
    return study, subject, lots


@pytest.fixture
def parallel(team, statistician, clinician, clinic, make_patient, pharmacist, admin_user):
    study, subject = _randomized(team, statistician, clinician, clinic, make_patient, design="parallel")
    lots = fx.study_lots(study, pharmacist=pharmacist, receiver=admin_user, clinic=clinic)
    return study, subject, lots


def test_the_preparer_fills_each_side_from_the_allocation_and_labels_it_without_the_product(split, pharmacist):
    study, subject, lots = split
    prep = fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    syringes = {s.side: s for s in prep.syringes.all()}
    active_side = subject.allocation.arm_code
    other = "R" if active_side == "L" else "L"
    assert syringes[active_side].lot == lots["active"] and not syringes[active_side].arm.is_placebo
    assert syringes[other].lot == lots["placebo"] and syringes[other].arm.is_placebo
    assert {s.label for s in syringes.values()} == {"study product, side L", "study product, side R"}
    entries = list(LogEntry.objects.get_for_objects(prep.syringes.all())) + list(LogEntry.objects.get_for_object(prep))
    assert entries and all(e.actor == pharmacist for e in entries)
    logged = " ".join(str(e.changes) for e in entries)
    for secret in (*fx.SECRETS, "arm", str(lots["active"].pk), str(lots["placebo"].pk)):
        assert f'"{secret}"' not in logged, secret


def test_a_lot_of_the_other_arm_is_refused_with_what_to_choose(split, pharmacist):
    study, subject, lots = split
    side = subject.allocation.arm_code  # this side gets the active product
    other = "R" if side == "L" else "L"
    with pytest.raises(ActionError) as exc:
        delivery.preparation_record(actor=pharmacist, subject=subject, visit_code="baseline", modality="exosomes",
                                    syringes={side: (lots["placebo"], 4), other: (lots["placebo"], 4)})
    assert exc.value.code == "wrong_arm" and "choose a lot of" in exc.value.message
    assert exc.value.message.startswith(f"Side {side} gets")
    assert not subject.preparations.exists()


def test_the_blinded_injector_records_each_side_through_the_procedure_record(split, pharmacist, clinician):
    from anagen.treatments.models import Lot, Procedure

    study, subject, lots = split
    fx.prepare(subject, pharmacist=pharmacist, lots=lots, quantity=Decimal("3.5"))
    procedures = fx.inject_all(subject, injector=clinician)
    assert len(procedures) == 2 and Procedure.objects.filter(patient=subject.patient).count() == 2
    for p in procedures:
        syringe = p.study_syringe
        (use,) = p.product_uses.all()
        assert use.lot == syringe.lot and use.quantity == Decimal("3.5")
        assert syringe.injected_by == clinician and p.clinician == clinician
        assert syringe.label in p.notes and subject.code in p.notes
        assert LogEntry.objects.get_for_object(p).get().actor == clinician
    for lot in lots.values():
        assert Lot.objects.get(pk=lot.pk).quantity_on_hand == Decimal("96.5")
    with pytest.raises(Conflict) as exc:
        delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side="L",
                                  zones={"frontal": 1})
    assert exc.value.code == "already_injected"


def test_study_product_is_not_a_treatment_session_in_the_clinics_outcome_table(parallel, pharmacist, clinician,
                                                                               settings):
    from anagen.outcomes import selectors as outcomes
    from anagen.treatments.models import Modality

    settings.ANAGEN_OUTCOMES_MIN_CELL = 1  # no small-cell suppression: the count itself is checked

    study, subject, lots = parallel
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    (procedure,) = fx.inject_all(subject, injector=clinician)
    assert procedure.modality == Modality.objects.get(code="exosomes")
    table = outcomes.outcome_table(user=clinician, filters=outcomes.outcome_filters(user=clinician))
    exo = next(r for r in table.rows if r.code == "exosomes")
    assert exo.treated == 0  # active or placebo is the study's to analyse, not the clinic's
    assert any("blinded study" in note for note in table.counting_notes)


def test_what_each_member_sees_of_a_syringe(split, pharmacist, clinician, statistician):
    study, subject, lots = split
    prep = fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    for syringe in prep.syringes.all():
        for user in (clinician, statistician):
            view = blinding.syringe_view(user, syringe).as_dict()
            assert view["blinded"] and "arm" not in view and "lot" not in view
            assert not any(s in str(view) for s in fx.SECRETS)
        seen = blinding.syringe_view(pharmacist, syringe)
        assert seen.visible and syringe.lot.lot_number in seen.lot


def test_parallel_study_one_syringe_and_no_sides(parallel, pharmacist, clinician):
    study, subject, lots = parallel
    with pytest.raises(ActionError) as exc:
        delivery.preparation_record(actor=pharmacist, subject=subject, visit_code="baseline", modality="exosomes",
                                    syringes={"L": (lots["active"], 4)})
    assert exc.value.code == "no_such_side" and "parallel-group" in exc.value.message
    prep = fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    (syringe,) = prep.syringes.all()
    assert syringe.label == "study product" and syringe.arm.code == subject.allocation.arm_code
    with pytest.raises(ActionError) as exc:
        delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side="R",
                                  zones={"vertex": 2})
    assert exc.value.code == "no_such_side"
    (procedure,) = fx.inject_all(subject, injector=clinician)
    assert procedure.product_uses.get().lot == syringe.lot


def test_refusals_not_randomized_not_prepared_twice_and_bad_input(split, pharmacist, clinician, clinic,
                                                                   make_patient):
    study, subject, lots = split
    enrolled = services.subject_enrol(actor=clinician, study=study, patient=make_patient(clinic))
    with pytest.raises(Conflict) as exc:
        delivery.preparation_record(actor=pharmacist, subject=enrolled, visit_code="baseline", modality="exosomes",
                                    syringes={"L": (lots["active"], 4), "R": (lots["placebo"], 4)})
    assert exc.value.code == "not_randomized"
    with pytest.raises(Conflict) as exc:
        delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side="L", zones={})
    assert exc.value.code == "not_prepared"
    with pytest.raises(ActionError) as exc:
        fx.prepare(subject, pharmacist=pharmacist, lots=lots, visit_code="week99")
    assert "visit of the protocol" in exc.value.message
    with pytest.raises(ActionError) as exc:
        fx.prepare(subject, pharmacist=pharmacist, lots=lots, quantity="lots")
    assert "volume" in exc.value.message
    with pytest.raises(ActionError) as exc:
        delivery.preparation_record(actor=pharmacist, subject=subject, visit_code="baseline",
                                    modality="hfsc_micrograft", syringes={})
    assert exc.value.code == "required" and "side L and side R" in exc.value.message
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    with pytest.raises(Conflict) as exc:
        fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    assert exc.value.code == "already_prepared"
    with pytest.raises(ActionError) as exc:
        delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side="X", zones={})
    assert exc.value.code == "no_such_side"
    assert subject.preparations.count() == 1


def test_nothing_is_prepared_or_given_after_the_lock(split, pharmacist, clinician, statistician):
    from anagen.studies.lock import StudyLocked, study_lock

    study, subject, lots = split
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    study_lock(actor=statistician, study=study, password=PASSWORD)
    with pytest.raises(StudyLocked):
        delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side="L",
                                  zones={"frontal": 1})
    with pytest.raises(StudyLocked):
        fx.prepare(subject, pharmacist=pharmacist, lots=lots, visit_code="w4")
    assert not subject.preparations.filter(syringes__procedure__isnull=False).exists()


def test_who_may_prepare_and_who_may_inject(split, pharmacist, clinician, statistician, evaluator, clinician_b,
                                            stranger):
    study, subject, lots = split
    for person in (clinician, statistician, evaluator):  # blinded members: never the preparer
        with pytest.raises(PermissionDenied):
            fx.prepare(subject, pharmacist=person, lots=lots)
    for person in (clinician_b, stranger):
        with pytest.raises(NotFound):
            fx.prepare(subject, pharmacist=person, lots=lots)
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    for person in (pharmacist, statistician, evaluator):
        with pytest.raises(PermissionDenied):
            fx.inject_all(subject, injector=person)
    for person in (clinician_b, stranger):
        with pytest.raises(NotFound):
            fx.inject_all(subject, injector=person)
    assert not subject.preparations.get().syringes.filter(procedure__isnull=False).exists()


def test_a_syringe_that_can_no_longer_be_given_is_refused_without_naming_its_product(split, pharmacist, clinician,
                                                                                  admin_user):
    from anagen.treatments.services import lot_recall

    study, subject, lots = split
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    lot_recall(actor=admin_user, lot=lots["placebo"], reason="Sterility failure reported by the manufacturer.")
    placebo_side = "R" if subject.allocation.arm_code == "L" else "L"
    with pytest.raises(ActionError) as exc:
        delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side=placebo_side,
                                  zones={"frontal": 2})
    assert exc.value.code == "syringe_unusable"
    # The same words whatever the reason, and never the product, the lot or the recall's reason.
    assert "no longer usable (expired, recalled or out of stock)" in exc.value.message
    assert not any(s in exc.value.message for s in (*fx.SECRETS, "Sterility"))


def test_study_lots_are_hidden_from_the_stock_and_the_recall_search_of_blinded_users(split, pharmacist, clinician,
                                                                                    admin_user):
    from anagen.treatments import selectors as tx

    study, subject, lots = split
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    fx.inject_all(subject, injector=clinician)
    for user in (clinician, admin_user):
        assert not tx.lot_list(user=user).filter(pk__in=[lot.pk for lot in lots.values()]).exists()
        for number in (fx.ACTIVE_LOT, fx.PLACEBO_LOT):
            assert not tx.lot_recipients(user=user, lot_number=number).exists()
        for p in tx.procedure_list(user=user, patient=subject.patient):
            assert list(p.product_uses.all()) == []
    # The unblinded pharmacist (a coordinator) finds the recipients of a recalled study lot.
    found = tx.lot_recipients(user=pharmacist, lot_number=fx.PLACEBO_LOT)
    assert [u.procedure.patient_id for u in found] == [subject.patient_id]


def test_pages_preparer_injector_and_the_rest(split, pharmacist, clinician, evaluator, statistician, clinician_b,
                                              stranger, client):
    study, subject, lots = split
    url = f"/studies/{study.pk}/subjects/{subject.pk}/treatment"
    client.force_login(pharmacist, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(f"/studies/{study.pk}/lots").status_code == 200
    page = client.get(url).content.decode()
    assert "Prepare and label" in page and fx.ACTIVE_LOT in page
    active_side = subject.allocation.arm_code
    other = "R" if active_side == "L" else "L"
    data = {"prep-visit_code": "baseline", "prep-modality": _modality_pk(),
            f"prep-lot_{active_side}": _study_lot_pk(lots["active"]), f"prep-quantity_{active_side}": "4",
            f"prep-lot_{other}": _study_lot_pk(lots["placebo"]), f"prep-quantity_{other}": "abc"}
    r = client.post(url + "/prepare", data)
    assert r.status_code == 400 and b"Enter a number" in r.content
    data[f"prep-quantity_{other}"] = "4"
    assert client.post(url + "/prepare", data).status_code == 302
    assert client.post(url + "/inject", {"visit_code": "baseline", "side": "L"}).status_code == 403

    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(f"/studies/{study.pk}/lots").status_code == 403
    assert client.post(url + "/prepare", data).status_code == 403
    page = client.get(url).content.decode()
    assert "study product, side L" in page and not any(s in page for s in fx.SECRETS)
    r = client.post(url + "/inject", {"visit_code": "baseline", "side": "L", "inject_L-performed_on": "2001-01-01",
                                      "inject_L-anaesthesia": "none", "inject_L-zone_frontal": "2"})
    assert r.status_code == 400 and b"before" in r.content and b"randomized" in r.content
    from django.utils import timezone

    r = client.post(url + "/inject", {"visit_code": "baseline", "side": "L",
                                      "inject_L-performed_on": timezone.localdate().isoformat(),
                                      "inject_L-anaesthesia": "none", "inject_L-zone_frontal": "2"})
    assert r.status_code == 302
    syringe = subject.preparations.get().syringes.get(side="L")
    detail = client.get(f"/treatments/procedures/{syringe.procedure_id}/").content.decode()
    assert "study product, side L" in detail and "blinded" in detail
    assert not any(s in detail for s in fx.SECRETS)

    client.force_login(evaluator, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(url).status_code == 403
    client.force_login(statistician, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(url).status_code == 200
    assert client.post(url + "/prepare", data).status_code == 403
    for person in (clinician_b, stranger):
        client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
        assert client.get(url).status_code in (403, 404)
        assert client.get(f"/studies/{study.pk}/lots").status_code in (403, 404)


def _modality_pk():
    from anagen.treatments.models import Modality

    return Modality.objects.get(code="exosomes").pk


def _study_lot_pk(lot):
    from anagen.studies.models import StudyLot

    return StudyLot.objects.get(lot=lot).pk


def test_the_api_routes_go_through_the_same_services(split, pharmacist, clinician, api_client):
    study, subject, lots = split
    base = f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/treatment"
    active_side = subject.allocation.arm_code
    other = "R" if active_side == "L" else "L"
    body = {"visit_code": "baseline", "modality": "exosomes",
            "syringes": [{"side": active_side, "lot_id": lots["active"].pk, "quantity_ml": "4"},
                         {"side": other, "lot_id": lots["placebo"].pk, "quantity_ml": "4"}]}
    blind = api_client(clinician)
    r = blind.post(base + "/preparations", body, content_type="application/json")
    assert r.status_code == 403
    r = api_client(pharmacist).post(base + "/preparations", body, content_type="application/json")
    assert r.status_code == 201 and {s["label"] for s in r.json()} == {"study product, side L", "study product, side R"}
    assert all(s["lot"] and s["arm"] for s in r.json())
    r = blind.get(base)
    assert r.status_code == 200 and all(s["blinded"] and "lot" not in s and "arm" not in s for s in r.json())
    assert not any(s in r.content.decode() for s in fx.SECRETS)
    r = blind.post(base + "/injections", {"visit_code": "baseline", "side": "L", "zones": {"frontal": 2}},
                   content_type="application/json")
    assert r.status_code == 201 and r.json()["procedure_id"] and r.json()["blinded"]
    r = blind.get(f"/api/v1/treatments/procedures/{r.json()['procedure_id']}")
    assert r.json()["products"] == [] and "study product, side L" in r.json()["study_product"]
    assert not any(s in r.content.decode() for s in fx.SECRETS)
    r = blind.post(base + "/injections", {"visit_code": "baseline", "side": "L", "zones": {"frontal": 2}},
                   content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "already_injected"
    r = api_client(pharmacist).get(f"/api/v1/studies/{study.pk}/lots")
    assert r.status_code == 200 and len(r.json()) == 2
    assert blind.get(f"/api/v1/studies/{study.pk}/lots").status_code == 403


def test_the_api_refuses_a_side_a_parallel_study_does_not_have(parallel, pharmacist, api_client):
    pstudy, psubject, plots = parallel
    r = api_client(pharmacist).post(
        f"/api/v1/studies/{pstudy.pk}/subjects/{psubject.pk}/treatment/preparations",
        {"visit_code": "baseline", "modality": "exosomes",
         "syringes": [{"side": "L", "lot_id": plots["active"].pk, "quantity_ml": "4"}]}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "no_such_side"
    r = api_client(pharmacist).post(
        f"/api/v1/studies/{pstudy.pk}/subjects/{psubject.pk}/treatment/preparations",
        {"visit_code": "baseline", "modality": "exosomes", "syringes": [{"lot_id": 1, "quantity_ml": "x"}]},
        content_type="application/json")
    assert r.status_code in (400, 422)
