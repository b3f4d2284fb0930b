"""Code systems and units the FHIR export uses.

Standard terminologies where a code exists (SNOMED CT, ICD-10, LOINC, UCUM and HL7's own code
systems); the Anagen code systems below where none does (a hair count in a target area has no
LOINC code). Every choice, and why, is written up in ``docs/fhir.md``; keep the two in step.

Pure data: no Django.
"""

from __future__ import annotations

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

ANAGEN = "https://anagen.example/fhir"
CS = f"{ANAGEN}/CodeSystem"
SD = f"{ANAGEN}/StructureDefinition"
SID = f"{ANAGEN}/sid"

# Anagen code systems
CS_PHOTOTRICHOGRAM = f"{CS}/phototrichogram"      # measured quantities
CS_METHOD = f"{CS}/observation-method"            # how a value was obtained
CS_ASSESSMENT = f"{CS}/clinical-assessment"       # global assessments, staging scales
CS_DIAGNOSIS = f"{CS}/hair-loss-diagnosis"
CS_MODALITY = f"{CS}/treatment-modality"          # the treatment catalogue's codes
CS_DELIVERY = f"{CS}/delivery-method"
CS_ANAESTHESIA = f"{CS}/anaesthesia"
CS_ZONE = f"{CS}/scalp-zone"
CS_PRODUCT_KIND = f"{CS}/product-kind"
CS_SAMPLE_KIND = f"{CS}/sample-kind"
CS_CONSENT_KIND = f"{CS}/consent-kind"
CS_APPOINTMENT_KIND = f"{CS}/appointment-kind"
CS_ENCOUNTER_TYPE = f"{CS}/encounter-type"
CS_AE_GRADE = f"{CS}/adverse-event-grade"
CS_AE_RELATION = f"{CS}/adverse-event-relation"
CS_AE_ACTION = f"{CS}/adverse-event-action"
CS_IMAGE_VIEW = f"{CS}/image-view"
CS_DEVICE_PROPERTY = f"{CS}/device-property"

# Anagen extensions
EXT_ENGINE_VERSION = f"{SD}/engine-version"       # valueString: anagen.trichoscopy version
EXT_ENGINE_PROFILE = f"{SD}/engine-profile"       # valueString: engine profile name
EXT_AUTOMATIC_VALUE = f"{SD}/automatic-value"     # valueQuantity: the engine's value before correction
EXT_EXCLUDED = f"{SD}/excluded-from-series"       # valueBoolean: a clinician excluded this visit's values
EXT_PRODUCT_USE = f"{SD}/product-use"             # complex: product (Reference) + quantity
EXT_ZONE_VOLUME = f"{SD}/zone-volume"             # complex: zone (Coding) + volume (Quantity, mL)
EXT_DELIVERY = f"{SD}/delivery-method"            # valueCodeableConcept
EXT_ANAESTHESIA = f"{SD}/anaesthesia"             # valueCodeableConcept
EXT_MICRONEEDLING_DEPTH = f"{SD}/microneedling-depth"  # valueQuantity, mm
EXT_IMPLANTED_SAMPLE = f"{SD}/implanted-sample"   # valueReference(Specimen)
EXT_AE_ACTION = f"{SD}/adverse-event-action"      # valueCodeableConcept
EXT_AE_RESOLVED = f"{SD}/adverse-event-resolved"  # valueDate
EXT_AGE_BAND = f"{SD}/age-band"                   # valueRange, years (de-identified Patient)

# Identifier systems
SID_PATIENT_NUMBER = f"{SID}/patient-number"
SID_PSEUDONYM = f"{SID}/pseudonym"
SID_SAMPLE_CODE = f"{SID}/sample-code"
SID_SHA256 = f"{SID}/sha256"

# HL7 code systems
HL7_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
HL7_OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
HL7_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
HL7_CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
HL7_CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
HL7_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
HL7_V2_0276 = "http://terminology.hl7.org/CodeSystem/v2-0276"
HL7_MEDIA_TYPE = "http://terminology.hl7.org/CodeSystem/media-type"
HL7_AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
HL7_AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
HL7_AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
HL7_AE_CAUSALITY = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"

SCALP = {"system": SNOMED, "code": "41695006", "display": "Scalp structure"}

# Diagnoses: SNOMED CT and ICD-10 where a code is known; the Anagen code always, so a reader
# can map back to the clinic's own list.
DIAGNOSES: dict[str, dict] = {
    "male_aga": {"display": "Male pattern androgenetic alopecia",
                 "snomed": ("87872006", "Male pattern alopecia"), "icd10": ("L64.9", "Androgenic alopecia, unspecified")},
    "female_aga": {"display": "Female pattern androgenetic alopecia",
                   "snomed": ("1108009", "Female pattern alopecia"),
                   "icd10": ("L64.9", "Androgenic alopecia, unspecified")},
    "alopecia_areata": {"display": "Alopecia areata", "snomed": ("68225006", "Alopecia areata"),
                        "icd10": ("L63.9", "Alopecia areata, unspecified")},
    "telogen_effluvium": {"display": "Telogen effluvium", "icd10": ("L65.0", "Telogen effluvium")},
    "traction": {"display": "Traction alopecia"},
    "other": {"display": "Other hair loss"},
}

# Phototrichogram quantities: code -> (display, UCUM code, human unit)
QUANTITIES: dict[str, tuple[str, str, str]] = {
    "hair-count": ("Hairs counted in the target area", "{hairs}", "hairs"),
    "field-area": ("Measured area of the counted field", "cm2", "cm²"),
    "hair-density": ("Hair density (count / field area)", "/cm2", "hairs/cm²"),
    "terminal-hair-count": ("Terminal hairs counted in the target area", "{hairs}", "hairs"),
    "vellus-hair-count": ("Vellus hairs counted in the target area", "{hairs}", "hairs"),
    "mean-shaft-diameter": ("Mean hair shaft diameter", "um", "µm"),
    "anagen-hair-percent": ("Share of hairs in anagen (regrowth after clipping)", "%", "%"),
}

METHODS = {
    "phototrichogram-automatic": "Phototrichogram counted by the Anagen engine",
    "phototrichogram-corrected": "Phototrichogram counted by the Anagen engine, corrected by a clinician",
    "derived-count-per-area": "Derived: hair count divided by the measured field area",
    "phototrichogram-regrowth": "Regrowth phototrichogram 2 to 3 days after clipping (anagen hairs grew)",
    "global-photograph-7-point": "Seven-point global photographic assessment (-3 to +3)",
    "clinician-staging": "Clinician's staging on a named scale",
}

ASSESSMENTS = {
    "investigator-global-assessment": "Investigator's global assessment (-3 greatly worse to +3 greatly improved)",
    "patient-global-assessment": "Patient's global assessment (-3 greatly worse to +3 greatly improved)",
    "norwood-hamilton-stage": "Norwood-Hamilton stage",
    "ludwig-stage": "Ludwig stage",
    "sinclair-stage": "Sinclair stage",
}
STAGING_CODES = {"norwood": "norwood-hamilton-stage", "ludwig": "ludwig-stage", "sinclair": "sinclair-stage"}

CONSENT_SCOPE = {"treatment": "treatment", "research": "research", "photography": "patient-privacy",
                 "contact": "patient-privacy"}

APPOINTMENT_KINDS = {"free_consultation": "Free consultation", "video_consultation": "Video consultation",
                     "procedure": "Procedure", "follow_up": "Follow-up assessment"}
APPOINTMENT_STATUS = {"booked": "booked", "cancelled": "cancelled", "no_show": "noshow", "completed": "fulfilled"}

AE_SEVERITY = {1: "mild", 2: "moderate", 3: "severe", 4: "severe", 5: "severe"}
AE_OUTCOME = {"recovered": "resolved", "recovering": "recovering", "sequelae": "resolvedWithSequelae",
              "not_recovered": "ongoing", "fatal": "fatal", "unknown": "unknown"}
# WHO-UMC style causality as HL7 codes it; "not related" has no HL7 code (the Anagen code carries it).
AE_CAUSALITY = {"definite": "certain", "probable": "probably-likely", "possible": "possible", "unlikely": "unlikely"}

# Products used in procedures: drugs and biologics as Medication, kits and matrices as Device.
MEDICATION_PRODUCT_KINDS = frozenset({"exosome", "drug"})

SEX_TO_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def coding(system: str, code: str, display: str | None = None) -> dict:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(*codings: dict, text: str | None = None) -> dict:
    out: dict = {}
    if codings:
        out["coding"] = list(codings)
    if text:
        out["text"] = text
    return out


def quantity(value, ucum_code: str, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": ucum_code}
