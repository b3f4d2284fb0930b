"""Studies in the demo: a parallel-group exosome study, signed off and recruiting, so the study
pages, the dashboard and the evaluator's landing page have content.

The protocol is written and signed through the services, with the team's real roles; patients
of the replayed histories who gave research consent are screened in the order they consented:
the eligible ones are enrolled and most of them randomized, the others kept as screen failures.
The allocations draw from the study's own random stream (seeded from the demo's seed), so the
same seed gives the same study; everything else in the demo is left as it was.
"""

from __future__ import annotations

import random
from datetime import timedelta

from anagen.demo.clinics_and_staff import DEMO_PASSWORD
from anagen.demo.clock import _before_present, _office
from anagen.demo.context import DemoContext

# Androgenetic alopecia, no anticoagulants, scalp infection or pregnancy, 18 to 65: both demo studies.
STUDY_CRITERIA = {
    "rules": [
        {"id": "aga", "description": "Androgenetic alopecia (male or female pattern)", "modalities": "all",
         "effect": "indication", "when": {"fact": "diagnosis", "op": "in", "value": ["male_aga", "female_aga"]}},
        {"id": "anticoagulants", "description": "Takes anticoagulants", "modalities": "all",
         "effect": "contraindication", "when": {"fact": "anticoagulants", "op": "true"}},
        {"id": "scalp_infection", "description": "Active scalp infection", "modalities": "all",
         "effect": "contraindication", "when": {"fact": "active_scalp_infection", "op": "true"}},
        {"id": "pregnancy", "description": "Pregnant or breastfeeding", "modalities": "all",
         "effect": "contraindication",
         "when": {"all": [{"fact": "sex", "op": "eq", "value": "female"},
                          {"fact": "pregnant_or_breastfeeding", "op": "true"}]}},
    ],
    "age_min_years": 18, "age_max_years": 65, "sexes": ["female", "male"],
}
RESEARCH_CONSENT = "research v3 2024-09"  # the version the replayed consultations record
STUDY_WEEKS = 16  # the study opened this long ago
ENROLLED_SO_FAR = 30  # of a target of 40: still recruiting


def _studies(ctx: DemoContext, seed: int) -> None:
    from anagen.patients.models import Consent
    from anagen.studies.models import RandomizationSecret
    from anagen.studies.randomization import subject_randomize
    from anagen.studies.services import (
        member_add,
        protocol_sign,
        study_create,
        subject_end,
        subject_enrol,
        subject_screen_fail,
    )

    rng = random.Random(seed + 2)
    stats, evaluator = ctx.staff["statistician"][0], ctx.staff["evaluator"][0]
    doctor, doctor2 = ctx.user("clinician@anagen.example"), ctx.user("clinician2@anagen.example")
    opened = ctx.today - timedelta(weeks=STUDY_WEEKS)
    with ctx.act(stats, _office(ctx, opened)):
        study = study_create(
            actor=stats, title="Exosome micro-needling versus saline for androgenetic alopecia",
            sites=[ctx.clinics["birmingham"], ctx.clinics["solihull"]], design="parallel",
            arms=[{"code": "EX", "name": "Exosome micro-needling", "is_placebo": False},
                  {"code": "PL", "name": "Saline micro-needling (placebo)", "is_placebo": True}],
            registry_id="ISRCTN-DEMO-0002", sponsor="Anagen Clinics research fund", principal_investigator=doctor,
            target_enrolment=40, research_consent_version=RESEARCH_CONSENT, criteria=STUDY_CRITERIA,
            primary_endpoint="Change from baseline in target-area hair density (hairs/cm²) at week 23",
            secondary_endpoints=["Change in hair count and terminal density", "Mean shaft diameter", "Anagen %",
                                 "Investigator and patient global assessments", "Adverse events"],
            strata_factors=["sex", "site"], block_multiples=[1, 2])
        # A fresh study draws its seed with `secrets`; the demo's must follow the demo's seed.
        RandomizationSecret.objects.filter(study=study).update(seed=rng.randrange(2**62))
        for user, role in ((doctor, "investigator"), (doctor2, "investigator"), (evaluator, "evaluator"),
                           (ctx.coordinator, "unblinded_pharmacist")):
            member_add(actor=stats, study=study, user=user, role=role)
    for signer, meaning, days in ((stats, "statistical_approval", 3), (doctor, "clinical_approval", 5)):
        with ctx.act(signer, _office(ctx, opened + timedelta(days=days))):
            protocol_sign(actor=signer, study=study, password=DEMO_PASSWORD, meaning=meaning)
    study.refresh_from_db()
    signed = _office(ctx, opened + timedelta(days=6))
    consents = (Consent.objects.filter(kind="research", document_version=RESEARCH_CONSENT, withdrawn_at__isnull=True)
                .select_related("patient__clinic").order_by("given_at", "pk"))
    enrolled = []
    for consent in consents:
        if len(enrolled) >= ENROLLED_SO_FAR:
            break
        patient = consent.patient
        if ctx.showcase is not None and patient.pk == ctx.showcase.pk:
            continue  # the showcase patient's chart tells the clinic story alone
        when = _before_present(ctx, max(signed, consent.given_at) + timedelta(days=rng.randint(1, 10), hours=2))
        if when <= max(signed, consent.given_at):
            continue
        investigator = doctor2 if patient.clinic.slug == "solihull" and rng.random() < 0.5 else doctor
        with ctx.act(investigator, when):
            from anagen.studies.services import eligibility_for

            result, _ = eligibility_for(study, patient)
            if result.decision == "eligible":
                enrolled.append((subject_enrol(actor=investigator, study=study, patient=patient), investigator, when))
            else:
                subject_screen_fail(actor=investigator, study=study, patient=patient)
    lots = _study_lots(ctx, study, opened)
    for n, (subject, investigator, when) in enumerate(enrolled):
        later = _before_present(ctx, when + timedelta(days=rng.randint(0, 7), hours=1))
        if later <= when or rng.random() < 0.15:
            continue  # enrolled, waiting for the baseline visit
        with ctx.act(investigator, later):
            subject_randomize(actor=investigator, subject=subject)
        ctx.stats["study_randomized"] += 1
        _deliver(ctx, subject, investigator, lots, later)
        if n == 2:
            gone = _before_present(ctx, later + timedelta(days=rng.randint(10, 30)))
            if gone > later:
                with ctx.act(investigator, gone):
                    subject_end(actor=investigator, subject=subject, status="withdrawn", on=gone.date(),
                                reason="Moved abroad for work; no further visits possible.")
    ctx.stats["study_subjects"] += study.subjects.count()


# Study product: one lot of the exosome product and one of saline per site, set aside for their
# arms by the unblinded pharmacist (the coordinator); the syringe of each randomized subject is
# filled and labelled by the pharmacist and given blind by the investigator at the baseline visit.
STUDY_PRODUCTS = {"EX": ("Exosome concentrate, study supply", "EXS"), "PL": ("Sterile saline 0.9 %, study supply", "SAL")}


def _study_lots(ctx: DemoContext, study, opened) -> dict:
    from anagen.studies.delivery import study_lot_add
    from anagen.treatments import services as tx

    out = {}
    admin = ctx.admin
    with ctx.act(admin, _office(ctx, opened + timedelta(days=2))):
        products = {code: tx.product_create(actor=admin, name=name, manufacturer="Anagen Clinics research pharmacy",
                                            kind="other", unit="ml")
                    for code, (name, _prefix) in STUDY_PRODUCTS.items()}
        for i, site in enumerate(study.sites.order_by("slug")):
            for code, (_name, prefix) in STUDY_PRODUCTS.items():
                out[(site.pk, code)] = tx.lot_receive(
                    actor=admin, product=products[code], clinic=site, lot_number=f"{prefix}-{2601 + 7 * i}",
                    expires_on=ctx.today + timedelta(days=365), quantity=200)
    with ctx.act(ctx.coordinator, _office(ctx, opened + timedelta(days=3))):
        for (site_pk, code), lot in out.items():
            study_lot_add(actor=ctx.coordinator, study=study, lot=lot, arm_code=code)
    return out


def _deliver(ctx: DemoContext, subject, investigator, lots: dict, randomized_at) -> None:
    from anagen.patients.selectors import has_active_consent
    from anagen.patients.services import consent_record
    from anagen.studies import delivery

    subject.refresh_from_db()
    visit_code = delivery.visit_codes(subject)[0][0]
    arm = subject.allocation.arm_code
    with ctx.act(ctx.coordinator, randomized_at + timedelta(minutes=30)):
        delivery.preparation_record(actor=ctx.coordinator, subject=subject, visit_code=visit_code, modality="exosomes",
                                    syringes={"": (lots[(subject.site_id, arm)], 4)})
    with ctx.act(investigator, randomized_at + timedelta(minutes=50)):
        if not has_active_consent(subject.patient, "treatment"):
            consent_record(actor=investigator, patient=subject.patient, kind="treatment",
                           document_version="treatment v1")
        delivery.injection_record(actor=investigator, subject=subject, visit_code=visit_code,
                                  performed_on=randomized_at.date(), zones={"frontal": 2, "mid_scalp": 2},
                                  needle="micro-needling, 0.5 mm")
    ctx.stats["study_injections"] += 1
