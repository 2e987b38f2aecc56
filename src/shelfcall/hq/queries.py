"""Reads for head office: every order of the stores one may see, each page a fixed number of queries.

Lists are pages of PAGE_SIZE, newest first, paged by id (`before`): PostgreSQL walks the primary key
backwards and stops at the page's end, whatever the number of orders and whichever filters apply. Per-row
figures (items) are correlated subqueries, so they are computed for the page's rows only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Right
from django.db.models.lookups import Exact
from django.utils import timezone

from shelfcall.catalog.models import Product, StockLevel
from shelfcall.core import clock
from shelfcall.notify.models import DeliveryAttempt, OutboxMessage
from shelfcall.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Reservation,
    ReservationEntry,
    read_order_code,
)
from shelfcall.orders.queries import phone_key
from shelfcall.stores.models import Store

PAGE_SIZE = 50
# The national part of a phone number: "+33 6 12 34 56 78" and "06 12 34 56 78" end alike.
PHONE_TAIL = 9
MIN_PHONE_DIGITS = 6
PRODUCTS_PER_PAGE = 30


def _owed() -> Q:
    return Q(total_amount__gt=F("paid_amount") - F("refunded_amount"))


def refund_due() -> Q:
    return Q(paid_amount__gt=F("refunded_amount") + F("total_amount"))


def overdue(now: datetime) -> Q:
    """Nobody has it ready although it is due: as the associate's queue counts it."""
    return Q(status__in=[OrderStatus.SUBMITTED, OrderStatus.PICKING], due_at__lt=now)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def phone_condition(text: str) -> Q | None:
    """Orders whose phone is this one, however it was spaced or prefixed (+33 6…, 06…): the last
    PHONE_TAIL digits, through their own index (orders migration 0013); None when the text holds too few
    digits to be a phone number."""
    digits = phone_key(text).lstrip("+")
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    if len(digits) < PHONE_TAIL:
        return Q(phone_key=digits)
    return Q(Exact(Right("phone_key", PHONE_TAIL), digits[-PHONE_TAIL:]))


def search_condition(text: str) -> Q:
    """An order number (SC1042 or 1042), a phone or an external id; an email (exactly); else a name
    (or an external id). Each kind through an index, except names, whose matches are many."""
    text = text.strip()
    if not text:
        return Q()
    if "@" in text:
        return Q(shopper_email=text.lower())
    condition = Q(external_id=text)
    number = read_order_code(text)
    if number is not None:
        condition |= Q(number=number)
    if (phone := phone_condition(text)) is not None:
        condition |= phone
    if number is None and phone is None:
        condition |= Q(shopper_name__icontains=text)
    return condition


def filter_condition(data: dict[str, Any], now: datetime) -> Q:
    """The list's filters, from a validated form's cleaned data (a missing or empty key: no filter)."""
    condition = Q()
    for field in ("store", "team", "status", "source"):
        if data.get(field):
            condition &= Q(**{field: data[field]})
    if data.get("overdue"):
        condition &= overdue(now)
    if data.get("escalated"):
        condition &= Q(escalation_level__gt=0)
    if data.get("payment") == "unpaid":
        condition &= _owed()
    elif data.get("payment") == "paid":
        condition &= ~_owed() & ~Q(payment_status=PaymentStatus.UNPAID)
    if data.get("refund_due"):
        condition &= refund_due()
    if data.get("date_from"):
        condition &= Q(created_at__gte=_day_start(data["date_from"]))
    if data.get("date_to"):
        condition &= Q(created_at__lt=_day_start(data["date_to"] + timedelta(days=1)))
    if data.get("product"):
        holding = Reservation.objects.filter(order=OuterRef("pk"), stock_level__product=data["product"], held_qty__gt=0)
        condition &= Q(Exists(holding))
    return condition & search_condition(data.get("q") or "")


def _item_count() -> Coalesce:
    units = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(units=Sum(F("requested_qty") - F("short_qty") - F("rejected_qty")))
        .values("units")
    )
    return Coalesce(Subquery(units, output_field=IntegerField()), 0)


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    older: int | None  # the `before` of the next page, None on the last one


def list_orders(store_ids: Sequence[int], condition: Q, *, before: int | None = None) -> OrderPage:
    """A page of the orders of those stores matching `condition`, newest first. One query."""
    orders = Order.objects.filter(condition, store_id__in=store_ids)
    if before is not None:
        orders = orders.filter(pk__lt=before)
    rows: list[Order] = list(
        orders.select_related("store", "team", "assignee", "sub_status")
        .annotate(item_count=_item_count())
        .order_by("-pk")[: PAGE_SIZE + 1]
    )
    now = clock.now()
    for order in rows:  # as the overdue filter counts it
        order.is_overdue = order.status in (OrderStatus.SUBMITTED, OrderStatus.PICKING) and order.due_at < now  # type: ignore[attr-defined]
    more = len(rows) > PAGE_SIZE
    return OrderPage(rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].pk if more else None)


def last_event_id() -> int:
    """Where a page's live stream starts: the newest event of all (the stream filters by store)."""
    return OrderEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def lookup_orders(store_ids: Sequence[int], *, phone: str = "", email: str = "") -> list[Order]:
    """A shopper who calls: their orders across the stores, newest first, with what was sent to them.
    Two queries (orders, messages)."""
    condition = Q(pk__in=[])
    if phone and (by_phone := phone_condition(phone)) is not None:
        condition |= by_phone
    if email.strip():
        condition |= Q(shopper_email=email.strip().lower())
    messages = OutboxMessage.objects.filter(channel__isnull=True).order_by("pk")
    return list(
        Order.objects.filter(condition, store_id__in=store_ids)
        .select_related("store", "drop_zone", "assignee", "sub_status")
        .prefetch_related(Prefetch("messages", queryset=messages, to_attr="shopper_messages"))
        .order_by("-pk")[:PAGE_SIZE]
    )


def order_messages(order: Order) -> list[OutboxMessage]:
    """Every message about the order, each with its delivery attempts. Two queries."""
    attempts = DeliveryAttempt.objects.order_by("pk")
    return list(
        OutboxMessage.objects.filter(order=order)
        .select_related("channel")
        .prefetch_related(Prefetch("delivery_attempts", queryset=attempts))
        .order_by("pk")
    )


def reservation_journal(order: Order) -> list[ReservationEntry]:
    return list(
        ReservationEntry.objects.filter(order=order).select_related("line", "stock_level__store").order_by("pk")
    )


@dataclass(frozen=True)
class StockRow:
    level: StockLevel
    available: int


@dataclass(frozen=True)
class ProductStock:
    product: Product
    rows: list[StockRow]
    reserved_total: int


def inventory(store_ids: Sequence[int], *, search: str = "", store: Store | None = None) -> list[ProductStock]:
    """Per product (SKU or name matching `search`), its stock in each of those stores: on hand, reserved,
    available, and what all of them hold. Two queries."""
    levels = StockLevel.objects.filter(store_id__in=[store.pk] if store else store_ids)
    products = Product.objects.filter(Exists(levels.filter(product=OuterRef("pk"))))
    if search.strip():
        products = products.filter(Q(sku__iexact=search.strip()) | Q(name__icontains=search.strip()))
    page = list(products.order_by("name", "pk")[:PRODUCTS_PER_PAGE])
    by_product: dict[int, list[StockRow]] = {product.pk: [] for product in page}
    for level in levels.filter(product__in=page).select_related("store").order_by("store__name", "pk"):
        by_product[level.product_id].append(StockRow(level, max(level.on_hand - level.reserved, 0)))
    return [
        ProductStock(product, by_product[product.pk], sum(row.level.reserved for row in by_product[product.pk]))
        for product in page
    ]


@dataclass(frozen=True)
class Candidate:
    store: Store
    short: list[str]  # the lines it lacks stock for; empty: it can take the order


def move_candidates(order: Order, stores: Sequence[Store], lines: Sequence[OrderLine]) -> list[Candidate]:
    """Which of `stores` could take the order's lines now (one query)."""
    wanted = {line.product_id: line.requested_qty - line.short_qty for line in lines if line.requested_qty}
    available = {
        (level.store_id, level.product_id): level.on_hand - level.reserved
        for level in StockLevel.objects.filter(store__in=stores, product_id__in=wanted)
    }
    names = {line.product_id: line.name for line in lines}
    return [
        Candidate(
            store,
            [
                f"{qty} × {names[product_id]}"
                for product_id, qty in wanted.items()
                if available.get((store.pk, product_id), 0) < qty
            ],
        )
        for store in stores
    ]
