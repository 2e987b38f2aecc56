"""What the API returns. Amounts are decimal strings in the order's currency ("12.50"), times ISO 8601 in UTC."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict
from pydantic.json_schema import JsonDict

from shelfcall.core.numbers import MAX_NUMBER
from shelfcall.orders.models import (
    DeliveryMethod,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
    ReservationKind,
    ReservationReason,
    Substitution,
)
from shelfcall.orders.queries import last_event_id
from shelfcall.stores.models import Store

_CENT = Decimal("0.01")

# A row's id as the database keeps it, a signed 64-bit integer: a larger number names nothing (and SQLite
# cannot even compare one), so it is refused as invalid input instead of reaching a query.
RowId = Annotated[int, Field(ge=1, le=MAX_NUMBER)]


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
    latitude: float | None = Field(description="Where the store is (WGS 84), when set in the admin.")
    longitude: float | None

    @staticmethod
    def of(store: Store) -> "StoreOut":
        return StoreOut(
            id=store.pk,
            name=store.name,
            slug=store.slug,
            organization=store.organization.slug,
            timezone=store.timezone,
            currency=store.currency,
            latitude=None if store.latitude is None else float(store.latitude),
            longitude=None if store.longitude is None else float(store.longitude),
        )


STORE_EXAMPLE: JsonDict = {
    "id": 1,
    "name": "Demo Retail Downtown",
    "slug": "downtown",
    "organization": "demo-retail",
    "timezone": "Europe/Paris",
    "currency": "EUR",
    "latitude": 48.856613,
    "longitude": 2.352222,
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
    "substitution": None,
    "substitute_for": None,
    "proposed": 0,
    "decide_by": None,
}
SUBSTITUTE_LINE_EXAMPLE: JsonDict = {
    "id": 9,
    "sku": "SHV-S8",
    "name": "Series 8 shaver",
    "variant": "",
    "unit_price": "249.99",
    "requested": 1,
    "picked": 0,
    "not_found": 0,
    "rejected": 0,
    "reject_reason": "",
    "line_total": "0.00",
    "substitution": "proposed",
    "substitute_for": 7,
    "proposed": 1,
    "decide_by": "2026-11-23T10:20:00Z",
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
    "sub_status": {"code": "curbside-desk", "name": "At the curbside desk", "shopper_text": "At the curbside desk."},
    "currency": "EUR",
    "total": "299.99",
    "paid": "0.00",
    "refunded": "0.00",
    "owed": "299.99",
    "refund_due": "0.00",
    "staged_location": "Customer Service desk",
    "drop_zone_id": 1,
    "shopper_name": "Kim",
    "contact": {"name": "Kim", "phone": "+33 6 12 34 56 78", "email": "kim@example.com"},
    "delivery": "pickup_here",
    "origin_store_id": None,
    "comments": "",
    "version": 913,
    "created_at": "2026-11-23T10:00:00Z",
    "updated_at": "2026-11-23T10:06:12Z",
    "due_at": "2026-11-23T10:10:00Z",
    "lines": [LINE_EXAMPLE],
}
ORDER_WITH_SUBSTITUTE_EXAMPLE: JsonDict = {
    **ORDER_EXAMPLE,
    "status": "picking",
    "total": "0.00",
    "owed": "0.00",
    "staged_location": "",
    "drop_zone_id": None,
    "lines": [{**LINE_EXAMPLE, "requested": 1, "picked": 0, "line_total": "0.00"}, SUBSTITUTE_LINE_EXAMPLE],
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
    line_total: Decimal = Field(
        description="unit_price × (requested − not_found − rejected); 0 for a substitute not accepted (yet)."
    )
    substitution: Substitution | None = Field(
        description="null for a line of the order as placed. A substitute offered for units not found: "
        "`proposed` (its units are held, it is no part of the total and is not picked until the shopper "
        "accepts), `accepted` (a line like the others), `declined` (its units went back: requested 0)."
    )
    substitute_for: int | None = Field(description="The line whose units this substitute stands in for.")
    proposed: int = Field(description="Units offered as a substitute; 0 for a line of the order as placed.")
    decide_by: datetime | None = Field(
        description="While `proposed`: when the store's default answer (accept or decline) applies."
    )

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
            substitution=Substitution(line.substitution) if line.substitution else None,
            substitute_for=line.substitute_for_id,
            proposed=line.proposed_qty,
            decide_by=line.decide_by,
        )


class ContactOut(Schema):
    name: str
    phone: str
    email: str


class SubStatusOut(Schema):
    code: str = Field(description="The organization's code for it, stable across renames.")
    name: str = Field(description="Its name for staff.")
    shopper_text: str = Field(description="What the shopper's page says, in the order's language; may be empty.")

    @staticmethod
    def of(order: Order) -> "SubStatusOut | None":
        sub = order.current_sub_status
        if sub is None:
            return None
        return SubStatusOut(code=sub.code, name=sub.name, shopper_text=sub.shopper_text(order.locale))


class OrderOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_EXAMPLE, ORDER_WITH_SUBSTITUTE_EXAMPLE]})

    id: int
    store_id: int
    number: int
    barcode: str = Field(description="What the shopper's barcode encodes, e.g. SC1001.")
    source: str
    external_id: str
    status: OrderStatus
    payment_status: PaymentStatus
    sub_status: SubStatusOut | None = Field(
        description="The organization's own step inside `status` (e.g. waiting for engraving); null when none."
    )
    currency: str
    total: Decimal
    paid: Decimal = Field(description="Paid so far, refunds not deducted.")
    refunded: Decimal
    owed: Decimal = Field(description="What the shopper still has to pay: total − (paid − refunded), at least 0.")
    refund_due: Decimal = Field(description="What is owed back to the shopper.")
    staged_location: str = Field(description="Where the order waits for pick-up; empty until staged.")
    drop_zone_id: int | None
    shopper_name: str
    contact: ContactOut = Field(description="The shopper's, as given: how the store reaches them.")
    delivery: DeliveryMethod = Field(
        description="pickup_here: collected at store_id, where it was ordered (or a webshop's pick-up store); "
        "pickup_other_store: taken at origin_store_id, collected at store_id, which fills it."
    )
    origin_store_id: int | None = Field(description="Where the order was taken, when it is collected elsewhere.")
    comments: str
    version: int = Field(
        description="Changes with every change of the order (its latest event id); send it back as `version` "
        "or `If-Match` to change its lines. Also the ETag."
    )
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    lines: list[LineOut]

    @staticmethod
    def of(order: Order) -> "OrderOut":
        return OrderOut(
            id=order.pk,
            store_id=order.store_id,
            number=order.number,
            barcode=order.barcode_value,
            source=order.source,
            external_id=order.external_id,
            status=OrderStatus(order.status),
            payment_status=PaymentStatus(order.payment_status),
            sub_status=SubStatusOut.of(order),
            currency=order.currency,
            total=_money(order.total_amount),
            paid=_money(order.paid_amount),
            refunded=_money(order.refunded_amount),
            owed=_money(order.owed_amount),
            refund_due=_money(order.refund_due_amount),
            staged_location=order.staged_location,
            drop_zone_id=order.drop_zone_id,
            shopper_name=order.shopper_name,
            contact=ContactOut(name=order.shopper_name, phone=order.shopper_phone, email=order.shopper_email),
            delivery=order.delivery_method,
            origin_store_id=order.origin_store_id,
            comments=order.comments,
            version=order_version(order),
            created_at=order.created_at,
            updated_at=order.updated_at,
            due_at=order.due_at,
            lines=[LineOut.of(line) for line in order.lines.all()],
        )


def order_version(order: Order) -> int:
    """As api.queries.orders_of annotates it; one query for an order read another way."""
    version = getattr(order, "version", None)
    return last_event_id(order.pk) if version is None else version


class OrderPage(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"data": [ORDER_EXAMPLE], "next_cursor": "WyJvcmRlcnMi…", "has_more": True}]}
    )

    data: list[OrderOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")
    has_more: bool


class ReservationLineOut(Schema):
    line_id: int
    sku: str
    requested: int
    held: int = Field(description="Units still set aside on the shelf for this line.")
    released: int = Field(description="Units given back: not found, turned down, cancelled or expired.")
    consumed: int = Field(description="Units that left the store with the shopper.")


class ReservationEntryOut(Schema):
    id: int
    line_id: int
    sku: str
    kind: ReservationKind = Field(description="hold, release or consume.")
    qty: int
    reason: ReservationReason
    at: datetime
    actor_kind: str
    actor_label: str


RESERVATIONS_EXAMPLE: JsonDict = {
    "order_id": 42,
    "lines": [{"line_id": 7, "sku": "SHV-S9P", "requested": 1, "held": 0, "released": 0, "consumed": 1}],
    "entries": [
        {
            "id": 1,
            "line_id": 7,
            "sku": "SHV-S9P",
            "kind": "hold",
            "qty": 2,
            "reason": "created",
            "at": "2026-11-23T10:00:00Z",
            "actor_kind": "api",
            "actor_label": "Till 1",
        },
        {
            "id": 2,
            "line_id": 7,
            "sku": "SHV-S9P",
            "kind": "release",
            "qty": 1,
            "reason": "line_changed",
            "at": "2026-11-23T10:02:00Z",
            "actor_kind": "api",
            "actor_label": "Till 1",
        },
        {
            "id": 3,
            "line_id": 7,
            "sku": "SHV-S9P",
            "kind": "consume",
            "qty": 1,
            "reason": "handed_over",
            "at": "2026-11-23T11:30:00Z",
            "actor_kind": "staff",
            "actor_label": "Alex",
        },
    ],
}


class ReservationJournal(Schema):
    """Per line, held + released + consumed = requested; per line, held = holds - releases - consumptions."""

    model_config = ConfigDict(json_schema_extra={"examples": [RESERVATIONS_EXAMPLE]})

    order_id: int
    lines: list[ReservationLineOut]
    entries: list[ReservationEntryOut] = Field(description="Oldest first.")


class OrderList(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [ORDER_EXAMPLE]}]})

    data: list[OrderOut]


PAYMENT_EXAMPLE: JsonDict = {
    "id": 5,
    "order_id": 42,
    "kind": "payment",
    "amount": "100.00",
    "method": "card",
    "reference": "till-3/8812",
    "created_at": "2026-11-23T10:08:40Z",
    "actor_kind": "api",
    "actor_label": "Till 3",
    "event_id": 914,
}


class PaymentOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [PAYMENT_EXAMPLE]})

    id: int
    order_id: int
    kind: PaymentKind = Field(description="payment (money taken) or refund (money given back).")
    amount: Decimal = Field(description="In the order's currency, always positive.")
    method: PaymentMethod
    reference: str = Field(description="The till's or the card terminal's reference, as sent.")
    created_at: datetime
    actor_kind: str = Field(description="staff, api or system.")
    actor_label: str = Field(description="Who recorded it: the associate's or the API key's name.")
    event_id: int | None = Field(description="The order.paid or order.refunded event announcing it (feed, webhooks).")

    @staticmethod
    def of(payment: Payment) -> "PaymentOut":
        return PaymentOut(
            id=payment.pk,
            order_id=payment.order_id,
            kind=PaymentKind(payment.kind),
            amount=payment.amount,
            method=PaymentMethod(payment.method),
            reference=payment.reference,
            created_at=payment.created_at,
            actor_kind=payment.actor_kind,
            actor_label=payment.actor_label,
            event_id=payment.event_id,
        )


class PaymentList(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [PAYMENT_EXAMPLE]}]})

    data: list[PaymentOut] = Field(description="Every payment and refund of the order, oldest first.")


class ReceiptOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "payment": PAYMENT_EXAMPLE,
                    "order": {
                        **ORDER_EXAMPLE,
                        "payment_status": "partially_paid",
                        "paid": "100.00",
                        "owed": "199.99",
                    },
                }
            ]
        }
    )

    payment: PaymentOut = Field(description="The row just recorded.")
    order: OrderOut = Field(description="The order with its new totals: paid, refunded, owed, refund_due.")
