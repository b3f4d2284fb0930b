"""Blinded reading API, under /api/v1/studies: the evaluator's queue, coded images, readings and
their signatures, adjudication, agreement and coding. Same services and selectors as the pages;
a reader's answers carry codes, pixels and hair counts only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from anagen.api.params import Id
from ninja import Router, Schema, Status

from anagen.accounts.models import Role

from . import reading_selectors, reading_services, selectors
from .models_reading import Adjudication

router = Router(tags=["studies: blinded reading"])

STUDY_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.CLINICIAN, Role.EVALUATOR, Role.STATISTICIAN)


def _page_role(request) -> None:
    if not request.user.has_role(*STUDY_ROLES):
        raise PermissionDenied("Your role does not allow studies.")


class QueueItemOut(Schema):
    code: str
    task: str
    study: str


@router.get("/reading/queue", response=list[QueueItemOut], summary="Your coded images to read, in random order")
def reading_queue(request):
    _page_role(request)
    if not reading_selectors.reader_studies(request.user) and not request.user.has_role(Role.EVALUATOR):
        raise Http404("You read images for no study.")
    return [{"code": i.code, "task": i.task, "study": i.study_title} for i in reading_selectors.queue(user=request.user)]


class ReadingOut(Schema):
    status: str
    hair_count: int
    density_per_cm2: float | None
    removed: list[int]
    added: list[list[float]]
    signed_at: datetime | None


class CodedImageOut(Schema):
    code: str
    width: int
    height: int
    automatic: dict[str, Any]
    my_reading: ReadingOut | None
    adjudication_open: bool


def _reading_out(reading) -> dict | None:
    if reading is None:
        return None
    return {"status": reading.status, "hair_count": reading.hair_count, "density_per_cm2": reading.density_per_cm2,
            "removed": reading.removed, "added": reading.added, "signed_at": reading.signed_at}


def _coded_out(request, coded) -> dict:
    adjudication = Adjudication.objects.filter(coded_image=coded, signed_at__isnull=True).exists()
    return {"code": coded.code, "width": coded.width, "height": coded.height, "automatic": coded.automatic,
            "my_reading": _reading_out(reading_selectors.my_reading(user=request.user, coded=coded)),
            "adjudication_open": adjudication}


@router.get("/reading/{code}", response=CodedImageOut, summary="A coded image: size, the engine's result, your reading")
def reading_image(request, code: str):
    _page_role(request)
    return _coded_out(request, reading_selectors.coded_get(user=request.user, code=code))


@router.get("/reading/{code}/image.png", summary="The coded image's pixels (PNG, no metadata)")
def reading_image_file(request, code: str):
    _page_role(request)
    coded = reading_selectors.coded_get(user=request.user, code=code)
    with default_storage.open(coded.file.name, "rb") as fh:
        response = HttpResponse(fh.read(), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{coded.code}.png"'
    response["Cache-Control"] = "private, no-store"
    return response


class ReadingIn(Schema):
    removed: list[int] = []
    added: list[list[float]] = []


@router.put("/reading/{code}/reading", response=ReadingOut, summary="Save your draft reading (corrections)")
def reading_save(request, code: str, payload: ReadingIn):
    _page_role(request)
    coded = reading_selectors.coded_get(user=request.user, code=code)
    reading = reading_services.reading_save(actor=request.user, coded=coded, added=payload.added,
                                            removed=payload.removed)
    return _reading_out(reading)


class PasswordIn(Schema):
    password: str


@router.post("/reading/{code}/reading/signature", response={201: ReadingOut},
             summary="Sign your reading (re-enter password; meaning: blinded reading)")
def reading_sign(request, code: str, payload: PasswordIn):
    _page_role(request)
    coded = reading_selectors.coded_get(user=request.user, code=code)
    return Status(201, _reading_out(reading_services.reading_sign(actor=request.user, coded=coded,
                                                                  password=payload.password)))


class AdjudicationIn(Schema):
    hair_count: int
    password: str
    note: str = ""


class AdjudicationOut(Schema):
    code: str
    reason: str
    hair_count: int | None
    density_per_cm2: float | None
    signed_at: datetime | None


@router.post("/reading/{code}/adjudication", response={201: AdjudicationOut},
             summary="Sign the final count of an image whose readings differ beyond the margin")
def adjudication_sign(request, code: str, payload: AdjudicationIn):
    _page_role(request)
    coded = reading_selectors.coded_get(user=request.user, code=code)
    a = reading_services.adjudication_sign(actor=request.user, coded=coded, hair_count=payload.hair_count,
                                           password=payload.password, note=payload.note)
    return Status(201, {"code": coded.code, "reason": a.reason, "hair_count": a.hair_count,
                        "density_per_cm2": a.density_per_cm2, "signed_at": a.signed_at})


class AgreementOut(Schema):
    metric: str
    n_pairs: int
    pairs: list[dict[str, Any]]
    icc: dict[str, Any] | None
    bland_altman: dict[str, Any] | None
    detail: str
    coded_images: int
    signed_readings: int
    adjudications_open: int
    adjudications_signed: int


@router.get("/{study_id}/agreement", response=AgreementOut,
            summary="Reader agreement over signed double readings: ICC and Bland-Altman (statisticians)")
def reading_agreement(request, study_id: Id, metric: str = "hair_count"):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    r = reading_selectors.agreement(user=request.user, study=study, metric=metric)
    return {"metric": r.metric, "n_pairs": len(r.pairs),
            "pairs": [{"code": c, "reading_1": a, "reading_2": b} for c, a, b in r.pairs],
            "icc": r.icc.to_dict() if r.icc else None, "bland_altman": r.bland_altman.to_dict() if r.bland_altman else None,
            "detail": r.error, "coded_images": r.coded, "signed_readings": r.signed_readings,
            "adjudications_open": r.adjudications_open, "adjudications_signed": r.adjudications_signed}


class CodingOut(Schema):
    coded: int
    codes: list[str]


@router.post("/{study_id}/reading/coding", response={201: CodingOut},
             summary="Code the study's analysed target-area images not yet in the reading queue")
def reading_code(request, study_id: Id):
    _page_role(request)
    study = selectors.study_get(user=request.user, pk=study_id)
    made = reading_services.reading_code_images(actor=request.user, study=study)
    return Status(201, {"coded": len(made), "codes": [c.code for c in made]})
