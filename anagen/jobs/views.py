"""The jobs page (admins: what ran in the background, how far it got and how it ended) and the
pages of documents made in the background for the person who asked for them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from anagen.accounts.models import Role
from anagen.core.errors import ActionError
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


@login_required
@require_GET
def prepared(request, key):
    """A document being made for the signed-in person: progress while it runs, then the download.

    Only the person who asked sees it (anyone else gets 404). The page reloads itself every
    two seconds while the work runs (a meta refresh: no script needed).
    """
    from . import prepared as docs

    item = docs.get_for(user=request.user, key=key)
    st = docs.state(item)
    try:
        access = docs.check(request.user, item.kind, item.params)
    except (PermissionDenied, Http404, ActionError):  # the right is gone: the page still says what became of it
        access = None
    return render(request, "jobs/prepared.html", {
        "item": item, "state": st, "access": access, "refresh": st["status"] in ("queued", "running"),
        "keep_hours": int(getattr(settings, "ANAGEN_PREPARED_KEEP_HOURS", 24))})


@login_required
@require_GET
def prepared_download(request, key):
    """The finished document, after the right to it has been checked again (an audited export)."""
    from . import prepared as docs

    item, handle = docs.open_for_download(user=request.user, key=key)
    response = FileResponse(handle, as_attachment=True, filename=item.filename, content_type=item.content_type)
    response["Cache-Control"] = "no-store"
    return response
