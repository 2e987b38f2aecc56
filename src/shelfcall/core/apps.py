from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shelfcall.core"
