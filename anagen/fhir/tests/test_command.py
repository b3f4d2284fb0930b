"""`anagen fhir export`: a patient's Bundle on stdout, or NDJSON files per resource type."""

from __future__ import annotations

import io
import json

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command

from anagen.fhir.models import FhirExport

from .helpers import check_resources, ndjson

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("fhir", "export", *args, stdout=out)
    return out.getvalue()


def test_patient_prints_a_valid_bundle(patient, record):
    bundle = json.loads(run("--patient", patient.patient_number, "--validate"))
    by_type = check_resources([e["resource"] for e in bundle["entry"]])
    assert by_type["Patient"][0]["identifier"][0]["value"] == patient.patient_number
    export = FhirExport.objects.get()
    assert (export.via, export.scope, export.actor, export.patient) == ("command", "patient", None, patient)


def test_patient_deidentified(patient, record):
    bundle = json.loads(run("--patient", patient.patient_number, "--deidentified"))
    (p,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert not {"name", "birthDate", "telecom", "address"} & set(p)
    assert patient.last_name not in json.dumps(bundle)


def test_all_writes_one_ndjson_file_per_type_and_a_manifest(tmp_path, patient, patient_b, record):
    out = tmp_path / "export"
    text = run("--all", "--out", str(out), "--validate")
    manifest = json.loads((out / "manifest.json").read_text())
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([f"{o['type']}.ndjson" for o in manifest["output"]] + ["manifest.json"])
    resources = []
    for item in manifest["output"]:
        lines = ndjson((out / item["url"]).read_text())
        assert len(lines) == item["count"] and {r["resourceType"] for r in lines} == {item["type"]}
        resources.extend(lines)
    by_type = check_resources(resources)
    assert sorted(p["name"][0]["family"] for p in by_type["Patient"]) == ["Bishop", "Hale"]
    assert f"Wrote {len(resources)} identified resources" in text
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the work folder is gone


def test_all_for_one_clinic_deidentified(tmp_path, patient, patient_b, record):
    out = tmp_path / "out"
    run("--all", "--out", str(out), "--clinic", "solihull", "--deidentified")
    patients = ndjson((out / "Patient.ndjson").read_text())
    assert len(patients) == 1 and "name" not in patients[0]
    assert not (out / "Media.ndjson").exists()
    assert "Bishop" not in "".join(p.read_text() for p in out.iterdir())
    export = FhirExport.objects.get()
    assert (export.scope, export.deidentified, export.clinic.slug) == ("bulk", True, "solihull")


def test_a_second_export_replaces_the_files_of_the_first(tmp_path, patient, record):
    out = tmp_path / "out"
    run("--all", "--out", str(out))
    assert (out / "Media.ndjson").exists()
    run("--all", "--out", str(out), "--deidentified")
    assert not (out / "Media.ndjson").exists()  # a stale file would read as part of this export
    assert "Hale" not in (out / "Patient.ndjson").read_text()


def test_as_a_statistician_the_export_is_deidentified(tmp_path, statistician, patient, record):
    text = run("--all", "--out", str(tmp_path / "out"), "--user", statistician.email)
    assert "de-identified" in text
    export = FhirExport.objects.get()
    assert export.actor == statistician
    assert LogEntry.objects.get_for_object(export).get().actor == statistician


@pytest.mark.parametrize(("args", "message"), [
    (["--patient", "AN-999999"], "No patient with number AN-999999"),
    (["--all"], "--out DIR"),
    (["--all", "--out", "{tmp}", "--clinic", "nowhere"], "No clinic with code 'nowhere'"),
    (["--all", "--out", "{tmp}", "--user", "nobody@example.test"], "No active staff member"),
    (["--patient", "{number}", "--user", "lab@birmingham.test"], "role"),
    (["--all", "--out", "{tmp}", "--user", "evaluator@birmingham.test"], "role does not allow"),
    (["--patient", "{number}", "--user", "coord@solihull.test"], "No such patient in a clinic"),
])
def test_bad_input_gets_a_message_not_a_traceback(tmp_path, patient, lab_scientist, evaluator, coordinator_b, args,
                                                  message):
    args = [a.format(tmp=tmp_path, number=patient.patient_number) for a in args]
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not FhirExport.objects.exists()


def test_out_must_be_a_folder(tmp_path, patient):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(CommandError, match="is a file"):
        run("--all", "--out", str(target))


def test_a_folder_that_cannot_be_made_is_a_message(tmp_path, patient):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(CommandError, match="Could not write the export"):
        run("--all", "--out", str(blocker / "inside"))
    assert not FhirExport.objects.exists()
