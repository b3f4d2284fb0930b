"""Jobs as recorded rows: queued once, run once, retried then failed with their message,
carrying the actor and request id that asked for them, recovered when their worker died."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.utils import timezone

from anagen.jobs import services
from anagen.jobs.models import Job, JobStatus

SAMPLE = "anagen.jobs.tests.sample_jobs"


def test_eager_job_runs_at_once_and_is_recorded_done(db, tmp_path):
    marker = tmp_path / "runs.txt"
    job = services.enqueue(f"{SAMPLE}.record", str(marker), "a")
    job.refresh_from_db()
    assert marker.read_text() == "a\n"
    assert (job.status, job.progress, job.attempts, job.result) == (JobStatus.DONE, 100, 1, "recorded a")
    assert job.started_at and job.finished_at


def test_a_failing_job_is_retried_then_shown_failed_with_its_message(db, settings, caplog):
    settings.ANAGEN_TASKS_MAX_ATTEMPTS = 3
    job = services.enqueue(f"{SAMPLE}.explode", "the scanner is offline")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.attempts == 3
    assert job.error == "RuntimeError: the scanner is offline"
    assert "background task" in caplog.text and "attempt 3 of 3" in caplog.text


def test_on_the_queue_a_failure_schedules_a_later_try_with_a_growing_delay(db, settings, monkeypatch):
    settings.ANAGEN_TASKS_EAGER = False
    settings.ANAGEN_TASKS_RETRY_DELAY = 10
    sent = []
    monkeypatch.setattr(services, "send", lambda job_id, delay=None: sent.append((job_id, delay)) or True)
    job = Job.objects.create(name=f"{SAMPLE}.explode", args=["flaky"], max_attempts=3)
    services.execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and "attempt 1 of 3" in job.error and "10 s" in job.error
    services.execute(job.pk)
    services.execute(job.pk)
    job.refresh_from_db()
    assert [d for _, d in sent] == [10.0, 20.0]  # then no third retry
    assert job.status == JobStatus.FAILED and job.error == "RuntimeError: flaky"


def test_a_message_delivered_twice_runs_the_job_once(db, tmp_path):
    marker = tmp_path / "runs.txt"
    job = Job.objects.create(name=f"{SAMPLE}.record", args=[str(marker), "x"], max_attempts=3)
    services.execute(job.pk)
    services.execute(job.pk)
    assert marker.read_text() == "x\n"


def test_queueing_waits_for_the_commit(db, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.ANAGEN_TASKS_EAGER = False
    sent = []
    monkeypatch.setattr(services, "send", lambda job_id, delay=None: sent.append(job_id) or True)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.enqueue(f"{SAMPLE}.record", "/dev/null", "y")
        assert sent == []
    assert sent == [job.pk]


def test_a_misspelt_job_fails_in_the_caller(db):
    with pytest.raises((ImportError, ValueError)):
        services.enqueue(f"{SAMPLE}.no_such_function")
    assert not Job.objects.exists()


def test_the_job_carries_the_actor_and_request_id_into_the_audit_trail(db, clinic, coordinator):
    from auditlog.context import set_actor
    from auditlog.models import LogEntry

    from anagen.audit.context import request_id
    from anagen.patients.models import Patient
    from anagen.patients.services import patient_register

    patient = patient_register(actor=coordinator, clinic=clinic, first_name="Ann", last_name="Able",
                               date_of_birth=date(1980, 1, 1))
    token = request_id.set("req-from-page")
    try:
        with set_actor(coordinator):
            job = services.enqueue(f"{SAMPLE}.touch_patient", patient.pk, "Anne")
    finally:
        request_id.reset(token)
    assert (job.actor_id, job.request_id) == (coordinator.pk, "req-from-page")
    entry = LogEntry.objects.get_for_object(Patient.objects.get(pk=patient.pk)).order_by("-timestamp").first()
    assert entry.actor_id == coordinator.pk
    assert entry.cid == "req-from-page"


def test_recovery_requeues_a_job_whose_worker_process_died(db, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "send", lambda job_id, delay=None: sent.append(job_id) or True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = Job.objects.create(name=f"{SAMPLE}.record", args=["/dev/null", "z"], status=JobStatus.RUNNING,
                                worker=f"{services.socket.gethostname()}:{dead.pid}", started_at=timezone.now())
    alive = Job.objects.create(name=f"{SAMPLE}.record", args=["/dev/null", "z"], status=JobStatus.RUNNING,
                               worker=services.worker_name(), started_at=timezone.now())
    far = Job.objects.create(name=f"{SAMPLE}.record", args=["/dev/null", "z"], status=JobStatus.RUNNING,
                             worker="other-machine:12", started_at=timezone.now(), heartbeat_at=timezone.now())
    summary = services.recover_stale()
    assert sent == [orphan.pk]
    assert Job.objects.get(pk=orphan.pk).status == JobStatus.QUEUED
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING
    assert Job.objects.get(pk=far.pk).status == JobStatus.RUNNING
    # Another machine's worker, silent for longer than the stale time, is presumed gone.
    Job.objects.filter(pk=far.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))
    services.recover_stale()
    assert sent == [orphan.pk, far.pk]
    assert summary.startswith("1 job(s) queued again")


def test_recovery_queues_an_analysis_left_without_a_job(db, visit, clinician, scalp_png, settings):
    from anagen.assessments.models import AnalysisStatus, TrichogramAnalysis
    from anagen.assessments.services import trichogram_image_upload
    from anagen.assessments.tests.conftest import upload

    image, _ = trichogram_image_upload(actor=clinician, visit=visit, file=upload(scalp_png))
    Job.objects.all().delete()  # as if the old runner's thread died with the analysis queued
    TrichogramAnalysis.objects.filter(image=image).update(status=AnalysisStatus.RUNNING, progress=30,
                                                          created_at=timezone.now() - timedelta(hours=1))
    summary = services.recover_stale()
    assert "1 analysis(es) queued again" in summary
    analysis = TrichogramAnalysis.objects.get(image=image)
    assert analysis.status == AnalysisStatus.DONE  # eager: the new job has run
    assert Job.objects.get().clinic_id == visit.clinic_id


def test_recovery_forgets_old_finished_jobs(db, settings):
    settings.ANAGEN_JOBS_KEEP_DAYS = 30
    old = Job.objects.create(name="x.y", status=JobStatus.DONE, finished_at=timezone.now() - timedelta(days=31))
    failed = Job.objects.create(name="x.y", status=JobStatus.FAILED, finished_at=timezone.now() - timedelta(days=31))
    services.recover_stale()
    assert not Job.objects.filter(pk=old.pk).exists()
    assert Job.objects.filter(pk=failed.pk).exists()  # failures stay until someone has looked


def test_reminders_go_out_on_schedule(db):
    from huey.api import PeriodicTask

    from anagen.jobs import queue

    task, when = queue.PERIODIC["send_reminders"]
    assert issubclass(task.task_class, PeriodicTask)
    assert task.task_class in queue.huey._registry._periodic_tasks  # the consumer's scheduler runs it
    # Every five minutes, whatever the hour.
    base = timezone.now().replace(minute=0, second=0, microsecond=0)
    fires = [m for m in range(60) if task.task_class().validate_datetime(base.replace(minute=m))]
    assert fires == list(range(0, 60, 5)) and when == "every 5 minutes"


def test_the_reminders_task_sends_what_is_due(db, clinic, coordinator, mailoutbox, monkeypatch):
    from anagen.jobs import queue

    calls = []
    monkeypatch.setattr("anagen.scheduling.notifications.send_due", lambda: calls.append(1) or (2, 0))
    queue.send_reminders.call_local()
    job = Job.objects.get(name="anagen.jobs.periodic.send_due_emails")
    assert calls == [1]
    assert (job.status, job.result) == (JobStatus.DONE, "2 e-mail(s) sent, 0 failed")


def test_audit_head_export_is_skipped_without_the_chain(db):
    from anagen.jobs import periodic

    outcome = periodic.export_audit_head()
    try:
        from anagen.audit.chain import export_head  # noqa: F401
    except ImportError:
        assert outcome.startswith("skipped")
    assert isinstance(outcome, str)


def test_the_jobs_page_shows_admins_their_clinics_jobs(db, login, admin_user, clinic, clinic_b):
    mine = Job.objects.create(name="anagen.assessments.jobs.trichogram_analysis_run", args=[5], clinic=clinic,
                              status=JobStatus.FAILED, attempts=3, max_attempts=3, error="RuntimeError: disk full")
    system = Job.objects.create(name="anagen.jobs.periodic.send_due_emails", status=JobStatus.DONE, progress=100,
                                result="4 e-mail(s) sent, 0 failed")
    theirs = Job.objects.create(name="anagen.fhir.jobs.secret_export", args=[9], clinic=clinic_b)
    page = login(admin_user).get("/jobs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "trichogram analysis run" in html and "RuntimeError: disk full" in html and "3 / 3" in html
    assert "4 e-mail(s) sent" in html
    assert "secret export" not in html
    failed_only = login(admin_user).get("/jobs/?status=failed").content.decode()
    assert "disk full" in failed_only and "e-mail(s) sent" not in failed_only
    assert login(admin_user).get("/jobs/?status=nonsense").status_code == 200
    assert {mine.pk, system.pk, theirs.pk}


@pytest.mark.parametrize("persona", ["coordinator", "clinician", "statistician"])
def test_other_roles_may_not_see_the_jobs_page(db, login, persona, request):
    assert login(request.getfixturevalue(persona)).get("/jobs/").status_code == 403


def test_the_jobs_command_lists_jobs(db, capsys):
    from django.core.management import call_command

    Job.objects.create(name="anagen.x.broken", status=JobStatus.FAILED, error="ValueError: no\nmore")
    call_command("jobs", "--status", "failed")
    out = capsys.readouterr().out
    assert "failed: 1" in out and "broken" in out and "ValueError: no" in out


def test_study_visits_are_checked_for_deviations_every_night(db):
    from anagen.jobs import queue

    task, when = queue.PERIODIC["check_study_deviations"]
    assert task.task_class in queue.huey._registry._periodic_tasks
    night = timezone.now().replace(hour=1, minute=30, second=0, microsecond=0)
    assert task.task_class().validate_datetime(night)
    assert not task.task_class().validate_datetime(night.replace(hour=13))
    queue.check_study_deviations.call_local()
    job = Job.objects.get(name="anagen.jobs.periodic.check_study_deviations")
    assert (job.status, job.result) == (JobStatus.DONE, "0 deviation(s) found, 0 no longer found")
