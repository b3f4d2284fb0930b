"""A background job as people see it: what ran, for whom, how far it got and how it ended.

Huey (``anagen.jobs.queue``) carries only the job's id; this row is the record of truth, so a
message delivered twice runs the work once (only a queued row can be claimed) and a worker
killed mid-job leaves a row that the recovery finds and queues again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    name = models.CharField(max_length=200, help_text="dotted path of the function that does the work")
    args = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    result = models.CharField(max_length=500, blank=True, default="", help_text="what the job reported on success")
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=1)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    request_id = models.CharField(max_length=32, blank=True, default="")
    worker = models.CharField(max_length=120, blank=True, default="", help_text="host:pid of the worker running it")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["name", "status"], name="jobs_name_status")]

    def __str__(self) -> str:
        return f"job {self.pk} {self.name} ({self.status})"

    @property
    def short_name(self) -> str:
        return self.name.rpartition(".")[2].replace("_", " ")

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class PreparedFile(models.Model):
    """A document made in the background for one staff member (a PDF report, an export).

    The web request only asks for it (:func:`anagen.jobs.prepared.request_file`); a worker makes
    it; the person who asked downloads it from its page, once their right to it has been checked
    again. The file lives under the private media root (never served as a static URL) and is
    deleted after ``ANAGEN_PREPARED_KEEP_HOURS``.
    """

    key = models.UUIDField(unique=True, editable=False, help_text="the unguessable name in the file's URL")
    kind = models.CharField(max_length=60, help_text="which producer makes it (anagen.jobs.prepared.KINDS)")
    params = models.JSONField(default=dict, blank=True)
    title = models.CharField(max_length=200, help_text="what the person asked for, in words")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    job = models.OneToOneField(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="prepared_file")
    file = models.FileField(upload_to="prepared/%Y/%m/", blank=True)
    filename = models.CharField(max_length=200, blank=True, default="", help_text="the name the download gets")
    content_type = models.CharField(max_length=100, blank=True, default="")
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.kind}, {self.key})"

    @property
    def is_ready(self) -> bool:
        return self.ready_at is not None and bool(self.file)
