from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "shelfcall.api"
    label = "api"
    verbose_name = "Integration API"
