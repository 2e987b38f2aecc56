"""What the setup pages keep of their own: a store's uploaded logo, checked and stored in the database."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.stores.models import Store


class StoreLogo(models.Model):
    """The bytes of a logo that passed `setup.logo.check_logo`; served only by `setup.views.logo`, with the
    content type found from its own bytes, never from the name or type the browser sent."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="uploaded_logo")
    content = models.BinaryField()
    content_type = models.CharField(max_length=20)
    version = models.CharField(max_length=16, help_text=_("Part of the logo's address: a new upload is a new URL."))
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("store logo")
        verbose_name_plural = _("store logos")

    def __str__(self) -> str:
        return f"Logo of {self.store}"


class OneTimePassword(models.Model):
    """An account whose password an admin chose ("create with a one-time password"): its owner must
    choose their own at their first sign-in with it (`setup.first_password`). Gone once they have."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_password")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("one-time password")
        verbose_name_plural = _("one-time passwords")

    def __str__(self) -> str:
        return f"One-time password of {self.user}"
