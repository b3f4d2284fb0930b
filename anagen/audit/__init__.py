"""The clinical audit trail.

One mechanism for every clinical model: django-auditlog records each create, update and delete
(old and new values) with the acting staff member, the client address and the request id. A
clinical app registers its models once, in its ``apps.py``::

    from anagen.audit import track
    track(Patient)

The log is append-only: :mod:`anagen.audit.signals` refuses to change or delete an entry.
"""

from __future__ import annotations


def track(model, **options):
    """Record every create, update and delete of ``model`` in the audit trail."""
    from auditlog.registry import auditlog

    options.setdefault("exclude_fields", ["search_text"])
    auditlog.register(model, **options)
    return model
