from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "anagen.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        # Outcomes owns no clinical records (it reads the other apps'), so nothing to track in the audit trail.
        from anagen.patients.sections import register

        from .sections import patient_section

        register(90, patient_section)
