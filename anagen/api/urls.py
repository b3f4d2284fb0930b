"""The versioned JSON API under /api/v1/, with its OpenAPI document at /api/v1/openapi.json.

Each clinic app owns its routes in ``<app>/api.py``; they call the same services and selectors
as the pages.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError as NinjaValidationError

from anagen.core.errors import ActionError

from .auth import staff_auth

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="Anagen API",
    version="1",
    description="Clinic journey and measured outcomes. Authenticate with `Authorization: Bearer TOKEN` "
                "(`anagen token create --user EMAIL`).",
    auth=staff_auth,
    urls_namespace="api-v1",
    openapi_url="openapi.json",
    docs_url="docs",
)


@api.exception_handler(ActionError)
def _action_error(request, exc: ActionError):
    body = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(ValidationError)
def _django_validation(request, exc: ValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "Some fields are not valid.", "errors": detail, "code": "invalid"}, status=400)


@api.exception_handler(NinjaValidationError)
def _schema_validation(request, exc: NinjaValidationError):
    errors = [{"field": ".".join(str(p) for p in e.get("loc", [])[1:]) or None, "message": e.get("msg")} for e in exc.errors]
    return api.create_response(request, {"detail": "The request body or parameters are not valid.", "errors": errors, "code": "invalid"}, status=400)


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request, exc):
    # A multipart body with no boundary, or a broken one: the caller's request, not our error.
    return api.create_response(request, {"detail": f"The multipart body could not be read: {exc}. Send "
                                                   "multipart/form-data with its boundary, as HTTP clients do.",
                                         "code": "bad_multipart"}, status=400)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    if getattr(request, "api_token_expired", False):
        msg = "The bearer token has expired. Create a new one with `anagen token create --user EMAIL --days N`."
    elif getattr(request, "api_token_used", False):
        msg = "The bearer token is not valid or has been revoked. Create a new one with `anagen token create --user EMAIL`."
    else:
        msg = "Log in, or send `Authorization: Bearer TOKEN`."
    return api.create_response(request, {"detail": msg, "code": "unauthenticated"}, status=401)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Your role or clinic does not allow this.", "code": "forbidden"}, status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "Not found, or not in a clinic you work at.", "code": "not_found"}, status=404)


@api.exception_handler(Exception)
def _internal(request, exc):
    log.exception("API error on %s %s (request %s)", request.method, request.path, getattr(request, "request_id", "-"))
    return api.create_response(request, {"detail": "Internal error; it has been logged.", "code": "internal",
                                         "request_id": getattr(request, "request_id", None)}, status=500)


def _mount() -> None:
    from anagen.accounts.api import router as accounts_router
    from anagen.intake.api import router as intake_router
    from anagen.patients.api import router as patients_router
    from anagen.scheduling.api import router as scheduling_router
    from anagen.screening.api import router as screening_router
    from anagen.treatments.api import router as treatments_router
    from anagen.assessments.api import router as assessments_router
    from anagen.outcomes.api import router as outcomes_router
    from anagen.studies.api import router as studies_router
    from anagen.fhir.api import router as fhir_router

    api.add_router("/", accounts_router)
    api.add_router("/inquiries", intake_router)
    api.add_router("/patients", patients_router)
    api.add_router("/screenings", screening_router)
    api.add_router("/appointments", scheduling_router)
    api.add_router("/treatments", treatments_router)
    api.add_router("/assessments", assessments_router)
    api.add_router("/outcomes", outcomes_router)
    api.add_router("/studies", studies_router)
    api.add_router("/fhir", fhir_router)


_mount()
