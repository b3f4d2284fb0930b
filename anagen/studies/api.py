"""Studies API, mounted at /api/v1/studies: the same services and selectors as the pages, and the
same blinding rule (:func:`anagen.studies.blinding.assignment_view`) for every subject returned.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema, Status

from anagen.api.params import Id
from anagen.accounts.models import Clinic, User
from anagen.core.errors import ActionError

from . import blinding, randomization, selectors, services
from .views import STUDY_PAGE_ROLES

router = Router(tags=["studies"])


def _page_role(request) -> None:
    if not request.user.has_role(*STUDY_PAGE_ROLES):
        raise PermissionDenied("Your role does not allow studies.")


class StudyOut(Schema):
    id: int
    title: str
    registry_id: str
    design: str
    status: str
    target_enrolment: int
    current_version: int
    approved_version: int | None
    my_role: str | None
    protocol: dict[str, Any]


def _study_out(request, study) -> dict:
    version = services.current_version(study)
    approved = services.approved_version(study)
    return {"id": study.pk, "title": study.title, "registry_id": study.registry_id, "design": study.design,
            "status": study.status, "target_enrolment": study.target_enrolment, "current_version": version.number,
            "approved_version": approved.number if approved else None,
            "my_role": blinding.study_role(request.user, study), "protocol": version.content}


class StudyIn(Schema):
    title: str | None = None
    registry_id: str | None = None
    sponsor: str | None = None
    principal_investigator_id: int | None = None
    site_ids: list[int] | None = None
    design: str | None = None
    arms: list[dict[str, Any]] | None = None
    target_enrolment: int | None = None
    research_consent_version: str | None = None
    criteria: dict[str, Any] | None = None
    primary_endpoint: str | None = None
    secondary_endpoints: list[str] | None = None
    visits: list[dict[str, Any]] | None = None
    algorithm: str | None = None
    block_multiples: list[int] | None = None
    strata_factors: list[str] | None = None
    minimization_factors: list[str] | None = None
    p_best: float | None = None


def _fields(request, payload: StudyIn) -> dict:
    data = payload.dict(exclude_unset=True)
    data = {k: v for k, v in data.items() if v is not None or k == "principal_investigator_id"}
    if "site_ids" in data:
        ids = data.pop("site_ids")
        sites = list(Clinic.objects.filter(pk__in=ids))
        if len(sites) != len(set(ids)):
            raise ActionError("Unknown site id; use the ids of clinics you work at.", field="site_ids")
        data["sites"] = sites
    if "principal_investigator_id" in data:
        pk = data.pop("principal_investigator_id")
        data["principal_investigator"] = User.objects.filter(pk=pk).first() if pk else None
        if pk and data["principal_investigator"] is None:
            raise ActionError("Unknown principal investigator id.", field="principal_investigator_id")
    return data


@router.get("", response=list[StudyOut], summary="The studies you are on the team of")
def study_list(request):
    _page_role(request)
    return [_study_out(request, s) for s in selectors.study_list(user=request.user)]


@router.post("", response={201: StudyOut}, summary="Start a study (statisticians, admins): a draft protocol")
def study_create(request, payload: StudyIn):
    data = _fields(request, payload)
    study = services.study_create(actor=request.user, title=data.pop("title", ""), sites=data.pop("sites", []),
                                  arms=data.pop("arms", []), **data)
    return Status(201, _study_out(request, study))


@router.get("/{study_id}", response=StudyOut, summary="A study and its current protocol version")
def study_get(request, study_id: Id):
    _page_role(request)
    return _study_out(request, selectors.study_get(user=request.user, pk=study_id))


@router.patch("/{study_id}", response=StudyOut, summary="Change a draft protocol (refused once signed: amend)")
def study_update(request, study_id: Id, payload: StudyIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    services.study_update(actor=request.user, study=study, **_fields(request, payload))
    return _study_out(request, selectors.study_get(user=request.user, pk=study_id))


class SignIn(Schema):
    password: str
    meaning: str


class SignatureOut(Schema):
    version: int
    meaning: str
    signer: str
    signed_at: datetime
    approved: bool


@router.post("/{study_id}/signatures", response={201: SignatureOut}, summary="Sign off the draft (re-enter password)")
def study_sign(request, study_id: Id, payload: SignIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    sig = services.protocol_sign(actor=request.user, study=study, password=payload.password, meaning=payload.meaning)
    sig.version.refresh_from_db()
    return Status(201, {"version": sig.version.number, "meaning": sig.meaning, "signer": sig.signer.email,
                        "signed_at": sig.signed_at, "approved": sig.version.is_approved})


class AmendIn(Schema):
    reason: str


class VersionOut(Schema):
    number: int
    approved_at: datetime | None
    amendment_reason: str
    content: dict[str, Any]
    signatures: list[dict[str, Any]]


def _version_out(v) -> dict:
    return {"number": v.number, "approved_at": v.approved_at, "amendment_reason": v.amendment_reason,
            "content": v.content,
            "signatures": [{"meaning": s.meaning, "signer": s.signer.email, "signed_at": s.signed_at}
                           for s in v.signatures.select_related("signer")]}


@router.post("/{study_id}/amendments", response={201: VersionOut}, summary="Open an amendment (new version) with a reason")
def study_amend(request, study_id: Id, payload: AmendIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    return Status(201, _version_out(services.protocol_amend(actor=request.user, study=study, reason=payload.reason)))


@router.get("/{study_id}/versions/{number}", response=VersionOut, summary="One protocol version, as signed")
def version_get(request, study_id: Id, number: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    return _version_out(selectors.version_get(user=request.user, study=study, number=number))


class MemberIn(Schema):
    user_email: str
    role: str


class MemberOut(Schema):
    user: str
    role: str
    blinded: bool


@router.get("/{study_id}/members", response=list[MemberOut], summary="The study team and who is blinded")
def member_list(request, study_id: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    return [{"user": m.user.email, "role": m.role, "blinded": m.is_blinded} for m in selectors.members(study=study)]


@router.post("/{study_id}/members", response={201: MemberOut}, summary="Add a staff member to the team")
def member_add(request, study_id: Id, payload: MemberIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    user = User.objects.filter(email=payload.user_email.strip().lower()).first()
    if user is None:
        raise ActionError("No staff member has that e-mail address.", field="user_email")
    m = services.member_add(actor=request.user, study=study, user=user, role=payload.role)
    return Status(201, {"user": user.email, "role": m.role, "blinded": m.is_blinded})


class SubjectOut(Schema):
    id: int
    code: str
    patient_id: int
    site: str
    status: str
    protocol_version: int
    eligibility: dict[str, Any]
    screen_failure_reason: str
    ended_on: date | None
    end_reason: str
    unblinded: bool
    randomization: dict[str, Any]


def _subject_out(request, s) -> dict:
    return {"id": s.pk, "code": s.code, "patient_id": s.patient_id, "site": s.site.slug, "status": s.status,
            "protocol_version": s.protocol_version.number, "eligibility": s.eligibility,
            "screen_failure_reason": s.screen_failure_reason, "ended_on": s.ended_on, "end_reason": s.end_reason,
            "unblinded": s.is_unblinded, "randomization": blinding.assignment_view(request.user, s).as_dict()}


@router.get("/{study_id}/subjects", response=list[SubjectOut], summary="Subjects at your clinics")
def subject_list(request, study_id: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    return [_subject_out(request, s) for s in selectors.subject_list(user=request.user, study=study)]


@router.get("/{study_id}/subjects/{subject_id}", response=SubjectOut, summary="One subject")
def subject_get(request, study_id: Id, subject_id: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    return _subject_out(request, selectors.subject_get(user=request.user, study=study, pk=subject_id))


class EligibilityOut(Schema):
    decision: str
    reasons: list[dict[str, Any]]
    research_consent: str | None
    wanted_consent_version: str
    enrolled_subject: str | None


@router.get("/{study_id}/eligibility/{patient_id}", response=EligibilityOut, summary="Check a patient's eligibility and consent")
def eligibility(request, study_id: Id, patient_id: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    if not selectors.can(request.user, study, "enrol"):
        raise PermissionDenied("Only a study investigator screens and enrols.")
    patient = selectors.patient_for_enrolment(user=request.user, pk=patient_id)
    c = selectors.enrolment_check(user=request.user, study=study, patient=patient)
    return {"decision": c.eligibility.decision, "reasons": [r.to_dict() for r in c.eligibility.reasons],
            "research_consent": c.consent.document_version if c.consent else None,
            "wanted_consent_version": c.wanted_consent_version,
            "enrolled_subject": c.enrolled.code if c.enrolled else None}


class EnrolIn(Schema):
    patient_id: int
    confirm_review: bool = False


class ScreenFailIn(Schema):
    patient_id: int
    reason: str = ""


@router.post("/{study_id}/subjects", response={201: SubjectOut}, summary="Enrol a patient (eligible, consented)")
def subject_enrol(request, study_id: Id, payload: EnrolIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    patient = selectors.patient_for_enrolment(user=request.user, pk=payload.patient_id)
    s = services.subject_enrol(actor=request.user, study=study, patient=patient, confirm_review=payload.confirm_review)
    return Status(201, _subject_out(request, s))


@router.post("/{study_id}/screen-failures", response={201: SubjectOut}, summary="Record a screen failure with its reason")
def subject_screen_fail(request, study_id: Id, payload: ScreenFailIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    patient = selectors.patient_for_enrolment(user=request.user, pk=payload.patient_id)
    s = services.subject_screen_fail(actor=request.user, study=study, patient=patient, reason=payload.reason)
    return Status(201, _subject_out(request, s))


@router.post("/{study_id}/subjects/{subject_id}/randomization", response={201: SubjectOut},
             summary="Randomize an enrolled subject (final)")
def subject_randomize(request, study_id: Id, subject_id: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_id)
    randomization.subject_randomize(actor=request.user, subject=subject)
    return Status(201, _subject_out(request, selectors.subject_get(user=request.user, study=study, pk=subject_id)))


class EndIn(Schema):
    status: str
    on: date
    reason: str


@router.post("/{study_id}/subjects/{subject_id}/end", response=SubjectOut, summary="Withdrawal or loss to follow-up")
def subject_end(request, study_id: Id, subject_id: Id, payload: EndIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_id)
    services.subject_end(actor=request.user, subject=subject, status=payload.status, on=payload.on,
                         reason=payload.reason)
    return _subject_out(request, selectors.subject_get(user=request.user, study=study, pk=subject_id))


class CodeBreakIn(Schema):
    reason: str


@router.post("/{study_id}/subjects/{subject_id}/code-break", response={201: SubjectOut},
             summary="Emergency unblinding of one subject (investigator, with a reason)")
def subject_code_break(request, study_id: Id, subject_id: Id, payload: CodeBreakIn):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_id)
    services.code_break(actor=request.user, subject=subject, reason=payload.reason)
    return Status(201, _subject_out(request, selectors.subject_get(user=request.user, study=study, pk=subject_id)))


class SiteOut(Schema):
    site: str
    screened: int
    screen_failed: int
    enrolled: int
    randomized: int


@router.get("/{study_id}/enrolment", response=list[SiteOut], summary="Enrolment per site (never per arm)")
def enrolment(request, study_id: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    return [p.__dict__ for p in selectors.enrolment_by_site(user=request.user, study=study)]


# --- visits and protocol deviations ---------------------------------------------------------------

class DeviationOut(Schema):
    id: int
    subject: str
    category: str
    category_label: str
    visit_code: str
    description: str
    detected: bool
    occurred_on: date | None
    reported_at: datetime
    open: bool
    closed_at: datetime | None
    closing_note: str


class DeviationIn(Schema):
    category: str
    description: str
    occurred_on: date | None = None
    visit_code: str = ""
    reveals_allocation: bool = False


class VisitStateOut(Schema):
    code: str
    label: str
    target_on: date
    earliest_on: date
    latest_on: date
    held_on: date | None
    state: str


@router.get("/{study_id}/deviations", response=list[DeviationOut], summary="Protocol deviations at your clinics")
def deviation_list(request, study_id: Id, open_only: bool = False):
    from . import deviations

    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    return [deviations.deviation_dict(request.user, d)
            for d in deviations.deviation_list(user=request.user, study=study, open_only=open_only)]


@router.post("/{study_id}/subjects/{subject_id}/deviations", response={201: DeviationOut},
             summary="Report a protocol deviation (missed and out-of-window visits are found from the visits)")
def deviation_report(request, study_id: Id, subject_id: Id, payload: DeviationIn):
    from . import deviations

    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_id)
    d = deviations.deviation_report(actor=request.user, subject=subject, category=payload.category,
                                    description=payload.description, occurred_on=payload.occurred_on,
                                    visit_code=payload.visit_code, reveals_allocation=payload.reveals_allocation)
    return Status(201, deviations.deviation_dict(request.user, d))


@router.get("/{study_id}/subjects/{subject_id}/visits", response=list[VisitStateOut],
            summary="A subject's protocol visits: windows, the visit held for each, done/due/missed/out of window")
def subject_visits(request, study_id: Id, subject_id: Id):
    from . import deviations

    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    subject = selectors.subject_get(user=request.user, study=study, pk=subject_id)
    return [{"code": s.window.code, "label": s.window.label, "target_on": s.window.target_on,
             "earliest_on": s.window.earliest_on, "latest_on": s.window.latest_on, "held_on": s.held_on,
             "state": s.state} for s in deviations.subject_visit_states(subject)]
# Blinded reading (queue, coded images, readings, adjudication, agreement): its own module.
from .api_reading import router as _reading_router  # noqa: E402

router.add_router("", _reading_router)
# Data quality, the lock and the results (anagen/studies/api_analysis.py).
from .api_analysis import router as _analysis_router  # noqa: E402

router.add_router("", _analysis_router)
# Treatment and placebo delivery (anagen/studies/api_delivery.py).
from .api_delivery import router as _delivery_router  # noqa: E402

router.add_router("", _delivery_router)
