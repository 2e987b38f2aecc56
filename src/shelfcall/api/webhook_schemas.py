"""What the webhook subscription endpoints take and return."""

from datetime import datetime
from typing import TYPE_CHECKING

from ninja import Field, Schema
from pydantic import ConfigDict
from pydantic.json_schema import JsonDict

from shelfcall.notify.models import ALL_EVENTS, Channel, MessageStatus, OutboxMessage
from shelfcall.notify.subscriptions import URL_MAX_LENGTH, LastAttempt
from shelfcall.orders.events import EventType

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

WEBHOOK_EXAMPLE: JsonDict = {
    "id": 12,
    "url": "https://shop.example.com/hooks/shelfcall",
    "event_types": ["order.fulfilled", "order.completed"],
    "description": "Webshop: tell the shopper",
    "store_id": None,
    "active": True,
    "created_at": "2026-11-23T10:00:00Z",
}
DELIVERY_EXAMPLE: JsonDict = {
    "id": 3071,
    "event_id": "913",
    "event_type": "order.fulfilled",
    "status": "failed",
    "attempts": 8,
    "last_status_code": 503,
    "last_error": "error from receiver",
    "next_attempt_at": None,
    "created_at": "2026-11-23T10:06:12Z",
    "last_attempt_at": "2026-11-23T12:06:40Z",
    "delivered_at": None,
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class WebhookIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://shop.example.com/hooks/shelfcall",
                    "event_types": ["order.fulfilled", "order.completed"],
                    "description": "Webshop: tell the shopper",
                }
            ]
        }
    )

    # No spaces or control characters: no URL has them, and PostgreSQL cannot store NUL.
    url: str = Field(
        max_length=URL_MAX_LENGTH,
        pattern=r"^[^\x00-\x20\x7f]+$",
        description="https:// and a public host; no user name or password in it.",
    )
    event_types: list[EventType] | None = Field(
        None, min_length=1, description="Only these event types; leave it out for all of them (new types too)."
    )
    description: str = Field("", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")


class WebhookOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [WEBHOOK_EXAMPLE]})

    id: int
    url: str
    event_types: list[str] | None = Field(description="null: every event type.")
    description: str
    store_id: int | None = Field(description="null: the events of every store of the organization.")
    active: bool
    created_at: datetime

    @staticmethod
    def of(channel: Channel) -> "WebhookOut":
        return WebhookOut(**WebhookOut.fields_of(channel))

    @staticmethod
    def fields_of(channel: Channel) -> dict:
        return {
            "id": channel.pk,
            "url": channel.target,
            "event_types": None if ALL_EVENTS in channel.events else list(channel.events),
            "description": channel.description,
            "store_id": channel.store_id,
            "active": channel.active,
            "created_at": channel.created_at,
        }


class WebhookCreated(WebhookOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{**WEBHOOK_EXAMPLE, "secret": SECRET_EXAMPLE}]})

    secret: str = Field(
        description="Verify each delivery's webhook-signature with it (Standard Webhooks). Shown only now: keep it."
    )


class WebhookList(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [WEBHOOK_EXAMPLE]}]})

    data: list[WebhookOut]


class SecretOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"secret": SECRET_EXAMPLE}]})

    secret: str = Field(description="The new secret, shown only now. The old one also signs for 24 hours.")


class DeliveryOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    id: int
    event_id: str = Field(description="The webhook-id header: the same on every attempt and replay.")
    event_type: str
    status: MessageStatus = Field(description="pending (waiting or being sent), delivered, or failed for good.")
    attempts: int
    last_status_code: int | None = Field(description="The receiver's HTTP status at the last attempt.")
    last_error: str
    next_attempt_at: datetime | None = Field(description="When it is tried next; null unless pending.")
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None

    @staticmethod
    def of(message: "WithAnnotations[OutboxMessage, LastAttempt]") -> "DeliveryOut":
        event = message.body.get("event") or {}
        return DeliveryOut(
            id=message.pk,
            event_id=str(event.get("id", "")),
            event_type=str(event.get("type", "")),
            status=MessageStatus(message.status),
            attempts=message.attempts,
            last_status_code=message.last_status_code,
            last_error=message.last_error,
            next_attempt_at=message.next_attempt_at if message.status == MessageStatus.PENDING else None,
            created_at=message.created_at,
            last_attempt_at=message.last_attempt_at,
            delivered_at=message.delivered_at,
        )


class DeliveryPage(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"data": [DELIVERY_EXAMPLE], "next_cursor": "WyJkZWxpdmVyaWVzIi…", "has_more": True}]
        }
    )

    data: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for older deliveries; null on the last page.")
    has_more: bool


class DeliveryQueued(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"delivery_id": 3072}]})

    delivery_id: int = Field(description="Follow it in GET /webhooks/{id}/deliveries.")
