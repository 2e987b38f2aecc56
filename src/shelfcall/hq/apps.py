from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HqConfig(AppConfig):
    name = "shelfcall.hq"
    verbose_name = _("Head office")
