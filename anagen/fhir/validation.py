"""Checking exported resources against the FHIR models of the fhir.resources library.

fhir.resources 8 (pydantic 2, as django-ninja needs) ships FHIR R5 and R4B (4.3.0) models; the
R4 (4.0.1) models are only in fhir.resources 6, which needs pydantic 1. The export uses only
elements that R4 and R4B define alike (Media is still in R4B), so the R4B models check it.
They check structure, cardinality, types and required elements, not FHIRPath invariants or
terminology bindings.
"""

from __future__ import annotations

FHIR_VERSION_CHECKED = "4.3.0"


class InvalidResource(ValueError):
    pass


def model_class(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def parse(resource: dict):
    """The fhir.resources model of ``resource``; :class:`InvalidResource` says what is wrong."""
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    try:
        cls = model_class(str(rtype))
    except ValueError:
        raise InvalidResource(f"{rtype!r} is not a FHIR resource type.") from None
    try:
        return cls.model_validate(resource)
    except Exception as exc:  # pydantic.ValidationError, with every field that failed
        raise InvalidResource(f"{rtype}/{resource.get('id')} is not valid FHIR: {exc}") from None


def validate(resource: dict) -> None:
    parse(resource)
