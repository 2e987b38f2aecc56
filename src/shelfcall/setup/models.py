"""What the setup pages keep of their own: a store's uploaded logo, checked and stored in the database."""

from django.db import models
from django.utils.translation import gettext_lazy as _

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
