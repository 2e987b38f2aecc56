"""Webhook subscriptions that integrators manage themselves (through the API): webhook channels of one
store, or of a whole organization (store empty: every store's events).

A subscription's URL is refused unless it is a plain https address of a public host, without user
name or password; http is allowed only to a host in SHELFCALL_PRIVATE_HOSTS_ALLOWED (a receiver
on the admin's own network, or a test's local server). The delivery path checks the address again at
each send (DNS rebinding): this check is for a clear answer when subscribing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from shelfcall.core.errors import ShelfcallError
from shelfcall.notify import worker
from shelfcall.notify.channels.webhook import WebhookChannel, new_secret
from shelfcall.notify.models import (
    ALL_EVENTS,
    Channel,
    DeliveryAttempt,
    EscalationLevel,
    OutboxMessage,
)
from shelfcall.notify.netguard import UnsafeDestination, check_destination
from shelfcall.stores.models import Organization

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MAX_PER_ORGANIZATION = 20
URL_MAX_LENGTH = cast(int, Channel._meta.get_field("target").max_length)  # a CharField's: always set
# While a rotated secret is replaced, the old one also signs, so receivers can switch over without a gap.
OLD_SECRET_KEPT_FOR = timedelta(hours=24)


class TooManySubscriptions(ShelfcallError):
    code = "too_many_webhooks"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _("An organization can have at most %(max)s webhook subscriptions: delete one you no longer use.")
            % {"max": MAX_PER_ORGANIZATION}
        )


class SubscriptionInUse(ShelfcallError):
    code = "webhook_in_use"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _("An escalation policy sends to this webhook: point it at another channel in the admin first.")
        )


class DeliveryStillQueued(ShelfcallError):
    code = "delivery_queued"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("This delivery is still waiting to be sent (see next_attempt_at): nothing to replay yet."))


@dataclass(frozen=True)
class Reach:
    """Whose subscriptions: an organization's (store None: all of its subscriptions) or one store's."""

    organization_id: int
    store_id: int | None = None


def subscriptions_of(reach: Reach) -> QuerySet[Channel]:
    channels = Channel.objects.filter(kind=WebhookChannel.kind, organization_id=reach.organization_id)
    if reach.store_id is not None:
        channels = channels.filter(store_id=reach.store_id)
    return channels.order_by("pk")


def check_url(url: str) -> None:
    """Refuse, naming `url`, an address a subscription must not have (see the module's docstring)."""

    def refuse(message: str) -> UnsafeDestination:
        return UnsafeDestination(message, field="url")

    try:
        if len(url) > URL_MAX_LENGTH:
            raise ValueError("too long")
        URLValidator(schemes=["https", "http"])(url)
        parts = urlsplit(url)
    except (ValidationError, ValueError):
        raise refuse(
            _("Enter a full web address of at most %(max)s characters, e.g. https://example.com/hooks.")
            % {"max": URL_MAX_LENGTH}
        ) from None
    if parts.username is not None or parts.password is not None:
        raise refuse(_("Leave the user name and password out of the address: the signature tells who sends."))
    if parts.scheme != "https" and parts.hostname not in settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED:
        raise refuse(_("Use an address starting with https://."))
    try:
        check_destination(url)
    except UnsafeDestination as refused:
        raise refuse(refused.message) from None


def subscribe(reach: Reach, *, url: str, event_types: Sequence[str] | None, description: str) -> Channel:
    """A new subscription with a new secret (show it once). No event types: every type, new ones too."""
    check_url(url)
    with transaction.atomic():
        # Locked so that two subscribing at once cannot both take the last place.
        Organization.objects.select_for_update().filter(pk=reach.organization_id).values_list("pk").get()
        if Channel.objects.filter(organization_id=reach.organization_id, kind=WebhookChannel.kind).count() >= (
            MAX_PER_ORGANIZATION
        ):
            raise TooManySubscriptions()
        return Channel.objects.create(
            organization_id=reach.organization_id,
            store_id=reach.store_id,
            name=(description or urlsplit(url).hostname or url)[:120],
            description=description,
            kind=WebhookChannel.kind,
            target=url,
            secret=new_secret(),
            events=list(dict.fromkeys(event_types)) if event_types else [ALL_EVENTS],
        )


def unsubscribe(channel: Channel) -> None:
    if EscalationLevel.objects.filter(channel=channel).exists():
        raise SubscriptionInUse()
    channel.delete()


def rotate_secret(channel: Channel) -> str:
    secret = new_secret()
    channel.rotate_secret(secret, keep_previous_for=OLD_SECRET_KEPT_FOR)
    return secret


class LastAttempt(TypedDict):
    last_status_code: int | None
    last_attempt_at: datetime | None


def deliveries_of(
    channel: Channel, *, before_id: int | None, limit: int
) -> list["WithAnnotations[OutboxMessage, LastAttempt]"]:
    """Newest first, before the delivery `before_id` (None: from the newest), each with its last
    attempt's answer code and time: one statement for the page."""
    last_attempt = DeliveryAttempt.objects.filter(message=OuterRef("pk")).order_by("-pk")
    rows = OutboxMessage.objects.filter(channel=channel).annotate(
        last_status_code=Subquery(last_attempt.values("status_code")[:1]),
        last_attempt_at=Subquery(last_attempt.values("started_at")[:1]),
    )
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    return list(rows.order_by("-pk")[:limit])


def replay(delivery: OutboxMessage) -> None:
    if not worker.replay(delivery.pk):
        raise DeliveryStillQueued()
