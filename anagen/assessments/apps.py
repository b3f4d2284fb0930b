from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "anagen.assessments"
    label = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from anagen.audit import track

        from . import models
        from .sections import visits_section

        track(models.DeviceProfile)
        track(models.AssessmentVisit)
        track(models.GlobalPhoto)
        track(models.TrichogramImage)
        # The result JSON is large and never changes once written; progress ticks are noise.
        track(models.TrichogramAnalysis, exclude_fields=["automatic", "regrowth", "corrected", "progress", "step", "previous"])
        track(models.Measurement)
        track(models.VisitMatch, exclude_fields=["result"])
        track(models.DeviceAdjustment)

        try:
            from anagen.patients.sections import register
        except ImportError:  # the patient page's section registry is not there yet
            return
        register(60, visits_section)
