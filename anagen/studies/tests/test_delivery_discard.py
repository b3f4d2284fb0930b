"""A spoiled study syringe: the unblinded preparer discards it (who, when, why; a lot's volume
leaves the stock) and fills the side again; the blinded injector gives the new one. Nothing a
blinded member sees names the product, the reason included."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict
from anagen.studies import blinding, delivery

from . import delivery_fixtures as fx
from .test_delivery import _study_lot_pk, parallel, split  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

REASON = "Dropped on the floor while labelling the MG-7 syringe"


def _sides(subject):
    active = subject.allocation.arm_code
    return active, "R" if active == "L" else "L"


def test_a_discarded_syringe_is_kept_its_volume_leaves_the_stock_and_the_side_is_filled_again(split, pharmacist,
                                                                                              clinician):
    from anagen.treatments.models import Lot

    study, subject, lots = split
    active, placebo = _sides(subject)
    fx.prepare(subject, pharmacist=pharmacist, lots=lots, quantity=Decimal("4"))
    spoiled = delivery.syringe_discard(actor=pharmacist, subject=subject, visit_code="baseline", side=active,
                                       reason=REASON)
    assert spoiled.discarded and spoiled.discarded_by == pharmacist and spoiled.discard_reason == REASON
    assert Lot.objects.get(pk=lots["active"].pk).quantity_on_hand == Decimal("96")
    assert Lot.objects.get(pk=lots["placebo"].pk).quantity_on_hand == Decimal("100")
    # Until it is filled again the injector is told it was discarded, without the product.
    with pytest.raises(Conflict) as exc:
        delivery.injection_record(actor=clinician, subject=subject, visit_code="baseline", side=active,
                                  zones={"frontal": 2})
    assert exc.value.code == "not_prepared" and "discarded" in exc.value.message
    assert not any(s in exc.value.message for s in (*fx.SECRETS, fx.ACTIVE_PRODUCT))
    # The other arm's lot is refused for the side, as at the first preparation.
    with pytest.raises(ActionError) as exc:
        delivery.syringe_refill(actor=pharmacist, subject=subject, visit_code="baseline", side=active,
                                source=lots["placebo"], quantity=4)
    assert exc.value.code == "wrong_arm"
    new = delivery.syringe_refill(actor=pharmacist, subject=subject, visit_code="baseline", side=active,
                                  source=lots["active"], quantity=Decimal("3.5"))
    assert new.label == spoiled.label and new.arm == spoiled.arm and new.lot == lots["active"]
    assert new.filled_by == pharmacist and new.filled_at >= spoiled.discarded_at
    assert blinding.syringe_view(clinician, new).prepared_at == new.filled_at
    with pytest.raises(Conflict) as exc:  # one syringe in use per side
        delivery.syringe_refill(actor=pharmacist, subject=subject, visit_code="baseline", side=active,
                                source=lots["active"], quantity=4)
    assert exc.value.code == "already_prepared"
    procedures = fx.inject_all(subject, injector=clinician)
    assert {p.study_syringe.pk for p in procedures} >= {new.pk}
    assert Lot.objects.get(pk=lots["active"].pk).quantity_on_hand == Decimal("92.5")  # 4 spoiled + 3.5 given
    spoiled.refresh_from_db()
    assert spoiled.procedure_id is None
    with pytest.raises(Conflict) as exc:
        delivery.syringe_discard(actor=pharmacist, subject=subject, visit_code="baseline", side=placebo,
                                 reason="too late")
    assert exc.value.code == "already_injected"
    # Audited with its actor; the reason (the preparer's words) and the product stay out of the log.
    entries = list(LogEntry.objects.get_for_object(spoiled))
    assert any("discarded_at" in e.changes_dict and e.actor == pharmacist for e in entries)
    logged = " ".join(str(e.changes) for e in entries)
    assert "floor" not in logged and not any(s in logged for s in fx.SECRETS)


def test_who_may_discard_and_the_refusals(split, pharmacist, clinician, statistician):
    study, subject, lots = split
    active, _ = _sides(subject)
    with pytest.raises(Conflict):  # nothing prepared yet
        delivery.syringe_discard(actor=pharmacist, subject=subject, visit_code="baseline", side=active,
                                 reason="dropped it")
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    for person in (clinician, statistician):
        with pytest.raises(PermissionDenied):
            delivery.syringe_discard(actor=person, subject=subject, visit_code="baseline", side=active,
                                     reason="dropped it")
    with pytest.raises(ActionError) as exc:
        delivery.syringe_discard(actor=pharmacist, subject=subject, visit_code="baseline", side=active, reason=" ")
    assert exc.value.field == "reason" and "why" in exc.value.message
    with pytest.raises(ActionError) as exc:
        delivery.syringe_discard(actor=pharmacist, subject=subject, visit_code="baseline", side="X",
                                 reason="dropped it")
    assert exc.value.code == "no_such_side"
    with pytest.raises(Conflict) as exc:
        delivery.syringe_refill(actor=pharmacist, subject=subject, visit_code="baseline", side=active,
                                source=lots["active"], quantity=4)
    assert exc.value.code == "already_prepared" and "discard it first" in exc.value.message
    assert not subject.preparations.get().syringes.filter(discarded_at__isnull=False).exists()


def test_a_syringe_of_the_subjects_own_sample_is_not_discarded_here(split, pharmacist):
    """Its sample's chain of custody is open to blinded clinicians: refused, with what to do."""
    from anagen.studies.models_delivery import Syringe
    from anagen.treatments.models import AutologousSample

    study, subject, lots = split
    active, _ = _sides(subject)
    prep = fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    syringe = prep.syringes.get(side=active)
    sample = AutologousSample.objects.create(patient=subject.patient, clinic=subject.site, kind="micrograft",
                                             harvested_by=pharmacist,
                                             code="S-TEST-1",
                                             status="released", harvested_at=timezone.now())
    Syringe.objects.filter(pk=syringe.pk).update(lot=None, sample=sample)
    with pytest.raises(Conflict) as exc:
        delivery.syringe_discard(actor=pharmacist, subject=subject, visit_code="baseline", side=active,
                                 reason="dropped it")
    assert exc.value.code == "sample_syringe" and "deviation" in exc.value.message
    assert not Syringe.objects.get(pk=syringe.pk).discarded


def test_the_parallel_studys_one_syringe(parallel, pharmacist, clinician):
    study, subject, lots = parallel
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    arm = delivery._arm_for(study, subject.allocation, "")
    lot = lots["placebo" if arm.is_placebo else "active"]
    delivery.syringe_discard(actor=pharmacist, subject=subject, visit_code="baseline", reason="seal broken")
    new = delivery.syringe_refill(actor=pharmacist, subject=subject, visit_code="baseline", source=lot, quantity=4)
    assert new.label == "study product"
    (procedure,) = fx.inject_all(subject, injector=clinician)
    assert procedure.study_syringe == new


def test_pages_the_preparer_discards_and_refills_and_the_injector_sees_no_product(split, pharmacist, clinician,
                                                                                 client):
    study, subject, lots = split
    active, _ = _sides(subject)
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    url = f"/studies/{study.pk}/subjects/{subject.pk}/treatment"
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    assert "Discard" not in client.get(url).content.decode()
    assert client.post(url + "/discard", {"visit_code": "baseline", "side": active,
                                          f"discard_{active}-reason": REASON}).status_code == 403
    client.force_login(pharmacist, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(url).content.decode()
    assert f"Discard 'study product, side {active}'" in page
    r = client.post(url + "/discard", {"visit_code": "baseline", "side": active, f"discard_{active}-reason": ""})
    assert r.status_code == 400 and "This field is required" in r.content.decode()
    r = client.post(url + "/discard", {"visit_code": "baseline", "side": active, f"discard_{active}-reason": REASON})
    assert r.status_code == 302
    page = client.get(url).content.decode()
    assert "Discarded" in page and "floor" in page and f"Fill a new syringe for side {active}" in page
    r = client.post(url + "/refill", {"visit_code": "baseline", "side": active,
                                      f"refill_{active}-lot": _study_lot_pk(lots["active"]),
                                      f"refill_{active}-quantity": "3"})
    assert r.status_code == 302
    assert subject.preparations.get().syringes.filter(side=active, discarded_at__isnull=True).get().quantity == 3
    client.force_login(clinician, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(url).content.decode()
    assert "Discarded" in page and "floor" not in page and not any(s in page for s in fx.SECRETS)
    assert page.count(f"Record the injection of 'study product, side {active}'") == 2  # summary + button


def test_api_discard_and_refill(split, pharmacist, clinician, api_client):
    study, subject, lots = split
    active, _ = _sides(subject)
    fx.prepare(subject, pharmacist=pharmacist, lots=lots)
    base = f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/treatment"
    body = {"visit_code": "baseline", "side": active, "reason": REASON}
    assert api_client(clinician).post(base + "/discards", body, content_type="application/json").status_code == 403
    r = api_client(pharmacist).post(base + "/discards", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["discarded_at"] and r.json()["discard_reason"] == REASON
    r = api_client(pharmacist).post(base + "/refills", {"visit_code": "baseline", "side": active,
                                                         "lot_id": lots["active"].pk, "quantity_ml": "4"},
                                    content_type="application/json")
    assert r.status_code == 201 and r.json()["discarded_at"] is None
    r = api_client(clinician).get(base)
    assert r.status_code == 200 and len(r.json()) == 3
    assert all("discard_reason" not in s for s in r.json()) and "floor" not in r.content.decode()
    assert sum(1 for s in r.json() if s["discarded_at"]) == 1
