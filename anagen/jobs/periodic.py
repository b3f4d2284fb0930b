"""The functions the periodic tasks run (plain functions, so a test or a command calls them too)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def send_due_emails() -> str:
    from anagen.scheduling.notifications import send_due

    sent, failed = send_due()
    return f"{sent} e-mail(s) sent, {failed} failed"


def recover_stale() -> str:
    from .services import recover_stale as recover

    return recover()


def export_audit_head() -> str:
    """Call ``anagen.audit.chain.export_head()`` where the audit chain exists; skip otherwise."""
    try:
        from anagen.audit import chain
    except ImportError:
        return "skipped: this installation has no audit chain"
    export_head = getattr(chain, "export_head", None)
    if not callable(export_head):
        return "skipped: the audit chain has no export_head()"
    result = export_head()
    return f"exported {result}" if result is not None else "exported"


def check_study_deviations() -> str:
    """Missed visits and visits outside their window in every randomized study."""
    from anagen.studies.deviations import refresh_all_studies

    return refresh_all_studies()
