"""The demo study's visits: each randomized subject is seen at the protocol's visits that have
come round, with a target-area phototrichogram counted by the engine, so the study dashboard,
the subjects' schedules and the deviation listing show a study being run, not an empty one.

Most visits fall on their target day or close to it; a few are late or early (deviations found
from the records), one subject misses a visit, and one reported deviation (a procedure not per
protocol) is on file. The exosome arm gains density slowly (a small true effect, unknown to the
blinded team); the placebo arm does not.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from anagen.demo.clock import _office
from anagen.demo.context import DemoContext

ACTIVE_GAIN_PER_WEEK = 0.6  # hairs/cm² per week on the active arm, about +7 at week 12
VISIT_NOISE_SD = 4.0


def _study_visits(ctx: DemoContext, seed: int, *, images: bool = True) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from anagen.assessments.models import AssessmentVisit
    from anagen.assessments.services import trichogram_image_upload, visit_create
    from anagen.demo.assessments import DERMOSCOPE_PX_PER_MM, FIELD_AREA_CM2, IMAGE_SHAPE, _jpeg
    from anagen.studies.deviations import deviation_report, deviations_refresh
    from anagen.studies.models import Study, Subject
    from anagen.studies.schedule import visit_windows
    from anagen.trichoscopy.synthetic import generate_scalp

    rng = random.Random(seed + 3)
    study = Study.objects.filter(registry_id="ISRCTN-DEMO-0002").first()
    if study is None:
        return
    subjects = (Subject.objects.filter(study=study, status__in=["randomized", "withdrawn"])
                .select_related("allocation", "patient__clinic", "protocol_version").order_by("code"))
    investigator = ctx.user("clinician@anagen.example")
    clinicians = [ctx.user("clinician@anagen.example"), ctx.user("clinician2@anagen.example")]
    missed_one = False
    for subject in subjects:
        allocation = getattr(subject, "allocation", None)
        if allocation is None:
            continue
        anchor = timezone.localtime(allocation.randomized_at).date()
        active = allocation.arm_code == "EX"
        baseline_density = rng.uniform(70, 130)
        for window in visit_windows(subject.protocol_version.content.get("visits") or [], anchor):
            if subject.ended_on and subject.ended_on < window.earliest_on:
                break
            shift = 0 if window.week == 0 else rng.choice([-3, -1, 0, 0, 0, 1, 2, 4])
            if window.week and rng.random() < 0.08:
                shift = window.latest_on.toordinal() - window.target_on.toordinal() + rng.randint(2, 9)  # late
            day = window.target_on + timedelta(days=shift)
            if day >= ctx.today:
                break
            if window.week == 4 and not missed_one and rng.random() < 0.1:
                missed_one = True  # this subject did not come to the week-4 visit
                continue
            clinician = next((c for c in clinicians if subject.site_id in c.clinic_ids), investigator)
            first = window.week == 0 and not AssessmentVisit.objects.filter(patient=subject.patient,
                                                                            is_baseline=True).exists()
            with ctx.act(clinician, _office(ctx, day)):
                visit = visit_create(actor=clinician, patient=subject.patient, visit_date=day,
                                     is_baseline=first, clinic=subject.site, notes=f"Study visit: {window.label}.")
                ctx.stats["study_visits"] += 1
                # The study's images have their own allowance beside the clinic's (a quarter of it).
                if not images or ctx.stats["study_images"] >= ctx.max_images // 4:
                    continue
                density = baseline_density + (ACTIVE_GAIN_PER_WEEK * window.week if active else 0.0) \
                    + rng.gauss(0, VISIT_NOISE_SD)
                scalp = generate_scalp(ctx.image_rng.randrange(2**31), n_hairs=max(6, round(density * FIELD_AREA_CM2)),
                                       px_per_mm=DERMOSCOPE_PX_PER_MM, shape=IMAGE_SHAPE, crossings=1,
                                       parallel_pairs=1, length_mm=(0.3, 0.7))
                upload = SimpleUploadedFile(f"target-{day:%Y%m%d}.jpg", _jpeg(scalp.image), "image/jpeg")
                trichogram_image_upload(actor=clinician, visit=visit, file=upload, kind="target")
                ctx.stats["images"] += 1
                ctx.stats["study_images"] += 1
    reported = subjects.filter(status="randomized").first()
    if reported is not None:
        with ctx.act(investigator, _office(ctx, ctx.today - timedelta(days=9))):
            deviation_report(actor=investigator, subject=reported, category="procedure",
                             description="Micro-needling depth set to 1.0 mm instead of the protocol's 1.5 mm at one "
                                         "session; the device was reset and the team reminded.",
                             occurred_on=ctx.today - timedelta(days=10))
    with ctx.act(investigator, _office(ctx, ctx.today - timedelta(days=1))):
        deviations_refresh(actor=investigator, study=study, today=ctx.today - timedelta(days=1))
