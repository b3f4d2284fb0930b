"""Reads of background jobs for the staff page and the ``anagen jobs`` listing."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from anagen.core.permissions import clinic_filter

from .models import Job, JobStatus


def jobs_for(user, *, status: str | None = None) -> QuerySet[Job]:
    """The jobs of the user's clinics and the installation's own (periodic) jobs."""
    jobs = Job.objects.select_related("actor", "clinic").filter(Q(**clinic_filter(user)) | Q(clinic__isnull=True))
    if status:
        jobs = jobs.filter(status=status)
    return jobs


def status_counts(jobs: QuerySet[Job]) -> dict[str, int]:
    counts = dict(jobs.order_by().values_list("status").annotate(n=Count("id")))
    return {s: counts.get(s, 0) for s in JobStatus.values}
