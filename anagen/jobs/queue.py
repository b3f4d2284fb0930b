"""The queue: a Huey instance chosen by configuration, the one task that runs a Job, and the
periodic work.

- ``ANAGEN_TASKS_URL`` empty (the default): SQLite storage in ``var/tasks.sqlite3``, no extra
  service; ``sqlite:///path`` names another file. Fine for every process of one machine.
- ``ANAGEN_TASKS_URL=redis://host:6379/0``: Redis storage, so workers on several machines
  share the queue.

The message carries only the Job's id; :mod:`anagen.jobs.services` does the work and keeps
the record. Start a worker with ``anagen worker`` (``anagen serve`` starts one beside the web
server).
"""

from __future__ import annotations

import logging

from django.conf import settings
from huey import RedisHuey, SqliteHuey, crontab

log = logging.getLogger(__name__)


def build_huey():
    url = (getattr(settings, "ANAGEN_TASKS_URL", "") or "").strip()
    name = getattr(settings, "ANAGEN_TASKS_NAME", "anagen")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False)
    if url and not url.startswith("sqlite:///"):
        raise ValueError(f"ANAGEN_TASKS_URL={url!r}: use redis://host:port/db, sqlite:///path, or leave it empty.")
    filename = url.removeprefix("sqlite:///") if url else str(settings.VAR_DIR / "tasks.sqlite3")
    return SqliteHuey(name, filename=filename, results=False)


huey = build_huey()


@huey.task(name="anagen.run_job")
def run_job(job_id: int) -> None:
    """Run one Job (its retries are scheduled by the job itself, counted on the row)."""
    from .services import execute

    execute(job_id)


# --- periodic work: each run is recorded as a Job, so it shows on /jobs/ ------------------------

REMINDERS_EVERY_MINUTES = 5
RECOVERY_EVERY_MINUTES = 5


@huey.periodic_task(crontab(minute=f"*/{REMINDERS_EVERY_MINUTES}"), name="anagen.send_reminders")
def send_reminders() -> None:
    """Appointment confirmations and reminders whose time has come (what ``anagen send_due_emails`` does)."""
    from .services import run_periodic

    run_periodic("anagen.jobs.periodic.send_due_emails")


@huey.periodic_task(crontab(minute=f"*/{RECOVERY_EVERY_MINUTES}"), name="anagen.recover_stale")
def recover_stale() -> None:
    """Jobs and analyses left queued or running by a worker that died go back on the queue."""
    from .services import run_periodic

    run_periodic("anagen.jobs.periodic.recover_stale")


@huey.periodic_task(crontab(minute="15", hour="2"), name="anagen.export_audit_head")
def export_audit_head() -> None:
    """Once a night, the audit chain's head is exported (when this installation has the chain)."""
    from .services import run_periodic

    run_periodic("anagen.jobs.periodic.export_audit_head")


@huey.periodic_task(crontab(minute="30", hour="1"), name="anagen.check_study_deviations")
def check_study_deviations() -> None:
    """Once a night, every study's visits are checked against the protocol's windows."""
    from .services import run_periodic

    run_periodic("anagen.jobs.periodic.check_study_deviations")


PERIODIC = {
    "send_reminders": (send_reminders, f"every {REMINDERS_EVERY_MINUTES} minutes"),
    "recover_stale": (recover_stale, f"every {RECOVERY_EVERY_MINUTES} minutes"),
    "export_audit_head": (export_audit_head, "daily at 02:15 UTC"),
    "check_study_deviations": (check_study_deviations, "daily at 01:30 UTC"),
}
