from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SetupConfig(AppConfig):
    name = "shelfcall.setup"
    verbose_name = _("Store setup")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from shelfcall.setup.first_password import mark_on_sign_in

        user_logged_in.connect(mark_on_sign_in, dispatch_uid="shelfcall.setup.first_password")
