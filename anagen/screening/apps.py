from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "anagen.screening"
    label = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        from anagen.audit import track

        from . import models
        from .sections import register_patient_section

        track(models.RuleSet)
        track(models.Screening)
        register_patient_section()
