"""Documents made in the background: a PDF report or an export, asked for on a page, made by a
worker, downloaded from its own page by the person who asked.

Each kind of document names two functions of the app it belongs to (dotted paths, so this module
imports no app):

- ``check(user, params) -> Access``: may this user have it? Raises ``PermissionDenied`` or
  ``Http404`` exactly as the app's own page would; called when the document is asked for, again
  in the worker before it is made, and again at download, so a right withdrawn in between (a
  role changed, a clinic left, a study locked or unblinded) is honoured;
- ``produce(user, params) -> Made``: the bytes, the file name and the content type.

The download is the moment data leaves the system: it is recorded as an ``export`` audit event
with what was exported and for whom. Finished files are deleted after
``ANAGEN_PREPARED_KEEP_HOURS`` (24) by the periodic recovery.

With several machines, the web servers and the workers must share ``ANAGEN_MEDIA_ROOT`` (as
they already must for the images).
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from anagen.core.errors import ActionError

from .models import JobStatus, PreparedFile

log = logging.getLogger(__name__)

PREPARE_JOB = "anagen.jobs.prepared.prepare"
NOT_MADE = "Not made: you may no longer see what it would hold."


@dataclass(frozen=True)
class Access:
    """What the check found: the document's title, its clinic and the audit subject."""

    title: str
    subject: str
    clinic_id: int | None = None
    detail: dict = field(default_factory=dict)
    back_url: str = ""
    back_label: str = ""


@dataclass(frozen=True)
class Made:
    """What a producer made: ``content`` bytes, or a temporary file at ``path`` (a large export
    written in bounded memory; moved into storage and deleted)."""

    filename: str
    content_type: str
    content: bytes = b""
    path: str = ""


@dataclass(frozen=True)
class Kind:
    check: str
    produce: str
    label: str


KINDS: dict[str, Kind] = {
    "progress_report": Kind(check="anagen.outcomes.report.prepared_check",
                            produce="anagen.outcomes.report.prepared_produce",
                            label="progress report (PDF)"),
    "study_report": Kind(check="anagen.studies.report.prepared_check",
                         produce="anagen.studies.report.prepared_produce",
                         label="study report (PDF)"),
    "fhir_bulk": Kind(check="anagen.fhir.bulk_async.prepared_check",
                      produce="anagen.fhir.bulk_async.prepared_produce",
                      label="FHIR bulk export (NDJSON files)"),
}


class PreparedError(Exception):
    """A document that cannot be asked for (unknown kind); the message says why."""


def _call(path: str, *args):
    from .services import resolve

    return resolve(path)(*args)


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise PreparedError(f"Anagen cannot prepare a document of kind {kind!r}.") from None


def check(user, kind: str, params: dict) -> Access:
    return _call(_kind(kind).check, user, dict(params))


def request_file(*, user, kind: str, params: dict) -> PreparedFile:
    """Ask for a document: checked now (403/404 as the app's page), made by a worker.

    With ``ANAGEN_TASKS_EAGER`` (the tests) it is made at once.
    """
    from .services import enqueue

    access = check(user, kind, params)
    with transaction.atomic():
        prepared = PreparedFile.objects.create(key=uuid.uuid4(), kind=kind, params=dict(params), title=access.title,
                                               requested_by=user, clinic_id=access.clinic_id)
        job = enqueue(PREPARE_JOB, prepared.pk, actor=user, clinic_id=access.clinic_id)
        PreparedFile.objects.filter(pk=prepared.pk).update(job=job)
    prepared.refresh_from_db()
    return prepared


def prepare(prepared_id: int) -> str:
    """The job: make the document for the person who asked, if they still may have it."""
    from .services import progress

    prepared = PreparedFile.objects.select_related("requested_by").filter(pk=prepared_id).first()
    if prepared is None:
        return "the request was withdrawn"
    if prepared.is_ready:
        return "already made"
    user = prepared.requested_by
    try:
        check(user, prepared.kind, prepared.params)
    except (PermissionDenied, Http404, ActionError):
        # Not an error to retry: the right went away between the request and the work.
        return NOT_MADE
    progress(10)
    made: Made = _call(_kind(prepared.kind).produce, user, dict(prepared.params))
    progress(90)
    try:
        if not PreparedFile.objects.filter(pk=prepared.pk).exists():
            return "not kept: the request was withdrawn while it was being made"
        with transaction.atomic():
            if made.path:
                with open(made.path, "rb") as fh:
                    prepared.file.save(f"{prepared.key}.bin", File(fh), save=False)
            else:
                prepared.file.save(f"{prepared.key}.bin", ContentFile(made.content), save=False)
            prepared.filename = made.filename
            prepared.content_type = made.content_type
            prepared.size = prepared.file.size
            prepared.ready_at = timezone.now()
            prepared.save(update_fields=["file", "filename", "content_type", "size", "ready_at"])
    finally:
        if made.path:
            os.unlink(made.path)
    return f"{made.filename}: {prepared.size:,} bytes"


def get_for(*, user, key) -> PreparedFile:
    """The user's own prepared document (404 for anyone else's: its existence is not revealed)."""
    prepared = PreparedFile.objects.select_related("job").filter(key=key, requested_by=user).first()
    if prepared is None:
        raise Http404("No such document.")
    return prepared


def state(prepared: PreparedFile) -> dict:
    """What the document's page shows: ready, waiting (with progress) or failed (with the reason)."""
    job = prepared.job
    if prepared.is_ready:
        return {"status": "ready", "progress": 100, "error": ""}
    if job is None:
        return {"status": "failed", "progress": 0, "error": "The job that was to make it is gone; ask again."}
    if job.status == JobStatus.FAILED:
        return {"status": "failed", "progress": job.progress, "error": job.error}
    if job.status == JobStatus.DONE:
        return {"status": "failed", "progress": 100, "error": job.result or NOT_MADE}
    return {"status": "running" if job.status == JobStatus.RUNNING else "queued", "progress": job.progress,
            "error": job.error}


def open_for_download(*, user, key, detail: dict | None = None):
    """(PreparedFile, open file) after checking the user's right again; records the export."""
    from anagen.audit.events import record_event

    prepared = get_for(user=user, key=key)
    if not prepared.is_ready:
        raise Http404("This document is not ready yet.")
    access = check(user, prepared.kind, prepared.params)
    record_event("export", subject=access.subject, clinic_id=access.clinic_id,
                 detail={"what": _kind(prepared.kind).label, **access.detail, **(detail or {}),
                         "prepared": str(prepared.key)})
    return prepared, prepared.file.open("rb")


def discard(*, user, key) -> None:
    """Delete the user's document and its file now (a queued job then finds nothing to make)."""
    prepared = get_for(user=user, key=key)
    if prepared.file:
        prepared.file.delete(save=False)
    prepared.delete()


def keep_hours() -> int:
    return int(getattr(settings, "ANAGEN_PREPARED_KEEP_HOURS", 24))


def purge_expired(now=None) -> int:
    """Delete prepared documents (rows and files) older than ``ANAGEN_PREPARED_KEEP_HOURS``."""
    now = now or timezone.now()
    old = PreparedFile.objects.filter(created_at__lt=now - timedelta(hours=keep_hours()))
    count = 0
    for prepared in old:
        if prepared.file:
            prepared.file.delete(save=False)
        prepared.delete()
        count += 1
    return count


def recent_for(user, limit: int = 10):
    """The user's documents of the last ``ANAGEN_PREPARED_KEEP_HOURS``, newest first."""
    return list(PreparedFile.objects.filter(requested_by=user).select_related("job")[:limit])

