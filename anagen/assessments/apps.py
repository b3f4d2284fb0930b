from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "anagen.assessments"
    label = "assessments"
    verbose_name = "Assessments"
