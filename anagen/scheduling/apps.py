from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "anagen.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from anagen.audit import track

        from . import models

        track(models.Appointment)
        track(models.ClinicianAvailability)
        track(models.AppointmentType)
        self._add_patient_section()

    @staticmethod
    def _add_patient_section() -> None:
        """The patient's appointments on the patient page (when the patients app offers sections)."""
        try:
            from anagen.patients import sections
        except ImportError:
            return
        from .views import patient_section

        sections.register(40, patient_section)
