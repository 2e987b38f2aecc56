"""The events feed's and the webhooks' schemas, one per event type, generated from `orders.events.PAYLOADS`.

A type added there appears here by itself: in the feed's discriminated union, in the OpenAPI document's
`webhooks` section and in the API description's table of events. Nothing is written twice."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from ninja import Field, Schema
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel, ConfigDict, create_model
from pydantic.json_schema import JsonDict

from shelfcall.orders.event_payloads import EventPayload, FulfilledPayload
from shelfcall.orders.events import PAYLOADS, EventType
from shelfcall.orders.models import OrderEvent, OrderStatus, PaymentStatus

_EVENT_EXAMPLE: JsonDict = {
    "id": 913,
    "order_id": 42,
    "store_id": 1,
    "created_at": "2026-11-23T10:06:12Z",
    "actor_kind": "staff",
    "actor_label": "Alex",
}
_WEBHOOK_DATA_EXAMPLE: JsonDict = {
    "event_id": 913,
    "order_id": 42,
    "number": 1001,
    "status": "ready",
    "payment_status": "unpaid",
    "store_id": 1,
    "team_id": None,
    "external_id": "",
}


def _type_of(model: type[BaseModel]) -> str:
    return model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]


def _payload_of(model: type[BaseModel]) -> type[EventPayload]:
    return model.model_fields["payload"].annotation  # type: ignore[return-value]


def _event_example(schema: dict[str, Any], model: type[BaseModel]) -> None:
    if "payload" in model.model_fields:  # the typed subclasses, not the base
        schema["examples"] = [{**_EVENT_EXAMPLE, "type": _type_of(model), "payload": _payload_of(model).example}]


class EventBase(Schema):
    model_config = ConfigDict(json_schema_extra=_event_example)

    id: int = Field(description="Unique; also the webhook-id of the same event.")
    order_id: int
    store_id: int
    created_at: datetime
    actor_kind: str = Field(description="staff, shopper, api or system.")
    actor_label: str


class WebhookData(Schema):
    """Thin: the order's ids, number and state, to follow with a GET, and the event's payload."""

    event_id: int = Field(description="The event's id in the events feed (and the webhook-id).")
    order_id: int
    number: int
    status: OrderStatus
    payment_status: PaymentStatus
    store_id: int
    team_id: int | None
    external_id: str


def _webhook_example(schema: dict[str, Any], model: type[BaseModel]) -> None:
    if "type" in model.model_fields:
        data = model.model_fields["data"].annotation
        payload = _payload_of(data)  # type: ignore[arg-type]
        example = {**_WEBHOOK_DATA_EXAMPLE, "payload": payload.example}
        schema["examples"] = [{"type": _type_of(model), "timestamp": "2026-11-23T10:06:12+00:00", "data": example}]


class WebhookBody(Schema):
    model_config = ConfigDict(json_schema_extra=_webhook_example)

    timestamp: datetime = Field(description="When the event happened.")


def _schema_name(type: EventType, suffix: str) -> str:
    """E.g. OrderLineNotFoundEvent for order.line_not_found."""
    return "".join(word.capitalize() for word in re.split(r"[._]", type.value)) + suffix


def _typed(type: EventType, payload: type[EventPayload]) -> tuple[type[EventBase], type[WebhookBody]]:
    """The feed's event and the webhook body of one event type, both carrying its payload schema."""
    kind: Any = Literal[type.value]
    event = create_model(
        _schema_name(type, "Event"), __base__=EventBase, __doc__=payload.__doc__, type=(kind, ...), payload=payload
    )
    data = create_model(_schema_name(type, "WebhookData"), __base__=WebhookData, payload=payload)
    body = create_model(
        _schema_name(type, "Webhook"), __base__=WebhookBody, __doc__=payload.__doc__, type=(kind, ...), data=data
    )
    return event, body


_TYPED = {type: _typed(type, payload) for type, payload in PAYLOADS.items()}
EVENT_SCHEMAS: dict[EventType, type[EventBase]] = {type: event for type, (event, _body) in _TYPED.items()}
WEBHOOK_BODIES: dict[EventType, type[WebhookBody]] = {type: body for type, (_event, body) in _TYPED.items()}

EventOut = Annotated[Union[tuple(EVENT_SCHEMAS.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007


def event_out(event: OrderEvent) -> EventBase:
    # create_model gives each type's class its `type` and `payload`; mypy sees only EventBase's fields.
    return EVENT_SCHEMAS[EventType(event.type)](  # type: ignore[call-arg]
        id=event.pk,
        type=event.type,
        order_id=event.order_id,
        store_id=event.order.store_id,
        created_at=event.created_at,
        actor_kind=event.actor_kind,
        actor_label=event.actor_label,
        payload=event.payload,
    )


class EventPage(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [{**_EVENT_EXAMPLE, "type": EventType.FULFILLED, "payload": FulfilledPayload.example}],
                    "next_cursor": "WyJldmVudHMi…",
                    "has_more": False,
                }
            ]
        }
    )

    # EventOut is a union built at import from EVENT_SCHEMAS: pydantic reads it, mypy cannot.
    data: list[EventOut] = Field(description="Each event with its type's payload schema (see `type`).")  # type: ignore[valid-type]
    next_cursor: str | None = Field(
        description="Pass as `after` for the events that follow; also given on the last page, to poll with."
    )
    has_more: bool


_WEBHOOK_HEADERS = [
    ("webhook-id", "The event's id, the same on every retry: drop repeats by it."),
    ("webhook-timestamp", "Unix seconds of this attempt: refuse old ones (replays)."),
    ("webhook-signature", 'Space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret.'),
]


def add_webhooks(openapi: OpenAPISchema) -> None:
    """Describe each webhook Shelfcall sends (OpenAPI 3.1 `webhooks`), with its body's schema in components."""
    webhooks = {}
    for type, body in WEBHOOK_BODIES.items():
        schema = body.model_json_schema(
            ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema, mode="serialization"
        )
        openapi.add_schema_definitions({**schema.pop("$defs", {}), body.__name__: schema})
        webhooks[type.value] = {
            "post": {
                "summary": type.value,
                "description": f"{PAYLOADS[type].__doc__} Standard Webhooks 1.0: verify with any of its libraries.",
                "operationId": _schema_name(type, "Webhook"),
                "tags": ["webhooks"],
                "parameters": [
                    {"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
                    for name, text in _WEBHOOK_HEADERS
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=body.__name__)}}},
                },
                "responses": {"2XX": {"description": "Received. Any other answer, or none in time, is retried."}},
            }
        }
    openapi["webhooks"] = webhooks


def events_table() -> str:
    """The API description's list of event types: when each happens and its payload's fields."""
    rows = [
        f"| `{type.value}` | {payload.__doc__} | {', '.join(f'`{name}`' for name in payload.model_fields)} |"
        for type, payload in PAYLOADS.items()
    ]
    return "\n".join(["| Event | When | Payload fields |", "| --- | --- | --- |", *rows])
