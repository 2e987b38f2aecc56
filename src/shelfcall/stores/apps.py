from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "shelfcall.stores"
    verbose_name = _("Stores and staff")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from shelfcall.stores.signin import remember_pin

        user_logged_in.connect(remember_pin, dispatch_uid="shelfcall.stores.signin")  # a PIN's sign-ins end with it


class ShelfcallAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (stores/admin_site.py) as `admin.site`; named in INSTALLED_APPS."""

    default = False  # "shelfcall.stores" stays StoresConfig
    default_site = "shelfcall.stores.admin_site.ShelfcallAdminSite"
