from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "shelfcall.core"

    def ready(self) -> None:
        from shelfcall.core.checks import database_returns_ids_from_bulk_inserts

        checks.register(database_returns_ids_from_bulk_inserts, checks.Tags.database)
