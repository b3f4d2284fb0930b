"""A background job's writes carry the user and request that queued it."""

from auditlog.models import LogEntry

from anagen.audit.context import acting_as, request_id
from anagen.core import tasks


def rename_clinic(clinic_id, name):
    from anagen.accounts.models import Clinic

    clinic = Clinic.objects.get(pk=clinic_id)
    clinic.name = name
    clinic.save()


def test_a_queued_job_records_who_queued_it(settings, clinic, clinician):
    settings.ANAGEN_TASKS_EAGER = True
    token = request_id.set("req-123")
    try:
        with acting_as(clinician):
            tasks.enqueue("anagen.audit.tests.test_job_context.rename_clinic", clinic.pk, "Birmingham Jobs")
    finally:
        request_id.reset(token)
    entry = LogEntry.objects.get_for_object(clinic).order_by("-pk").first()
    assert entry.changes_dict["name"][1] == "Birmingham Jobs"
    assert entry.actor == clinician and entry.cid == "req-123"


def test_the_worker_path_restores_the_captured_context(clinic, clinician):
    from anagen.audit.context import capture

    with acting_as(clinician):
        captured = capture()
    tasks.run("anagen.audit.tests.test_job_context.rename_clinic", clinic.pk, "Later", audit_context=captured)
    entry = LogEntry.objects.get_for_object(clinic).order_by("-pk").first()
    assert entry.actor == clinician
