"""What the API returns. Amounts are decimal strings in the order's currency ("12.50"), times ISO 8601 in UTC."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict
from pydantic.json_schema import JsonDict

from shelfcall.orders.models import Order, OrderLine, OrderStatus, PaymentStatus
from shelfcall.stores.models import Store

_CENT = Decimal("0.01")


def _money(amount: Decimal) -> Decimal:
    """Amounts as the columns keep them (two places), also when computed: "0.00", never "0"."""
    return amount.quantize(_CENT)


class StoreOut(Schema):
    id: int
    name: str
    slug: str
    organization: str = Field(description="The organization's slug.")
    timezone: str
    currency: str

    @staticmethod
    def of(store: Store) -> "StoreOut":
        return StoreOut(
            id=store.pk,
            name=store.name,
            slug=store.slug,
            organization=store.organization.slug,
            timezone=store.timezone,
            currency=store.currency,
        )


STORE_EXAMPLE: JsonDict = {
    "id": 1,
    "name": "Demo Retail Downtown",
    "slug": "downtown",
    "organization": "demo-retail",
    "timezone": "Europe/Paris",
    "currency": "EUR",
}
LINE_EXAMPLE: JsonDict = {
    "id": 7,
    "sku": "SHV-S9P",
    "name": "Series 9 Pro shaver",
    "variant": "",
    "unit_price": "299.99",
    "requested": 2,
    "picked": 1,
    "not_found": 1,
    "rejected": 0,
    "reject_reason": "",
    "line_total": "299.99",
}
ORDER_EXAMPLE: JsonDict = {
    "id": 42,
    "store_id": 1,
    "number": 1001,
    "barcode": "SC1001",
    "source": "showcase",
    "external_id": "",
    "status": "ready",
    "payment_status": "unpaid",
    "currency": "EUR",
    "total": "299.99",
    "paid": "0.00",
    "refunded": "0.00",
    "owed": "299.99",
    "refund_due": "0.00",
    "staged_location": "Customer Service desk",
    "drop_zone_id": 1,
    "shopper_name": "Kim",
    "created_at": "2026-11-23T10:00:00Z",
    "updated_at": "2026-11-23T10:06:12Z",
    "due_at": "2026-11-23T10:10:00Z",
    "lines": [LINE_EXAMPLE],
}
EVENT_EXAMPLE: JsonDict = {
    "id": 913,
    "type": "order.fulfilled",
    "order_id": 42,
    "store_id": 1,
    "created_at": "2026-11-23T10:06:12Z",
    "actor_kind": "staff",
    "actor_label": "Alex",
    "payload": {"location": "Customer Service desk", "drop_zone_id": 1},
}


class StoreList(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [STORE_EXAMPLE]}]})

    data: list[StoreOut]


class LineOut(Schema):
    id: int
    sku: str
    name: str
    variant: str
    unit_price: Decimal
    requested: int
    picked: int
    not_found: int = Field(description="Units the associate could not find.")
    rejected: int = Field(description="Picked units the shopper turned down at hand-off.")
    reject_reason: str
    line_total: Decimal = Field(description="unit_price × (requested − not_found − rejected).")

    @staticmethod
    def of(line: OrderLine) -> "LineOut":
        return LineOut(
            id=line.pk,
            sku=line.sku,
            name=line.name,
            variant=line.variant,
            unit_price=line.unit_price,
            requested=line.requested_qty,
            picked=line.picked_qty,
            not_found=line.short_qty,
            rejected=line.rejected_qty,
            reject_reason=line.reject_reason,
            line_total=_money(line.line_total),
        )


class OrderOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_EXAMPLE]})

    id: int
    store_id: int
    number: int
    barcode: str = Field(description="What the shopper's barcode encodes, e.g. SC1001.")
    source: str
    external_id: str
    status: OrderStatus
    payment_status: PaymentStatus
    currency: str
    total: Decimal
    paid: Decimal = Field(description="Paid so far, refunds not deducted.")
    refunded: Decimal
    owed: Decimal = Field(description="What the shopper still has to pay: total − (paid − refunded), at least 0.")
    refund_due: Decimal = Field(description="What is owed back to the shopper.")
    staged_location: str = Field(description="Where the order waits for pick-up; empty until staged.")
    drop_zone_id: int | None
    shopper_name: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    lines: list[LineOut]

    @staticmethod
    def of(order: Order) -> "OrderOut":
        owed = max(order.total_amount - (order.paid_amount - order.refunded_amount), Decimal("0"))
        return OrderOut(
            id=order.pk,
            store_id=order.store_id,
            number=order.number,
            barcode=order.barcode_value,
            source=order.source,
            external_id=order.external_id,
            status=OrderStatus(order.status),
            payment_status=PaymentStatus(order.payment_status),
            currency=order.currency,
            total=order.total_amount,
            paid=order.paid_amount,
            refunded=order.refunded_amount,
            owed=_money(owed),
            refund_due=_money(order.refund_due_amount),
            staged_location=order.staged_location,
            drop_zone_id=order.drop_zone_id,
            shopper_name=order.shopper_name,
            created_at=order.created_at,
            updated_at=order.updated_at,
            due_at=order.due_at,
            lines=[LineOut.of(line) for line in order.lines.all()],
        )


class OrderPage(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"data": [ORDER_EXAMPLE], "next_cursor": "WyJvcmRlcnMi…", "has_more": True}]}
    )

    data: list[OrderOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")
    has_more: bool


class EventOut(Schema):
    id: int = Field(description="Unique; also the webhook-id of the same event.")
    type: str = Field(examples=["order.paid"])
    order_id: int
    store_id: int
    created_at: datetime
    actor_kind: str = Field(description="staff, shopper, api or system.")
    actor_label: str
    payload: dict[str, Any] = Field(
        description="As stored, per type (see orders/events.py EventType); typed schemas per event type will follow."
    )


class EventPage(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"data": [EVENT_EXAMPLE], "next_cursor": "WyJldmVudHMi…", "has_more": False}]}
    )

    data: list[EventOut]
    next_cursor: str | None = Field(
        description="Pass as `after` for the events that follow; also given on the last page, to poll with."
    )
    has_more: bool
