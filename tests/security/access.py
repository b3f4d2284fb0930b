"""The machinery of the access-matrix test: every page route (from the URL resolver) and every
API operation (from the OpenAPI document), a persona for each role at the record's clinic and
at the other clinic, a stranger and an anonymous caller, and a record for each route parameter.

An outcome is "deny" (401, 403, 404, or a redirect to the login page) or "allow" (anything
else: the view ran for that persona, whether it answered 200, 302, 400 or 409).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

ROLES = ("admin", "coordinator", "clinician", "lab_scientist", "evaluator", "statistician")
PERSONAS = (*ROLES, *(f"{r}@other" for r in ROLES), "stranger", "anonymous")
SKIP_PREFIXES = ("admin/", "api/", "static/", "media/")  # Django admin: its own permission (has_permission)


@dataclass(frozen=True)
class Route:
    key: str  # "page <pattern>" or "<METHOD> /api/v1/<path>"
    kind: str  # "page" or "api"
    pattern: str
    method: str = "GET"
    operation: dict | None = None


def page_routes() -> list[Route]:
    from django.urls import URLPattern, URLResolver, get_resolver

    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            text = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if not text.startswith(SKIP_PREFIXES):
                    walk(p.url_patterns, text)
            elif isinstance(p, URLPattern) and not text.startswith(SKIP_PREFIXES):
                out.append(Route(key=f"page /{text}", kind="page", pattern="/" + text))

    walk(get_resolver().url_patterns)
    return out


def api_routes() -> list[Route]:
    from anagen.api.urls import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    out = []
    for path, ops in schema["paths"].items():
        # ninja joins a router mounted with an empty prefix without its slash under path_prefix.
        path = re.sub(r"^/api/v1(?=[^/])", "/api/v1/", path)
        for method, op in ops.items():
            out.append(Route(key=f"{method.upper()} {path}", kind="api", pattern=path, method=method.upper(),
                             operation={"op": op, "components": schema.get("components", {})}))
    return out


def all_routes() -> list[Route]:
    return page_routes() + api_routes()


# --- request bodies -----------------------------------------------------------------------------
def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(schema: dict, components: dict, depth: int = 0, values: dict | None = None):
    """A value of the right shape, so the request reaches the view (where access is checked);
    a field named like a record (``patient_id``) gets that record's id from ``values``."""
    values = values or {}
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, components).get("type") != "null"] or schema[key]
            return example(options[0], components, depth, values)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        required = set(schema.get("required", []))
        return {name: values[name] if name in values else example(prop, components, depth + 1, values)
                for name, prop in schema.get("properties", {}).items() if name in required or name in values}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    fmt = schema.get("format", "")
    if fmt == "date":
        return "2030-01-07"
    if fmt == "date-time":
        return "2030-01-07T10:00:00+00:00"
    if fmt == "binary":
        return None
    return "x"


def tiny_jpeg() -> io.BytesIO:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 90, 80)).save(buf, "JPEG")
    buf.seek(0)
    buf.name = "scalp.jpg"
    return buf


BODY_FIELDS = {"patient_id": "patient_id", "clinic_id": "clinic", "clinician_id": "clinician", "plan_id": "plan_id",
               "visit_id": "visit_id", "procedure_id": "procedure_id", "lot_id": "lot_id", "modality": "code",
               "product_id": "product"}


def api_request_kwargs(route: Route, values: dict | None = None) -> dict:
    op, components = route.operation["op"], route.operation["components"]
    values = {field: values[key] for field, key in BODY_FIELDS.items() if values and key in values}
    content = (op.get("requestBody") or {}).get("content", {})
    if "application/json" in content:
        import json

        body = example(content["application/json"]["schema"], components, values=values)
        return {"data": json.dumps(body), "content_type": "application/json"}
    if "multipart/form-data" in content:
        schema = _resolve(content["multipart/form-data"]["schema"], components)
        data = {}
        for name, prop in schema.get("properties", {}).items():
            prop = _resolve(prop, components)
            if prop.get("format") == "binary":
                data[name] = tiny_jpeg()
            elif name in schema.get("required", []):
                data[name] = example(prop, components)
        if "view" in data:
            data["view"] = "vertex"
        return {"data": data}
    return {}


def query_string(route: Route, values: dict) -> str:
    """Required query parameters, filled from the records (ids) or with an example."""
    from urllib.parse import urlencode

    op, components = route.operation["op"], route.operation["components"]
    params = {}
    for p in op.get("parameters", []):
        if p.get("in") == "query" and p.get("required"):
            params[p["name"]] = values.get(p["name"], example(p.get("schema", {}), components))
    return ("?" + urlencode(params)) if params else ""


def classify(response) -> str:
    if response.status_code in (401, 403, 404):
        return "deny"
    if response.status_code == 302 and "/login/" in response.get("Location", ""):
        return "deny"
    return "allow"


def fill(pattern: str, values: dict) -> str:
    """Put the records' ids into a Django route (<int:pk>) or an OpenAPI path ({patient_id})."""

    def django_param(m):
        return str(values[(pattern, m.group(2))] if (pattern, m.group(2)) in values else values[m.group(2)])

    text = re.sub(r"<(?:(\w+):)?(\w+)>", django_param, pattern)
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), text)
