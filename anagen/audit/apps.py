from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "anagen.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (append-only guards, chain links, login events)
        from . import db, track
        from .models import AuditEvent

        signals.install_atomic_entry_save()
        db.install()
        track(AuditEvent)
