from django.apps import AppConfig


class APIConfig(AppConfig):
    name = "anagen.api"
    label = "api"
    verbose_name = "API"
