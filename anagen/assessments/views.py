"""Assessment pages: visits, photographs, phototrichogram images, analysis and corrections.

Every view asks the selectors (role, then clinic: 403 / 404) and writes through the services.
The pages work without JavaScript (refresh to see progress; type segments to add hairs);
``assessments/trichogram.js`` adds a polling progress bar and click-to-add on the overlay.
"""

from __future__ import annotations

import hashlib
import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from anagen.audit.selectors import record_history
from anagen.core.errors import ActionError

from . import selectors, services
from .forms import CorrectionForm, GlobalAssessmentForm, ImageUploadForm, PhotoUploadForm, VisitForm
from .models import AnalysisStatus, PhotoView


def _appointments(patient):
    from anagen.scheduling.models import Appointment

    return Appointment.objects.filter(patient=patient).order_by("-starts_at")[:30]


def _plans(patient):
    from anagen.treatments.models import TreatmentPlan

    return TreatmentPlan.objects.filter(patient=patient).order_by("-start_on")


@login_required
def patient_visits(request, patient_id: int):
    write = request.method == "POST"
    patient = selectors.patient_for_assessments(user=request.user, pk=patient_id, write=write)
    appointments = list(_appointments(patient)) if selectors.can_write(request.user) else []
    plans = list(_plans(patient)) if selectors.can_write(request.user) else []
    form = VisitForm(request.POST or None, appointments=appointments, plans=plans)
    status = 200
    if write:
        if form.is_valid():
            data = form.cleaned_data
            appointment = next((a for a in appointments if a.pk == data["appointment"]), None)
            plan = next((p for p in plans if p.pk == data["plan"]), None)
            try:
                visit = services.visit_create(actor=request.user, patient=patient, visit_date=data["visit_date"],
                                              is_baseline=data["is_baseline"],
                                              weeks_after_last_session=data["weeks_after_last_session"],
                                              appointment=appointment, plan=plan, notes=data["notes"])
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Assessment visit of {visit.visit_date:%d/%m/%Y} opened.")
                return redirect("assessments:visit", pk=visit.pk)
        status = 400
    visits = selectors.visit_list_flagged(user=request.user, patient=patient)
    return render(request, "assessments/visit_list.html", {
        "patient": patient, "visits": visits, "form": form, "can_write": selectors.can_write(request.user),
    }, status=status)


def _visit_context(request, visit, **extra):
    images = selectors.visit_images(visit)
    devices = selectors.device_profiles_for(visit.clinic_id)
    photos = selectors.latest_photos(visit)
    ctx = {
        "visit": visit,
        "patient": visit.patient,
        "measurement": selectors.measurement_for(visit),
        "point": selectors.visit_point(user=request.user, visit=visit),
        "photo_views": [(value, label, photos.get(value)) for value, label in PhotoView.choices],
        "photo_count": visit.photos.count(),
        "images": images,
        "default_device": selectors.default_device_profile(visit.clinic_id),
        "can_write": selectors.can_write(request.user),
        "can_see_photos": selectors.can_see_photographs(request.user),
        "assessment_form": GlobalAssessmentForm(initial={
            "investigator_global": visit.investigator_global, "patient_global": visit.patient_global,
            "weeks_after_last_session": visit.weeks_after_last_session,
            "adverse_events_since_last_visit": visit.adverse_events_since_last_visit, "notes": visit.notes}),
        "photo_form": PhotoUploadForm(auto_id="photo_%s"),
        "image_form": ImageUploadForm(devices=devices, auto_id="image_%s"),
        "history": record_history(visit, related=[*(m for m in [selectors.measurement_for(visit)] if m),
                                                  *images, *[i.analysis for i in images if hasattr(i, "analysis")]]),
    }
    ctx.update(extra)
    return ctx


@login_required
@require_GET
def visit_detail(request, pk: int):
    visit = selectors.visit_get(user=request.user, pk=pk)
    return render(request, "assessments/visit_detail.html", _visit_context(request, visit))


@login_required
@require_POST
def visit_update(request, pk: int):
    visit = selectors.visit_get(user=request.user, pk=pk, write=True)
    form = GlobalAssessmentForm(request.POST)
    if form.is_valid():
        try:
            services.visit_update(actor=request.user, visit=visit, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Assessment saved.")
            return redirect("assessments:visit", pk=visit.pk)
    return render(request, "assessments/visit_detail.html", _visit_context(request, visit, assessment_form=form),
                  status=400)


@login_required
@require_POST
def photo_upload(request, pk: int):
    visit = selectors.visit_get(user=request.user, pk=pk, write=True)
    form = PhotoUploadForm(request.POST, request.FILES, auto_id="photo_%s")
    if form.is_valid():
        try:
            photo, created = services.global_photo_upload(actor=request.user, visit=visit,
                                                          view=form.cleaned_data["view"], file=form.cleaned_data["file"])
        except ActionError as exc:
            form.add_error("file" if exc.field in (None, "file") else exc.field, exc.message)
        else:
            if created:
                messages.success(request, f"{photo.get_view_display()} photograph stored.")
            else:
                messages.info(request, f"This {photo.get_view_display().lower()} photograph was already stored "
                                       f"({timezone.localtime(photo.uploaded_at):%d/%m/%Y %H:%M}); nothing was overwritten.")
            return redirect("assessments:visit", pk=visit.pk)
    return render(request, "assessments/visit_detail.html", _visit_context(request, visit, photo_form=form), status=400)


@login_required
@require_POST
def image_upload(request, pk: int):
    visit = selectors.visit_get(user=request.user, pk=pk, write=True)
    devices = selectors.device_profiles_for(visit.clinic_id)
    form = ImageUploadForm(request.POST, request.FILES, devices=devices, auto_id="image_%s")
    if form.is_valid():
        device = devices.filter(pk=form.cleaned_data["device_profile"]).first() if form.cleaned_data["device_profile"] else None
        try:
            image, created = services.trichogram_image_upload(actor=request.user, visit=visit, kind=form.cleaned_data["kind"],
                                                              file=form.cleaned_data["file"], device_profile=device)
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else "file", exc.message)
        else:
            if created:
                messages.success(request, "Image stored; the analysis is running.")
            else:
                messages.info(request, "This image was already uploaded for this visit; the stored one and its analysis are kept.")
            return redirect("assessments:image", pk=image.pk)
    return render(request, "assessments/visit_detail.html", _visit_context(request, visit, image_form=form), status=400)


def _status_payload(image, analysis) -> dict:
    payload = {
        "image_id": image.pk,
        "status": analysis.status if analysis else None,
        "progress": analysis.progress if analysis else 0,
        "step": analysis.step if analysis else "",
        "error": analysis.error if analysis else "",
        "finished": bool(analysis and analysis.is_finished),
        "page_url": reverse("assessments:image", kwargs={"pk": image.pk}),
    }
    return payload


def _hairs(result: dict | None) -> list[dict]:
    return list((result or {}).get("hairs", []))


@login_required
@require_GET
def image_detail(request, pk: int):
    return _image_page(request, selectors.image_get(user=request.user, pk=pk))


def _image_page(request, image, correction_form=None, status=200):
    analysis = selectors.analysis_for(image)
    auto = analysis.automatic if analysis else None
    corrections = (analysis.corrections or {}) if analysis else {}
    hair_ids = [h["id"] for h in _hairs(auto)]
    if correction_form is None:
        correction_form = CorrectionForm(hair_ids=hair_ids, initial={
            "removed": corrections.get("removed", []),
            "added": "\n".join(",".join(f"{v:g}" for v in seg) for seg in corrections.get("added", [])),
        })
    return render(request, "assessments/image_detail.html", {
        "image": image, "visit": image.visit, "patient": image.visit.patient, "analysis": analysis,
        "auto": auto, "corrected": analysis.corrected if analysis else None,
        "hairs": _hairs(auto), "correction_form": correction_form,
        "status_json": _status_payload(image, analysis),
        "can_write": selectors.can_write(request.user),
        "measurement": selectors.measurement_for(image.visit),
        "point": selectors.visit_point(user=request.user, visit=image.visit),
        "devices": selectors.device_profiles_for(image.visit.clinic_id).filter(is_active=True),
        "history": record_history(image, related=[analysis] if analysis else []),
        "visit_match": selectors.visit_match_for(image),
        **_adjusted(image, analysis, request.user),
    }, status=status)


def _adjusted(image, analysis, user) -> dict:
    """The device's active calibration, shown beside (never instead of) the engine's count."""
    from anagen.core.permissions import has_role

    from .validation import REPORT_ROLES, adjusted_count

    return {"can_see_validation": has_role(user, *REPORT_ROLES),
            "adjusted": adjusted_count(analysis, image=image)}


@login_required
@require_GET
def image_status(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk)
    return JsonResponse(_status_payload(image, selectors.analysis_for(image)))


@login_required
@require_POST
def image_correct(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk, write=True)
    analysis = selectors.analysis_for(image)
    if analysis is None:
        raise Http404("This image has no analysis.")
    form = CorrectionForm(request.POST, hair_ids=[h["id"] for h in _hairs(analysis.automatic)])
    if form.is_valid():
        try:
            added = services.parse_segments(form.cleaned_data["added"])
            services.trichogram_analysis_correct(actor=request.user, analysis=analysis, added=added,
                                                 removed=form.cleaned_data["removed"],
                                                 confirm_reason=form.cleaned_data["confirm_reason"])
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Correction saved; the automatic result is kept beside it.")
            return redirect("assessments:image", pk=image.pk)
    return _image_page(request, image, correction_form=form, status=400)


@login_required
@require_POST
def image_retry(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk, write=True)
    analysis = selectors.analysis_for(image)
    if analysis is None:
        raise Http404("This image has no analysis.")
    try:
        services.trichogram_analysis_retry(actor=request.user, analysis=analysis)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The analysis is running again.")
    return redirect("assessments:image", pk=image.pk)


def file_etag(name: str) -> str:
    """A validator for a stored file: every stored name is written once (images and photos are
    named by checksum; each overlay drawing gets a new name), so the name identifies the bytes."""
    return '"' + hashlib.sha256(name.encode()).hexdigest()[:24] + '"'


def _file_response(name: str, download_name: str = "", request=None):
    if not name or not default_storage.exists(name):
        raise Http404("The file is missing from storage.")
    etag = file_etag(name)
    # Revalidate every time: the same address (an image's overlay) shows a new drawing after a
    # correction or a new analysis, and a stale one would show the wrong hairs.
    if request is not None and etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["Content-Disposition"] = f'inline; filename="{download_name or name.rsplit("/", 1)[-1]}"'
    return response


@login_required
@require_GET
def image_file(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk)
    return _file_response(image.file.name, request=request)


@login_required
@require_GET
def image_overlay(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk)
    analysis = selectors.analysis_for(image)
    if analysis is None or analysis.status != AnalysisStatus.DONE:
        raise Http404("The overlay is drawn once the analysis has finished.")
    if request.GET.get("corrected") and analysis.corrected_overlay:
        return _file_response(analysis.corrected_overlay.name, request=request)
    return _file_response(analysis.overlay.name, request=request)


@login_required
@require_GET
def photo_file(request, pk: int):
    photo = selectors.photo_get(user=request.user, pk=pk)
    return _file_response(photo.file.name, request=request)


def _reason_post(request) -> str:
    return (request.POST.get("reason") or "").strip()


@login_required
@require_POST
def measurement_exclude(request, pk: int):
    visit = selectors.visit_get(user=request.user, pk=pk, write=True)
    measurement = selectors.measurement_for(visit)
    if measurement is None:
        raise Http404("This visit has no measurement.")
    try:
        if request.POST.get("include"):
            services.measurement_include(actor=request.user, measurement=measurement)
            messages.success(request, "The measurement is part of the series again.")
        else:
            services.measurement_exclude(actor=request.user, measurement=measurement, reason=_reason_post(request))
            messages.success(request, "Excluded from the series: the values stay on this page and in the history, "
                                      "but charts, changes and outcomes leave them out.")
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect("assessments:visit", pk=visit.pk)


@login_required
@require_POST
def image_void(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk, write=True)
    try:
        services.trichogram_image_void(actor=request.user, image=image, reason=_reason_post(request))
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Image voided: its result is kept but no longer counts in the visit's measurement.")
    return redirect("assessments:image", pk=image.pk)


@login_required
@require_POST
def image_reanalyse(request, pk: int):
    image = selectors.image_get(user=request.user, pk=pk, write=True)
    analysis = selectors.analysis_for(image)
    if analysis is None:
        raise Http404("This image has no analysis.")
    device = selectors.device_profiles_for(image.visit.clinic_id).filter(pk=request.POST.get("device_profile") or 0).first() \
        if str(request.POST.get("device_profile") or "").isdigit() else None
    try:
        if device is None:
            raise ActionError("Choose one of this clinic's device profiles to analyse the image with.")
        services.trichogram_analysis_rerun(actor=request.user, analysis=analysis, device_profile=device,
                                           reason=_reason_post(request))
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Analysing again with {device.name}; the earlier result is kept below.")
    return redirect("assessments:image", pk=image.pk)


# --- hair-to-hair matching across visits ------------------------------------------------------

#: Colours of matched pairs (cycled), and of lost, new and one-side-only hairs.
PAIR_COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#bcbd22", "#e377c2")
LOST_COLOUR, NEW_COLOUR, FAINT_COLOUR = "#d62728", "#d62728", "#7f7f7f"


def _drawn(result: dict | None) -> dict[int, str]:
    return {h["id"]: " ".join(f"{x:.1f},{y:.1f}" for x, y in h["centreline"]) for h in _hairs(result)}


def _match_context(match) -> dict:
    """Hairs to draw on each side: linked pairs numbered and coloured alike; lost and new in red."""
    res = match.result
    base_lines = _drawn(match.baseline_analysis.effective)
    follow_lines = _drawn(match.followup_analysis.effective)
    base_pts = {int(k): v for k, v in res.get("baseline_points", {}).items()}
    follow_pts = {int(k): v for k, v in res.get("followup_points", {}).items()}
    base, follow, pairs = [], [], []
    for n, p in enumerate(res.get("pairs", []), start=1):
        colour = PAIR_COLOURS[(n - 1) % len(PAIR_COLOURS)] if p["baseline_id"] and p["followup_id"] else FAINT_COLOUR
        label = f"{n}"
        for side, lines, pts, key in ((base, base_lines, base_pts, "baseline_id"), (follow, follow_lines, follow_pts, "followup_id")):
            hid = p[key]
            if hid is not None and hid in lines:
                side.append({"points": lines[hid], "at": pts.get(hid, (0, 0)), "colour": colour, "label": label,
                             "group": f"pair-{n}", "kind": "pair"})
        pairs.append({"n": n, "colour": colour, **p, "one_side": not (p["baseline_id"] and p["followup_id"])})
    lost = []
    for f in res.get("lost_hairs", []):
        hid = f["hair_id"]
        if hid in base_lines:
            base.append({"points": base_lines[hid], "at": base_pts.get(hid, (0, 0)), "colour": LOST_COLOUR,
                         "label": f"L{hid}", "group": f"lost-{hid}", "kind": "lost"})
        lost.append({**f, "rejected": hid in (match.rejected_lost or [])})
    new = []
    for f in res.get("new_hairs", []):
        hid = f["hair_id"]
        if hid in follow_lines:
            follow.append({"points": follow_lines[hid], "at": follow_pts.get(hid, (0, 0)), "colour": NEW_COLOUR,
                           "label": f"N{hid}", "group": f"new-{hid}", "kind": "new"})
        new.append({**f, "rejected": hid in (match.rejected_new or [])})
    return {"base_drawing": base, "follow_drawing": follow, "pairs": pairs, "lost": lost, "new": new}


def _match_page(request, image, status=200, error=""):
    from .matching import baseline_analysis_for

    match = selectors.visit_match_for(image)
    analysis = selectors.analysis_for(image)
    context = {"image": image, "visit": image.visit, "patient": image.visit.patient, "match": match,
               "analysis": analysis, "error": error, "can_write": selectors.can_write(request.user)}
    if match is not None:
        base_image = match.baseline_analysis.image
        context.update(_match_context(match), base_image=base_image, base_visit=base_image.visit,
                       stroke=max(2.0, image.width / 220), font=max(10.0, image.width / 40),
                       base_stroke=max(2.0, base_image.width / 220), base_font=max(10.0, base_image.width / 40))
    elif analysis is not None and analysis.status == AnalysisStatus.DONE:
        context["no_baseline"] = baseline_analysis_for(analysis) is None
    return render(request, "assessments/image_match.html", context, status=status)


@login_required
def image_match(request, pk: int):
    """Baseline and follow-up side by side, matched hairs linked; the clinician confirms lost and new."""
    if request.method == "POST":
        from .matching import visit_match_confirm

        image = selectors.image_get(user=request.user, pk=pk, write=True)
        match = selectors.visit_match_for(image)
        if match is None:
            raise Http404("This image has no match with a baseline.")
        try:
            visit_match_confirm(actor=request.user, match=match, rejected_lost=request.POST.getlist("rejected_lost"),
                                rejected_new=request.POST.getlist("rejected_new"))
        except ActionError as exc:
            return _match_page(request, image, status=400, error=exc.message)
        messages.success(request, "Review saved: the visit's change from baseline now uses the confirmed matched change.")
        return redirect("assessments:image_match", pk=image.pk)
    if request.method != "GET":
        from django.http import HttpResponseNotAllowed

        return HttpResponseNotAllowed(["GET", "POST"])
    return _match_page(request, selectors.image_get(user=request.user, pk=pk))


# --- before and after -------------------------------------------------------------------------

def _visit_id(request, name: str) -> int | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ActionError(f"Choose visit {name.upper()} from the list (got {raw[:20]!r}).", field=name)
    return int(raw)


@login_required
@require_GET
def compare(request, patient_id: int):
    """Before and after: two visits' photographs by view and target-area images side by side."""
    patient = selectors.patient_for_assessments(user=request.user, pk=patient_id)
    if not selectors.can_see_photographs(request.user):
        raise PermissionDenied("Clinical photographs are for clinicians at this clinic.")
    status, error = 200, ""
    try:
        a, b = _visit_id(request, "a"), _visit_id(request, "b")
    except ActionError as exc:
        a = b = None
        status, error = 400, exc.message
    data = selectors.comparison(user=request.user, patient=patient, a=a, b=b)
    return render(request, "assessments/compare.html", {
        "patient": patient, "cmp": data, "error": error,
        "visit_choices": [(v.pk, selectors.visit_label(v)) for v in data.visits],
        "label_a": selectors.visit_label(data.a) if data.a else "", "label_b": selectors.visit_label(data.b) if data.b else "",
    }, status=status)
