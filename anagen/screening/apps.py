from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "anagen.screening"
    label = "screening"
    verbose_name = "Screening"
