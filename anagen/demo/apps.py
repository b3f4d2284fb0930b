from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo builder: it imports every clinic app, so it sits above them all (``core`` stays the
    ground floor that every app may import) and brings the ``demo`` management command."""

    name = "anagen.demo"
    label = "demo"
    verbose_name = "Demo data"
