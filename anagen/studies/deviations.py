"""Study visits against the protocol's windows, and protocol deviations.

Each randomized subject's schedule is anchored on the day of randomization (``schedule.py``,
pure). The visits held are the patient's assessment visits; matching them to the protocol's
visits gives what is done, due, missed or held outside its window. A missed visit, a visit
outside its window and, in a study whose treatment is given as study product (prepared
syringes), a clinic procedure of a subject during the study that is not study product (a
treatment outside the study) are deviations found from the records (``deviations_refresh``, idempotent,
run from the dashboard and by the periodic work); a wrong treatment, an eligibility or consent
problem is reported by a person. A visit outside its window is never refused: it is recorded,
and listed here.

Blinding: nothing here carries an arm or a side. A report whose details would reveal the
allocation (``reveals_allocation``) shows its description only to unblinded members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from anagen.core.errors import ActionError

from . import blinding
from .models import (DETECTED_CATEGORIES, Deviation, DeviationCategory, Study, StudyRole, Subject, SubjectStatus)
from .lock import check_not_locked, is_locked
from .schedule import VisitState, deviations, match_visits, visit_windows

REPORT_ROLES = (StudyRole.INVESTIGATOR, StudyRole.COORDINATOR, StudyRole.STATISTICIAN,
                StudyRole.UNBLINDED_PHARMACIST, StudyRole.UNBLINDED_STATISTICIAN)
CLOSE_ROLES = (StudyRole.INVESTIGATOR, StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN)
FOLLOWED_STATUSES = (SubjectStatus.RANDOMIZED, SubjectStatus.WITHDRAWN, SubjectStatus.LOST)
MASKED = "Details are held by the unblinded team (they would reveal the allocation)."


def _today() -> date:
    return timezone.localdate()


def _check(actor, study: Study, roles, what: str) -> None:
    from .services import _check_study_role

    _check_study_role(actor, study, roles, what)


# --- visits ---------------------------------------------------------------------------------------

def subject_anchor(subject: Subject) -> date | None:
    allocation = getattr(subject, "allocation", None) if subject.status in FOLLOWED_STATUSES else None
    return timezone.localtime(allocation.randomized_at).date() if allocation else None


def subject_visit_states(subject: Subject, today: date | None = None) -> list[VisitState]:
    """The subject's protocol visits with the assessment visit held for each (``held_key`` is the
    AssessmentVisit's id), or an empty list before randomization."""
    from anagen.assessments.models import AssessmentVisit

    anchor = subject_anchor(subject)
    if anchor is None:
        return []
    windows = visit_windows(subject.protocol_version.content.get("visits") or [], anchor)
    if not windows:
        return []
    held = list(AssessmentVisit.objects.filter(patient_id=subject.patient_id, visit_date__gte=windows[0].earliest_on)
                .order_by("visit_date", "pk").values_list("pk", "visit_date"))
    return match_visits(windows, held, today or _today(), ended_on=subject.ended_on)


def uses_study_product(study: Study) -> bool:
    """Whether the study's treatment is given as study product (prepared syringes): only then is a
    clinic procedure of a subject a treatment outside the study."""
    from .models_delivery import Preparation

    return Preparation.objects.filter(subject__study=study).exists()


def treatments_outside_study(subject: Subject, today: date | None = None) -> dict[int, tuple[date, str]]:
    """The subject's clinic procedures from the day of randomization to the end of participation
    (the last protocol visit's window, the end of participation or today, whichever comes first)
    that are not study product: procedure id -> (date, description). Nothing here names an arm: a
    study syringe's procedure is left out whatever it held."""
    from anagen.treatments.models import Procedure

    anchor = subject_anchor(subject)
    if anchor is None:
        return {}
    windows = visit_windows(subject.protocol_version.content.get("visits") or [], anchor)
    last = windows[-1].latest_on if windows else None
    until = min(d for d in (subject.ended_on, today or _today(), last) if d is not None)
    procedures = (Procedure.objects.filter(patient_id=subject.patient_id, performed_on__gte=anchor,
                                           performed_on__lte=until, study_syringe__isnull=True)
                  .select_related("modality", "clinic").order_by("performed_on", "pk"))
    return {p.pk: (p.performed_on, f"{p.modality.name} on {p.performed_on.isoformat()} at {p.clinic.name}, recorded "
                                    f"as a clinic procedure during the study, not as study product.")
            for p in procedures}


def visits_without_data(states: list[VisitState]) -> list[VisitState]:
    """Held visits with no usable target-area measurement (none, uncalibrated or excluded)."""
    from anagen.assessments.models import Measurement

    keys = [s.held_key for s in states if s.held_key is not None]
    usable = set(Measurement.objects.filter(visit_id__in=keys, excluded=False, hair_count__isnull=False,
                                            field_area_cm2__isnull=False).values_list("visit_id", flat=True))
    return [s for s in states if s.held_key is not None and s.held_key not in usable]


@dataclass
class VisitLine:
    subject: Subject
    state: VisitState


@dataclass
class StudyVisits:
    due: list[VisitLine]
    missed: list[VisitLine]
    out_of_window: list[VisitLine]
    missing_data: list[VisitLine]
    done: int


def study_visits(*, user, study: Study, today: date | None = None) -> StudyVisits:
    """Visits due, missed, held out of window and held without data, for the subjects at the
    user's clinics (the dashboard)."""
    from .selectors import subject_list

    today = today or _today()
    out = StudyVisits([], [], [], [], 0)
    for subject in subject_list(user=user, study=study).filter(status__in=FOLLOWED_STATUSES):
        states = subject_visit_states(subject, today)
        for s in states:
            if s.state == "due":
                out.due.append(VisitLine(subject, s))
            elif s.state == "missed":
                out.missed.append(VisitLine(subject, s))
            elif s.state == "out_of_window":
                out.out_of_window.append(VisitLine(subject, s))
            elif s.state == "done":
                out.done += 1
        out.missing_data.extend(VisitLine(subject, s) for s in visits_without_data(states))
    return out


# --- deviations -----------------------------------------------------------------------------------

@transaction.atomic
def deviations_refresh(*, actor, study: Study, today: date | None = None) -> tuple[int, int]:
    """Record the deviations the schedule shows and close detected ones that no longer apply (a
    missed visit that was held after all becomes a visit outside its window). Returns (opened,
    closed). Safe to run again: a detected deviation is recorded once per subject, kind and visit.
    ``actor`` is the team member who asked, or None for the nightly check."""
    today = today or _today()
    if is_locked(study):
        return 0, 0  # a locked database changes only after a recorded unlock
    now = timezone.now()
    opened = closed = 0
    subjects = Subject.objects.filter(study=study, status__in=FOLLOWED_STATUSES).select_related(
        "allocation", "protocol_version")
    with_product = uses_study_product(study)
    for subject in subjects:
        # (category, visit code, procedure id) -> (description, the day it happened)
        found = {(cat, code, None): (text, today) for cat, code, text in deviations(subject_visit_states(subject, today))}
        if with_product:
            found.update({(DeviationCategory.OUTSIDE_TREATMENT, "", pk): (text, on)
                          for pk, (on, text) in treatments_outside_study(subject, today).items()})
        existing = {(d.category, d.visit_code, d.procedure_id): d for d in subject.deviations.filter(detected=True)}
        for key, (text, on) in found.items():
            if key in existing:
                d = existing[key]
                if not d.is_open:  # it happened again after being closed as no longer found
                    d.closed_at, d.closed_by, d.closing_note, d.description = None, None, "", text
                    d.save()
                    opened += 1
                continue
            Deviation.objects.create(subject=subject, category=key[0], visit_code=key[1], procedure_id=key[2],
                                     description=text, detected=True, reported_by=actor, reported_at=now,
                                     occurred_on=on)
            opened += 1
        for key, d in existing.items():
            if key not in found and d.is_open:
                d.closed_at, d.closed_by = now, actor
                d.closing_note = "No longer found in the visit records."
                d.save()
                closed += 1
    return opened, closed


@transaction.atomic
def deviation_report(*, actor, subject: Subject, category: str, description: str, occurred_on: date | None = None,
                     visit_code: str = "", reveals_allocation: bool = False) -> Deviation:
    _check(actor, subject.study, REPORT_ROLES, "report a protocol deviation")
    check_not_locked(subject.study)
    if category not in DeviationCategory.values:
        raise ActionError("Choose a deviation category from the list.", field="category")
    if category in DETECTED_CATEGORIES:
        raise ActionError("Missed visits, visits outside their window and treatments outside the study product are "
                          "found from the records; record the visit or the procedure, then check the visits for "
                          "deviations.", field="category")
    description = (description or "").strip()
    if not description:
        raise ActionError("Describe what happened.", field="description")
    if occurred_on and occurred_on > _today():
        raise ActionError("The date a deviation happened cannot be in the future.", field="occurred_on")
    codes = {v.get("code") for v in subject.protocol_version.content.get("visits") or []}
    if visit_code and visit_code not in codes:
        raise ActionError(f"No visit {visit_code!r} in the protocol.", field="visit_code")
    return Deviation.objects.create(subject=subject, category=category, description=description[:4000],
                                    occurred_on=occurred_on, visit_code=visit_code,
                                    reveals_allocation=bool(reveals_allocation), reported_by=actor,
                                    reported_at=timezone.now())


@transaction.atomic
def deviation_close(*, actor, deviation: Deviation, note: str) -> Deviation:
    deviation = Deviation.objects.select_for_update().select_related("subject__study").get(pk=deviation.pk)
    _check(actor, deviation.subject.study, CLOSE_ROLES, "close a protocol deviation")
    check_not_locked(deviation.subject.study)
    if not deviation.is_open:
        raise ActionError("This deviation is already closed.")
    note = (note or "").strip()
    if not note:
        raise ActionError("Say how the deviation was handled (for example: analysed per protocol, subject "
                          "retrained, sponsor told).", field="note")
    deviation.closed_at, deviation.closed_by, deviation.closing_note = timezone.now(), actor, note[:4000]
    deviation.save()
    return deviation


def deviation_list(*, user, study: Study, open_only: bool = False):
    from .selectors import subject_list

    qs = (Deviation.objects.filter(subject__in=subject_list(user=user, study=study))
          .select_related("subject", "reported_by", "closed_by").order_by("subject__code", "reported_at", "pk"))
    return qs.filter(closed_at__isnull=True) if open_only else qs


def description_for(user, deviation: Deviation) -> str:
    """The deviation's description as ``user`` may read it."""
    if deviation.reveals_allocation and not blinding.is_unblinded(user, deviation.subject.study):
        return MASKED
    return deviation.description


def deviation_dict(user, d: Deviation) -> dict:
    return {"id": d.pk, "subject": d.subject.code, "category": d.category,
            "category_label": d.get_category_display(), "visit_code": d.visit_code,
            "description": description_for(user, d), "detected": d.detected,
            "occurred_on": d.occurred_on, "reported_at": d.reported_at, "open": d.is_open,
            "closed_at": d.closed_at, "closing_note": d.closing_note}


def refresh_all_studies(today: date | None = None) -> str:
    """The nightly check: every study with randomized subjects (the periodic job calls this)."""
    opened = closed = 0
    for study in Study.objects.filter(subjects__allocation__isnull=False).distinct().order_by("pk"):
        o, c = deviations_refresh(actor=None, study=study, today=today)
        opened, closed = opened + o, closed + c
    return f"{opened} deviation(s) found, {closed} no longer found"
