"""Queue, run and recover jobs. Writes to :class:`~anagen.jobs.models.Job` live here.

``enqueue("anagen.assessments.jobs.trichogram_analysis_run", analysis_id)`` records a Job
(the actor and request id of the current request come with it) and, once the surrounding
transaction commits, puts its id on the Huey queue; a worker (``anagen worker``) runs it:

- a queued row is claimed once (``queued`` -> ``running`` in one UPDATE), so a message that
  arrives twice runs the work once;
- the worker sets the audit context from the Job, so rows the job writes carry the actor and
  the request id that asked for the work;
- an exception is logged and stored on the row; the job is tried again with a growing delay
  (``ANAGEN_TASKS_RETRY_DELAY`` seconds, doubled each time) up to ``max_attempts``, then shown
  failed with its message;
- a worker killed mid-job leaves the row ``running``: :func:`recover_stale` (at every worker
  start and every few minutes) queues it again.

With ``ANAGEN_TASKS_EAGER`` (the tests) the job runs inline, at once, retries included.
Arguments must be plain JSON values (ids, strings): the job loads its records itself.
"""

from __future__ import annotations

import logging
import os
import socket
from contextvars import ContextVar
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from anagen.audit.context import new_request_id, request_id

from .models import Job, JobStatus

log = logging.getLogger(__name__)

current_job: ContextVar[int | None] = ContextVar("anagen_current_job", default=None)


def _eager() -> bool:
    value = getattr(settings, "ANAGEN_TASKS_EAGER", None)
    if value is None:
        value = os.environ.get("ANAGEN_TASKS_EAGER", "").strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def resolve(callable_path: str):
    module_path, _, name = callable_path.rpartition(".")
    if not module_path:
        raise ValueError(f"{callable_path!r} is not a dotted path to a function (module.function).")
    func = getattr(import_module(module_path), name, None)
    if not callable(func):
        raise ValueError(f"{callable_path!r} does not name a function.")
    return func


def _current_actor():
    """The staff member of the request (or job) being served, from django-auditlog's context.

    Only inside a request or a job (both set the request id and reset it after): auditlog's
    own context is never reset, so outside them it may still name an earlier request's user.
    """
    if request_id.get() is None:
        return None
    try:
        from auditlog.context import auditlog_value

        actor = auditlog_value.get().get("actor")
    except LookupError:
        return None
    return actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) else None


def enqueue(callable_path: str, *args, actor=None, clinic_id: int | None = None,
            max_attempts: int | None = None) -> Job:
    """Run ``callable_path(*args)`` in the background after the transaction commits; the Job.

    The path is resolved now, so a typo fails in the request rather than later in a worker.
    """
    resolve(callable_path)
    attempts = max_attempts or getattr(settings, "ANAGEN_TASKS_MAX_ATTEMPTS", 3)
    job = Job.objects.create(name=callable_path, args=list(args), max_attempts=max(1, attempts),
                             actor=actor or _current_actor(), clinic_id=clinic_id,
                             request_id=request_id.get() or "")
    if _eager():
        for _ in range(job.max_attempts):
            execute(job.pk, inline=True)
            if Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).exists() is False:
                break
        return job
    transaction.on_commit(lambda: send(job.pk))
    return job


def send(job_id: int, delay: float | None = None) -> bool:
    """Put the job's id on the queue (now, or after ``delay`` seconds); False if the queue refused."""
    from .queue import run_job

    try:
        if delay:
            run_job.schedule((job_id,), delay=delay)
        else:
            run_job(job_id)
    except Exception:
        # The row stays queued and unsent: the recovery sends it again.
        log.exception("could not put job %s on the queue", job_id)
        return False
    Job.objects.filter(pk=job_id).update(sent_at=timezone.now())
    return True


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def progress(percent: int) -> None:
    """Record how far the running job has got (and that its worker is alive)."""
    job_id = current_job.get()
    if job_id is not None:
        Job.objects.filter(pk=job_id).update(progress=max(0, min(100, int(percent))), heartbeat_at=timezone.now())


def _claim(job_id: int) -> bool:
    now = timezone.now()
    return bool(Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now,
        worker=worker_name(), progress=0))


def execute(job_id: int, *, inline: bool = False) -> None:
    """Run one queued Job in this process. Never raises: what escapes the job lands on its row."""
    from auditlog.context import set_actor

    # A worker starts and ends each job with fresh connections (never inside a caller's transaction).
    manage = not inline and not connection.in_atomic_block
    if manage:
        close_old_connections()
    try:
        if not _claim(job_id):
            log.info("job %s is not queued (already run, running or gone): skipped", job_id)
            return
        job = Job.objects.select_related("actor").get(pk=job_id)
        rid_token = request_id.set(job.request_id or new_request_id())
        job_token = current_job.set(job.pk)
        try:
            with set_actor(job.actor):
                outcome = resolve(job.name)(*job.args)
        except Exception as exc:
            log.exception("background task %s%r failed (attempt %s of %s)", job.name, tuple(job.args),
                          job.attempts, job.max_attempts)
            _failed(job, exc, inline=inline)
        else:
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.DONE, progress=100, error="", finished_at=timezone.now(),
                result=str(outcome)[:500] if isinstance(outcome, str) else "")
        finally:
            current_job.reset(job_token)
            request_id.reset(rid_token)
    finally:
        if manage:
            close_old_connections()


def _failed(job: Job, exc: Exception, *, inline: bool) -> None:
    message = f"{type(exc).__name__}: {exc}"[:2000]
    if job.attempts >= job.max_attempts:
        Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error=message, finished_at=timezone.now())
        return
    delay = float(getattr(settings, "ANAGEN_TASKS_RETRY_DELAY", 10)) * (2 ** (job.attempts - 1))
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.QUEUED, worker="",
        error=f"{message} (attempt {job.attempts} of {job.max_attempts}; tried again in {delay:g} s)")
    if not inline:
        send(job.pk, delay=delay)


def run_periodic(callable_path: str) -> Job:
    """Record and run one periodic job in this worker (a failure is stored, not retried: the
    next tick runs it again)."""
    job = Job.objects.create(name=callable_path, args=[], max_attempts=1, sent_at=timezone.now())
    execute(job.pk)
    return job


# --- recovery -------------------------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_dead(job: Job, stale_before) -> bool:
    host, _, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return int(pid) != os.getpid() and not _pid_alive(int(pid))
    # Another machine's worker: only a long silence tells it has gone.
    return (job.heartbeat_at or job.started_at or job.created_at) < stale_before


def recover_stale(now=None) -> str:
    """Queue again what a dead worker left behind; forget finished jobs past their keeping time.

    - a ``running`` job whose worker process is gone (same machine) or silent for
      ``ANAGEN_TASKS_STALE_SECONDS`` (another machine);
    - a ``queued`` job that never reached the queue (the process stopped between commit and send);
    - an image analysis left ``queued``/``running`` with no live job behind it;

    and deletes prepared documents past ``ANAGEN_PREPARED_KEEP_HOURS``.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=int(getattr(settings, "ANAGEN_TASKS_STALE_SECONDS", 1800)))
    requeued = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING):
        if not _worker_dead(job, stale_before):
            continue
        if Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=job.worker).update(
                status=JobStatus.QUEUED, worker="",
                error=f"The worker {job.worker} stopped while running this job; queued again."):
            requeued += 1
            send(job.pk)
    unsent = Job.objects.filter(status=JobStatus.QUEUED, sent_at__isnull=True,
                                created_at__lt=now - timedelta(minutes=1)).values_list("pk", flat=True)
    for pk in list(unsent):
        requeued += send(pk)
    analyses = _recover_analyses(now - timedelta(minutes=2))
    keep_days = int(getattr(settings, "ANAGEN_JOBS_KEEP_DAYS", 30))
    forgotten, _ = Job.objects.filter(status=JobStatus.DONE, finished_at__lt=now - timedelta(days=keep_days)).delete()
    from .prepared import purge_expired

    purged = purge_expired(now)
    return (f"{requeued} job(s) queued again, {analyses} analysis(es) queued again, {forgotten} old job(s) forgotten, "
            f"{purged} prepared document(s) deleted")


ANALYSIS_JOB = "anagen.assessments.jobs.trichogram_analysis_run"


def _recover_analyses(older_than) -> int:
    from anagen.assessments.models import AnalysisStatus, TrichogramAnalysis

    live = set()
    for args in Job.objects.filter(name=ANALYSIS_JOB, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]) \
            .values_list("args", flat=True):
        if args:
            live.add(args[0])
    stuck = (TrichogramAnalysis.objects
             .filter(status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING], created_at__lt=older_than)
             .exclude(pk__in=live).select_related("image__visit"))
    count = 0
    for analysis in stuck:
        TrichogramAnalysis.objects.filter(pk=analysis.pk).update(status=AnalysisStatus.QUEUED, progress=0,
                                                                 step="queued")
        with transaction.atomic():
            enqueue(ANALYSIS_JOB, analysis.pk, clinic_id=analysis.image.visit.clinic_id)
        count += 1
    return count
