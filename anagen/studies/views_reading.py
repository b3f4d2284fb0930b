"""Blinded reading pages: the evaluator's queue (their home page), a coded image to correct and
sign, adjudication, and reader agreement for the study's statisticians.

A reader sees a code, the pixels of the coded copy and the engine's overlay drawn on them; no
page here reads the original image, the visit, the patient or the allocation.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from anagen.accounts.models import Role
from anagen.core.errors import ActionError
from anagen.core.permissions import role_required

from . import reading_selectors, reading_services, selectors
from .models_reading import Adjudication
from .views import STUDY_PAGE_ROLES


def _no_store(response):
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(*STUDY_PAGE_ROLES)
def queue(request):
    """The evaluator's home: coded images to read, in random order, codes only."""
    studies = reading_selectors.reader_studies(request.user)
    if not studies and not request.user.has_role(Role.EVALUATOR):
        raise Http404("You read images for no study.")
    items = reading_selectors.queue(user=request.user)
    return render(request, "studies/reading/queue.html", {
        "studies": studies, "items": items, "done": reading_selectors.done_count(user=request.user)})


def _parse_added(text: str):
    from anagen.assessments.services import parse_segments

    return parse_segments(text)


def _read_context(request, coded, *, error: str = "", added_text: str | None = None, removed=None) -> dict:
    from anagen.trichoscopy import ImageAnalysis

    mine = reading_selectors.my_reading(user=request.user, coded=coded)
    auto = ImageAnalysis.from_dict(coded.automatic)
    adjudication = Adjudication.objects.filter(coded_image=coded).first()
    can_start = mine is not None or reading_services.capacity_left(coded, request.user)
    if added_text is None:
        added_text = "\n".join(",".join(f"{v:g}" for v in seg) for seg in (mine.added if mine else []))
    if removed is None:
        removed = list(mine.removed) if mine else []
    return {"coded": coded, "auto": auto, "hairs": auto.hairs, "mine": mine, "can_start": can_start,
            "adjudication": adjudication,
            "can_adjudicate": bool(adjudication and not adjudication.is_signed
                                   and reading_services.can_adjudicate(request.user, coded)),
            "error": error, "added_text": added_text, "removed": [int(i) for i in removed],
            "meaning": reading_services.READING_MEANING}


@role_required(*STUDY_PAGE_ROLES)
def read(request, code: str):
    coded = reading_selectors.coded_get(user=request.user, code=code)
    if request.method == "POST":
        added_text = request.POST.get("added", "")
        removed = request.POST.getlist("removed")
        try:
            reading_services.reading_save(actor=request.user, coded=coded, added=_parse_added(added_text),
                                          removed=removed)
        except ActionError as exc:
            try:
                removed_ids = [int(i) for i in removed]
            except ValueError:
                removed_ids = []
            return _no_store(render(request, "studies/reading/read.html", _read_context(
                request, coded, error=exc.message, added_text=added_text, removed=removed_ids), status=400))
        messages.success(request, f"Reading of {coded.code} saved as a draft; sign it when it is right.")
        return redirect("studies:reading_image", code=coded.code)
    return _no_store(render(request, "studies/reading/read.html", _read_context(request, coded)))


@role_required(*STUDY_PAGE_ROLES)
def sign(request, code: str):
    coded = reading_selectors.coded_get(user=request.user, code=code)  # first: 404 / 403 before 405
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        reading = reading_services.reading_sign(actor=request.user, coded=coded,
                                                password=request.POST.get("password", ""))
    except ActionError as exc:
        return _no_store(render(request, "studies/reading/read.html",
                                _read_context(request, coded, error=exc.message), status=400))
    messages.success(request, f"{coded.code} signed: {reading.hair_count} hairs.")
    nxt = reading_selectors.queue(user=request.user)
    return redirect("studies:reading_image", code=nxt[0].code) if nxt else redirect("studies:reading")


def _png(data: bytes, code: str, suffix: str = "") -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{code}{suffix}.png"'
    return _no_store(response)


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def image_file(request, code: str):
    coded = reading_selectors.coded_get(user=request.user, code=code)
    with default_storage.open(coded.file.name, "rb") as fh:
        return _png(fh.read(), coded.code)


@role_required(*STUDY_PAGE_ROLES)
@require_GET
def overlay(request, code: str):
    """The engine's overlay drawn on the coded pixels; ``?which=mine`` the reader's corrected one,
    ``which=1`` / ``2`` the first and second signed readings (for the adjudicator)."""
    from anagen.trichoscopy import ImageAnalysis, render_overlay

    coded = reading_selectors.coded_get(user=request.user, code=code)
    which = request.GET.get("which", "auto")
    result = coded.automatic
    if which == "mine":
        mine = reading_selectors.my_reading(user=request.user, coded=coded)
        if mine is None:
            raise Http404("You have not read this image yet.")
        result = mine.result
    elif which in ("1", "2"):
        if not reading_services.can_adjudicate(request.user, coded) or not Adjudication.objects.filter(
                coded_image=coded).exists():
            raise PermissionDenied("Only the adjudicator sees the other readings.")
        signed = list(coded.readings.filter(status="signed").order_by("signed_at", "id"))
        if len(signed) < int(which):
            raise Http404("No such reading.")
        result = signed[int(which) - 1].result
    elif which != "auto":
        raise Http404("Unknown overlay.")
    png = render_overlay(reading_services.coded_pixels(coded), ImageAnalysis.from_dict(result),
                         reading_services.engine_profile(coded))
    return _png(png, coded.code, "" if which == "auto" else f"-{which}")


@role_required(*STUDY_PAGE_ROLES)
def adjudicate(request, code: str):
    coded = reading_selectors.coded_get(user=request.user, code=code)
    adjudication = Adjudication.objects.filter(coded_image=coded).first()
    if adjudication is None:
        raise Http404("This image has no adjudication.")
    if not reading_services.can_adjudicate(request.user, coded):
        raise PermissionDenied("You read this image: another evaluator of the study adjudicates it.")
    error, status = "", 200
    if request.method == "POST":
        try:
            reading_services.adjudication_sign(actor=request.user, coded=coded,
                                               hair_count=request.POST.get("hair_count"),
                                               note=request.POST.get("note", ""),
                                               password=request.POST.get("password", ""))
        except ActionError as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, f"Adjudication of {coded.code} signed.")
            return redirect("studies:reading")
    signed = list(coded.readings.filter(status="signed").order_by("signed_at", "id"))
    return _no_store(render(request, "studies/reading/adjudicate.html", {
        "coded": coded, "adjudication": adjudication, "readings": signed[:2], "error": error,
        "meaning": reading_services.ADJUDICATION_MEANING}, status=status))


@role_required(*STUDY_PAGE_ROLES)
def agreement(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    reading_selectors.check_agreement_access(request.user, study)
    status = 200
    if request.method == "POST":
        try:
            plan = reading_services.reading_plan_update(
                actor=request.user, study=study, readers_per_image=request.POST.get("readers_per_image"),
                margin_pct=request.POST.get("margin_pct"), margin_hairs=request.POST.get("margin_hairs"))
        except ActionError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(request, f"Reading plan saved: {plan.readers_per_image} readers per image, margin "
                                      f"{plan.margin_pct:g} % or {plan.margin_hairs} hairs.")
            return redirect("studies:reading_agreement", pk=study.pk)
    metric = request.GET.get("metric", "hair_count")
    result = reading_selectors.agreement(user=request.user, study=study, metric=metric)
    return render(request, "studies/reading/agreement.html", {
        "study": study, "result": result, "plan": reading_services.plan_for(study),
        "metrics": reading_selectors.METRICS.items(), "rows": [(c, a, b, a - b) for c, a, b in result.pairs],
        "icc_main": result.icc.get("ICC(2,1)") if result.icc else None}, status=status)


@role_required(*STUDY_PAGE_ROLES)
def code_images(request, pk: int):
    study = selectors.study_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        made = reading_services.reading_code_images(actor=request.user, study=study)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{len(made)} new image{'s' if len(made) != 1 else ''} coded for blinded reading.")
    if reading_services.blinding.study_role(request.user, study) in reading_selectors.AGREEMENT_ROLES:
        return redirect("studies:reading_agreement", pk=study.pk)
    return redirect("studies:detail", pk=study.pk)
