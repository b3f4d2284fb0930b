"""Mapping Anagen's clinic records to FHIR R4 resources (plain JSON-ready dicts).

Each function takes one record (any object with the model's attribute names: a Django model
instance, or a ``SimpleNamespace`` in a test) and the :class:`ExportOptions`, and returns a
resource as a ``dict``. Nothing here queries a database or imports Django: the selectors load
the records, these functions shape them.

Identified and de-identified exports differ only here:

- identified: resource ids are the records' own ids, the Patient carries the clinic's patient
  number, name, birth date, telecom and address, and free text (notes, descriptions) is kept;
- de-identified: every resource id is a keyed hash (HMAC-SHA-256) of the record's type and id,
  stable from one export to the next while the key is unchanged, the Patient keeps only sex and
  an age band, staff are unnamed, free text and photographs are left out.

References
----------
HL7 FHIR R4 (4.0.1), https://hl7.org/fhir/R4/ ; resources used: Patient, Practitioner,
Organization, Location, Condition, Consent, Appointment, Encounter, Procedure, Medication,
Device, Specimen, AdverseEvent, Observation, Media, Bundle.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from . import codes as c

# Resource types in the order an export lists them (referenced resources first).
RESOURCE_TYPES: tuple[str, ...] = (
    "Organization", "Location", "Practitioner", "Patient", "Condition", "Consent", "Appointment", "Encounter",
    "Medication", "Device", "Specimen", "Procedure", "AdverseEvent", "Media", "Observation",
)


@dataclass(frozen=True)
class ExportOptions:
    """How records are shaped.

    Parameters
    ----------
    deidentified : bool
        Leave out identity (see the module docstring).
    pseudonym_key : bytes
        Key of the HMAC that makes de-identified ids. The same key gives the same ids.
    today : date
        The export's date; a de-identified patient's age band is their age on it.
    file_url : callable (kind, pk) -> str or None
        Where an image can be fetched (``kind`` is ``"trichogram"`` or ``"photo"``).
    """

    deidentified: bool = False
    pseudonym_key: bytes = b""
    today: date = field(default_factory=date.today)
    file_url: Callable[[str, int], str | None] = field(default=lambda kind, pk: None)

    def rid(self, rtype: str, local) -> str:
        """The resource id of record ``local`` of type ``rtype``."""
        if not self.deidentified:
            return str(local)
        digest = hmac.new(self.pseudonym_key, f"{rtype}/{local}".encode(), hashlib.sha256).hexdigest()
        return digest[:32]

    def ref(self, rtype: str, local) -> dict:
        return {"reference": f"{rtype}/{self.rid(rtype, local)}"}


# --- small helpers ------------------------------------------------------------------------------

def _date(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def _drop_empty(d: dict) -> dict:
    """FHIR forbids empty elements: drop None, "" and empty lists/objects (one level)."""
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def _ext(url: str, **value) -> dict:
    return {"url": url, **value}


def age_band(birth: date, on: date, width_years: int = 5) -> tuple[int, int | None]:
    """The ``width_years`` band holding the age on ``on``; 90 and over is one open band.

    Returns
    -------
    (low, high) : tuple of int, high None for the open band (HIPAA Safe Harbor aggregates 90+).
    """
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if age >= 90:
        return 90, None
    low = (age // width_years) * width_years
    return low, low + width_years - 1


# --- who and where ------------------------------------------------------------------------------

def organization(clinic, opts: ExportOptions) -> dict:
    telecom = []
    if clinic.phone:
        telecom.append({"system": "phone", "value": clinic.phone})
    if clinic.email:
        telecom.append({"system": "email", "value": clinic.email})
    return _drop_empty({
        "resourceType": "Organization", "id": opts.rid("Organization", clinic.pk), "active": bool(clinic.is_active),
        "name": clinic.name, "telecom": telecom,
        "address": [{"text": clinic.address}] if clinic.address else [],
    })


def location(clinic, opts: ExportOptions) -> dict:
    return _drop_empty({
        "resourceType": "Location", "id": opts.rid("Location", clinic.pk),
        "status": "active" if clinic.is_active else "inactive", "name": clinic.name,
        "address": {"text": clinic.address} if clinic.address else None,
        "managingOrganization": opts.ref("Organization", clinic.pk),
    })


def practitioner(user, opts: ExportOptions) -> dict:
    out = {"resourceType": "Practitioner", "id": opts.rid("Practitioner", user.pk), "active": bool(user.is_active)}
    if not opts.deidentified and (user.first_name or user.last_name):
        out["name"] = [_drop_empty({"family": user.last_name, "given": [user.first_name] if user.first_name else []})]
    return out


def patient(p, opts: ExportOptions) -> dict:
    out: dict = {"resourceType": "Patient", "id": opts.rid("Patient", p.pk), "active": True,
                 "gender": c.SEX_TO_GENDER.get(p.sex, "unknown"),
                 "managingOrganization": opts.ref("Organization", p.clinic_id)}
    if opts.deidentified:
        out["identifier"] = [{"system": c.SID_PSEUDONYM, "value": out["id"]}]
        if p.date_of_birth:
            low, high = age_band(p.date_of_birth, opts.today)
            band = {"low": c.quantity(low, "a", "years")}
            if high is not None:
                band["high"] = c.quantity(high, "a", "years")
            out["extension"] = [_ext(c.EXT_AGE_BAND, valueRange=band)]
        return out
    out["identifier"] = [{"system": c.SID_PATIENT_NUMBER, "value": p.patient_number}]
    out["name"] = [_drop_empty({"use": "official", "family": p.last_name, "given": [p.first_name]})]
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    if telecom:
        out["telecom"] = telecom
    if p.date_of_birth:
        out["birthDate"] = p.date_of_birth.isoformat()
    if p.address:
        out["address"] = [{"text": p.address}]
    return out


def condition(p, opts: ExportOptions) -> dict | None:
    """The patient's hair-loss diagnosis, or None when not yet diagnosed."""
    if not p.diagnosis:
        return None
    spec = c.DIAGNOSES.get(p.diagnosis, c.DIAGNOSES["other"])
    codings = []
    if "snomed" in spec:
        codings.append(c.coding(c.SNOMED, *spec["snomed"]))
    if "icd10" in spec:
        codings.append(c.coding(c.ICD10, *spec["icd10"]))
    codings.append(c.coding(c.CS_DIAGNOSIS, p.diagnosis, spec["display"]))
    text = spec["display"]
    if p.diagnosis_detail and not opts.deidentified:
        text = f"{text}: {p.diagnosis_detail}"
    return {
        "resourceType": "Condition", "id": opts.rid("Condition", f"diagnosis-{p.pk}"),
        "clinicalStatus": c.concept(c.coding(c.HL7_CONDITION_CLINICAL, "active", "Active")),
        "verificationStatus": c.concept(c.coding(c.HL7_CONDITION_VER, "confirmed", "Confirmed")),
        "category": [c.concept(c.coding(c.HL7_CONDITION_CATEGORY, "problem-list-item", "Problem List Item"))],
        "code": c.concept(*codings, text=text),
        "bodySite": [c.concept(c.SCALP)],
        "subject": opts.ref("Patient", p.pk),
    }


# --- consents and appointments ------------------------------------------------------------------

def consent(k, opts: ExportOptions) -> dict:
    scope = c.CONSENT_SCOPE.get(k.kind, "patient-privacy")
    provision_period = _drop_empty({"start": _date(k.given_at), "end": _date(k.withdrawn_at)})
    return {
        "resourceType": "Consent", "id": opts.rid("Consent", k.pk),
        # R4 has no "withdrawn": a withdrawn consent is inactive, its period ends at the withdrawal.
        "status": "inactive" if k.withdrawn_at else "active",
        "scope": c.concept(c.coding(c.HL7_CONSENT_SCOPE, scope)),
        "category": [c.concept(c.coding(c.LOINC, "59284-0", "Patient Consent"),
                               c.coding(c.CS_CONSENT_KIND, k.kind, k.kind.capitalize()))],
        "patient": opts.ref("Patient", k.patient_id),
        "dateTime": _date(k.given_at),
        "performer": [opts.ref("Patient", k.patient_id)],
        "organization": [opts.ref("Organization", k.patient.clinic_id)],
        "policyRule": c.concept(c.coding(c.CS_CONSENT_KIND, k.kind),
                                text=f"{k.kind.capitalize()} consent form, version {k.document_version}"),
        "provision": {"type": "permit", "period": provision_period},
    }


def appointment(a, opts: ExportOptions) -> dict:
    kind_display = c.APPOINTMENT_KINDS.get(a.kind, a.kind.replace("_", " ").capitalize())
    out = {
        "resourceType": "Appointment", "id": opts.rid("Appointment", a.pk),
        "status": c.APPOINTMENT_STATUS.get(a.status, "booked"),
        "serviceType": [c.concept(c.coding(c.CS_APPOINTMENT_KIND, a.kind, kind_display))],
        "appointmentType": c.concept(c.coding(c.HL7_V2_0276, "FOLLOWUP", "A follow up visit from a previous appointment")
                                     if a.kind == "follow_up" else
                                     c.coding(c.HL7_V2_0276, "ROUTINE", "Routine appointment - default if not valued")),
        "start": _date(a.starts_at), "end": _date(a.ends_at),
        "minutesDuration": int((a.ends_at - a.starts_at).total_seconds() // 60),
        "created": _date(a.created_at),
        "participant": [
            {"actor": opts.ref("Patient", a.patient_id), "status": "accepted"},
            {"actor": opts.ref("Practitioner", a.clinician_id), "status": "accepted"},
            {"actor": opts.ref("Location", a.clinic_id), "status": "accepted"},
        ],
    }
    if not opts.deidentified:
        if a.notes:
            out["comment"] = a.notes
        if a.cancellation_reason:
            out["cancelationReason"] = {"text": a.cancellation_reason}
    return out


def encounter(v, opts: ExportOptions) -> dict:
    kind = "baseline-assessment" if v.is_baseline else "follow-up-assessment"
    out = {
        "resourceType": "Encounter", "id": opts.rid("Encounter", v.pk),
        "status": "finished" if v.visit_date <= opts.today else "planned",
        "class": c.coding(c.HL7_ACT_CODE, "AMB", "ambulatory"),
        "type": [c.concept(c.coding(c.CS_ENCOUNTER_TYPE, kind, kind.replace("-", " ").capitalize()))],
        "subject": opts.ref("Patient", v.patient_id),
        "period": {"start": _date(v.visit_date)},
        "location": [{"location": opts.ref("Location", v.clinic_id)}],
        "serviceProvider": opts.ref("Organization", v.clinic_id),
    }
    if v.performed_by_id:
        out["participant"] = [{"individual": opts.ref("Practitioner", v.performed_by_id)}]
    if v.appointment_id:
        out["appointment"] = [opts.ref("Appointment", v.appointment_id)]
    return out


# --- treatment ------------------------------------------------------------------------------------

def product_resource(lot, opts: ExportOptions) -> dict:
    """A product lot used in a procedure: Medication (drugs, exosomes) or Device (kits, matrices)."""
    product = lot.product
    kind = c.coding(c.CS_PRODUCT_KIND, product.kind)
    if product.kind in c.MEDICATION_PRODUCT_KINDS:
        return {
            "resourceType": "Medication", "id": opts.rid("Medication", f"lot-{lot.pk}"),
            "code": c.concept(kind, text=product.name),
            "manufacturer": {"display": product.manufacturer},
            "batch": {"lotNumber": lot.lot_number, "expirationDate": _date(lot.expires_on)},
        }
    return {
        "resourceType": "Device", "id": opts.rid("Device", f"lot-{lot.pk}"),
        "status": "inactive" if lot.recalled else "active",
        "manufacturer": product.manufacturer, "lotNumber": lot.lot_number,
        "expirationDate": _date(lot.expires_on),
        "deviceName": [{"name": product.name, "type": "user-friendly-name"}],
        "type": c.concept(kind, text=product.get_kind_display() if hasattr(product, "get_kind_display") else None),
    }


def product_reference(lot, opts: ExportOptions) -> dict:
    rtype = "Medication" if lot.product.kind in c.MEDICATION_PRODUCT_KINDS else "Device"
    return opts.ref(rtype, f"lot-{lot.pk}")


def specimen(s, opts: ExportOptions) -> dict:
    """An autologous sample (punch biopsies or lipoaspirate)."""
    collection: dict = {"collector": opts.ref("Practitioner", s.harvested_by_id),
                        "collectedDateTime": _date(s.harvested_at)}
    if s.lipoaspirate_ml is not None:
        collection["quantity"] = c.quantity(float(s.lipoaspirate_ml), "mL", "mL")
    if s.donor_site:
        collection["bodySite"] = {"text": s.donor_site}
    out = {
        "resourceType": "Specimen", "id": opts.rid("Specimen", s.pk),
        "status": "unavailable" if s.status in ("implanted", "discarded") else "available",
        "type": c.concept(c.coding(c.CS_SAMPLE_KIND, s.kind)),
        "subject": opts.ref("Patient", s.patient_id),
        "collection": collection,
    }
    if not opts.deidentified:
        out["accessionIdentifier"] = {"system": c.SID_SAMPLE_CODE, "value": s.code}
    return _drop_empty(out)


def procedure(proc, opts: ExportOptions, *, zones=(), uses=(), diagnosed: bool = False) -> dict:
    """One treatment session; lots used go in ``usedReference`` (with the quantity in an
    extension, R4 has no element for it), zones in ``bodySite`` and their volumes in extensions."""
    modality = proc.modality
    ext = [_ext(c.EXT_DELIVERY, valueCodeableConcept=c.concept(c.coding(c.CS_DELIVERY, proc.delivery))),
           _ext(c.EXT_ANAESTHESIA, valueCodeableConcept=c.concept(c.coding(c.CS_ANAESTHESIA, proc.anaesthesia)))]
    if proc.microneedling_depth_mm is not None:
        ext.append(_ext(c.EXT_MICRONEEDLING_DEPTH,
                        valueQuantity=c.quantity(float(proc.microneedling_depth_mm), "mm", "mm")))
    for z in zones:
        ext.append({"url": c.EXT_ZONE_VOLUME, "extension": [
            _ext("zone", valueCoding=c.coding(c.CS_ZONE, z.zone)),
            _ext("volume", valueQuantity=c.quantity(float(z.volume_ml), "mL", "mL")),
        ]})
    for u in uses:
        ext.append({"url": c.EXT_PRODUCT_USE, "extension": [
            _ext("product", valueReference=product_reference(u.lot, opts)),
            _ext("quantity", valueQuantity={"value": float(u.quantity), "unit": u.lot.product.unit}),
        ]})
    if proc.sample_id:
        ext.append(_ext(c.EXT_IMPLANTED_SAMPLE, valueReference=opts.ref("Specimen", proc.sample_id)))
    out = {
        "resourceType": "Procedure", "id": opts.rid("Procedure", proc.pk), "extension": ext,
        "status": "completed",
        "code": c.concept(c.coding(c.CS_MODALITY, modality.code, modality.name), text=modality.name),
        "subject": opts.ref("Patient", proc.patient_id),
        "performedDateTime": _date(proc.performed_on),
        "performer": [{"actor": opts.ref("Practitioner", proc.clinician_id),
                       "onBehalfOf": opts.ref("Organization", proc.clinic_id)}],
        "location": opts.ref("Location", proc.clinic_id),
        "bodySite": [c.concept(c.SCALP)] + [c.concept(c.coding(c.CS_ZONE, z.zone)) for z in zones],
        "usedReference": [product_reference(u.lot, opts) for u in uses],
    }
    if diagnosed:
        out["reasonReference"] = [opts.ref("Condition", f"diagnosis-{proc.patient_id}")]
    if proc.notes and not opts.deidentified:
        out["note"] = [{"text": proc.notes}]
    return _drop_empty(out)


def adverse_event(ae, opts: ExportOptions) -> dict:
    severity = c.concept(c.coding(c.HL7_AE_SEVERITY, c.AE_SEVERITY[int(ae.severity)]),
                         c.coding(c.CS_AE_GRADE, str(int(ae.severity)), f"Grade {int(ae.severity)}"))
    ext = [_ext(c.EXT_AE_ACTION, valueCodeableConcept=c.concept(c.coding(c.CS_AE_ACTION, ae.action)))]
    if ae.resolved_on:
        ext.append(_ext(c.EXT_AE_RESOLVED, valueDate=_date(ae.resolved_on)))
    out = {
        "resourceType": "AdverseEvent", "id": opts.rid("AdverseEvent", ae.pk), "extension": ext,
        "actuality": "actual",
        "subject": opts.ref("Patient", ae.patient_id),
        "date": _date(ae.onset_on),
        "recordedDate": _date(ae.reported_at),
        "seriousness": c.concept(c.coding(c.HL7_AE_SERIOUSNESS, "Serious", "Serious") if ae.serious
                                 else c.coding(c.HL7_AE_SERIOUSNESS, "Non-serious", "Non-serious")),
        "severity": severity,
        "outcome": c.concept(c.coding(c.HL7_AE_OUTCOME, c.AE_OUTCOME.get(ae.outcome, "unknown"))),
        "recorder": opts.ref("Practitioner", ae.reported_by_id) if ae.reported_by_id else None,
    }
    if not opts.deidentified:
        out["event"] = {"text": ae.description}
    if ae.procedure_id:
        assessment = [c.coding(c.CS_AE_RELATION, ae.relation)]
        if ae.relation in c.AE_CAUSALITY:
            assessment.insert(0, c.coding(c.HL7_AE_CAUSALITY, c.AE_CAUSALITY[ae.relation]))
        out["suspectEntity"] = [{"instance": opts.ref("Procedure", ae.procedure_id),
                                 "causality": [{"assessment": c.concept(*assessment)}]}]
    return _drop_empty(out)


# --- assessments ----------------------------------------------------------------------------------

def dermoscope(profile, opts: ExportOptions) -> dict:
    """A clinic's dermoscope (device profile) with its calibration."""
    props = [{"type": c.concept(c.coding(c.CS_DEVICE_PROPERTY, "vellus-threshold", "Vellus threshold")),
              "valueQuantity": [c.quantity(profile.vellus_threshold_um, "um", "µm")]}]
    if profile.px_per_mm:
        props.insert(0, {"type": c.concept(c.coding(c.CS_DEVICE_PROPERTY, "scale", "Image scale")),
                         "valueQuantity": [c.quantity(profile.px_per_mm, "/mm", "px/mm")]})
    return {
        "resourceType": "Device", "id": opts.rid("Device", f"dermoscope-{profile.pk}"),
        "status": "active" if profile.is_active else "inactive",
        "deviceName": [{"name": profile.name, "type": "user-friendly-name"}],
        "type": {"text": "Dermoscope"},
        "version": [{"type": {"text": "engine profile"}, "value": profile.engine_profile}],
        "property": props,
        "owner": opts.ref("Organization", profile.clinic_id),
    }


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name or "")[0] or "application/octet-stream"


def media(image, opts: ExportOptions, *, kind: str) -> dict:
    """A photograph as R4 Media: ``kind`` "trichogram" (dermoscope target-area image) or
    "photo" (standardized global photograph). Never in a de-identified export."""
    visit = image.visit
    view = image.kind if kind == "trichogram" else image.view
    content = _drop_empty({"contentType": _content_type(image.file.name if image.file else ""),
                           "url": opts.file_url(kind, image.pk), "title": f"{kind}-{view}-{image.pk}",
                           "creation": _date(image.uploaded_at)})
    out = {
        "resourceType": "Media", "id": opts.rid("Media", f"{kind}-{image.pk}"),
        "identifier": [{"system": c.SID_SHA256, "value": image.sha256}],
        "status": "completed",
        "type": c.concept(c.coding(c.HL7_MEDIA_TYPE, "image", "Image")),
        "view": c.concept(c.coding(c.CS_IMAGE_VIEW, view)),
        "subject": opts.ref("Patient", visit.patient_id),
        "encounter": opts.ref("Encounter", visit.pk),
        "createdDateTime": _date(image.uploaded_at),
        "bodySite": c.concept(c.SCALP),
        "height": image.height, "width": image.width,
        "content": content,
    }
    if kind == "trichogram" and image.device_profile_id:
        out["device"] = opts.ref("Device", f"dermoscope-{image.device_profile_id}")
    if image.uploaded_by_id:
        out["operator"] = opts.ref("Practitioner", image.uploaded_by_id)
    return _drop_empty(out)


def _observation(opts: ExportOptions, *, local: str, visit, code: dict, method: str, value: dict,
                 extension=(), device_local=None, derived_from=()) -> dict:
    out = {
        "resourceType": "Observation", "id": opts.rid("Observation", local),
        "status": "final",
        "category": [c.concept(c.coding(c.HL7_OBS_CATEGORY, "exam", "Exam"))],
        "code": code,
        "subject": opts.ref("Patient", visit.patient_id),
        "encounter": opts.ref("Encounter", visit.pk),
        "effectiveDateTime": _date(visit.visit_date),
        "bodySite": c.concept(c.SCALP),
        "method": c.concept(c.coding(c.CS_METHOD, method, c.METHODS[method])),
        **value,
    }
    if visit.performed_by_id:
        out["performer"] = [opts.ref("Practitioner", visit.performed_by_id)]
    if extension:
        out["extension"] = list(extension)
    if device_local is not None:
        out["device"] = opts.ref("Device", device_local)
    if derived_from:
        out["derivedFrom"] = list(derived_from)
    return out


def measurement_observations(visit, m, opts: ExportOptions, *, device_profile_id=None,
                             source_media_local: str | None = None) -> list[dict]:
    """The phototrichogram of one visit as one Observation per quantity.

    Density is derived (hair count / field area, never stored) and says so: its method is
    ``derived-count-per-area`` and ``derivedFrom`` points at the count and the area.
    """
    out: list[dict] = []
    if m is None:
        return out
    method = "phototrichogram-corrected" if m.is_corrected else "phototrichogram-automatic"
    engine_ext = []
    if m.engine_version:
        engine_ext.append(_ext(c.EXT_ENGINE_VERSION, valueString=m.engine_version))
    if m.profile_name:
        engine_ext.append(_ext(c.EXT_ENGINE_PROFILE, valueString=m.profile_name))
    if getattr(m, "excluded", False):
        # Excluded from the patient's series by a clinician (implausible value): the values
        # still travel, marked, so a receiver never charts them as ordinary measurements.
        engine_ext.append(_ext(c.EXT_EXCLUDED, valueBoolean=True))
    device_local = f"dermoscope-{device_profile_id}" if device_profile_id else None
    media_ref = ([opts.ref("Media", source_media_local)] if source_media_local and not opts.deidentified else [])

    def code(name: str) -> dict:
        return c.concept(c.coding(c.CS_PHOTOTRICHOGRAM, name, c.QUANTITIES[name][0]), text=c.QUANTITIES[name][0])

    def qty(name: str, value) -> dict:
        _, ucum, unit = c.QUANTITIES[name]
        return c.quantity(value, ucum, unit)

    automatic = {"hair-count": m.hair_count_auto, "terminal-hair-count": m.terminal_count_auto,
                 "vellus-hair-count": m.vellus_count_auto, "mean-shaft-diameter": m.mean_diameter_um_auto}
    measured = [("hair-count", m.hair_count), ("field-area", m.field_area_cm2),
                ("terminal-hair-count", m.terminal_count), ("vellus-hair-count", m.vellus_count),
                ("mean-shaft-diameter", m.mean_diameter_um)]
    for name, value in measured:
        if value is None:
            continue
        ext = list(engine_ext)
        auto = automatic.get(name)
        if m.is_corrected and auto is not None:
            ext.append(_ext(c.EXT_AUTOMATIC_VALUE, valueQuantity=qty(name, auto)))
        out.append(_observation(opts, local=f"{visit.pk}-{name}", visit=visit, code=code(name), method=method,
                                value={"valueQuantity": qty(name, value)}, extension=ext,
                                device_local=device_local, derived_from=media_ref))
    if m.hair_count is not None and m.field_area_cm2:
        density = m.hair_count / m.field_area_cm2
        out.append(_observation(
            opts, local=f"{visit.pk}-hair-density", visit=visit, code=code("hair-density"),
            method="derived-count-per-area", value={"valueQuantity": qty("hair-density", density)},
            extension=engine_ext, device_local=device_local,
            derived_from=[opts.ref("Observation", f"{visit.pk}-hair-count"),
                          opts.ref("Observation", f"{visit.pk}-field-area")]))
    if m.anagen_pct is not None:
        out.append(_observation(opts, local=f"{visit.pk}-anagen-hair-percent", visit=visit,
                                code=code("anagen-hair-percent"), method="phototrichogram-regrowth",
                                value={"valueQuantity": qty("anagen-hair-percent", m.anagen_pct)},
                                extension=engine_ext, device_local=device_local))
    reason = getattr(m, "exclusion_reason", "") if getattr(m, "excluded", False) else ""
    if reason and not opts.deidentified:  # free text never leaves in a de-identified export
        for o in out:
            o["note"] = [{"text": f"Excluded from the series: {reason}"}]
    return out


def global_assessment_observations(visit, opts: ExportOptions) -> list[dict]:
    out = []
    for name, value in (("investigator-global-assessment", visit.investigator_global),
                        ("patient-global-assessment", visit.patient_global)):
        if value is None:
            continue
        obs = _observation(opts, local=f"{visit.pk}-{name}", visit=visit,
                           code=c.concept(c.coding(c.CS_ASSESSMENT, name, c.ASSESSMENTS[name])),
                           method="global-photograph-7-point", value={"valueInteger": int(value)})
        if name == "patient-global-assessment":
            obs["performer"] = [opts.ref("Patient", visit.patient_id)]  # the patient's own rating
        out.append(obs)
    return out


def staging_observation(s, opts: ExportOptions) -> dict:
    name = c.STAGING_CODES.get(s.scale, s.scale)
    out = {
        "resourceType": "Observation", "id": opts.rid("Observation", f"staging-{s.pk}"),
        "status": "final",
        "category": [c.concept(c.coding(c.HL7_OBS_CATEGORY, "exam", "Exam"))],
        "code": c.concept(c.coding(c.CS_ASSESSMENT, name, c.ASSESSMENTS.get(name, name))),
        "subject": opts.ref("Patient", s.patient_id),
        "effectiveDateTime": _date(s.assessed_on),
        "performer": [opts.ref("Practitioner", s.assessed_by_id)],
        "method": c.concept(c.coding(c.CS_METHOD, "clinician-staging", c.METHODS["clinician-staging"])),
        "valueString": s.stage,
    }
    if s.notes and not opts.deidentified:
        out["note"] = [{"text": s.notes}]
    return out


# --- containers -----------------------------------------------------------------------------------

def searchset_bundle(resources: list[dict], *, base_url: str, bundle_id: str, timestamp: str,
                     match_type: str = "Patient") -> dict:
    """A ``$everything`` answer: a searchset Bundle, the patient as the match, the rest included."""
    entries = []
    for r in resources:
        entries.append({"fullUrl": f"{base_url.rstrip('/')}/{r['resourceType']}/{r['id']}", "resource": r,
                        "search": {"mode": "match" if r["resourceType"] == match_type else "include"}})
    return {"resourceType": "Bundle", "id": bundle_id, "meta": {"lastUpdated": timestamp}, "type": "searchset",
            "timestamp": timestamp, "total": sum(1 for r in resources if r["resourceType"] == match_type),
            "entry": entries}
