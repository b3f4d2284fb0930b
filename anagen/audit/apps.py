from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "anagen.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (append-only guards)
