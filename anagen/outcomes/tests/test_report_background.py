"""The progress report asked for on the timeline, made by a worker, downloaded by whoever asked."""

import os
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from anagen.audit.models import AuditEvent
from anagen.jobs import prepared as docs
from anagen.jobs.models import Job, JobStatus, PreparedFile
from anagen.jobs.services import execute

pytestmark = pytest.mark.django_db


def _prepare(client, patient):
    return client.post(reverse("outcomes:report_prepare", kwargs={"pk": patient.pk}))


def test_the_timeline_asks_for_the_report_and_its_page_hands_it_over(treated_patient, clinician, login):
    c = login(clinician)
    timeline = c.get(reverse("outcomes:patient", kwargs={"pk": treated_patient.pk})).content.decode()
    assert reverse("outcomes:report_prepare", kwargs={"pk": treated_patient.pk}) in timeline

    r = _prepare(c, treated_patient)
    item = PreparedFile.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("jobs:prepared", kwargs={"key": item.key})
    assert item.job.name == docs.PREPARE_JOB and item.job.actor == clinician and item.job.status == JobStatus.DONE
    page = c.get(r["Location"])
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    body = page.content.decode()
    assert "Your document is ready" in body and 'http-equiv="refresh"' not in body
    assert f"Progress report of {treated_patient.patient_number}" in body

    assert not AuditEvent.objects.filter(kind="export").exists()  # nothing has left yet
    dl = c.get(reverse("jobs:prepared_download", kwargs={"key": item.key}))
    pdf = b"".join(dl.streaming_content)
    assert dl.status_code == 200 and dl["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF")
    assert treated_patient.patient_number in dl["Content-Disposition"] and "attachment" in dl["Content-Disposition"]
    event = AuditEvent.objects.get(kind="export")
    assert event.subject == f"patient:{treated_patient.pk}" and event.clinic_id == treated_patient.clinic_id
    assert event.detail["what"] == "progress report (PDF)" and event.detail["prepared"] == str(item.key)
    assert LogEntry.objects.get_for_object(event).get().actor == clinician


def test_nobody_else_sees_or_downloads_anothers_document(treated_patient, clinician, coordinator, login):
    item = docs.request_file(user=clinician, kind="progress_report", params={"patient": treated_patient.pk})
    other = login(coordinator)  # same clinic, may see the timeline too, but did not ask
    assert other.get(reverse("jobs:prepared", kwargs={"key": item.key})).status_code == 404
    assert other.get(reverse("jobs:prepared_download", kwargs={"key": item.key})).status_code == 404


def test_the_request_is_checked_as_the_timeline_is(treated_patient, clinician_b, lab_scientist, login, client):
    assert _prepare(login(clinician_b), treated_patient).status_code == 404   # another clinic
    assert _prepare(login(lab_scientist), treated_patient).status_code == 403  # no timeline for the lab
    assert login(clinician_b).get(reverse("outcomes:report_prepare", kwargs={"pk": treated_patient.pk})).status_code == 405
    assert not PreparedFile.objects.exists() and not Job.objects.filter(name=docs.PREPARE_JOB).exists()


def test_a_right_lost_after_the_request_stops_the_download(treated_patient, clinician, admin_user, login, clinic):
    from anagen.accounts.services import staff_grant

    c = login(clinician)
    item = docs.request_file(user=clinician, kind="progress_report", params={"patient": treated_patient.pk})
    assert item.is_ready
    staff_grant(actor=admin_user, user=clinician, clinics_remove=[clinic])
    assert c.get(reverse("jobs:prepared_download", kwargs={"key": item.key})).status_code == 404
    assert not AuditEvent.objects.filter(kind="export").exists()


def test_with_a_worker_the_page_waits_then_the_worker_makes_it(treated_patient, clinician, login, settings):
    settings.ANAGEN_TASKS_EAGER = False
    c = login(clinician)
    r = _prepare(c, treated_patient)
    item = PreparedFile.objects.get()
    waiting = c.get(r["Location"]).content.decode()
    assert item.job.status == JobStatus.QUEUED and not item.is_ready
    assert "Waiting for a worker" in waiting and 'http-equiv="refresh"' in waiting
    assert c.get(reverse("jobs:prepared_download", kwargs={"key": item.key})).status_code == 404

    execute(item.job.pk, inline=True)  # what `anagen worker` does with the queued id
    item.refresh_from_db()
    assert item.is_ready and item.size > 5000 and item.job.result.endswith("bytes")
    assert "Your document is ready" in c.get(r["Location"]).content.decode()


def test_the_worker_does_not_make_it_for_someone_who_lost_the_right(treated_patient, clinician, login, settings,
                                                                    clinic):
    settings.ANAGEN_TASKS_EAGER = False
    c = login(clinician)
    _prepare(c, treated_patient)
    item = PreparedFile.objects.get()
    clinician.clinics.remove(clinic)
    execute(item.job.pk, inline=True)
    item.refresh_from_db()
    assert not item.is_ready and not item.file
    assert docs.state(item) == {"status": "failed", "progress": 100, "error": docs.NOT_MADE}
    page = c.get(reverse("jobs:prepared", kwargs={"key": item.key})).content.decode()
    assert "could not be made" in page and "no longer see" in page


def test_old_documents_are_deleted_with_their_files(treated_patient, clinician, settings):
    item = docs.request_file(user=clinician, kind="progress_report", params={"patient": treated_patient.pk})
    path = item.file.path
    assert os.path.exists(path)
    assert docs.purge_expired(timezone.now() + timedelta(hours=23)) == 0
    assert docs.purge_expired(timezone.now() + timedelta(hours=25)) == 1
    assert not os.path.exists(path) and not PreparedFile.objects.exists()


def test_an_unknown_kind_is_refused_by_name(clinician):
    with pytest.raises(docs.PreparedError, match="cannot prepare a document of kind 'secrets'"):
        docs.request_file(user=clinician, kind="secrets", params={})
