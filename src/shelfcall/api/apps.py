from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "shelfcall.api"
    label = "api"
    verbose_name = "Integration API"

    def ready(self) -> None:
        from shelfcall.api import idempotency
        from shelfcall.core import housekeeping
        from shelfcall.ops import metrics

        housekeeping.register(idempotency.purge_expired)  # kept 24 h, then gone
        metrics.count_statements_if_asked()  # benchmarks only
