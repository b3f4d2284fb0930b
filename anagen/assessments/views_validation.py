"""Validating the engine on the clinic's own dermoscope: references, report, adjustments.

Reading and writing go through :mod:`anagen.assessments.validation` (role, then clinic: 403 / 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from anagen.core.errors import ActionError
from anagen.core.permissions import has_role
from anagen.evidence.device_validation import MIN_REFERENCES

from . import selectors, validation


@login_required
@require_POST
def image_reference(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk, write=True)
    analysis = selectors.analysis_for(image)
    if analysis is None:
        raise Http404("This image has no analysis.")
    on = request.POST.get("reference", "1") != "0"
    try:
        validation.validation_reference_mark(actor=request.user, analysis=analysis, reference=on)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Marked as a validation reference for this device: its corrected count is the reference."
                         if on else "No longer a validation reference; the correction itself is kept.")
    return redirect("assessments:image", pk=image.pk)


@login_required
@require_GET
def device_list(request):
    """The clinic's device profiles with their validation on the current engine version."""
    return render(request, "assessments/device_list.html", {
        "states": validation.device_list(user=request.user), "min_references": MIN_REFERENCES,
        "engine_version": validation.current_engine_version(),
    })


def _page(request, device, status=200, error=""):
    return render(request, "assessments/device_validation.html", {
        "device": device, "reports": validation.report(device), "min_references": MIN_REFERENCES,
        "can_adjust": has_role(request.user, *validation.ADJUST_ROLES), "error": error,
    }, status=status)


@login_required
@require_GET
def device_validation(request, pk: int):
    return _page(request, validation.device_get(user=request.user, pk=pk))


@login_required
@require_POST
def device_adjustment_fit(request, pk: int):
    device = validation.device_get(user=request.user, pk=pk, roles=validation.ADJUST_ROLES)
    version = (request.POST.get("engine_version") or "").strip()[:40] or None
    try:
        adj = validation.device_adjustment_fit(actor=request.user, device=device, engine_version=version)
    except ActionError as exc:
        return _page(request, device, status=400, error=exc.message)
    messages.success(request, f"Calibration v{adj.version} fitted on {adj.n} references. It is not applied until "
                              "a clinician or admin activates it.")
    return redirect("assessments:device_validation", pk=device.pk)


@login_required
@require_POST
def adjustment_activation(request, pk: int):
    adj = validation.adjustment_get(user=request.user, pk=pk)
    try:
        if request.POST.get("action") == "deactivate":
            validation.device_adjustment_deactivate(actor=request.user, adjustment=adj,
                                                    reason=request.POST.get("reason", ""))
            messages.success(request, f"Calibration v{adj.version} switched off; the engine's counts are shown alone.")
        else:
            validation.device_adjustment_activate(actor=request.user, adjustment=adj,
                                                  confirm=request.POST.get("confirm") == "1",
                                                  reason=request.POST.get("reason", ""))
            messages.success(request, f"Calibration v{adj.version} is active: adjusted counts are shown beside the "
                                      "engine's on this device's images.")
    except ActionError as exc:
        return _page(request, adj.device, status=400, error=exc.message)
    return redirect("assessments:device_validation", pk=adj.device_id)
