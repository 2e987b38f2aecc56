from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "shelfcall.demo"
    verbose_name = "Demo data"
