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

EXOSOME_CRITERIA = {
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
            target_enrolment=40, research_consent_version=RESEARCH_CONSENT, criteria=EXOSOME_CRITERIA,
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
    randomized = []
    for n, (subject, investigator, when) in enumerate(enrolled):
        later = _before_present(ctx, when + timedelta(days=rng.randint(0, 7), hours=1))
        if later <= when or rng.random() < 0.15:
            continue  # enrolled, waiting for the baseline visit
        with ctx.act(investigator, later):
            subject_randomize(actor=investigator, subject=subject)
        ctx.stats["study_randomized"] += 1
        randomized.append((subject, investigator, later))
        if n == 2:
            gone = _before_present(ctx, later + timedelta(days=rng.randint(10, 30)))
            if gone > later:
                with ctx.act(investigator, gone):
                    subject_end(actor=investigator, subject=subject, status="withdrawn", on=gone.date(),
                                reason="Moved abroad for work; no further visits possible.")
    ctx.stats["study_subjects"] += study.subjects.count()
    _reading(ctx, study, stats, randomized, seed)


READING_SUBJECTS = 6  # subjects given a study baseline image, when they have none


def _reading(ctx: DemoContext, study, stats, randomized, seed: int) -> None:
    """Coded images for the evaluator: a few randomized subjects get a baseline target-area image
    (synthetic, counted by the engine) on their randomization day unless they already have an
    analysed one since screening; the statistician then codes the study's images for blinded
    reading. The codes and their order come from `secrets`, as in a real study."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from anagen.assessments.models import TrichogramImage
    from anagen.assessments.services import trichogram_image_upload, visit_create
    from anagen.demo.assessments import DERMOSCOPE_PX_PER_MM, FIELD_AREA_CM2, IMAGE_SHAPE, _jpeg
    from anagen.studies.reading_services import reading_code_images
    from anagen.trichoscopy.synthetic import generate_scalp

    if ctx.max_images <= 0:
        return
    rng = random.Random(seed + 3)
    made = 0
    for subject, investigator, when in randomized:
        if made >= READING_SUBJECTS:
            break
        patient = subject.patient
        if TrichogramImage.objects.filter(visit__patient=patient, kind="target",
                                          visit__visit_date__gte=when.date(), analysis__status="done").exists():
            continue
        if not investigator.can_see_clinic(patient.clinic_id):
            continue
        at = _before_present(ctx, when + timedelta(minutes=40))
        with ctx.act(investigator, at):
            visit = visit_create(actor=investigator, patient=patient, visit_date=at.date(),
                                 notes=f"{study.registry_id}: study baseline, target area.")
            pixels = generate_scalp(rng.randrange(2**31), n_hairs=round(rng.uniform(90, 150) * FIELD_AREA_CM2),
                                    px_per_mm=DERMOSCOPE_PX_PER_MM, shape=IMAGE_SHAPE, crossings=1, parallel_pairs=1,
                                    length_mm=(0.3, 0.7)).image
            trichogram_image_upload(actor=investigator, visit=visit,
                                    file=SimpleUploadedFile(f"target-{at:%Y%m%d}.jpg", _jpeg(pixels), "image/jpeg"))
        made += 1
    with ctx.act(stats, _before_present(ctx, ctx.present - timedelta(hours=8))):
        coded = reading_code_images(actor=stats, study=study)
    ctx.stats["study_coded_images"] += len(coded)
