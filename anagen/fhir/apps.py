from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "anagen.fhir"
    label = "fhir"
    verbose_name = "FHIR export"

    def ready(self) -> None:
        from anagen.audit import track

        from . import models

        track(models.FhirExport)

        try:
            from anagen.patients.sections import register
        except ImportError:  # the patient page's section registry is not installed
            return
        from .sections import patient_section

        register(90, patient_section)
