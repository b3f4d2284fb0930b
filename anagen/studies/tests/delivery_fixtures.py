"""Study product set up through the services: two products (the active one and its placebo),
one lot of each received at the clinic and set aside for its arm by the unblinded pharmacist,
and the subject's treatment consent. Lot numbers and product names are distinctive so that a
leak check can look for them literally."""

from __future__ import annotations

from datetime import date, timedelta

ACTIVE_LOT, PLACEBO_LOT = "ACT-7781", "PLC-1142"
ACTIVE_PRODUCT, PLACEBO_PRODUCT = "MG-7 suspension", "NaCl vehicle"
# What a blinded user must never see: the lot numbers (the product names are known to the team,
# as the arms are; which lot went into whom is the secret).
SECRETS = (ACTIVE_LOT, PLACEBO_LOT)


def study_lots(study, *, pharmacist, receiver, clinic):
    """Receive one lot per arm at ``clinic`` (``receiver``: admin or clinician) and set each aside."""
    from anagen.studies import delivery
    from anagen.treatments import services as tx

    out = {}
    from anagen.treatments.models import Product

    for arm in study.arms.all():
        name, number = (PLACEBO_PRODUCT, PLACEBO_LOT) if arm.is_placebo else (ACTIVE_PRODUCT, ACTIVE_LOT)
        product = Product.objects.filter(name=name).first() or tx.product_create(
            actor=receiver, name=name, manufacturer="Anagen Trials Pharmacy", kind="other", unit="ml")
        lot = tx.lot_receive(actor=receiver, product=product, clinic=clinic, lot_number=number,
                             expires_on=date.today() + timedelta(days=365), quantity=100)
        delivery.study_lot_add(actor=pharmacist, study=study, lot=lot, arm_code=arm.code)
        out["placebo" if arm.is_placebo else "active"] = lot
    return out


def treatment_consent(patient, actor):
    from anagen.patients.services import consent_record

    consent_record(actor=actor, patient=patient, kind="treatment", document_version="treatment v1")


def prepare(subject, *, pharmacist, lots, visit_code="baseline", quantity=4):
    """Fill the subject's syringes with the lots their arms need (as the preparer would choose)."""
    from anagen.studies import delivery

    study = subject.study
    syringes = {}
    for side in delivery.sides(study):
        arm = delivery._arm_for(study, subject.allocation, side)
        syringes[side] = (lots["placebo" if arm.is_placebo else "active"], quantity)
    return delivery.preparation_record(actor=pharmacist, subject=subject, visit_code=visit_code, modality="exosomes",
                                       syringes=syringes)


def inject_all(subject, *, injector, visit_code="baseline"):
    from anagen.studies import delivery

    return [delivery.injection_record(actor=injector, subject=subject, visit_code=visit_code, side=side,
                                      zones={"frontal": 2, "mid_scalp": 2}, needle="30G 4 mm")
            for side in delivery.sides(subject.study)]


def released_sample(patient, *, clinician, lab):
    """A punch-biopsy sample of ``patient`` taken through the lab to released."""
    from anagen.treatments import services as tx

    s = tx.sample_harvest(actor=clinician, patient=patient, kind="biopsy", biopsy_count=3, biopsy_diameter_mm="2")
    tx.custody_record(actor=lab, sample=s, step="received")
    tx.custody_record(actor=lab, sample=s, step="processed",
                      details={"processing_method": "mechanical disaggregation in saline"})
    tx.custody_record(actor=lab, sample=s, step="qc_passed", details={"cell_count": 250000, "viability_pct": 91.5})
    tx.custody_record(actor=lab, sample=s, step="released")
    s.refresh_from_db()
    return s


def prepare_autologous(subject, *, pharmacist, lots, sample, visit_code="baseline", quantity=4):
    """A micrograft visit: the active syringe from the subject's own sample, the placebo from its lot."""
    from anagen.studies import delivery

    study = subject.study
    syringes = {}
    for side in delivery.sides(study):
        arm = delivery._arm_for(study, subject.allocation, side)
        syringes[side] = (lots["placebo"] if arm.is_placebo else sample, quantity)
    return delivery.preparation_record(actor=pharmacist, subject=subject, visit_code=visit_code,
                                       modality="hfsc_micrograft", syringes=syringes)
