"""Bulk Data's asynchronous request pattern: kick-off (202 + Content-Location), status polling,
the manifest, the files from the worker's ZIP, DELETE; only the requester, checked at every file."""

from __future__ import annotations

import pytest

from anagen.audit.models import AuditEvent
from anagen.fhir.models import FhirExport
from anagen.jobs.models import JobStatus, PreparedFile
from anagen.jobs.services import execute

from .helpers import check_resources, ndjson

pytestmark = pytest.mark.django_db

ASYNC = {"HTTP_PREFER": "respond-async"}


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def _kick_off(client, query: str = ""):
    r = client.get(f"/api/v1/fhir/$export{query}", **ASYNC)
    assert r.status_code == 202, r.content
    return _path(r["Content-Location"])


def test_kick_off_poll_and_fetch_every_file(api_client, clinician, patient, patient_b, record, settings):
    settings.ANAGEN_TASKS_EAGER = False
    client = api_client(clinician)
    status_url = _kick_off(client)
    assert status_url.startswith("/api/v1/fhir/$export-status/")
    waiting = client.get(status_url)
    assert waiting.status_code == 202 and waiting["X-Progress"].startswith("queued")

    item = PreparedFile.objects.get()
    assert item.job.status == JobStatus.QUEUED and item.requested_by == clinician
    execute(item.job.pk, inline=True)  # the worker

    done = client.get(status_url)
    assert done.status_code == 200 and "Expires" in done
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert manifest["request"].endswith("/api/v1/fhir/$export")
    resources = []
    for out in manifest["output"]:
        assert _path(out["url"]) == f"{status_url}/{out['type']}.ndjson"
        r = client.get(_path(out["url"]))
        assert r.status_code == 200 and r["Content-Type"] == "application/fhir+ndjson"
        lines = ndjson(b"".join(r.streaming_content).decode())
        assert len(lines) == out["count"] and all(x["resourceType"] == out["type"] for x in lines)
        resources.extend(lines)
    by_type = check_resources(resources)
    assert [p["name"][0]["family"] for p in by_type["Patient"]] == ["Hale"]  # not Solihull's patient
    assert FhirExport.objects.filter(actor=clinician, scope="bulk", via="api", deidentified=False).count() == 1
    assert AuditEvent.objects.filter(kind="export", subject="fhir:bulk").count() == len(manifest["output"])  # one a file


def test_types_and_deidentification_follow_the_kick_off(api_client, statistician, patient, record):
    client = api_client(statistician)
    status_url = _kick_off(client, "?_type=Patient,Observation")
    manifest = client.get(status_url).json()
    assert sorted(o["type"] for o in manifest["output"]) == ["Observation", "Patient"]
    (p,) = ndjson(b"".join(client.get(f"{status_url}/Patient.ndjson").streaming_content).decode())
    assert "name" not in p and patient.last_name not in str(p)
    assert client.get(f"{status_url}/Media.ndjson").status_code == 404  # not part of this export


def test_the_kick_off_follows_the_synchronous_rules(api_client, statistician, lab_scientist, clinician, patient,
                                                    record):
    assert api_client(statistician).get("/api/v1/fhir/$export?deidentified=false", **ASYNC).status_code == 403
    assert api_client(lab_scientist).get("/api/v1/fhir/$export", **ASYNC).status_code == 403
    assert api_client(clinician).get("/api/v1/fhir/$export?clinic=solihull", **ASYNC).status_code == 404
    r = api_client(clinician).get("/api/v1/fhir/$export?_type=Spaceship", **ASYNC)
    assert r.status_code == 400 and "Spaceship" in r.content.decode()
    assert not PreparedFile.objects.exists()


def test_only_the_requester_reaches_the_status_and_files(api_client, clinician, admin_user, patient, record):
    status_url = _kick_off(api_client(clinician))
    other = api_client(admin_user)
    assert other.get(status_url).status_code == 404
    assert other.get(f"{status_url}/Patient.ndjson").status_code == 404
    assert other.delete(status_url).status_code == 404
    assert PreparedFile.objects.count() == 1


def test_delete_removes_the_files(api_client, clinician, patient, record):
    client = api_client(clinician)
    status_url = _kick_off(client)
    path = PreparedFile.objects.get().file.path
    assert client.delete(status_url).status_code == 202
    assert not PreparedFile.objects.exists()
    import os

    assert not os.path.exists(path)
    assert client.get(status_url).status_code == 404


def test_a_failed_export_reads_as_an_operation_outcome(api_client, clinician, patient, record, monkeypatch):
    from anagen.fhir import services

    def broken(**_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "bulk_export_write", broken)
    client = api_client(clinician)
    status_url = _kick_off(client)
    r = client.get(status_url)
    assert r.status_code == 500 and r["Content-Type"] == "application/fhir+json"
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and "disk full" in body["issue"][0]["diagnostics"]
