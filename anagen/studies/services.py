"""Writes for clinical studies: protocol (draft, sign-off, amendment), members, enrolment,
randomization and emergency code-break. Keyword-only, one transaction each.

Rules enforced here, once, for pages, API and commands alike:

- A protocol is a draft until a statistician and a clinician sign it off (each re-enters their
  password; the meaning of the signature is recorded). After that, a change needs an amendment
  with a reason, which opens version N+1; the signed versions stay as they were.
- Enrolment needs the study to be recruiting, the patient at one of its sites, the eligibility
  criteria met and an active research consent of the study's version. A refusal writes nothing;
  a screen failure is recorded on purpose, with its reasons.
- Randomization is one transaction on the locked study row; a slot is never given twice
  (unique (study, sequence_number)) and never undone.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from anagen.audit.events import record_event
from anagen.accounts.models import Clinic, Role, User
from anagen.core.errors import ActionError, Conflict, NotFound
from anagen.core.permissions import check_role
from anagen.patients.models import Consent, Patient

from . import blinding
from .lock import check_not_locked
from .eligibility import Criteria, assess, validate_criteria
from .models import (
    FACTORS,
    Algorithm,
    Arm,
    CodeBreak,
    Design,
    ProtocolVersion,
    RandomizationSecret,
    Signature,
    SignatureMeaning,
    Study,
    StudyMember,
    StudyRole,
    StudyStatus,
    Subject,
    SubjectStatus,
)

STUDY_CREATE_ROLES = (Role.ADMIN, Role.STATISTICIAN)
# Study roles that may edit a draft protocol, amend it and manage the team.
PROTOCOL_EDIT_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN)
# Study roles that screen, enrol, randomize, withdraw and (in an emergency) break the code.
INVESTIGATOR_ROLES = (StudyRole.INVESTIGATOR,)
SIGNATURE_ROLES = {
    SignatureMeaning.STATISTICAL: ((StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN), Role.STATISTICIAN),
    SignatureMeaning.CLINICAL: ((StudyRole.INVESTIGATOR,), Role.CLINICIAN),
}

DEFAULT_VISITS = [
    {"code": "baseline", "label": "Baseline", "week": 0, "window_days": 0},
    {"code": "w4", "label": "Week 4", "week": 4, "window_days": 7},
    {"code": "w12", "label": "Week 12", "week": 12, "window_days": 7},
    {"code": "w23", "label": "Week 23", "week": 23, "window_days": 14},
    {"code": "w44", "label": "Week 44", "week": 44, "window_days": 14},
    {"code": "w58", "label": "Week 58", "week": 58, "window_days": 21},
]

PROTOCOL_FIELDS = ("title", "registry_id", "sponsor", "principal_investigator", "sites", "design", "arms",
                   "target_enrolment", "research_consent_version", "criteria", "primary_endpoint",
                   "secondary_endpoints", "visits", "algorithm", "block_multiples", "strata_factors",
                   "minimization_factors", "p_best")


# --- checks ------------------------------------------------------------------------------------


def member_role(user, study: Study) -> str | None:
    return blinding.study_role(user, study)


def _check_study_role(actor, study: Study, roles, what: str) -> None:
    role = member_role(actor, study)
    if role is None:
        raise NotFound("No such study, or you are not on its team.")
    if role not in roles:
        names = ", ".join(StudyRole(r).label for r in roles)
        raise PermissionDenied(f"Only a study {names} may {what}.")


def _text(value: Any, field: str, label: str, limit: int, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if limit <= 200 else str(value or "").strip()
    if required and not text:
        raise ActionError(f"Enter the {label}.", field=field)
    if len(text) > limit:
        raise ActionError(f"The {label} is longer than {limit} characters; shorten it.", field=field)
    return text


def _clean_arms(arms: Any, design: str) -> list[dict]:
    if not isinstance(arms, (list, tuple)) or len(arms) < 2:
        raise ActionError("Give at least two arms, e.g. [{\"code\": \"A\", \"name\": \"Micrograft\"}, "
                          "{\"code\": \"P\", \"name\": \"Saline placebo\", \"is_placebo\": true}].", field="arms")
    clean, seen = [], set()
    for i, arm in enumerate(arms, start=1):
        if not isinstance(arm, dict):
            raise ActionError(f"Arm {i}: give code and name.", field="arms")
        code = _text(arm.get("code"), "arms", f"code of arm {i}", 8, required=True).upper()
        if not code.replace("_", "").isalnum():
            raise ActionError(f"Arm {i}: the code {code!r} must be letters and digits.", field="arms")
        if code in seen:
            raise ActionError(f"Arm code {code} is used twice; give each arm its own code.", field="arms")
        seen.add(code)
        name = _text(arm.get("name"), "arms", f"name of arm {code}", 120, required=True)
        ratio = arm.get("ratio", 1)
        if isinstance(ratio, bool) or not isinstance(ratio, int) or not 1 <= ratio <= 10:
            raise ActionError(f"Arm {code}: the allocation ratio must be a whole number from 1 to 10.", field="arms")
        clean.append({"code": code, "name": name, "is_placebo": bool(arm.get("is_placebo", False)), "ratio": ratio})
    if design == Design.SPLIT_SCALP:
        if len(clean) != 2 or sum(a["is_placebo"] for a in clean) != 1:
            raise ActionError("A split-scalp study has exactly two arms, one active and one placebo: randomization "
                              "decides which side of the scalp gets the active one.", field="arms")
        if any(a["ratio"] != 1 for a in clean):
            raise ActionError("In a split-scalp study every subject gets both products: the ratio is 1:1.",
                              field="arms")
    return clean


def _clean_visits(visits: Any) -> list[dict]:
    if not isinstance(visits, (list, tuple)) or not visits:
        raise ActionError("Give the visit schedule, e.g. [{\"code\": \"baseline\", \"label\": \"Baseline\", "
                          "\"week\": 0, \"window_days\": 0}, ...].", field="visits")
    clean, codes, last_week = [], set(), -1
    for i, v in enumerate(visits, start=1):
        if not isinstance(v, dict):
            raise ActionError(f"Visit {i}: give code, label, week and window_days.", field="visits")
        code = _text(v.get("code"), "visits", f"code of visit {i}", 20, required=True)
        if code in codes:
            raise ActionError(f"Visit code {code!r} is used twice.", field="visits")
        codes.add(code)
        week, window = v.get("week"), v.get("window_days", 0)
        for value, label in ((week, "week"), (window, "window_days")):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 520:
                raise ActionError(f"Visit {code}: {label} must be a whole number from 0 to 520.", field="visits")
        if week <= last_week:
            raise ActionError(f"Visit {code}: list the visits in order of week, each later than the one before.",
                              field="visits")
        last_week = week
        clean.append({"code": code, "label": _text(v.get("label") or code, "visits", "visit label", 60),
                      "week": week, "window_days": window})
    return clean


def _clean_factors(value: Any, field: str) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        raise ActionError(f"Give {field.replace('_', ' ')} as a list, e.g. [\"site\", \"sex\"].", field=field)
    bad = [f for f in value if f not in FACTORS]
    if bad:
        raise ActionError(f"Unknown factor {bad[0]!r}; use {', '.join(FACTORS)}.", field=field)
    return sorted(set(value))


def _clean(study: Study | None, data: dict[str, Any]) -> dict[str, Any]:
    """Validate the protocol fields in ``data`` (all of them on create); return the clean values."""
    unknown = set(data) - set(PROTOCOL_FIELDS)
    if unknown:
        raise ActionError(f"Unknown protocol field {sorted(unknown)[0]!r}; fields are {', '.join(PROTOCOL_FIELDS)}.")
    out: dict[str, Any] = {}
    design = data.get("design", study.design if study else Design.PARALLEL)
    if design not in Design.values:
        raise ActionError(f"Design must be one of {', '.join(Design.values)}.", field="design")
    out["design"] = design
    if "title" in data or study is None:
        out["title"] = _text(data.get("title"), "title", "study title", 200, required=True)
    for name, label, limit in (("registry_id", "registry id", 60), ("sponsor", "sponsor", 200),
                               ("research_consent_version", "research consent version", 40)):
        if name in data:
            out[name] = _text(data[name], name, label, limit)
    if "primary_endpoint" in data:
        out["primary_endpoint"] = _text(data["primary_endpoint"], "primary_endpoint", "primary endpoint", 2000)
    if "secondary_endpoints" in data:
        value = data["secondary_endpoints"] or []
        if isinstance(value, str):
            value = [line for line in value.splitlines()]
        if not isinstance(value, (list, tuple)):
            raise ActionError("Give the secondary endpoints as a list of text.", field="secondary_endpoints")
        out["secondary_endpoints"] = [t for t in (_text(v, "secondary_endpoints", "secondary endpoint", 500)
                                                  for v in value) if t]
    if "target_enrolment" in data:
        n = data["target_enrolment"]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 100000:
            raise ActionError("Target enrolment must be a whole number from 0 to 100,000.", field="target_enrolment")
        out["target_enrolment"] = n
    if "arms" in data or study is None or "design" in data:
        arms = data.get("arms") if "arms" in data else (
            [{"code": a.code, "name": a.name, "is_placebo": a.is_placebo, "ratio": a.ratio} for a in study.arms.all()]
            if study else None)
        out["arms"] = _clean_arms(arms, design)
    if "visits" in data or study is None:
        out["visits"] = _clean_visits(data.get("visits") or DEFAULT_VISITS)
    if "criteria" in data:
        raw = data["criteria"] or {}
        if not isinstance(raw, dict):
            raise ActionError("Give the criteria as {\"rules\": [...], \"age_min_years\": 18, "
                              "\"age_max_years\": 65, \"sexes\": [\"male\"]}.", field="criteria")
        try:
            criteria = Criteria.from_dict(raw)
        except (TypeError, ValueError):
            raise ActionError("The criteria are not in the expected shape: rules, age_min_years, age_max_years, "
                              "sexes.", field="criteria") from None
        errors = validate_criteria(criteria)
        if errors:
            raise ActionError("The eligibility criteria have problems: " + " ".join(errors), field="criteria")
        out["criteria"] = criteria.to_dict()
    if "algorithm" in data:
        if data["algorithm"] not in Algorithm.values:
            raise ActionError(f"Randomization algorithm must be one of {', '.join(Algorithm.values)}.",
                              field="algorithm")
        out["algorithm"] = data["algorithm"]
    if "block_multiples" in data:
        bm = data["block_multiples"] or []
        if not isinstance(bm, (list, tuple)) or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 10
                                                        for m in bm):
            raise ActionError("Block multiples must be a list of whole numbers from 1 to 10, e.g. [1, 2].",
                              field="block_multiples")
        out["block_multiples"] = sorted(set(bm))
    for name in ("strata_factors", "minimization_factors"):
        if name in data:
            out[name] = _clean_factors(data[name], name)
    if "p_best" in data:
        p = data["p_best"]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
            raise ActionError("p_best (the chance of taking the arm that minimizes imbalance) must be above 0 and "
                              "at most 1, e.g. 0.8.", field="p_best")
        out["p_best"] = float(p)
    if "sites" in data or study is None:
        sites = list(data.get("sites") or [])
        if not sites or not all(isinstance(s, Clinic) for s in sites):
            raise ActionError("Choose at least one site (clinic).", field="sites")
        out["sites"] = sites
    if "principal_investigator" in data:
        pi = data["principal_investigator"]
        if pi is not None and not (isinstance(pi, User) and pi.has_role(Role.CLINICIAN)):
            raise ActionError("The principal investigator must be a clinician.", field="principal_investigator")
        out["principal_investigator"] = pi
    return out


SCHEME_FIELDS = ("design", "algorithm", "block_multiples", "strata_factors", "minimization_factors", "p_best")


def _scheme_changes(study: Study, clean: dict[str, Any]) -> list[str]:
    """The arms and randomization fields that ``clean`` would actually change (a form re-sends them all)."""
    changed = [name for name in SCHEME_FIELDS if name in clean and clean[name] != getattr(study, name)]
    if "arms" in clean:
        current = [{"code": a.code, "name": a.name, "is_placebo": a.is_placebo, "ratio": a.ratio}
                   for a in study.arms.order_by("id")]
        if clean["arms"] != current:
            changed.insert(0, "arms")
    return changed


def protocol_content(study: Study) -> dict[str, Any]:
    """The protocol as plain data: what a version freezes. The seed is never part of it."""
    pi = study.principal_investigator
    return {
        "title": study.title, "registry_id": study.registry_id, "sponsor": study.sponsor,
        "principal_investigator": ({"id": pi.pk, "name": str(pi), "email": pi.email} if pi else None),
        "sites": [{"id": c.pk, "name": c.name, "slug": c.slug} for c in study.sites.order_by("name")],
        "design": study.design,
        "arms": [{"code": a.code, "name": a.name, "is_placebo": a.is_placebo, "ratio": a.ratio}
                 for a in study.arms.order_by("id")],
        "target_enrolment": study.target_enrolment,
        "research_consent_version": study.research_consent_version,
        "criteria": study.criteria or Criteria().to_dict(),
        "primary_endpoint": study.primary_endpoint, "secondary_endpoints": list(study.secondary_endpoints),
        "visits": list(study.visits),
        "randomization": {"algorithm": study.algorithm, "block_multiples": list(study.block_multiples),
                          "strata_factors": list(study.strata_factors),
                          "minimization_factors": list(study.minimization_factors), "p_best": study.p_best},
    }


def _apply(study: Study, clean: dict[str, Any]) -> None:
    for name, value in clean.items():
        if name not in ("arms", "sites"):
            setattr(study, name, value)
    study.save()
    if "sites" in clean:
        study.sites.set(clean["sites"])
    if "arms" in clean:
        current = {a.code: a for a in study.arms.all()}
        wanted = {a["code"] for a in clean["arms"]}
        for code, arm in current.items():
            if code not in wanted:
                arm.delete()
        for a in clean["arms"]:
            arm = current.get(a["code"])
            if arm is None:
                Arm.objects.create(study=study, **a)
            elif (arm.name, arm.is_placebo, arm.ratio) != (a["name"], a["is_placebo"], a["ratio"]):
                arm.name, arm.is_placebo, arm.ratio = a["name"], a["is_placebo"], a["ratio"]
                arm.save()


def current_version(study: Study) -> ProtocolVersion:
    return study.versions.order_by("-number").first()


def approved_version(study: Study) -> ProtocolVersion | None:
    return study.versions.filter(approved_at__isnull=False).order_by("-number").first()


# --- protocol ----------------------------------------------------------------------------------


@transaction.atomic
def study_create(*, actor, title: str, sites: list[Clinic], arms: list[dict], design: str = Design.PARALLEL,
                 **fields) -> Study:
    """A new study with its draft protocol (version 1); the creator joins as its statistician.

    The randomization seed is drawn here with ``secrets`` and stored apart from the protocol.
    """
    check_role(actor, *STUDY_CREATE_ROLES)
    clean = _clean(None, {"title": title, "sites": sites, "arms": arms, "design": design, **fields})
    not_theirs = [c.name for c in clean["sites"] if not actor.can_see_clinic(c.pk)]
    if not_theirs:
        raise ActionError(f"You do not work at {', '.join(not_theirs)}; choose sites you work at.", field="sites")
    study = Study(created_by=actor, algorithm=Algorithm.PERMUTED_BLOCKS, block_multiples=[1, 2],
                  criteria=Criteria().to_dict())
    _apply(study, clean)
    RandomizationSecret.objects.create(study=study, seed=secrets.randbelow(2**62))
    StudyMember.objects.create(study=study, user=actor, role=StudyRole.STATISTICIAN)
    ProtocolVersion.objects.create(study=study, number=1, content=protocol_content(study), created_by=actor)
    return study


def _lock(study: Study) -> Study:
    return Study.objects.select_for_update().get(pk=study.pk)


@transaction.atomic
def study_update(*, actor, study: Study, **changes) -> Study:
    """Change the protocol while its current version is a draft (before sign-off, or in an amendment)."""
    study = _lock(study)
    _check_study_role(actor, study, PROTOCOL_EDIT_ROLES, "change the protocol")
    version = current_version(study)
    if version.is_approved:
        raise Conflict(f"Protocol version {version.number} is signed off; a change needs an amendment. Start an "
                       "amendment with its reason, then make the change and sign it off again.", code="signed")
    clean = _clean(study, changes)
    if "sites" in clean:
        not_theirs = [c.name for c in clean["sites"] if not actor.can_see_clinic(c.pk)]
        if not_theirs:
            raise ActionError(f"You do not work at {', '.join(not_theirs)}; choose sites you work at.", field="sites")
    if study.allocations.exists() and _scheme_changes(study, clean):
        raise Conflict("Subjects have been randomized: the arms and the randomization scheme can no longer change "
                       f"({', '.join(_scheme_changes(study, clean))}).", code="randomized")
    _apply(study, clean)
    version.content = protocol_content(study)
    version.save()
    # Signatures given to an earlier state of this draft no longer hold.
    version.signatures.all().delete()
    return study


@transaction.atomic
def protocol_sign(*, actor, study: Study, password: str, meaning: str) -> Signature:
    """Sign off the current draft version; with both a statistical and a clinical signature it is approved.

    An electronic signature: the signer re-enters their password, and the meaning is recorded.
    """
    study = _lock(study)
    if meaning not in SignatureMeaning.values:
        raise ActionError(f"Choose the meaning of the signature: {', '.join(SignatureMeaning.values)}.",
                          field="meaning")
    study_roles, global_role = SIGNATURE_ROLES[meaning]
    _check_study_role(actor, study, study_roles, f"give the {SignatureMeaning(meaning).label.split(':')[0].lower()}")
    check_role(actor, global_role)
    if not password or not actor.check_password(password):
        raise ActionError("The password is not correct: re-enter your own password to sign.", field="password",
                          code="bad_password")
    version = current_version(study)
    if version.is_approved:
        raise Conflict(f"Version {version.number} is already signed off.", code="signed")
    if version.signatures.filter(meaning=meaning).exists():
        raise Conflict(f"Version {version.number} already has its {SignatureMeaning(meaning).label.split(':')[0].lower()}.",
                       code="duplicate")
    if version.signatures.filter(signer=actor).exists():
        raise ActionError("You have already signed this version; the other approval must come from someone else.",
                          code="same_signer")
    now = timezone.now()
    signature = Signature.objects.create(version=version, signer=actor, meaning=meaning, signed_at=now)
    if set(version.signatures.values_list("meaning", flat=True)) == set(SignatureMeaning.values):
        version.content = protocol_content(study)
        version.approved_at = now
        version.save()
        if study.status == StudyStatus.DRAFT:
            study.status = StudyStatus.RECRUITING
            study.save(update_fields=["status"])
    return signature


@transaction.atomic
def recruitment_close(*, actor, study: Study) -> Study:
    """Close the study to recruitment: nobody more is screened or enrolled; the subjects already
    in go on with their visits. Study managers and investigators; recorded with its actor."""
    study = _lock(study)
    _check_study_role(actor, study, (*PROTOCOL_EDIT_ROLES, *INVESTIGATOR_ROLES), "close recruitment")
    check_not_locked(study)
    if study.status != StudyStatus.RECRUITING:
        raise Conflict(f"The study is not recruiting ({study.get_status_display().lower()}): there is nothing to close.",
                       code="not_recruiting")
    study.status = StudyStatus.CLOSED
    study.save(update_fields=["status"])
    return study


@transaction.atomic
def protocol_amend(*, actor, study: Study, reason: str) -> ProtocolVersion:
    """Open version N+1 of a signed protocol, with the reason; version N stays readable and in force
    until the amendment is signed off."""
    study = _lock(study)
    _check_study_role(actor, study, PROTOCOL_EDIT_ROLES, "amend the protocol")
    reason = _text(reason, "reason", "reason for the amendment", 2000, required=True)
    version = current_version(study)
    if not version.is_approved:
        raise Conflict(f"Version {version.number} is still a draft: change it directly; an amendment is for a "
                       "signed protocol.", code="draft")
    return ProtocolVersion.objects.create(study=study, number=version.number + 1, content=protocol_content(study),
                                          amendment_reason=reason, created_by=actor)


@transaction.atomic
def member_add(*, actor, study: Study, user: User, role: str) -> StudyMember:
    """Put ``user`` on the study team with a study role (which decides whether they are blinded)."""
    study = _lock(study)
    _check_study_role(actor, study, PROTOCOL_EDIT_ROLES, "manage the study team")
    if role not in StudyRole.values:
        raise ActionError(f"Choose a study role: {', '.join(StudyRole.values)}.", field="role")
    if not user.is_active:
        raise ActionError("That staff account is not active.", field="user")
    if not any(user.can_see_clinic(c) for c in study.sites.values_list("pk", flat=True)):
        raise ActionError(f"{user} works at none of the study's sites.", field="user")
    needs = {StudyRole.INVESTIGATOR: Role.CLINICIAN, StudyRole.EVALUATOR: Role.EVALUATOR,
             StudyRole.STATISTICIAN: Role.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN: Role.STATISTICIAN}.get(role)
    if needs and not user.has_role(needs):
        raise ActionError(f"The study role {StudyRole(role).label} needs the staff role {Role(needs).label}.",
                          field="role")
    if StudyMember.objects.filter(study=study, user=user).exists():
        # Changing a member's blinding is not a permission edit: it would unblind them silently.
        raise Conflict(f"{user} is already on the team; a study role is not changed once given.", code="duplicate")
    return StudyMember.objects.create(study=study, user=user, role=role)


# --- enrolment ---------------------------------------------------------------------------------


def patient_facts(patient: Patient) -> dict[str, Any]:
    from anagen.screening.facts import record_facts

    return record_facts(patient)


def eligibility_for(study: Study, patient: Patient, version: ProtocolVersion | None = None):
    version = version or approved_version(study)
    content = version.content if version else protocol_content(study)
    facts = patient_facts(patient)
    return assess(Criteria.from_dict(content.get("criteria") or {}), facts), facts


def research_consent(study: Study, patient: Patient, version: ProtocolVersion | None = None) -> Consent | None:
    version = version or approved_version(study)
    wanted = (version.content if version else protocol_content(study)).get("research_consent_version") or ""
    consents = Consent.objects.filter(patient=patient, kind="research", withdrawn_at__isnull=True)
    if wanted:
        consents = consents.filter(document_version=wanted)
    return consents.order_by("-given_at").first()


def _check_can_screen(actor, study: Study, patient: Patient) -> ProtocolVersion:
    _check_study_role(actor, study, INVESTIGATOR_ROLES, "screen and enrol subjects")
    check_not_locked(study)
    if not actor.can_see_clinic(patient.clinic_id):
        raise NotFound("No such patient in a clinic you work at.")
    if study.status == StudyStatus.CLOSED:
        raise Conflict("The study is closed to recruitment: nobody more is enrolled.", code="not_recruiting")
    if study.status != StudyStatus.RECRUITING:
        raise Conflict(f"The study is not recruiting ({study.get_status_display().lower()}): a protocol must be "
                       "signed off by a statistician and a clinician before anyone is enrolled.", code="not_recruiting")
    if not study.sites.filter(pk=patient.clinic_id).exists():
        raise ActionError(f"{patient.clinic} is not a site of this study.", code="not_a_site")
    return approved_version(study)


def _next_code(study: Study, prefix: str) -> str:
    n = Subject.objects.filter(study=study, code__startswith=f"{prefix}-").count() + 1
    return f"{prefix}-{n:03d}"


STAGE_GROUPS = {
    "norwood": {"I": "mild", "II": "mild", "III": "mild", "III vertex": "moderate", "IV": "moderate",
                "V": "advanced", "VI": "advanced", "VII": "advanced"},
    "ludwig": {"I": "mild", "II": "moderate", "III": "advanced"},
    "sinclair": {"1": "mild", "2": "mild", "3": "moderate", "4": "advanced", "5": "advanced"},
}


def subject_factors(patient: Patient) -> dict[str, str]:
    """Randomization factor levels from the patient record: site, sex and stage group."""
    latest = patient.stagings.order_by("-assessed_on", "-id").first()
    stage_group = STAGE_GROUPS.get(latest.scale, {}).get(latest.stage, "unknown") if latest else "unknown"
    return {"site": patient.clinic.slug, "sex": patient.sex or "unknown", "stage_group": stage_group}


@transaction.atomic
def subject_enrol(*, actor, study: Study, patient: Patient, confirm_review: bool = False) -> Subject:
    """Enrol ``patient``: eligible (or, when points need review, confirmed by the investigator) and an
    active research consent of the study's version. A refusal writes nothing and says why."""
    study = _lock(study)
    version = _check_can_screen(actor, study, patient)
    if Subject.objects.filter(study=study, patient=patient).exclude(status=SubjectStatus.SCREEN_FAILED).exists():
        raise Conflict(f"{patient} is already enrolled in this study.", code="duplicate")
    result, facts = eligibility_for(study, patient, version)
    if result.decision == "ineligible":
        raise ActionError("Not eligible: " + " ".join(r.description for r in result.reasons)
                          + " Record a screen failure instead.", code="ineligible")
    if result.decision == "review" and not confirm_review:
        raise ActionError("Confirm these points before enrolling: " + " ".join(r.description for r in result.reasons),
                          code="needs_review")
    consent = research_consent(study, patient, version)
    if consent is None:
        wanted = version.content.get("research_consent_version") or "any version"
        raise ActionError(f"No active research consent ({wanted}) for {patient}: record it on the patient's page, "
                          "then enrol.", code="no_consent")
    return Subject.objects.create(
        study=study, patient=patient, site=patient.clinic, code=_next_code(study, "S"), status=SubjectStatus.ENROLLED,
        protocol_version=version, eligibility=result.to_dict(), facts=_jsonable(facts), consent=consent,
        factors=subject_factors(patient), screened_at=timezone.now(), screened_by=actor)


@transaction.atomic
def subject_screen_fail(*, actor, study: Study, patient: Patient, reason: str = "") -> Subject:
    """Record a screen failure with its reasons (they feed the CONSORT diagram)."""
    study = _lock(study)
    version = _check_can_screen(actor, study, patient)
    if Subject.objects.filter(study=study, patient=patient).exclude(status=SubjectStatus.SCREEN_FAILED).exists():
        raise Conflict(f"{patient} is already enrolled in this study; a screen failure cannot follow.",
                       code="duplicate")
    result, facts = eligibility_for(study, patient, version)
    reason = _text(reason, "reason", "reason", 2000)
    if not reason:
        if result.decision == "eligible":
            raise ActionError("The patient meets the criteria: say why this is a screen failure (e.g. declined).",
                              field="reason")
        reason = " ".join(r.description for r in result.reasons)
    return Subject.objects.create(
        study=study, patient=patient, site=patient.clinic, code=_next_code(study, "F"),
        status=SubjectStatus.SCREEN_FAILED, protocol_version=version, eligibility=result.to_dict(),
        facts=_jsonable(facts), screen_failure_reason=reason, screened_at=timezone.now(), screened_by=actor)


@transaction.atomic
def subject_end(*, actor, subject: Subject, status: str, on: date, reason: str) -> Subject:
    """Withdrawal or loss to follow-up, with the date and the reason."""
    subject = Subject.objects.select_for_update().select_related("study").get(pk=subject.pk)
    _check_study_role(actor, subject.study, INVESTIGATOR_ROLES, "withdraw a subject")
    check_not_locked(subject.study)
    if status not in (SubjectStatus.WITHDRAWN, SubjectStatus.LOST):
        raise ActionError("Choose withdrawn or lost_to_follow_up.", field="status")
    if subject.status not in (SubjectStatus.ENROLLED, SubjectStatus.RANDOMIZED):
        raise Conflict(f"{subject.code} is {subject.get_status_display().lower()}, not taking part.", code="not_active")
    if not isinstance(on, date) or on > timezone.localdate():
        raise ActionError("Give the date it happened (today or earlier).", field="on")
    if on < timezone.localtime(subject.screened_at).date():
        raise ActionError("The date is before the subject was enrolled.", field="on")
    subject.status, subject.ended_on = status, on
    subject.end_reason = _text(reason, "reason", "reason", 2000, required=True)
    subject.save()
    return subject


def _jsonable(facts: dict) -> dict:
    return {k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in facts.items()}


# --- emergency code-break ----------------------------------------------------------------------


@transaction.atomic
def code_break(*, actor, subject: Subject, reason: str) -> CodeBreak:
    """Unblind one subject in an emergency: an investigator (a clinician), with the reason.

    Recorded in the audit trail; the subject is flagged unblinded (for the analysis); the study
    team is told by e-mail that the code was broken (who, when, why; never the assignment).
    """
    subject = Subject.objects.select_for_update().select_related("study").get(pk=subject.pk)
    study = subject.study
    _check_study_role(actor, study, INVESTIGATOR_ROLES, "break the code")
    check_not_locked(study)
    check_role(actor, Role.CLINICIAN)
    if not actor.can_see_clinic(subject.site_id):
        raise NotFound("No such subject at a clinic you work at.")
    if not hasattr(subject, "allocation"):
        raise Conflict(f"{subject.code} has not been randomized: there is no code to break.", code="not_randomized")
    reason = _text(reason, "reason", "reason for breaking the code", 2000, required=True)
    if len(reason) < 10:
        raise ActionError("Describe the emergency that needs the assignment (at least a sentence).", field="reason")
    now = timezone.now()
    cb = CodeBreak.objects.create(subject=subject, broken_by=actor, broken_at=now, reason=reason)
    record_event("code_break", subject=f"study-subject:{subject.pk}", clinic_id=subject.site_id,
                 detail={"study": study.pk, "code": subject.code, "code_break": cb.pk}, actor=actor)
    if subject.unblinded_at is None:
        subject.unblinded_at = now
        subject.save(update_fields=["unblinded_at"])
    recipients = sorted({m.user.email for m in study.members.select_related("user") if m.user.is_active}
                        | ({study.principal_investigator.email} if study.principal_investigator else set()))
    subject_line = f"[{study.title}] Emergency code-break: subject {subject.code}"
    body = (f"The treatment code of subject {subject.code} in the study \"{study.title}\" was broken by {actor} "
            f"on {timezone.localtime(now):%d/%m/%Y at %H:%M}.\n\nReason: {reason}\n\n"
            "The subject is flagged as unblinded for the analysis. The assignment is not in this message.")
    transaction.on_commit(lambda: send_mail(subject_line, body, settings.DEFAULT_FROM_EMAIL, recipients,
                                            fail_silently=True))
    return cb

