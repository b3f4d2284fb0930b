"""The request an audited change came from, kept in a context variable."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("anagen_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def current_request_id() -> str | None:
    """Getter for django-auditlog's correlation id (``AUDITLOG_CID_GETTER``)."""
    return request_id.get()
