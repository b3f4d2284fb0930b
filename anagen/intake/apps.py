from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "anagen.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from anagen.audit import track

        from .models import Inquiry

        track(Inquiry)
