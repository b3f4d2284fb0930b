"""Particular records through the real services: a withdrawn consent, a cancelled appointment,
an implanted autologous sample."""

from __future__ import annotations

import pytest

from anagen.fhir import codes, selectors

from .helpers import check_resources

pytestmark = pytest.mark.django_db


def export(patient, deidentified=False) -> dict[str, list[dict]]:
    opts = selectors.export_options(deidentified=deidentified)
    return check_resources(list(selectors.export_resources([patient], opts)))


def test_a_withdrawn_consent_is_inactive_and_its_period_ends_at_the_withdrawal(patient, clinician):
    from anagen.patients.services import consent_withdraw

    consent = patient.consents.get(kind="photography")
    consent_withdraw(actor=clinician, consent=consent, reason="Changed her mind")
    consent.refresh_from_db()
    by_id = {r["id"]: r for r in export(patient)["Consent"]}
    withdrawn = by_id[str(consent.pk)]
    assert withdrawn["status"] == "inactive"
    assert withdrawn["provision"]["period"]["end"] == consent.withdrawn_at.isoformat()
    assert withdrawn["scope"]["coding"][0]["code"] == "patient-privacy"
    assert {r["status"] for r in by_id.values()} == {"active", "inactive"}


def test_a_cancelled_appointment_keeps_its_reason_only_when_identified(patient, coordinator, record):
    from anagen.scheduling.services import appointment_cancel

    appointment_cancel(actor=coordinator, appointment=record["appointment"], reason="Harriet is travelling")
    (appt,) = export(patient)["Appointment"]
    assert appt["status"] == "cancelled" and appt["cancelationReason"]["text"] == "Harriet is travelling"
    (appt,) = export(patient, deidentified=True)["Appointment"]
    assert appt["status"] == "cancelled" and "cancelationReason" not in appt and "comment" not in appt


def test_an_implanted_sample_is_a_specimen_the_procedure_points_at(patient, clinician, lab_scientist):
    from anagen.treatments import services as tx
    from anagen.treatments.models import Modality

    sample = tx.sample_harvest(actor=clinician, patient=patient, kind="biopsy", biopsy_count=3,
                               biopsy_diameter_mm="2", donor_site="occipital scalp")
    tx.custody_record(actor=lab_scientist, sample=sample, step="received")
    tx.custody_record(actor=lab_scientist, sample=sample, step="processed",
                      details={"processing_method": "mechanical disaggregation in saline"})
    tx.custody_record(actor=lab_scientist, sample=sample, step="qc_passed",
                      details={"cell_count": 250000, "viability_pct": 91.5})
    tx.custody_record(actor=lab_scientist, sample=sample, step="released")
    sample.refresh_from_db()
    tx.procedure_record(actor=clinician, patient=patient, modality=Modality.objects.get(code="hfsc_micrograft"),
                        performed_on=sample.harvested_at.date(), zones={"vertex": "1.0"}, sample=sample)
    by_type = export(patient)
    (specimen,) = by_type["Specimen"]
    assert specimen["accessionIdentifier"]["value"] == sample.code
    assert specimen["status"] == "unavailable"  # implanted
    assert specimen["collection"]["bodySite"]["text"] == "occipital scalp"
    (proc,) = by_type["Procedure"]
    assert {"url": codes.EXT_IMPLANTED_SAMPLE, "valueReference": {"reference": f"Specimen/{specimen['id']}"}} \
        in proc["extension"]
    assert "accessionIdentifier" not in export(patient, deidentified=True)["Specimen"][0]
