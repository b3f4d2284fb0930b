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


# The worker's own path (a Job row read back in another process) is covered in
# anagen/jobs/tests/test_jobs.py: test_the_job_carries_the_actor_and_request_id_into_the_audit_trail.
