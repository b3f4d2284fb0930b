"""The jobs page: what ran in the background, how far it got and how it ended (admins)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render

from anagen.accounts.models import Role
from anagen.core.permissions import role_required

from . import selectors
from .models import JobStatus

PAGE_SIZE = 100


@role_required(Role.ADMIN)
def job_list(request):
    status = request.GET.get("status") or ""
    if status not in JobStatus.values:
        status = ""
    counts = selectors.status_counts(selectors.jobs_for(request.user))
    return render(request, "jobs/job_list.html", {
        "jobs": list(selectors.jobs_for(request.user, status=status or None)[:PAGE_SIZE]),
        "statuses": [(value, label, counts[value]) for value, label in JobStatus.choices], "status": status,
        "page_size": PAGE_SIZE, "max_attempts": settings.ANAGEN_TASKS_MAX_ATTEMPTS,
    })
