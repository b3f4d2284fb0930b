from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "anagen.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        from anagen.audit import track

        from . import models

        for model in (models.Patient, models.Consent, models.StagingAssessment, models.MedicalHistory,
                      models.PriorTreatment, models.HairLossHistory):
            track(model)
