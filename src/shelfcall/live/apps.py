from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "shelfcall.live"
    verbose_name = "Live updates"
