from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "anagen.fhir"
    label = "fhir"
    verbose_name = "FHIR export"

    def ready(self) -> None:
        from anagen.audit import track

        from . import models

        track(models.FhirExport)
