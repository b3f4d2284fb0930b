"""Audited events: what is not a row change (logins, grants, tokens, exports, code-breaks).

``record_event("export", subject="patient:7", clinic_id=3, detail={"format": "pdf"})`` writes an
:class:`~anagen.audit.models.AuditEvent`; it is tracked, so the event becomes a LogEntry in the
hash chain with the acting staff member, address and request id, like every other write.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.db import transaction


def record_event(kind: str, *, subject: str = "", clinic_id: int | None = None, detail: dict | None = None,
                 actor=None):
    from .context import acting_as
    from .models import AuditEvent, EventKind

    if kind not in EventKind.values:
        raise ValueError(f"Unknown audit event kind {kind!r}.")
    ctx = acting_as(actor) if actor is not None else nullcontext()
    with ctx, transaction.atomic():
        return AuditEvent.objects.create(kind=kind, subject=subject[:200], clinic_id=clinic_id, detail=detail or {})
