"""The studies app's part of the FHIR R4 export: ResearchStudy and ResearchSubject.

Registered with :mod:`anagen.fhir.registry` from ``StudiesConfig.ready``, so every export (a
patient's ``$everything`` Bundle, bulk NDJSON, identified or de-identified) carries the studies
its patients were screened for. The allocation is never exported: ``assignedArm`` and
``actualArm`` are left out for every reader, because an export can reach blinded staff and
outside systems that know nothing of the blinding (the analysis dataset is the place for arms).
Screen failures are exported as ``ineligible`` so a receiver can count them (CONSORT).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .models import Study, StudyStatus, Subject, SubjectStatus

# FHIR R4 research-study-status and research-subject-status codes.
STUDY_STATUS = {
    StudyStatus.DRAFT: "in-review",
    StudyStatus.RECRUITING: "active",
    StudyStatus.CLOSED: "closed-to-accrual",
}
SUBJECT_STATUS = {
    SubjectStatus.SCREEN_FAILED: "ineligible",
    SubjectStatus.ENROLLED: "on-study",
    SubjectStatus.RANDOMIZED: "on-study-intervention",
    SubjectStatus.WITHDRAWN: "withdrawn",
    SubjectStatus.LOST: "off-study",
}
ANAGEN_STUDY_SYSTEM = "https://anagen.example/fhir/sid/study"
ANAGEN_SUBJECT_SYSTEM = "https://anagen.example/fhir/sid/study-subject"


def research_study(study: Study, opts) -> dict:
    resource = {
        "resourceType": "ResearchStudy",
        "id": opts.rid("ResearchStudy", study.pk),
        "status": STUDY_STATUS.get(study.status, "in-review"),
        "title": study.title,
        "identifier": [{"system": ANAGEN_STUDY_SYSTEM, "value": str(study.pk)}],
        "arm": [{"name": arm.code, "description": arm.name} for arm in study.arms.all()],
    }
    if study.registry_id:
        resource["identifier"].append({"value": study.registry_id})
    if study.primary_endpoint:
        resource["description"] = f"Primary endpoint: {study.primary_endpoint}"
    if opts.deidentified:
        resource["identifier"] = [i for i in resource["identifier"] if i.get("system") != ANAGEN_STUDY_SYSTEM]
        if not resource["identifier"]:
            del resource["identifier"]
    return resource


def research_subject(subject: Subject, opts) -> dict:
    resource = {
        "resourceType": "ResearchSubject",
        "id": opts.rid("ResearchSubject", subject.pk),
        "status": SUBJECT_STATUS.get(subject.status, "on-study"),
        "study": opts.ref("ResearchStudy", subject.study_id),
        "individual": opts.ref("Patient", subject.patient_id),
    }
    period = {}
    if not opts.deidentified:
        # The subject code is a study pseudonym, but with the dates it would re-identify a
        # patient in a de-identified export; the screening date is kept only in identified ones.
        resource["identifier"] = [{"system": f"{ANAGEN_SUBJECT_SYSTEM}/{subject.study_id}", "value": subject.code}]
        period["start"] = subject.screened_at.date().isoformat()
        if subject.ended_on:
            period["end"] = subject.ended_on.isoformat()
    if period:
        resource["period"] = period
    return resource


def study_resources(patient_ids: list[int], opts) -> Iterator[dict]:
    """ResearchStudy (once per study) and ResearchSubject for each screening of these patients."""
    subjects = list(Subject.objects.filter(patient_id__in=patient_ids).order_by("study_id", "pk"))
    studies: Iterable[Study] = (Study.objects.filter(pk__in={s.study_id for s in subjects})
                                .prefetch_related("arms").order_by("pk"))
    for study in studies:
        yield research_study(study, opts)
    for subject in subjects:
        yield research_subject(subject, opts)


def register() -> None:
    from anagen.fhir.registry import register as register_provider

    register_provider(types=("ResearchStudy", "ResearchSubject"), provider=study_resources)
