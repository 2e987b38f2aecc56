from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "shelfcall.insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from shelfcall.insights.facts import store_saving
        from shelfcall.insights.percentile import register_on_sqlite
        from shelfcall.stores.models import Store

        connection_created.connect(register_on_sqlite, dispatch_uid="insights-percentile")

        pre_save.connect(store_saving, sender=Store, dispatch_uid="insights-timezone-history")
