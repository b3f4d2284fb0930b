"""Study product that is the patient's own material (a split-scalp micrograft study): the active
syringe is filled from the subject's released sample, the placebo syringe from a saline lot; the
blinded injector gives both through the procedure record, and the sample's chain of custody ends
"implanted" without anything that tells the two sides apart."""

from __future__ import annotations

import pytest

from anagen.core.errors import ActionError, Conflict
from anagen.studies import blinding, delivery
from anagen.treatments import services as tx
from anagen.treatments.models import AutologousSample, CustodyEvent, Procedure

from . import delivery_fixtures as fx
from .test_blinding import leaks
from .test_delivery import _randomized

pytestmark = pytest.mark.django_db


@pytest.fixture
def micrograft(team, statistician, clinician, clinic, make_patient, pharmacist, admin_user, lab_scientist):
    study, subject = _randomized(team, statistician, clinician, clinic, make_patient)
    lots = fx.study_lots(study, pharmacist=pharmacist, receiver=admin_user, clinic=clinic)
    sample = fx.released_sample(subject.patient, clinician=clinician, lab=lab_scientist)
    return study, subject, lots, sample


def _sides(subject):
    active = subject.allocation.arm_code
    return active, ("R" if active == "L" else "L")


def test_the_active_side_is_filled_from_the_subjects_own_sample_and_the_other_from_saline(micrograft, pharmacist):
    study, subject, lots, sample = micrograft
    prep = fx.prepare_autologous(subject, pharmacist=pharmacist, lots=lots, sample=sample)
    active, placebo = _sides(subject)
    syringes = {s.side: s for s in prep.syringes.all()}
    assert syringes[active].sample == sample and syringes[active].lot is None
    assert not syringes[active].arm.is_placebo
    assert syringes[placebo].lot == lots["placebo"] and syringes[placebo].sample is None
    assert syringes[placebo].arm.is_placebo
    assert {s.label for s in syringes.values()} == {"study product, side L", "study product, side R"}
    seen = blinding.syringe_view(pharmacist, syringes[active])
    assert seen.visible and sample.code in seen.lot and "punch biopsies" in seen.lot


def test_wrong_fillings_are_refused_with_what_to_do(micrograft, pharmacist, clinician, lab_scientist, clinic,
                                                    make_patient):
    study, subject, lots, sample = micrograft
    active, placebo = _sides(subject)

    def prepare(syringes, modality="hfsc_micrograft"):
        with pytest.raises((ActionError, Conflict)) as exc:
            delivery.preparation_record(actor=pharmacist, subject=subject, visit_code="baseline", modality=modality,
                                        syringes=syringes)
        assert not subject.preparations.exists()
        return exc.value

    e = prepare({active: (lots["active"], 4), placebo: (lots["placebo"], 4)})
    assert e.code == "sample_required" and "own punch biopsies" in e.message and e.message.startswith(f"Side {active}")
    e = prepare({active: (lots["placebo"], 4), placebo: (sample, 4)})
    assert e.code in ("wrong_arm", "sample_required")
    e = prepare({active: (sample, 4), placebo: (sample, 4)})
    assert e.code == "wrong_arm" and "never from the subject's sample" in e.message
    e = prepare({active: (sample, 4), placebo: (lots["placebo"], 4)}, modality="exosomes")
    assert "uses no autologous sample" in e.message
    someone_else = make_patient(clinic)
    fx.treatment_consent(someone_else, clinician)
    theirs = fx.released_sample(someone_else, clinician=clinician, lab=lab_scientist)
    e = prepare({active: (theirs, 4), placebo: (lots["placebo"], 4)})
    assert e.code == "sample_refused" and "another patient" in e.message
    fresh = tx.sample_harvest(actor=clinician, patient=subject.patient, kind="biopsy", biopsy_count=3,
                              biopsy_diameter_mm="2")
    e = prepare({active: (fresh, 4), placebo: (lots["placebo"], 4)})
    assert e.code == "sample_refused" and "released" in e.message


def test_both_sides_are_given_blind_and_the_sample_is_implanted_once_both_are(micrograft, pharmacist, clinician):
    from anagen.treatments.models import Lot

    study, subject, lots, sample = micrograft
    fx.prepare_autologous(subject, pharmacist=pharmacist, lots=lots, sample=sample, quantity=3)
    active, placebo = _sides(subject)
    first = delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side=active,
                                      zones={"frontal": 3})
    sample.refresh_from_db()
    assert sample.status == "released"  # not yet: the time would tell which side held it
    assert not first.product_uses.exists() and first.sample is None
    second = delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side=placebo,
                                       zones={"frontal": 3})
    assert second.sample is None and second.product_uses.get().lot == lots["placebo"]
    assert Lot.objects.get(pk=lots["placebo"].pk).quantity_on_hand == 97
    sample.refresh_from_db()
    assert sample.status == "implanted"
    event = CustodyEvent.objects.get(sample=sample, step="implanted")
    assert event.by == clinician and event.details == {"study": study.pk, "subject": subject.code, "visit": "baseline"}
    assert "side" not in event.notes.replace("every syringe", "")
    assert Procedure.objects.filter(patient=subject.patient, sample__isnull=False).count() == 0


def test_a_sample_in_a_study_syringe_cannot_be_implanted_as_a_clinic_procedure_or_used_twice(micrograft, pharmacist,
                                                                                             clinician):
    from anagen.treatments.models import Modality

    study, subject, lots, sample = micrograft
    fx.prepare_autologous(subject, pharmacist=pharmacist, lots=lots, sample=sample)
    with pytest.raises(ActionError) as exc:
        tx.procedure_record(actor=clinician, patient=subject.patient, modality=Modality.objects.get(
            code="hfsc_micrograft"), performed_on=subject.allocation.randomized_at.date(), zones={"frontal": 2},
            sample=AutologousSample.objects.get(pk=sample.pk))
    assert "fills a study syringe" in exc.value.message
    with pytest.raises(Conflict) as exc:
        fx.prepare_autologous(subject, pharmacist=pharmacist, lots=lots, sample=sample, visit_code="w4")
    assert exc.value.code == "sample_used"
    assert list(delivery.released_samples(user=pharmacist, subject=subject)) == []


def test_the_pharmacists_form_offers_the_subjects_sample_on_the_active_side_only(micrograft, pharmacist, client):
    study, subject, lots, sample = micrograft
    active, placebo = _sides(subject)
    client.force_login(pharmacist, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/studies/{study.pk}/subjects/{subject.pk}/treatment"
    page = client.get(url).content.decode()
    assert f'name="prep-sample_{active}"' in page and f'name="prep-sample_{placebo}"' not in page
    assert sample.code in page
    from anagen.treatments.models import Modality

    from .test_delivery import _study_lot_pk

    r = client.post(f"/studies/{study.pk}/subjects/{subject.pk}/treatment/prepare", {
        "prep-visit_code": "baseline", "prep-modality": Modality.objects.get(code="hfsc_micrograft").pk,
        f"prep-sample_{active}": sample.pk, f"prep-quantity_{active}": "4",
        f"prep-lot_{placebo}": _study_lot_pk(lots["placebo"]), f"prep-quantity_{placebo}": "4"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert subject.preparations.get().syringes.get(side=active).sample == sample


def test_the_api_takes_a_sample_code_for_the_active_syringe(micrograft, pharmacist, api_client):
    study, subject, lots, sample = micrograft
    active, placebo = _sides(subject)
    api = api_client(pharmacist)
    url = f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/treatment/preparations"
    bad = api.post(url, {"visit_code": "baseline", "modality": "hfsc_micrograft", "syringes": [
        {"side": active, "quantity_ml": 4}, {"side": placebo, "lot_id": lots["placebo"].pk, "quantity_ml": 4}]},
        content_type="application/json")
    assert bad.status_code == 400 and "either a lot_id or the sample_code" in bad.json()["detail"]
    r = api.post(url, {"visit_code": "baseline", "modality": "hfsc_micrograft", "syringes": [
        {"side": active, "sample_code": sample.code.lower(), "quantity_ml": 4},
        {"side": placebo, "lot_id": lots["placebo"].pk, "quantity_ml": 4}]}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert any(sample.code in (s.get("lot") or "") for s in r.json())


def _sample_swapper(study, subject, lots, sample):
    """Move the sample to the other side's syringe and the saline to this one (and their arms)."""
    from anagen.studies.models import Syringe
    from anagen.treatments.models import ProductUse

    arms = {a.is_placebo: a for a in study.arms.all()}

    def swap():
        with_sample = Syringe.objects.get(preparation__subject=subject, sample=sample)
        with_lot = Syringe.objects.get(preparation__subject=subject, sample__isnull=True)
        Syringe.objects.filter(pk=with_sample.pk).update(sample=None, lot=lots["placebo"], arm=arms[True])
        Syringe.objects.filter(pk=with_lot.pk).update(lot=None, sample=sample, arm=arms[False])
        ProductUse.objects.filter(procedure_id=with_lot.procedure_id).update(procedure_id=with_sample.procedure_id)

    return swap


@pytest.mark.parametrize("persona", ["clinician", "statistician", "evaluator", "coordinator"])
def test_no_blinded_member_can_tell_which_side_held_the_sample(micrograft, pharmacist, clinician, persona, request,
                                                              client, api_client):
    study, subject, lots, sample = micrograft
    fx.prepare_autologous(subject, pharmacist=pharmacist, lots=lots, sample=sample)
    procedures = fx.inject_all(subject, injector=clinician)
    user = request.getfixturevalue(persona)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    pid = subject.patient_id
    pages = [f"/treatments/samples/{sample.pk}/", "/treatments/samples/",
             *(f"/treatments/procedures/{p.pk}/" for p in procedures)]
    routes = [f"/api/v1/treatments/procedures?patient_id={pid}",
              *(f"/api/v1/treatments/procedures/{p.pk}" for p in procedures)]
    found = leaks(client, api_client(user), study, subject, subject.allocation, extra_pages=pages, extra_api=routes,
                  also_swap=_sample_swapper(study, subject, lots, sample), secrets=fx.SECRETS)
    assert found == []


def test_the_sample_crawl_sees_the_side_where_the_pharmacist_looks(micrograft, pharmacist, clinician, client,
                                                                  api_client):
    # Positive control for the crawl above: the unblinded pharmacist's treatment page shows it.
    study, subject, lots, sample = micrograft
    fx.prepare_autologous(subject, pharmacist=pharmacist, lots=lots, sample=sample)
    fx.inject_all(subject, injector=clinician)
    client.force_login(pharmacist, backend="django.contrib.auth.backends.ModelBackend")
    found = leaks(client, api_client(pharmacist), study, subject, subject.allocation,
                  also_swap=_sample_swapper(study, subject, lots, sample))
    assert any(f"/subjects/{subject.pk}/treatment: changes with the arm" in p for p in found)


def test_a_lab_scientist_who_is_the_studys_preparer_works_from_the_lab_home_page(micrograft, lab_scientist,
                                                                                  statistician, client, api_client):
    from anagen.studies.services import member_add

    study, subject, lots, sample = micrograft
    client.force_login(lab_scientist, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/studies/{study.pk}/subjects/{subject.pk}/treatment"
    assert client.get(url).status_code == 404  # not on the team: no such study
    assert "Study product to prepare" not in client.get("/").content.decode()
    member_add(actor=statistician, study=study, user=lab_scientist, role="unblinded_pharmacist")
    home = client.get("/").content.decode()
    assert "Study product to prepare" in home and f'href="{url}"' in home and "0 of 6 visits prepared" in home
    page = client.get(url)
    assert page.status_code == 200 and sample.code in page.content.decode()
    assert f"/studies/{study.pk}/subjects/{subject.pk}/\"" not in page.content.decode()  # no link it cannot open
    assert client.get(f"/studies/{study.pk}/").status_code == 403  # the rest of the study stays closed
    fx.prepare_autologous(subject, pharmacist=lab_scientist, lots=lots, sample=sample)
    assert "1 of 6 visits prepared" in client.get("/").content.decode()
    r = api_client(lab_scientist).get(f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/treatment")
    assert r.status_code == 200 and any(sample.code in (s.get("lot") or "") for s in r.json())
    assert api_client(lab_scientist).get(f"/api/v1/studies/{study.pk}/subjects").status_code == 403


def test_a_lab_scientist_on_the_team_in_another_role_gets_no_delivery_page(micrograft, lab_scientist, statistician,
                                                                            client):
    from anagen.studies.services import member_add

    study, subject, lots, sample = micrograft
    member_add(actor=statistician, study=study, user=lab_scientist, role="coordinator")
    client.force_login(lab_scientist, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(f"/studies/{study.pk}/subjects/{subject.pk}/treatment").status_code == 403
    assert client.get(f"/studies/{study.pk}/lots").status_code == 403
