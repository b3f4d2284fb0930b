"""The demo's completed study: autologous hair-follicle micrografts on one half of the scalp
against saline on the other, evaluator-blinded, modelled on the published split-scalp trial the
clinics cite. Thirty volunteers at both clinics are followed for 58 weeks; the database is
locked a few weeks before today, so the statistician and the investigators see its results.

Everything is done through the studies app's own services, as a real study would be: the
protocol signed off by a statistician and a clinician; volunteers registered, their history and
research consent recorded, screened against the criteria (two screen failures), enrolled and
randomized (the side that gets the micrografts) from the study's recorded seed; a baseline and
the protocol's follow-up visits with each half's target-area density recorded as the
data-quality page records it; a few visits outside their window, a missed one and a reported
deviation; one emergency code-break with its reason; one withdrawal; queries raised, answered
and closed (one corrects a mistyped value); source-data checks; a few target-area images coded
and read blind by two evaluators; and the signed database lock. The audit trail names who did
each.

The values are simulated with a known effect (:mod:`anagen.evidence.simulate`, seeded from the
demo's seed): the simulator's micrograft half is put on the side the randomization chose, so the
primary analysis of the locked study estimates ``TRUE_EFFECT[23]`` with the study's own noise.
The study treatment is given at the baseline visit through the study's delivery records: two
punch biopsies are taken from the subject in the morning and taken by the lab through processing
and quality control to release; after the randomization the unblinded pharmacist (the lab
scientist) fills the micrograft side's syringe from that released sample and the other side's
from a saline lot set aside for the placebo arm; the blinded investigator gives both, side L and
side R, and the sample's chain of custody ends "implanted" once both are given.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from anagen.demo.clinics_and_staff import DEMO_PASSWORD
from anagen.demo.clock import _aware, _office
from anagen.demo.context import DemoContext
from anagen.demo.studies import STUDY_CRITERIA

REGISTRY_ID = "ISRCTN-DEMO-0001"
TITLE = "Autologous hair-follicle micrografts versus saline: a split-scalp study"
CONSENT_VERSION = "micrograft split-scalp v2 2025-04"
CRITERIA = STUDY_CRITERIA  # the same eligibility as the recruiting study
OPENED_WEEKS_AGO = 80  # the protocol was written this long ago
N_VOLUNTEERS = 32  # screened; two of them fail the criteria
SCREEN_FAILURES = {6: "anticoagulants", 19: "active_scalp_infection"}  # volunteer index -> the reason
READ_SUBJECTS = 4  # subjects whose baseline and week-23 target-area images are coded and read blind

# The simulated truth (hairs/cm²): the micrograft half gains TRUE_EFFECT more than the saline half.
TRUE_EFFECT = {4: 2.0, 12: 9.0, 23: 20.0, 44: 17.0, 58: 14.0}
CONTROL_CHANGE = {4: 0.0, 12: 1.0, 23: 1.5, 44: 0.5, 58: -1.0}
SD_CHANGE = 18.0  # SD of one half's change; with the correlation and the counter's error the SD
CORRELATION = 0.5  # of the within-patient difference at a visit is about sqrt(18² + 4·4²) = 19.7
SD_MEASUREMENT = 4.0
BASELINE_MEAN, SD_BASELINE, SD_SIDE_BASELINE = 112.0, 22.0, 5.0

# Subject (randomization order, from 0) -> what happens to them.
LATE = {(7, 12): 11, (18, 44): 19, (24, 4): 10}  # (subject, week) -> days after the target (outside the window)
MISSED = {(11, 44)}
WITHDRAWN = 13  # after the week-12 visit
CODE_BREAK = 9  # at week 6
MISTYPED = (3, 44)  # the left half's value typed with the decimal point one place off; a query corrects it
REPORTED_DEVIATION = (21, 12)


def simulated_values(seed: int, n: int):
    """Per subject (in randomization order): {"active"/"control": (baseline, {week: value})}."""
    from anagen.evidence.dataset import SPLIT_SCALP
    from anagen.evidence.simulate import StudySpec, simulate_study

    spec = StudySpec(design=SPLIT_SCALP, n_per_arm=n, arms=("control", "active"), visit_weeks=tuple(TRUE_EFFECT),
                     effect=TRUE_EFFECT, control_change=CONTROL_CHANGE, baseline_mean=BASELINE_MEAN,
                     sd_baseline=SD_BASELINE, sd_side_baseline=SD_SIDE_BASELINE, sd_change=SD_CHANGE,
                     correlation=CORRELATION, sd_measurement=SD_MEASUREMENT, dropout=0.0, deviation=0.0,
                     study=REGISTRY_ID)
    frame = simulate_study(spec, seed=seed)
    out: list[dict] = [{} for _ in range(n)]
    for (subject, arm), rows in frame.groupby(["subject", "side_arm"]):
        i = int(subject[1:]) - 1
        out[i][arm] = (round(float(rows["baseline"].iloc[0]), 1),
                       {int(w): round(float(v), 1) for w, v in zip(rows["visit_week"], rows["value"])})
    return out


def _micrograft_study(ctx: DemoContext, seed: int, *, images: bool = True) -> None:
    from django.db import transaction

    rng = random.Random(seed + 5)
    # The study draws from its own streams (names, times, images), so it comes out the same
    # whether the rest of the demo is loaded or not.
    saved = ctx.rng, ctx.image_rng
    ctx.rng, ctx.image_rng = rng, random.Random(seed + 7)
    try:
        with transaction.atomic():
            study = _protocol(ctx, rng)
        with transaction.atomic():
            subjects = _recruit(ctx, rng, study)
        with transaction.atomic():
            _treat(ctx, study, subjects, _saline_lots(ctx, study))
        with transaction.atomic():
            _follow_up(ctx, rng, study, subjects, simulated_values(seed + 6, len(subjects)), images=images)
        with transaction.atomic():
            _close(ctx, rng, study, subjects)
    finally:
        ctx.rng, ctx.image_rng = saved


def _people(ctx: DemoContext):
    return (ctx.staff["statistician"][0], ctx.user("clinician@anagen.example"),
            ctx.user("clinician2@anagen.example"), ctx.coordinator)


def _protocol(ctx: DemoContext, rng: random.Random):
    from anagen.studies.models import RandomizationSecret
    from anagen.studies.services import member_add, protocol_sign, study_create

    stats, doctor, doctor2, coordinator = _people(ctx)
    opened = ctx.today - timedelta(weeks=OPENED_WEEKS_AGO)
    with ctx.act(stats, _office(ctx, opened)):
        study = study_create(
            actor=stats, title=TITLE, sites=[ctx.clinics["birmingham"], ctx.clinics["solihull"]],
            design="split_scalp",
            arms=[{"code": "MG", "name": "Hair-follicle micrografts", "is_placebo": False},
                  {"code": "SA", "name": "Saline (placebo)", "is_placebo": True}],
            registry_id=REGISTRY_ID, sponsor="Anagen Clinics research fund", principal_investigator=doctor,
            target_enrolment=30, research_consent_version=CONSENT_VERSION, criteria=CRITERIA,
            primary_endpoint="Change from baseline in target-area hair density (hairs/cm²) at week 23, "
                             "micrograft half against saline half",
            secondary_endpoints=["Change in density at weeks 4, 12, 44 and 58", "Hair count in the target area",
                                 "Adverse events"],
            strata_factors=["site"], block_multiples=[1, 2])
        # A fresh study draws its seed with `secrets`; the demo's follows the demo's seed.
        RandomizationSecret.objects.filter(study=study).update(seed=rng.randrange(2**62))
        team = [(doctor, "investigator"), (doctor2, "investigator"), (coordinator, "coordinator"),
                (ctx.lab, "unblinded_pharmacist")] + [(e, "evaluator") for e in ctx.staff["evaluator"]]
        for user, role in team:
            member_add(actor=stats, study=study, user=user, role=role)
    for signer, meaning, days in ((stats, "statistical_approval", 2), (doctor, "clinical_approval", 4)):
        with ctx.act(signer, _office(ctx, opened + timedelta(days=days))):
            protocol_sign(actor=signer, study=study, password=DEMO_PASSWORD, meaning=meaning)
    study.refresh_from_db()
    return study


def _recruit(ctx: DemoContext, rng: random.Random, study) -> list:
    """Volunteers registered, their record taken, screened, enrolled; baseline and randomization."""
    from anagen.demo.patients import _person
    from anagen.patients.services import (
        consent_record,
        hair_loss_history_update,
        medical_history_update,
        patient_register,
        patient_update,
        staging_record,
    )
    from anagen.studies.services import eligibility_for, subject_enrol, subject_screen_fail

    stats, doctor, doctor2, coordinator = _people(ctx)
    start = ctx.today - timedelta(weeks=OPENED_WEEKS_AGO) + timedelta(days=8)
    enrolled = []
    for i in range(N_VOLUNTEERS):
        slug = "solihull" if i % 5 in (1, 3) else "birmingham"
        sex = "female" if rng.random() < 0.3 else "male"
        person = _person(ctx, slug, sex, rng.randint(24, 58))
        day = start + timedelta(days=i + i // 3)
        with ctx.act(coordinator, _office(ctx, day, latest=time(12))):
            patient = patient_register(actor=coordinator, clinic=ctx.clinics[slug], first_name=person.first_name,
                                       last_name=person.last_name, date_of_birth=person.date_of_birth, sex=sex,
                                       email=person.email, phone=person.phone, address=person.address,
                                       allow_duplicate=True, notes="Volunteer for the micrograft split-scalp study.")
        investigator = doctor2 if slug == "solihull" and i % 2 else doctor
        with ctx.act(investigator, _office(ctx, day, earliest=time(13))):
            diagnosis = "male_aga" if sex == "male" else "female_aga"
            patient = patient_update(actor=investigator, patient=patient, diagnosis=diagnosis)
            scale, stage = (("norwood", rng.choice(["III", "III vertex", "IV", "IV", "V"])) if sex == "male"
                            else ("ludwig", rng.choice(["I", "II", "II"])))
            staging_record(actor=investigator, patient=patient, scale=scale, stage=stage, assessed_on=day,
                           notes="Assessed at the study screening visit")
            flags = {f: False for f in ("active_scalp_infection", "scalp_inflammation", "cancer_under_treatment",
                                        "pregnant_or_breastfeeding", "bleeding_disorder", "anticoagulants",
                                        "autoimmune_disease", "keloid_tendency")}
            meds = ""
            if i in SCREEN_FAILURES:
                flags[SCREEN_FAILURES[i]] = True
                meds = "Rivaroxaban 20 mg daily" if SCREEN_FAILURES[i] == "anticoagulants" else ""
            medical_history_update(actor=investigator, patient=patient, medications=meds, allergies="", **flags)
            hair_loss_history_update(actor=investigator, patient=patient, onset_year=day.year - rng.randint(2, 10),
                                     progression="Slow, steady thinning", family_history=rng.random() < 0.7)
            consent_record(actor=investigator, patient=patient, kind="research", document_version=CONSENT_VERSION)
            result, _ = eligibility_for(study, patient)
            if result.decision == "eligible":
                enrolled.append((subject_enrol(actor=investigator, study=study, patient=patient), investigator, day))
            else:
                subject_screen_fail(actor=investigator, study=study, patient=patient)
    from anagen.studies.services import recruitment_close

    with ctx.act(stats, _office(ctx, day + timedelta(days=1))):
        recruitment_close(actor=stats, study=study)  # enrolment complete; the subjects go on with their visits
    return _baselines(ctx, rng, enrolled)


def _baselines(ctx: DemoContext, rng: random.Random, enrolled: list) -> list:
    """The baseline visit (both halves measured), then the randomization the same afternoon."""
    from anagen.assessments.services import visit_create
    from anagen.studies.randomization import subject_randomize

    out = []
    for subject, investigator, enrolled_on in enrolled:
        day = enrolled_on + timedelta(days=rng.randint(4, 12))
        seen_at = _office(ctx, day, earliest=time(9), latest=time(11))
        with ctx.act(investigator, seen_at):
            visit = visit_create(actor=investigator, patient=subject.patient, visit_date=day, is_baseline=True,
                                 clinic=subject.site, notes="Study visit: Baseline. Target areas tattooed on both "
                                                            "halves.")
        with ctx.act(investigator, _office(ctx, day, earliest=time(13))):
            allocation = subject_randomize(actor=investigator, subject=subject)
        out.append({"subject": subject, "investigator": investigator, "baseline_visit": visit,
                    "seen_at": seen_at, "anchor": day, "allocation": allocation})
    return out


SALINE = "Sterile saline 0.9 %, micrograft study supply"


def _saline_lots(ctx: DemoContext, study) -> dict[int, object]:
    """A saline lot received at each site and set aside for the placebo arm by the pharmacist."""
    from anagen.studies.delivery import study_lot_add
    from anagen.treatments import services as tx

    opened = ctx.today - timedelta(weeks=OPENED_WEEKS_AGO)
    lots = {}
    with ctx.act(ctx.admin, _aware(datetime.combine(opened + timedelta(days=3), time(10, 5)))):
        product = tx.product_create(actor=ctx.admin, name=SALINE, manufacturer="Anagen Clinics research pharmacy",
                                    kind="other", unit="ml")
        for i, site in enumerate(study.sites.order_by("slug")):
            lots[site.pk] = tx.lot_receive(actor=ctx.admin, product=product, clinic=site,
                                           lot_number=f"SMG-{1801 + 7 * i}", expires_on=ctx.today + timedelta(days=365),
                                           quantity=250)
    with ctx.act(ctx.lab, _aware(datetime.combine(opened + timedelta(days=3), time(11, 40)))):
        for lot in lots.values():
            study_lot_add(actor=ctx.lab, study=study, lot=lot, arm_code="SA")
    return lots


def _treat(ctx: DemoContext, study, subjects: list, saline: dict) -> None:
    """Baseline treatment of each randomized subject: biopsy, lab release, syringes, injections."""
    from anagen.patients.selectors import has_active_consent
    from anagen.patients.services import consent_record
    from anagen.studies import delivery
    from anagen.treatments import services as tx

    lab = ctx.lab
    for n, row in enumerate(subjects):
        subject, investigator, seen_at = row["subject"], row["investigator"], row["seen_at"]
        subject.refresh_from_db()
        with ctx.act(investigator, seen_at + timedelta(minutes=25)):
            if not has_active_consent(subject.patient, "treatment"):
                consent_record(actor=investigator, patient=subject.patient, kind="treatment",
                               document_version="treatment v1")
            sample = tx.sample_harvest(actor=investigator, patient=subject.patient, kind="biopsy", biopsy_count=2,
                                       biopsy_diameter_mm="2", donor_site="occipital",
                                       notes="Study baseline: two 2 mm punches from the occiput.")
        steps = (("received", {}, 50), ("processed", {"processing_method": "mechanical disaggregation in saline"}, 95),
                 ("qc_passed", {"cell_count": 180000 + 7919 * n % 90000, "viability_pct": 88.0 + n % 9}, 140),
                 ("released", {}, 150))
        for step, details, minutes in steps:
            with ctx.act(lab, seen_at + timedelta(minutes=minutes)):
                tx.custody_record(actor=lab, sample=sample, step=step, details=details)
        released = seen_at + timedelta(minutes=150)
        prepared = max(released, subject.allocation.randomized_at) + timedelta(minutes=20)
        with ctx.act(lab, prepared):
            syringes = {}
            for side in delivery.sides(study):
                arm = delivery._arm_for(study, subject.allocation, side)
                syringes[side] = (saline[subject.site_id] if arm.is_placebo else sample, 3)
            delivery.preparation_record(actor=lab, subject=subject, visit_code="baseline",
                                        modality="hfsc_micrograft", syringes=syringes)
        for k, side in enumerate(delivery.sides(study)):
            with ctx.act(investigator, prepared + timedelta(minutes=25 + 10 * k)):
                delivery.injection_record(actor=investigator, subject=subject, visit_code="baseline", side=side,
                                          performed_on=prepared.date(), zones={"mid_scalp": 3}, anaesthesia="local",
                                          needle="27G, 1 ml per cm2 in the half's target area")
            ctx.stats["study_injections"] += 1


def _jpeg_of(ctx: DemoContext, density: float):
    from anagen.demo.assessments import DERMOSCOPE_PX_PER_MM, FIELD_AREA_CM2, IMAGE_SHAPE, _jpeg
    from anagen.trichoscopy.synthetic import generate_scalp

    scalp = generate_scalp(ctx.image_rng.randrange(2**31), n_hairs=max(6, round(density * FIELD_AREA_CM2)),
                           px_per_mm=DERMOSCOPE_PX_PER_MM, shape=IMAGE_SHAPE, crossings=1, parallel_pairs=1,
                           length_mm=(0.3, 0.7))
    return _jpeg(scalp.image)


def _sides(values: dict, allocation) -> dict[str, tuple]:
    """The simulated halves put on the sides the randomization chose ("L": micrografts on the left)."""
    active_side = "left" if allocation.arm_code == "L" else "right"
    other = "right" if active_side == "left" else "left"
    return {active_side: values["active"], other: values["control"]}


def _record_sides(ctx, actor, subject, visit, sides: dict[str, float], left_image=None) -> None:
    """Each half's value; the left half's linked to its photograph when one was taken (its blinded
    reading then becomes the analysed value)."""
    from anagen.studies.quality_services import side_value_record

    for side, value in sides.items():
        side_value_record(actor=actor, subject=subject, visit=visit, side=side, density_per_cm2=value,
                          image=left_image if side == "left" else None)
        ctx.stats["study_side_values"] += 1


def _follow_up(ctx: DemoContext, rng: random.Random, study, subjects: list, simulated: list, *,
               images: bool) -> None:
    from anagen.assessments.services import visit_create
    from anagen.studies.deviations import deviation_report
    from anagen.studies.schedule import visit_windows
    from anagen.studies.services import code_break, subject_end
    from anagen.treatments.services import adverse_event_record

    coordinator = ctx.coordinator
    for n, row in enumerate(subjects):
        subject, investigator, anchor = row["subject"], row["investigator"], row["anchor"]
        sides = _sides(simulated[n], row["allocation"])
        baseline = {side: v[0] for side, v in sides.items()}
        # Measured at the baseline visit, before the randomization that afternoon (the values
        # are only matched to the sides here, once the randomization has chosen them).
        with ctx.act(investigator, row["seen_at"] + timedelta(minutes=15)):
            image = (_image(ctx, investigator, row["baseline_visit"], baseline["left"])
                     if images and n < READ_SUBJECTS else None)
        # Its own step: the image's analysis, run by the job queue, ends with the queue's actor.
        with ctx.act(investigator, row["seen_at"] + timedelta(minutes=20)):
            _record_sides(ctx, investigator, subject, row["baseline_visit"], baseline, left_image=image)
        for window in visit_windows(subject.protocol_version.content.get("visits") or [], anchor):
            if window.week == 0:
                continue
            if n == WITHDRAWN and window.week > 12:
                break
            if (n, window.week) in MISSED:
                continue
            day = window.target_on + timedelta(days=LATE.get((n, window.week), rng.choice([-3, -1, 0, 0, 0, 1, 2])))
            values = {side: v[1][window.week] for side, v in sides.items()}
            typed = dict(values)
            if (n, window.week) == MISTYPED:
                typed["left"] = round(values["left"] / 10, 2)
            actor = coordinator if rng.random() < 0.3 else investigator
            with ctx.act(investigator, _office(ctx, day)):
                visit = visit_create(actor=investigator, patient=subject.patient, visit_date=day, clinic=subject.site,
                                     notes=f"Study visit: {window.label}.")
                ctx.stats["study_visits"] += 1
                image = (_image(ctx, investigator, visit, values["left"])
                         if images and n < READ_SUBJECTS and window.week == 23 else None)
            with ctx.act(actor, _office(ctx, day, earliest=time(17), latest=time(18))):
                _record_sides(ctx, actor, subject, visit, typed, left_image=image)
            if (n, window.week) == REPORTED_DEVIATION:
                with ctx.act(investigator, _office(ctx, day + timedelta(days=1))):
                    deviation_report(actor=investigator, subject=subject, category="procedure",
                                     description="The week-12 target-area photographs were taken before the areas "
                                                 "were clipped; repeated 20 minutes later after clipping.",
                                     occurred_on=day)
            if n == WITHDRAWN and window.week == 12:
                gone = day + timedelta(days=19)
                with ctx.act(investigator, _office(ctx, gone)):
                    subject_end(actor=investigator, subject=subject, status="withdrawn", on=gone,
                                reason="Relocated to Aberdeen for work: no more visits.")
            if n == CODE_BREAK and window.week == 4:
                onset = anchor + timedelta(weeks=6)
                with ctx.act(investigator, _office(ctx, onset)):
                    adverse_event_record(
                        actor=investigator, patient=subject.patient, onset_on=onset, severity=2,
                        relation="possible", action="treated", outcome="recovered",
                        resolved_on=onset + timedelta(days=12),
                        description="Painful swelling and erythema over one target area; suspected folliculitis, "
                                    "treated with oral flucloxacillin")
                    code_break(actor=investigator, subject=subject,
                               reason="Suspected infection over one target area six weeks after the injections: the "
                                      "treating dermatologist needs to know which half received the micrografts.")
                ctx.stats["study_code_breaks"] += 1
        ctx.stats["study_subjects_followed"] += 1


def _image(ctx: DemoContext, actor, visit, density: float):
    import time as _time

    from django.core.files.uploadedfile import SimpleUploadedFile

    from anagen.assessments.services import trichogram_image_upload

    started = _time.perf_counter()
    upload = SimpleUploadedFile(f"target-{visit.visit_date:%Y%m%d}.jpg", _jpeg_of(ctx, density), "image/jpeg")
    image, _created = trichogram_image_upload(actor=actor, visit=visit, file=upload, kind="target")
    ctx.image_seconds += _time.perf_counter() - started
    ctx.stats["images"] += 1
    ctx.stats["study_images"] += 1
    return image


def _close(ctx: DemoContext, rng: random.Random, study, subjects: list) -> None:
    """Data cleaning after the last visit: deviations found, queries, source checks, blinded
    reading of the coded images, and the signed lock."""
    from anagen.assessments.models import AssessmentVisit
    from anagen.studies.deviations import deviations_refresh
    from anagen.studies.lock import analysis_unblind, study_lock
    from anagen.studies.models import CodedImage
    from anagen.studies.quality_services import query_answer, query_close, query_raise, sdv_flag, side_value_record
    from anagen.studies.reading_services import reading_code_images, reading_save, reading_sign

    stats, doctor, doctor2, coordinator = _people(ctx)
    last = max(AssessmentVisit.objects.filter(patient__study_subjects__study=study).values_list("visit_date",
                                                                                                 flat=True))
    day = last + timedelta(days=3)
    with ctx.act(doctor, _office(ctx, day)):
        deviations_refresh(actor=doctor, study=study, today=day)
    # The mistyped value: the statistician's query, the site's answer and correction, the close.
    n, week = MISTYPED
    subject = subjects[n]["subject"]
    visit = _visit_at(subject, subjects[n]["anchor"], week)
    wrong = subject.side_measurements.get(visit=visit, side="left").density_per_cm2
    with ctx.act(stats, _office(ctx, day + timedelta(days=2))):
        typo = query_raise(actor=stats, subject=subject, visit=visit, data_point=f"density_per_cm2 at week {week}, "
                           "left half", question=f"{wrong:g} hairs/cm² is a tenth of this half's other values: "
                                             "please check the source worksheet.")
    investigator = subjects[n]["investigator"]
    with ctx.act(investigator, _office(ctx, day + timedelta(days=5))):
        side_value_record(actor=investigator, subject=subject, visit=visit, side="left",
                          density_per_cm2=round(wrong * 10, 1))
        query_answer(actor=investigator, query=typo, answer=f"Typing error: the worksheet reads "
                                                            f"{round(wrong * 10, 1):g}; corrected.")
    with ctx.act(stats, _office(ctx, day + timedelta(days=6))):
        query_close(actor=stats, query=typo, note="Corrected value checked against the worksheet.")
    # A query that the site confirms: the value stands.
    n2 = 15
    s2 = subjects[n2]["subject"]
    with ctx.act(stats, _office(ctx, day + timedelta(days=2))):
        q2 = query_raise(actor=stats, subject=s2, data_point="baseline visit date",
                         question="The baseline visit is on the day of randomization: were both target areas "
                                  "photographed before the randomization?")
    with ctx.act(coordinator, _office(ctx, day + timedelta(days=4))):
        query_answer(actor=coordinator, query=q2, answer="Yes: photographs at 10:40, randomization after lunch "
                                                         "(see the visit notes).")
    with ctx.act(stats, _office(ctx, day + timedelta(days=6))):
        query_close(actor=stats, query=q2)
    # Source-data verification of the primary end point for a sample of subjects.
    for row in subjects[::3]:
        with ctx.act(coordinator, _office(ctx, day + timedelta(days=7))):
            sdv_flag(actor=coordinator, subject=row["subject"], data_point="density_per_cm2 at week 23",
                     note="Both halves checked against the clinic worksheet.")
    # Blinded reading: the statistician codes the study's images; both evaluators read each.
    with ctx.act(stats, _office(ctx, day + timedelta(days=1))):
        reading_code_images(actor=stats, study=study)
    coded = list(CodedImage.objects.filter(study=study).order_by("order_key"))
    for k, evaluator in enumerate(ctx.staff["evaluator"][:2]):
        for m, image in enumerate(coded):
            removed = []
            if k == 1 and m % 2 == 0:
                hairs = [h["id"] for h in (image.automatic or {}).get("hairs", [])]
                removed = hairs[:1 + m % 3]  # the second reader takes out what they see as a double count
            with ctx.act(evaluator, _office(ctx, day + timedelta(days=8 + k * 2 + m // 4))):
                if removed:
                    reading_save(actor=evaluator, coded=image, removed=removed)
                reading_sign(actor=evaluator, coded=image, password=DEMO_PASSWORD)
                ctx.stats["study_readings"] += 1
    with ctx.act(stats, _office(ctx, day + timedelta(days=21))):
        study_lock(actor=stats, study=study, password=DEMO_PASSWORD)
    with ctx.act(stats, _office(ctx, day + timedelta(days=22))):
        analysis_unblind(actor=stats, study=study, password=DEMO_PASSWORD)


def _visit_at(subject, anchor: date, week: int):
    from anagen.assessments.models import AssessmentVisit

    target = anchor + timedelta(weeks=week)
    return (AssessmentVisit.objects.filter(patient=subject.patient, visit_date__range=(target - timedelta(days=21),
                                                                                      target + timedelta(days=21)))
            .order_by("visit_date").first())
