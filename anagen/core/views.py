"""Home, health check and error pages."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET


log = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _is_admin_staff(request) -> bool:
    try:
        user = request.user
        return bool(user.is_authenticated and user.is_active and user.is_staff)
    except Exception:  # the session store is the database that is down: treat as anonymous
        return False


@require_GET
def healthz(request):
    try:
        _check_database()
    except Exception as exc:  # the reason goes to the operator, not a traceback
        log.warning("health check: database unreachable: %s", exc)
        body = {"status": "error"}
        if _is_admin_staff(request):
            # Only staff with admin rights read why: a database error names hosts, users and paths.
            body.update({"database": "unreachable", "reason": str(exc)[:200]})
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def home(request):
    if not request.user.is_authenticated:
        return render(request, "core/public_home.html")
    return staff_home(request)


@login_required
def staff_home(request):
    """Each role lands on its worklist; a person with several roles sees one part per role."""
    from django.utils import timezone

    from anagen.accounts.models import Clinic, Role

    from .worklists import worklists_for

    user = request.user
    if not user.roles:
        # No role, so no menu: say what to do instead of pointing at a menu that is not there.
        return render(request, "core/worklist.html", {"worklists": [], "no_role": True})
    worklists = worklists_for(user)
    if not worklists and user.has_role(Role.EVALUATOR):
        return redirect("studies:reading")  # the blinded evaluator's work is reading for studies
    if not worklists:
        return render(request, "core/home.html")
    clinics = list(Clinic.objects.filter(id__in=list(user.clinic_ids), is_active=True))
    tz = clinics[0].tz if clinics else None
    now = timezone.localtime(timezone=tz)
    part = "morning" if now.hour < 12 else "afternoon" if now.hour < 18 else "evening"
    return render(request, "core/worklist.html", {
        "worklists": worklists, "today": now.date(), "part_of_day": part,
        "clinic_names": [c.name for c in clinics]})


def error_400(request, exception=None):
    return render(request, "core/error.html", {"title": "Bad request", "message": "The request could not be understood. Go back and try again."}, status=400)


def error_403(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have access to this page."
    return render(request, "core/error.html", {"title": "Not allowed", "message": message}, status=403)


def error_404(request, exception=None):
    return render(request, "core/error.html", {"title": "Not found", "message": "There is nothing here. Check the address, or go back to the start page."}, status=404)


def error_500(request):
    return render(request, "core/error.html", {"title": "Something went wrong", "message": "The error has been logged. Try again in a moment; if it happens again, tell your administrator."}, status=500)
