"""Where messages go (channels), what waits to be sent (the outbox), and how each attempt went."""

from collections.abc import Collection
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.notify.channels.registry import KIND_MAX_LENGTH, kind_choices, label_of, staff_kind_choices
from shelfcall.orders.models import Order, OrderEvent

if TYPE_CHECKING:
    from shelfcall.notify.channels.base import Destination
from shelfcall.stores.models import Organization, Store, Team

# Means "every event type" in Channel.events: a subscription made without a filter gets new types too.
ALL_EVENTS = "*"


class Channel(models.Model):
    """A configured destination for a store (or one of its teams), or for every store of an organization
    (webhook subscriptions made with an organization's API key), and the events it wants."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="channels")
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channels",
        help_text=_("Empty: the events of every store of the organization."),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channels",
        help_text=_("Empty: orders of every team of the store."),
    )
    name = models.CharField(_("name"), max_length=120)
    # The kinds are the registered plugins (notify.channels.REGISTRY): a new kind needs no migration.
    kind = models.CharField(_("kind"), max_length=KIND_MAX_LENGTH, choices=staff_kind_choices)
    target = models.CharField(
        _("address"),
        max_length=500,
        blank=True,
        help_text=_("What it is depends on the kind: see each kind's note."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("Webhooks: whsec_ followed by base64 (Standard Webhooks). Leave empty to have one made."),
    )
    # While a secret is being rotated, webhooks are signed with both until the receiver has the new one.
    previous_secret = models.CharField(max_length=200, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_('Event names, e.g. ["order.created", "order.claimed"]. Empty: only escalations sent to it.'),
    )
    allow_private_network = models.BooleanField(
        _("allow a private or local address"),
        default=False,
        help_text=_("Only for a receiver inside your own network. Off, such addresses are refused."),
    )
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return f"{self.name} ({label_of(self.kind)})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._take_the_stores_organization()
        super().save(*args, **kwargs)

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        self._take_the_stores_organization()
        super().clean_fields(exclude)

    def _take_the_stores_organization(self) -> None:
        """A store's channel belongs to the store's organization: callers name the store only."""
        if self.store is not None:
            self.organization_id = self.store.organization_id

    def clean(self) -> None:
        """Refuse, with the field and the fix, what could never be delivered (or should never be)."""
        from shelfcall.notify.channels import REGISTRY

        plugin = REGISTRY.get(self.kind)
        if plugin is None:  # clean_fields said so already, naming the kinds there are
            return
        plugin.clean(self)  # the kind's own configuration
        if self.store_id and self.team is not None and self.team.store_id != self.store_id:
            raise ValidationError({"team": _("Choose a team of this store.")})
        if not self.store_id and not self.organization_id:
            raise ValidationError({"store": _("Choose the store whose events this channel gets.")})
        # The stubs refuse None for a column that is never null; Django reads it as IS NULL, excluding no level.
        if self.pk and EscalationLevel.objects.filter(channel=self).exclude(policy__store_id=self.store_id).exists():  # type: ignore[misc]
            raise ValidationError(
                {"store": _("Escalation levels of its store use this channel: point them at another channel first.")}
            )
        if not isinstance(self.events, list) or not all(isinstance(name, str) for name in self.events):
            raise ValidationError({"events": _('Write a list of event names, e.g. ["order.created"].')})

    def rotate_secret(self, new_secret: str, *, keep_previous_for: timedelta) -> None:
        """Sign with `new_secret` from now on, and with the current one too for `keep_previous_for`."""
        self.previous_secret, self.secret = self.secret, new_secret
        self.previous_secret_until = clock.now() + keep_previous_for
        self.save(update_fields=["secret", "previous_secret", "previous_secret_until"])

    def destination(self) -> "Destination":
        from shelfcall.notify.channels.base import Destination

        rotating = self.previous_secret_until is not None and self.previous_secret_until > clock.now()
        previous = self.previous_secret if rotating else ""
        return Destination(
            self.target, self.secret, self.allow_private_network, previous_secret=previous, channel_id=self.pk
        )


class EscalationPolicy(models.Model):
    """When nobody claims (or collects) an order in time, who hears about it and when."""

    class Watch(models.TextChoices):
        UNCLAIMED = "unclaimed", _("Nobody started picking")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="escalation_policies")
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalation_policies",
        help_text=_("Empty: the store's default; a team's own policy wins for its orders."),
    )
    watch = models.CharField(max_length=12, choices=Watch.choices, default=Watch.UNCLAIMED)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        constraints = [models.UniqueConstraint(fields=["store", "team", "watch"], name="escalation_policy_unique")]

    def __str__(self) -> str:
        return f"{self.store} · {self.team or _('all teams')} · {self.get_watch_display()}"

    def clean(self) -> None:
        if self.store_id and self.team is not None and self.team.store_id != self.store_id:
            raise ValidationError({"team": _("Choose a team of this store.")})
        if self.pk and self.levels.exclude(channel__store_id=self.store_id).exists():
            raise ValidationError({"store": _("Its levels use channels of another store: change them first.")})


class EscalationLevel(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    after_minutes = models.PositiveIntegerField(_("after (minutes)"), validators=[MinValueValidator(1)])
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    cancel_and_release = models.BooleanField(
        _("then cancel the request and release its stock"),
        default=False,
        help_text=_("Only on the last level: after its alert, the shopper is told and the items go back on sale."),
    )

    class Meta:
        ordering = ["after_minutes", "pk"]
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")

    def __str__(self) -> str:
        return f"{self.after_minutes} min → {self.channel}"

    def clean(self) -> None:
        # The policy may be the unsaved parent of the admin's add page: read the object, not the id.
        policy = getattr(self, "policy", None)
        if self.channel_id and policy and policy.store_id and self.channel.store_id != policy.store_id:
            raise ValidationError({"channel": _("Choose a channel of this policy's store.")})


class CollectionPolicy(models.Model):
    """Staged but not collected: remind the shopper, warn, then expire and release the stock."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="collection_policy")
    remind_after_minutes = models.PositiveIntegerField(_("remind the shopper after (minutes)"), default=60)
    expire_after_minutes = models.PositiveIntegerField(_("expire after (minutes)"), default=2 * 24 * 60)
    warn_before_minutes = models.PositiveIntegerField(_("warn before expiry (minutes)"), default=120)

    class Meta:
        verbose_name = _("collection policy")
        verbose_name_plural = _("collection policies")

    def __str__(self) -> str:
        return f"{self.store}: expire after {self.expire_after_minutes} min"


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """A message written in the business transaction; the worker delivers it, retrying with backoff."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, null=True, blank=True, related_name="messages")
    kind = models.CharField(max_length=KIND_MAX_LENGTH, choices=kind_choices)
    destination = models.CharField(max_length=500, blank=True)  # shopper messages: their phone or email
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="messages")
    event = models.ForeignKey(OrderEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    purpose = models.CharField(max_length=30)
    dedupe_key = models.CharField(max_length=120)  # unique: see Meta
    body = models.JSONField()  # the rendered Message (notify.messages)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        # A constraint, not unique=True, which on PostgreSQL would add an unused LIKE index to every insert.
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="outbox_dedupe_unique")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} → {label_of(self.kind)} ({self.get_status_display()})"


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'failed'} {self.status_code or ''} in {self.duration_ms} ms"


class QuarantinedTimer(models.Model):
    """A timer whose firing failed with a bug, not a refusal: set aside so the sweeper's other timers
    keep firing, and shown to admins, who may try it again once the cause is fixed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    timer = models.CharField(_("timer"), max_length=30)
    due_at = models.DateTimeField(_("was due at"), null=True)
    error = models.CharField(_("error"), max_length=300)
    quarantined_at = models.DateTimeField(_("set aside at"))

    class Meta:
        verbose_name = _("timer set aside")
        verbose_name_plural = _("timers set aside")
        constraints = [models.UniqueConstraint(fields=["order", "timer"], name="quarantined_timer_unique")]

    def __str__(self) -> str:
        return f"{self.timer} of order {self.order_id}"


class VapidKey(models.Model):
    """The server's own VAPID key pair (RFC 8292), made on first need and kept: browsers subscribed with
    its public key, so it never changes by itself. One row; the private key is never shown or logged."""

    private_key_pem = models.TextField(editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    def __str__(self) -> str:
        return f"VAPID key of {self.created_at:%Y-%m-%d}"

    def __repr__(self) -> str:
        return f"<VapidKey {self.pk}>"


class PushSubscription(models.Model):
    """One device of one person that turned on alerts (a browser's PushSubscription)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions", verbose_name=_("person")
    )
    name = models.CharField(_("device name"), max_length=80)
    endpoint = models.URLField(_("push service address"), max_length=1000)
    p256dh = models.CharField(max_length=120)  # the browser's P-256 public key, base64url
    auth = models.CharField(max_length=40)  # the browser's authentication secret, base64url
    created_at = models.DateTimeField(_("turned on at"), default=clock.now, editable=False)
    last_alert_at = models.DateTimeField(_("last alert"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("device with alerts")
        verbose_name_plural = _("devices with alerts")
        constraints = [models.UniqueConstraint(fields=["endpoint"], name="push_subscription_endpoint_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class Shift(models.Model):
    """Whether a person is at work: off shift, their devices get no alerts. No row: on shift."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shift")
    on_shift = models.BooleanField(_("on shift"), default=True)
    changed_at = models.DateTimeField(_("changed at"), default=clock.now)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")

    def __str__(self) -> str:
        return f"{self.user}: {'on' if self.on_shift else 'off'} shift"
