from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "anagen.intake"
    label = "intake"
    verbose_name = "Intake"
