from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "anagen.treatments"
    label = "treatments"
    verbose_name = "Treatments"

    def ready(self) -> None:
        from anagen.audit import track

        from . import models

        for model in (models.Modality, models.TreatmentPlan, models.TreatmentPlanRevision, models.ProposedBooking,
                      models.Product, models.Lot, models.Procedure, models.ProcedureZone, models.ProductUse,
                      models.AdverseEvent, models.AutologousSample, models.CustodyEvent):
            track(model)

        try:
            from anagen.patients.sections import register
        except ImportError:  # the patient page's section registry is not installed
            return
        from .sections import patient_section

        register(50, patient_section)
