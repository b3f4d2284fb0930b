"""Reading what a user may export, and turning it into FHIR resources.

Permissions are those of the patient API: a patient's ``$everything`` needs a role that sees
patient records (admin, coordinator, clinician) and a clinic the user works at (another
clinic's patient is 404). Bulk exports need a clinical role for identified data (admin,
clinician); a statistician gets de-identified data only. Lab scientists and blinded evaluators
get neither: no identity, no photographs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from datetime import date
from itertools import islice
from typing import Iterable, Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from anagen.accounts.models import Clinic, Role, User
from anagen.core.permissions import PATIENT_RECORD_ROLES, has_role
from anagen.patients.models import Consent, Patient, StagingAssessment
from anagen.patients.selectors import patient_get

from . import mapping, registry
from .mapping import ExportOptions

IDENTIFIED_BULK_ROLES = (Role.ADMIN, Role.CLINICIAN)
DEIDENTIFIED_BULK_ROLES = (Role.ADMIN, Role.CLINICIAN, Role.STATISTICIAN)
CHUNK_PATIENTS = 200


def resource_types() -> tuple[str, ...]:
    return mapping.RESOURCE_TYPES + registry.extra_types()


def pseudonym_key() -> bytes:
    """The key of de-identified ids: ``ANAGEN_FHIR_PSEUDONYM_KEY``, else derived from SECRET_KEY.
    Changing it changes every pseudonym (the ids a research partner has stop matching)."""
    explicit = getattr(settings, "ANAGEN_FHIR_PSEUDONYM_KEY", "")
    if explicit:
        return explicit.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"anagen.fhir.pseudonym", hashlib.sha256).digest()


def export_options(*, deidentified: bool, site_url: str = "", today: date | None = None) -> ExportOptions:
    """Options for an export; ``site_url`` (e.g. https://clinic.example) makes image URLs absolute."""
    root = site_url.rstrip("/")

    def file_url(kind: str, pk: int) -> str | None:
        name = "assessments:image_file" if kind == "trichogram" else "assessments:photo_file"
        return f"{root}{reverse(name, args=[pk])}"

    return ExportOptions(deidentified=deidentified, pseudonym_key=pseudonym_key(),
                         today=today or timezone.localdate(), file_url=file_url)


# --- permissions ----------------------------------------------------------------------------------

def patient_for_export(*, user, pk) -> Patient:
    """One patient for ``$everything``: 403 for a role that never sees patients, 404 for another clinic's."""
    return patient_get(user=user, pk=pk)


def bulk_deidentified_for(user, requested: bool | None) -> bool:
    """Whether ``user``'s bulk export is de-identified; PermissionDenied when the role gets none.

    ``requested`` None: identified for roles that see identities, de-identified for a statistician.
    """
    if not has_role(user, *DEIDENTIFIED_BULK_ROLES):
        raise PermissionDenied("Your role does not allow FHIR exports: ask a clinician or an admin.")
    identified_allowed = has_role(user, *IDENTIFIED_BULK_ROLES)
    if requested is None:
        return not identified_allowed
    if not requested and not identified_allowed:
        raise PermissionDenied("Your role gets de-identified exports only: ask again with deidentified=true.")
    return bool(requested)


def bulk_patients(*, user=None, clinic_code: str | None = None) -> tuple[QuerySet[Patient], Clinic | None]:
    """Patients of a bulk export: the user's clinics (``user`` None: the server's operator, every
    clinic), narrowed to one clinic by its code (slug). An unknown or foreign clinic is 404."""
    qs = Patient.objects.all()
    if user is not None:
        qs = qs.filter(clinic_id__in=list(user.clinic_ids))
    clinic = None
    if clinic_code:
        clinic = Clinic.objects.filter(slug=clinic_code).first()
        if clinic is None or (user is not None and not user.can_see_clinic(clinic.pk)):
            raise Http404(f"No clinic with code {clinic_code!r} that you work at.")
        qs = qs.filter(clinic=clinic)
    return qs, clinic


# --- building resources ---------------------------------------------------------------------------

def _batched(values: list, size: int) -> Iterator[list]:
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def export_resources(patients: QuerySet[Patient] | Iterable[Patient], opts: ExportOptions, *,
                     types: Iterable[str] | None = None, chunk_size: int = CHUNK_PATIENTS) -> Iterator[dict]:
    """Every resource of ``patients`` (of ``types``, all when None), a chunk of patients at a time,
    so a whole clinic streams in bounded memory. Shared resources (clinics, staff, product lots,
    dermoscopes) come once, before the first resource that refers to them."""
    wanted = set(types) if types is not None else None
    pks = sorted(p.pk for p in patients) if not isinstance(patients, QuerySet) else \
        list(patients.order_by("pk").values_list("pk", flat=True))
    seen: set[tuple[str, str]] = set()
    for chunk in _batched(pks, chunk_size):
        yield from _chunk_resources(chunk, opts, wanted, seen)


def _chunk_resources(pks: list[int], opts: ExportOptions, wanted: set[str] | None,
                     seen: set[tuple[str, str]]) -> Iterator[dict]:
    from anagen.assessments.models import AssessmentVisit, GlobalPhoto, TrichogramImage
    from anagen.scheduling.models import Appointment
    from anagen.treatments.models import AdverseEvent, AutologousSample, Procedure

    def want(*names: str) -> bool:
        return wanted is None or any(n in wanted for n in names)

    out: dict[str, list[dict]] = defaultdict(list)
    clinic_ids: set[int] = set()
    staff_ids: set[int] = set()
    lots: dict[int, object] = {}
    dermoscopes: set[int] = set()

    patients = {p.pk: p for p in Patient.objects.filter(pk__in=pks)}
    for p in patients.values():
        clinic_ids.add(p.clinic_id)
        out["Patient"].append(mapping.patient(p, opts))
        cond = mapping.condition(p, opts)
        if cond:
            out["Condition"].append(cond)

    if want("Consent"):
        for k in Consent.objects.filter(patient_id__in=pks).order_by("given_at", "pk"):
            k.patient = patients[k.patient_id]
            out["Consent"].append(mapping.consent(k, opts))

    if want("Observation", "Practitioner"):
        for s in StagingAssessment.objects.filter(patient_id__in=pks).order_by("assessed_on", "pk"):
            staff_ids.add(s.assessed_by_id)
            out["Observation"].append(mapping.staging_observation(s, opts))

    if want("Appointment", "Practitioner", "Location"):
        for a in Appointment.objects.filter(patient_id__in=pks).order_by("starts_at", "pk"):
            staff_ids.add(a.clinician_id)
            clinic_ids.add(a.clinic_id)
            out["Appointment"].append(mapping.appointment(a, opts))

    if want("Specimen", "Practitioner"):
        for s in AutologousSample.objects.filter(patient_id__in=pks).order_by("harvested_at", "pk"):
            staff_ids.add(s.harvested_by_id)
            out["Specimen"].append(mapping.specimen(s, opts))

    if want("Procedure", "Medication", "Device", "Practitioner", "Location"):
        from anagen.treatments import blinded

        hidden_lots = set(blinded.hidden_lot_ids(None))
        procs = (Procedure.objects.filter(patient_id__in=pks).select_related("modality")
                 .prefetch_related("zones", "product_uses__lot__product").order_by("performed_on", "pk"))
        for proc in procs:
            staff_ids.add(proc.clinician_id)
            clinic_ids.add(proc.clinic_id)
            # A blinded study's lots (which tell the arm) never leave in an export.
            uses = [u for u in proc.product_uses.all() if u.lot_id not in hidden_lots]
            for u in uses:
                lots[u.lot_id] = u.lot
            out["Procedure"].append(mapping.procedure(proc, opts, zones=list(proc.zones.all()), uses=uses,
                                                      diagnosed=bool(patients[proc.patient_id].diagnosis)))

    if want("AdverseEvent", "Practitioner"):
        for ae in AdverseEvent.objects.filter(patient_id__in=pks).order_by("onset_on", "pk"):
            if ae.reported_by_id:
                staff_ids.add(ae.reported_by_id)
            out["AdverseEvent"].append(mapping.adverse_event(ae, opts))

    if want("Encounter", "Observation", "Media", "Device", "Practitioner", "Location"):
        visits = (AssessmentVisit.objects.filter(patient_id__in=pks)
                  .select_related("measurement", "measurement__source_image").order_by("visit_date", "pk"))
        for v in visits:
            clinic_ids.add(v.clinic_id)
            if v.performed_by_id:
                staff_ids.add(v.performed_by_id)
            out["Encounter"].append(mapping.encounter(v, opts))
            m = getattr(v, "measurement", None) if _has_measurement(v) else None
            source = m.source_image if m is not None else None
            device_id = source.device_profile_id if source is not None else None
            if device_id:
                dermoscopes.add(device_id)
            out["Observation"].extend(mapping.measurement_observations(
                v, m, opts, device_profile_id=device_id,
                source_media_local=f"trichogram-{source.pk}" if source is not None else None))
            out["Observation"].extend(mapping.global_assessment_observations(v, opts))
        if not opts.deidentified and want("Media", "Device", "Practitioner"):
            # Photographs never leave in a de-identified export.
            images = (TrichogramImage.objects.filter(visit__patient_id__in=pks).select_related("visit")
                      .order_by("visit__visit_date", "uploaded_at", "pk"))
            for img in images:
                if img.device_profile_id:
                    dermoscopes.add(img.device_profile_id)
                if img.uploaded_by_id:
                    staff_ids.add(img.uploaded_by_id)
                out["Media"].append(mapping.media(img, opts, kind="trichogram"))
            photos = (GlobalPhoto.objects.filter(visit__patient_id__in=pks).select_related("visit")
                      .order_by("visit__visit_date", "uploaded_at", "pk"))
            for ph in photos:
                if ph.uploaded_by_id:
                    staff_ids.add(ph.uploaded_by_id)
                out["Media"].append(mapping.media(ph, opts, kind="photo"))

    shared = _shared_resources(opts, clinic_ids=clinic_ids, staff_ids=staff_ids, lots=lots,
                               dermoscopes=dermoscopes, seen=seen, want=want)
    extra: dict[str, list[dict]] = defaultdict(list)
    for types, provider in registry.providers():
        if not want(*types):
            continue
        for r in provider(pks, opts):
            key = (r["resourceType"], r["id"])
            if key not in seen:
                seen.add(key)
                extra[r["resourceType"]].append(r)

    for r in shared:
        if want(r["resourceType"]):
            yield r
    for rtype in mapping.RESOURCE_TYPES:
        if want(rtype):
            yield from out.get(rtype, ())
    for rtype, rs in extra.items():
        if want(rtype):
            yield from rs


def _has_measurement(visit) -> bool:
    from anagen.assessments.models import Measurement

    try:
        visit.measurement
    except Measurement.DoesNotExist:
        return False
    return True


def _shared_resources(opts: ExportOptions, *, clinic_ids, staff_ids, lots, dermoscopes, seen, want) -> list[dict]:
    from anagen.assessments.models import DeviceProfile

    out: list[dict] = []

    def add(resource: dict) -> None:
        key = (resource["resourceType"], resource["id"])
        if key not in seen:
            seen.add(key)
            out.append(resource)

    if want("Organization", "Location"):
        for clinic in Clinic.objects.filter(pk__in=clinic_ids).order_by("pk"):
            add(mapping.organization(clinic, opts))
            add(mapping.location(clinic, opts))
    if want("Practitioner"):
        for user in User.objects.filter(pk__in=staff_ids).order_by("pk"):
            add(mapping.practitioner(user, opts))
    if want("Medication", "Device"):
        for lot in sorted(lots.values(), key=lambda lot: lot.pk):
            add(mapping.product_resource(lot, opts))
    if want("Device"):
        for profile in DeviceProfile.objects.filter(pk__in=dermoscopes).order_by("pk"):
            add(mapping.dermoscope(profile, opts))
    return out


def patient_bundle(patient: Patient, opts: ExportOptions, *, base_url: str) -> dict:
    """A patient's ``$everything``: every resource about them in one searchset Bundle."""
    resources = list(export_resources([patient], opts))
    now = timezone.now().isoformat()
    bundle_id = opts.rid("Bundle", f"everything-{patient.pk}-{timezone.now():%Y%m%d%H%M%S}")
    return mapping.searchset_bundle(resources, base_url=base_url, bundle_id=bundle_id, timestamp=now)


def count_by_type(resources: Iterable[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in resources:
        counts[r["resourceType"]] += 1
    return dict(counts)


def can_export_patients(user) -> bool:
    return has_role(user, *PATIENT_RECORD_ROLES)
