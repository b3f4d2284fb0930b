"""The database lock of a study (issue item 8).

A study is locked when its latest :class:`LockEvent` is a lock. While it is locked, no service
changes the study's data: enrolment and screen failures, randomization, the end of a subject's
participation, the emergency code-break, queries and source-data verification, per-side values,
and the assessments (visits, images, measurements) of its subjects' study period. Each of those
services calls :func:`check_not_locked` (or :func:`check_patient_not_locked`) inside its
transaction, so a page, the API and a command get the same refusal.

Lock and unlock are signed acts: the actor re-enters their password; an unlock needs its reason.
Both are kept as :class:`LockEvent` rows and in the audit trail.

The unblinding of the analysis is a signed act of its own (:func:`analysis_unblind`): on a locked
database a study statistician re-enters their password to release the results to the blinded
team (the study statistician and investigators); it is kept on the lock's event and in the
audit trail. An unlock closes the results to them again; a new lock needs a new unblinding.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from anagen.core.errors import ActionError, Conflict

from .models import LockAction, LockEvent, QueryStatus, Study, StudyRole, Subject, SubjectStatus

# Study roles that lock and unlock the database: the study's statisticians.
LOCK_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN)


class StudyLocked(Conflict):
    code = "locked"


def last_event(study: Study) -> LockEvent | None:
    return LockEvent.objects.filter(study=study).order_by("-at", "-id").first()


def is_locked(study: Study) -> bool:
    event = last_event(study)
    return event is not None and event.action == LockAction.LOCK


def results_released(study: Study) -> bool:
    """Whether the database is locked and the unblinding of its analysis signed."""
    event = last_event(study)
    return event is not None and event.action == LockAction.LOCK and event.unblinded_at is not None


def locked_at(study: Study):
    event = last_event(study)
    return event.at if event is not None and event.action == LockAction.LOCK else None


def check_not_locked(study: Study | int) -> None:
    """Refuse a change to a locked study's data, with a message that says what to do."""
    study_id = study if isinstance(study, int) else study.pk
    event = LockEvent.objects.filter(study_id=study_id).order_by("-at", "-id").first()
    if event is not None and event.action == LockAction.LOCK:
        raise StudyLocked(
            f"The study's database was locked on {timezone.localtime(event.at):%d/%m/%Y} by {event.by}: its data "
            "cannot change. A study statistician can unlock it, with the reason, if a change is needed.")


def check_patient_not_locked(patient_id: int, on: date | None) -> None:
    """Refuse a change to an assessment of ``patient_id`` dated ``on`` when that date lies in the
    patient's participation in a locked study (from enrolment to the lock). Routine care after
    the lock, and patients who are in no locked study, are not affected."""
    subjects = (Subject.objects.filter(patient_id=patient_id).exclude(status=SubjectStatus.SCREEN_FAILED)
                .select_related("study"))
    for subject in subjects:
        at = locked_at(subject.study)
        if at is None:
            continue
        start = timezone.localtime(subject.screened_at).date()
        if on is None or start <= on <= timezone.localtime(at).date():
            check_not_locked(subject.study)


def _check_signer(actor, study: Study, password: str, what: str = "lock or unlock the database") -> None:
    from .services import _check_study_role

    _check_study_role(actor, study, LOCK_ROLES, what)
    if not password or not actor.check_password(password):
        raise ActionError("The password is not correct: re-enter your own password to sign.", field="password",
                          code="bad_password")


@transaction.atomic
def study_lock(*, actor, study: Study, password: str) -> LockEvent:
    """Lock the database: a study statistician, password re-entered, every query closed."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    _check_signer(actor, study, password)
    if is_locked(study):
        raise Conflict("The database is already locked.", code="locked")
    open_queries = study.queries.exclude(status=QueryStatus.CLOSED).count()
    if open_queries:
        raise Conflict(f"{open_queries} data {'query is' if open_queries == 1 else 'queries are'} not closed: "
                       "close every query before the lock.", code="open_queries")
    return LockEvent.objects.create(study=study, action=LockAction.LOCK, by=actor, at=timezone.now())


@transaction.atomic
def study_unlock(*, actor, study: Study, password: str, reason: str) -> LockEvent:
    """Unlock the database, with the reason (recorded, audited); re-locking is a new lock."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    _check_signer(actor, study, password)
    if not is_locked(study):
        raise Conflict("The database is not locked.", code="not_locked")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ActionError("Say why the database is unlocked (at least a sentence); it is kept in the record.",
                          field="reason")
    if len(reason) > 2000:
        raise ActionError("Keep the reason under 2000 characters.", field="reason")
    return LockEvent.objects.create(study=study, action=LockAction.UNLOCK, by=actor, at=timezone.now(),
                                    reason=reason)


UNBLINDING_MEANING = ("I confirm that the database is locked and release the allocation to the analysis: the "
                      "study's results open to its statisticians and investigators.")


@transaction.atomic
def analysis_unblind(*, actor, study: Study, password: str) -> LockEvent:
    """Sign the unblinding of the analysis of the locked database (a study statistician, password
    re-entered): the results open to the study statistician and investigators. Recorded on the
    lock's event (who, when) and in the audit trail; refused before the lock and twice."""
    from anagen.audit.context import acting_as

    study = Study.objects.select_for_update().get(pk=study.pk)
    _check_signer(actor, study, password, "sign the unblinding of the analysis")
    event = last_event(study)
    if event is None or event.action != LockAction.LOCK:
        raise Conflict("The database is not locked: the analysis is unblinded on a locked database. Close every "
                       "query and lock it first.", code="not_locked")
    if event.unblinded_at is not None:
        raise Conflict(f"The analysis was already unblinded on {timezone.localtime(event.unblinded_at):%d/%m/%Y} by "
                       f"{event.unblinded_by}.", code="already_unblinded")
    with acting_as(actor):
        event.unblinded_by, event.unblinded_at = actor, timezone.now()
        event.save(update_fields=["unblinded_by", "unblinded_at"])
    return event
