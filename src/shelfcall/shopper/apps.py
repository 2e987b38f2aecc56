from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopperConfig(AppConfig):
    name = "shelfcall.shopper"
    verbose_name = _("Shopper pages")
