"""Loading the whole demo, and a digest for checking that a seed gives the same demo."""

from __future__ import annotations

import hashlib
import random
import time as _time
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable

from django.db import transaction
from django.utils import timezone

from anagen.demo.assessments import _device_profiles
from anagen.demo.clinics_and_staff import _clinics_and_staff
from anagen.demo.clock import HISTORY_WEEKS, SimulatedClock, _aware
from anagen.demo.context import DemoContext
from anagen.demo.intake import _open_inquiries
from anagen.demo.scheduling import _hours
from anagen.demo.split_study import _micrograft_study
from anagen.demo.stories import PatientRun, _plan_stories
from anagen.demo.studies import _studies
from anagen.demo.study_visits import _study_visits
from anagen.demo.treatments import _recall, _stock

# --- the whole demo -----------------------------------------------------------------------------


@dataclass
class DemoSummary:
    counts: dict
    elapsed_s: float
    image_s: float
    showcase: str
    showcase_pk: int | None
    failures: int

    def __str__(self) -> str:
        c = self.counts
        return (f"{c['clinics']} clinics, {c['staff']} staff, {c['patients']} patients, {c['inquiries']} inquiries, "
                f"{c['appointments']} appointments ({c['future_appointments']} ahead), {c['screenings']} screenings, "
                f"{c['plans']} plans, {c['procedures']} procedures, {c['samples']} samples, "
                f"{c['adverse_events']} adverse events, {c['visits']} assessment visits, {c['images']} images "
                f"({c['measurements']} measurements), {c['studies']} studies ({c['study_subjects']} subjects) "
                f"in {self.elapsed_s:.0f} s "
                f"(images {self.image_s:.0f} s). Showcase patient: {self.showcase}")


def _counts(ctx: DemoContext) -> dict:
    from anagen.accounts.models import Clinic, User
    from anagen.assessments.models import AssessmentVisit, Measurement, TrichogramImage
    from anagen.intake.models import Inquiry
    from anagen.patients.models import Patient
    from anagen.scheduling.models import Appointment
    from anagen.screening.models import Screening
    from anagen.studies.models import Study, Subject
    from anagen.treatments.models import AdverseEvent, AutologousSample, Procedure, TreatmentPlan

    return {
        "clinics": Clinic.objects.count(), "staff": User.objects.count(), "patients": Patient.objects.count(),
        "inquiries": Inquiry.objects.count(), "appointments": Appointment.objects.count(),
        "future_appointments": Appointment.objects.filter(starts_at__gte=ctx.present, status="booked").count(),
        "screenings": Screening.objects.values("run_id").distinct().count(),
        "plans": TreatmentPlan.objects.count(), "procedures": Procedure.objects.count(),
        "samples": AutologousSample.objects.count(), "adverse_events": AdverseEvent.objects.count(),
        "visits": AssessmentVisit.objects.count(), "images": TrichogramImage.objects.count(),
        "measurements": Measurement.objects.count(),
        "studies": Study.objects.count(), "study_subjects": Subject.objects.exclude(status="screen_failed").count(),
    }


def load_demo(*, seed: int = 2026, n_patients: int = 220, max_images: int = 300,
              log: Callable[[str], None] = print) -> DemoSummary:
    """Load the demo; see the module docstring. ``max_images`` caps the analysed images (the
    showcase patient's are always made), which is what the time goes on."""
    from django.test.utils import override_settings

    from anagen.core.errors import ActionError
    from anagen.treatments.models import Modality

    started = _time.perf_counter()
    rng = random.Random(seed)
    ctx = DemoContext(rng=rng, today=timezone.localdate(), clock=SimulatedClock(), max_images=max_images, log=log,
                      image_rng=random.Random(seed + 1))
    phones = list(range(1000))
    rng.shuffle(phones)
    ctx.phones = phones
    # Analyses run inline (not on the worker thread), and e-mails to patients stay in memory.
    with ctx.clock, override_settings(ANAGEN_TASKS_EAGER=True,
                                      EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with transaction.atomic():
            with ctx.act(None, _aware(datetime.combine(ctx.today - timedelta(weeks=HISTORY_WEEKS + 12), time(9)))):
                _clinics_and_staff(ctx)
            ctx.modalities = {m.code: m for m in Modality.objects.all()}
            _hours(ctx)
            _stock(ctx)
            _device_profiles(ctx)
        stories = _plan_stories(ctx, n_patients)
        log(f"Replaying {len(stories)} patients' histories (this takes a minute or two)...")
        failures = 0
        for i, story in enumerate(stories, start=1):
            try:
                with transaction.atomic():
                    PatientRun(ctx, story).run()
            except ActionError as exc:
                # A rule refused something in this story: leave the whole patient out, go on.
                failures += 1
                log(f"  patient {i} left out: {exc}")
            if i % 50 == 0:
                log(f"  {i} patients, {ctx.stats['images']} images, {_time.perf_counter() - started:.0f} s")
        with transaction.atomic():
            _open_inquiries(ctx, max(4, n_patients // 6))
            _recall(ctx)
        with transaction.atomic():
            _studies(ctx, seed)
        with transaction.atomic():
            _study_visits(ctx, seed)
        _micrograft_study(ctx, seed, images=max_images > 0)
        _mail_outbox_clear()
    log("  " + ", ".join(f"{k} {v}" for k, v in sorted(ctx.stats.items())))
    showcase = ctx.showcase
    summary = DemoSummary(counts=_counts(ctx), elapsed_s=_time.perf_counter() - started, image_s=ctx.image_seconds,
                          showcase=f"{showcase.full_name} ({showcase.patient_number})" if showcase else "none",
                          showcase_pk=showcase.pk if showcase else None, failures=failures)
    return summary


def load_split_scalp_study(*, seed: int = 2026, images: bool = True, log: Callable[[str], None] = print) -> DemoContext:
    """Only the clinics, the staff and the completed split-scalp study (no patient histories):
    what the study's tests need, at a tenth of the whole demo's time. The same seed gives the same
    study as :func:`load_demo` does (apart from the volunteers' phone numbers)."""
    from django.test.utils import override_settings

    rng = random.Random(seed)
    ctx = DemoContext(rng=rng, today=timezone.localdate(), clock=SimulatedClock(), max_images=300, log=log,
                      image_rng=random.Random(seed + 1))
    phones = list(range(1000))
    rng.shuffle(phones)
    ctx.phones = phones
    with ctx.clock, override_settings(ANAGEN_TASKS_EAGER=True,
                                      EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with transaction.atomic():
            with ctx.act(None, _aware(datetime.combine(ctx.today - timedelta(weeks=HISTORY_WEEKS + 12), time(9)))):
                _clinics_and_staff(ctx)
            _device_profiles(ctx)
        _micrograft_study(ctx, seed, images=images)
        _mail_outbox_clear()
    return ctx


def _mail_outbox_clear() -> None:
    from django.core import mail

    if hasattr(mail, "outbox"):
        mail.outbox = []


def demo_digest() -> str:
    """A digest of who is in the database: for checking that a seed gives the same demo."""
    from anagen.patients.models import Patient
    from anagen.scheduling.models import Appointment

    h = hashlib.sha256()
    for row in Patient.objects.order_by("patient_number").values_list("patient_number", "first_name", "last_name",
                                                                       "date_of_birth", "clinic__slug", "diagnosis"):
        h.update(repr(row).encode())
    for row in Appointment.objects.order_by("starts_at", "clinician__email").values_list(
            "patient__patient_number", "kind", "status", "starts_at", "clinician__email"):
        h.update(repr(row).encode())
    return h.hexdigest()
