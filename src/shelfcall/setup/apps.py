from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SetupConfig(AppConfig):
    name = "shelfcall.setup"
    verbose_name = _("Store setup")
