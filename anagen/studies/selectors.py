"""Reads for clinical studies, always through the user: not on the study team -> 404 (the study's
existence is not disclosed); a subject at a clinic the user does not work at -> 404.

What a user may see of an assignment is decided by :mod:`anagen.studies.blinding`, never here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from anagen.accounts.models import Role
from anagen.core.permissions import has_role
from anagen.patients.models import Patient

from . import blinding, services
from .models import ProtocolVersion, Study, StudyMember, StudyRole, Subject, SubjectStatus


def can_create_study(user) -> bool:
    return has_role(user, *services.STUDY_CREATE_ROLES)


def study_list(*, user) -> QuerySet[Study]:
    if not (user and user.is_authenticated):
        return Study.objects.none()
    return Study.objects.filter(members__user=user).prefetch_related("sites").distinct()


def study_get(*, user, pk) -> Study:
    try:
        study = Study.objects.prefetch_related("arms", "sites").get(pk=int(pk))
    except (Study.DoesNotExist, ValueError, TypeError):
        raise Http404("No such study.") from None
    if blinding.study_role(user, study) is None:
        raise Http404("No such study, or you are not on its team.")
    return study


def version_get(*, user, study: Study, number) -> ProtocolVersion:
    try:
        return study.versions.get(number=int(number))
    except (ProtocolVersion.DoesNotExist, ValueError, TypeError):
        raise Http404("No such protocol version.") from None


def members(*, study: Study) -> QuerySet[StudyMember]:
    return study.members.select_related("user")


def can(user, study: Study, what: str) -> bool:
    role = blinding.study_role(user, study)
    roles = {"edit": services.PROTOCOL_EDIT_ROLES, "enrol": services.INVESTIGATOR_ROLES,
             "randomize": services.INVESTIGATOR_ROLES, "code_break": services.INVESTIGATOR_ROLES}[what]
    if what == "code_break" and not has_role(user, Role.CLINICIAN):
        return False
    return role in roles


def subject_list(*, user, study: Study) -> QuerySet[Subject]:
    """The study's subjects at the clinics the user works at.

    Evaluators get 403: they read coded images and must not know whose, or which subject's, they are."""
    if blinding.study_role(user, study) == StudyRole.EVALUATOR:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Evaluators read coded images; the subjects' records are not shown to them.")
    return (study.subjects.filter(site_id__in=list(user.clinic_ids))
            .select_related("patient", "site", "allocation", "study").order_by("code"))


def subject_get(*, user, study: Study, pk) -> Subject:
    try:
        return subject_list(user=user, study=study).get(pk=int(pk))
    except (Subject.DoesNotExist, ValueError, TypeError):
        raise Http404("No such subject at a clinic you work at.") from None


def patient_for_enrolment(*, user, pk) -> Patient:
    try:
        return Patient.objects.select_related("clinic").get(pk=int(pk), clinic_id__in=list(user.clinic_ids))
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404("No such patient in a clinic you work at.") from None


@dataclass(frozen=True)
class EnrolmentCheck:
    eligibility: object
    consent: object | None
    wanted_consent_version: str
    enrolled: Subject | None
    study_recruiting: bool
    patient_at_site: bool


def enrolment_check(*, user, study: Study, patient: Patient) -> EnrolmentCheck:
    version = services.approved_version(study)
    eligibility, _ = services.eligibility_for(study, patient, version)
    content = version.content if version else services.protocol_content(study)
    return EnrolmentCheck(
        eligibility=eligibility, consent=services.research_consent(study, patient, version),
        wanted_consent_version=content.get("research_consent_version") or "",
        enrolled=study.subjects.filter(patient=patient).exclude(status=SubjectStatus.SCREEN_FAILED).first(),
        study_recruiting=study.status == "recruiting",
        patient_at_site=study.sites.filter(pk=patient.clinic_id).exists())


@dataclass(frozen=True)
class SiteProgress:
    site: str
    screened: int
    screen_failed: int
    enrolled: int  # enrolled or beyond (randomized, withdrawn, lost)
    randomized: int


def enrolment_by_site(*, user, study: Study) -> list[SiteProgress]:
    """Enrolment against target per site: totals only, never per arm (a blinded view)."""
    rows = (study.subjects.filter(site_id__in=list(user.clinic_ids)).values("site__name")
            .annotate(screened=Count("id"),
                      failed=Count("id", filter=Q(status=SubjectStatus.SCREEN_FAILED)),
                      randomized=Count("id", filter=Q(allocation__isnull=False)))
            .order_by("site__name"))
    return [SiteProgress(site=r["site__name"], screened=r["screened"], screen_failed=r["failed"],
                         enrolled=r["screened"] - r["failed"], randomized=r["randomized"]) for r in rows]


def studies_for_patient(*, user, patient: Patient) -> list[tuple[Study, Subject | None]]:
    """The recruiting studies at the patient's clinic that the user screens for, with any enrolment."""
    studies = (Study.objects.filter(members__user=user, members__role=StudyRole.INVESTIGATOR,
                                    sites=patient.clinic_id).distinct())
    out = []
    for s in studies:
        subject = s.subjects.filter(patient=patient).exclude(status=SubjectStatus.SCREEN_FAILED).first()
        out.append((s, subject))
    return out
