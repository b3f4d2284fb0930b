"""Studies in the FHIR export: ResearchStudy and ResearchSubject, valid, and never the arm."""

from __future__ import annotations

import json

import pytest

from anagen.fhir import selectors
from anagen.fhir.tests.helpers import check_resources
from anagen.studies.randomization import subject_randomize
from anagen.studies.services import subject_screen_fail

pytestmark = pytest.mark.django_db


def _export(patients, *, deidentified=False):
    opts = selectors.export_options(deidentified=deidentified)
    return check_resources(list(selectors.export_resources(patients, opts)))


def test_a_randomized_subject_is_exported_with_its_study_and_without_the_arm(subject, recruiting_study, clinician):
    subject_randomize(actor=clinician, subject=subject)
    by_type = _export([subject.patient])

    (study,) = by_type["ResearchStudy"]
    assert study["title"] == recruiting_study.title
    assert study["status"] == "active"
    assert {a["name"] for a in study["arm"]} == set(recruiting_study.arms.values_list("code", flat=True))

    (research_subject,) = by_type["ResearchSubject"]
    assert research_subject["status"] == "on-study-intervention"
    assert research_subject["study"]["reference"] == f"ResearchStudy/{study['id']}"
    assert research_subject["individual"]["reference"] == f"Patient/{subject.patient.pk}"
    assert research_subject["identifier"][0]["value"] == subject.code
    assert "assignedArm" not in research_subject and "actualArm" not in research_subject

    assert not any("arm" in key.lower() for key in research_subject)
    assert "side" not in json.dumps(research_subject).lower()


def test_a_screen_failure_is_exported_as_ineligible(recruiting_study, clinician, clinic, make_patient):
    patient = make_patient(clinic, age=70)
    subject_screen_fail(actor=clinician, study=recruiting_study, patient=patient)
    (research_subject,) = _export([patient])["ResearchSubject"]
    assert research_subject["status"] == "ineligible"


def test_a_deidentified_export_keeps_no_subject_code_or_dates(subject):
    by_type = _export([subject.patient], deidentified=True)
    (research_subject,) = by_type["ResearchSubject"]
    assert "identifier" not in research_subject and "period" not in research_subject
    assert subject.code not in json.dumps(by_type)
    assert research_subject["individual"]["reference"] != f"Patient/{subject.patient.pk}"


def test_patients_never_screened_carry_no_study(clinic, make_patient):
    by_type = _export([make_patient(clinic)])
    assert "ResearchStudy" not in by_type and "ResearchSubject" not in by_type
