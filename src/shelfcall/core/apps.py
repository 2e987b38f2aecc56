from django.apps import AppConfig
from django.core import checks
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "shelfcall.core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from shelfcall.core.checks import database_returns_ids_from_bulk_inserts
        from shelfcall.core.jobs import registry
        from shelfcall.core.numbers import IdConverter
        from shelfcall.core.sessions import start_sign_in

        checks.register(database_returns_ids_from_bulk_inserts, checks.Tags.database)
        register_converter(IdConverter, "id")  # every number in a URL path: <id:…>
        registry.discover()  # every app's background work (its `background` module)
        user_logged_in.connect(start_sign_in, dispatch_uid="shelfcall.core.sessions")  # every way in
