from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "anagen.core"
    label = "core"
    verbose_name = "Anagen core"
