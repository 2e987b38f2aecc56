"""API keys and the responses kept for idempotent retries."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shelfcall.stores.models import Organization, Store


class ApiKey(models.Model):
    """A key for one organization, or for one of its stores. Only a hash of its secret is kept
    (see api/keys.py); `prefix` finds the row, and is what admins see to tell keys apart."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text=_("Empty: the key reaches every store of the organization."),
    )
    name = models.CharField(_("name"), max_length=120, help_text=_("What uses it, e.g. 'Till 3' or 'Webshop'."))
    scopes = models.JSONField(_("scopes"), default=list)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [models.UniqueConstraint(fields=["prefix"], name="api_key_prefix_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def store_filter(self, field: str = "store") -> Q:
        """The rows of the stores this key reaches, for a queryset whose `field` is a store."""
        if self.store_id is not None:
            return Q(**{f"{field}_id": self.store_id})
        return Q(**{f"{field}__organization_id": self.organization_id})


class IdempotencyState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class IdempotentRequest(models.Model):
    """The first request made with one Idempotency-Key, and once it finished, its response. The row is
    inserted before the request runs, so a second one with the same key finds it (unique constraint)
    and does not run."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=IdempotencyState.choices, default=IdempotencyState.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
