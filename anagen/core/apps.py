from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _refresh_sqlite_statistics(sender, using="default", **kwargs) -> None:
    """SQLite chooses indexes from statistics that only ANALYZE gathers: without them the patient
    search picks the wrong index and is ten times slower on 100,000 patients. Every `make run`
    migrates, so the statistics are refreshed at each start (PostgreSQL's autovacuum does this
    by itself)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class CoreConfig(AppConfig):
    name = "anagen.core"
    label = "core"
    verbose_name = "Anagen core"

    def ready(self) -> None:
        from django.apps import apps

        # post_migrate is sent once per app that has models (this one has none): listen to the
        # last of them, so the statistics are gathered once, after every table exists.
        last_with_models = [a for a in apps.get_app_configs() if a.models_module is not None][-1]
        post_migrate.connect(_refresh_sqlite_statistics, sender=last_with_models, dispatch_uid="anagen-sqlite-analyze")
