"""Webhook subscriptions and their deliveries. A store key's subscriptions get its store's events; an
organization key's get every store's of the organization. A key reaches only the subscriptions of its reach."""

from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from shelfcall.api import auth, cursors
from shelfcall.api.auth import ApiRequest
from shelfcall.api.endpoints.orders import READ_ERRORS
from shelfcall.api.errors import NotFound
from shelfcall.api.idempotency import idempotent
from shelfcall.api.models import ApiKey
from shelfcall.api.responses import ErrorOut
from shelfcall.api.webhook_schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryQueued,
    SecretOut,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
)
from shelfcall.notify import outbox, subscriptions
from shelfcall.notify.models import Channel, OutboxMessage

router = Router(tags=["webhooks"])

WRITE_ERRORS = {**READ_ERRORS, 409: ErrorOut}


class DeliveryParams(Schema):
    cursor: str | None = Field(None, max_length=500, description="The next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=100)


def _reach(api_key: ApiKey) -> subscriptions.Reach:
    return subscriptions.Reach(api_key.organization_id, api_key.store_id)


def _subscription(api_key: ApiKey, webhook_id: int) -> Channel:
    channel = subscriptions.subscriptions_of(_reach(api_key)).filter(pk=webhook_id).first()
    if channel is None:
        raise NotFound(_("No webhook subscription with this id."))
    return channel


def _delivery(channel: Channel, delivery_id: int) -> OutboxMessage:
    delivery = OutboxMessage.objects.filter(channel=channel, pk=delivery_id).first()
    if delivery is None:
        raise NotFound(_("No delivery with this id for this webhook subscription."))
    return delivery


@router.post(
    "/webhooks",
    response={201: WebhookCreated, **WRITE_ERRORS},
    auth=auth.WEBHOOKS_WRITE,
    summary="Subscribe",
)
@idempotent
def create_webhook(request: ApiRequest, payload: WebhookIn) -> Status[WebhookCreated]:
    """Deliveries are Standard Webhooks (standardwebhooks.com): verify `webhook-signature` with the `secret`
    returned here, which is shown only in this answer. `webhook-id` is the event's id (as in the events feed):
    drop repeats by it. 422 `unsafe_destination` (field `url`) for an address that is not https, reaches a
    private network or carries a password; 409 `too_many_webhooks` beyond 20 per organization."""
    channel = subscriptions.subscribe(
        _reach(request.auth),
        url=payload.url,
        event_types=[str(event_type) for event_type in payload.event_types] if payload.event_types else None,
        description=payload.description,
    )
    return Status(201, WebhookCreated(**WebhookOut.fields_of(channel), secret=channel.secret))


@router.get("/webhooks", response={200: WebhookList, **READ_ERRORS}, auth=auth.WEBHOOKS_WRITE, summary="List")
def list_webhooks(request: ApiRequest) -> dict[str, list[WebhookOut]]:
    """The subscriptions this key reaches, oldest first; secrets are never shown again."""
    return {"data": [WebhookOut.of(channel) for channel in subscriptions.subscriptions_of(_reach(request.auth))]}


@router.get(
    "/webhooks/{webhook_id}", response={200: WebhookOut, **READ_ERRORS}, auth=auth.WEBHOOKS_WRITE, summary="Get"
)
def get_webhook(request: ApiRequest, webhook_id: int) -> WebhookOut:
    return WebhookOut.of(_subscription(request.auth, webhook_id))


@router.delete(
    "/webhooks/{webhook_id}", response={204: None, **WRITE_ERRORS}, auth=auth.WEBHOOKS_WRITE, summary="Unsubscribe"
)
@idempotent
def delete_webhook(request: ApiRequest, webhook_id: int) -> Status[None]:
    """Deletes the subscription and its deliveries; nothing more is sent to it. 409 `webhook_in_use` if an
    escalation policy (set up in the admin) sends to it."""
    subscriptions.unsubscribe(_subscription(request.auth, webhook_id))
    return Status(204, None)


@router.post(
    "/webhooks/{webhook_id}/test",
    response={202: DeliveryQueued, **WRITE_ERRORS},
    auth=auth.WEBHOOKS_WRITE,
    summary="Send a test event",
)
@idempotent
def test_webhook(request: ApiRequest, webhook_id: int) -> Status[dict[str, int]]:
    """Queues a `shelfcall.test` event (empty `data`, an id of its own) and returns its delivery, which the
    worker sends at once and retries like any other."""
    delivery = outbox.queue_test(_subscription(request.auth, webhook_id))
    return Status(202, {"delivery_id": delivery.pk})


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response={200: SecretOut, **WRITE_ERRORS},
    auth=auth.WEBHOOKS_WRITE,
    summary="Rotate the secret",
)
@idempotent
def rotate_webhook_secret(request: ApiRequest, webhook_id: int) -> dict[str, str]:
    """A new secret, shown only in this answer. For 24 hours deliveries carry two signatures, one per
    secret, so the receiver can switch over without missing any."""
    return {"secret": subscriptions.rotate_secret(_subscription(request.auth, webhook_id))}


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: DeliveryPage, **READ_ERRORS},
    auth=auth.WEBHOOKS_WRITE,
    summary="List deliveries",
)
def list_deliveries(request: ApiRequest, webhook_id: int, params: Query[DeliveryParams]) -> dict[str, Any]:
    """Newest first, paged by cursor: what was sent to the subscription and how the receiver answered."""
    channel = _subscription(request.auth, webhook_id)
    before_id = cursors.decode("deliveries", params.cursor, "cursor")[0] if params.cursor else None
    page = subscriptions.deliveries_of(channel, before_id=before_id, limit=params.limit + 1)
    has_more = len(page) > params.limit
    page = page[: params.limit]
    next_cursor = cursors.encode("deliveries", [page[-1].pk]) if has_more else None
    return {"data": [DeliveryOut.of(delivery) for delivery in page], "next_cursor": next_cursor, "has_more": has_more}


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    response={202: DeliveryQueued, **WRITE_ERRORS},
    auth=auth.WEBHOOKS_WRITE,
    summary="Replay a delivery",
)
@idempotent
def replay_delivery(request: ApiRequest, webhook_id: int, delivery_id: int) -> Status[dict[str, int]]:
    """Sends a delivered or failed delivery again, with the same webhook-id and fresh attempts. 409
    `delivery_queued` while it is still waiting to be sent."""
    delivery = _delivery(_subscription(request.auth, webhook_id), delivery_id)
    subscriptions.replay(delivery)
    return Status(202, {"delivery_id": delivery.pk})
