"""Reads of orders. get_* raise, find_* may return None, list_* return querysets."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from django.db.models import F, OuterRef, QuerySet, Subquery

from shelfcall.catalog.models import Product, ShowcaseItem
from shelfcall.orders import promise
from shelfcall.orders.compiled import CompiledByIds, CompiledGet, CompiledRows
from shelfcall.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from shelfcall.stores.hours import WeeklyHours, weekly_hours
from shelfcall.stores.models import OpeningPeriod, Store

_NOT_DIGITS = re.compile(r"[^0-9]", re.ASCII)


def phone_key(phone: str) -> str:
    """The digits of a phone number, with its leading + if it has one: "06 12-34" and "0612 34" are one."""
    phone = phone.strip()
    digits = _NOT_DIGITS.sub("", phone)
    return f"+{digits}"[:32] if phone.startswith("+") and digits else digits[:32]


# token_urlsafe(24) gives 32 characters of [A-Za-z0-9_-]; anything else is not worth a query.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def _order_by_token(token: str) -> QuerySet[Order]:
    latest_event = OrderEvent.objects.filter(order_id=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    return (
        Order.objects.select_related("store", "assignee", "drop_zone", "sub_status")
        # Read with it: where the status page's stream starts, and the requests ahead of it in the queue as of
        # this read (promise.AHEAD_WHEN_READ: valid for a promise made right after it, not for a kept instance).
        .annotate(last_event_id=Subquery(latest_event), **{promise.AHEAD_WHEN_READ: promise.ahead_in_queue()})
        .filter(public_token=token)
    )


_ORDER_BY_TOKEN = CompiledGet(_order_by_token, str)  # every status page and stream: compiled once per process


def find_order_by_token(token: str) -> Order | None:
    """The order behind a shopper's status URL. Looked up by an indexed equality, never compared in Python.
    Its count of the requests ahead (promise.AHEAD_WHEN_READ) is as of this read: read it again to show it later."""
    if not _TOKEN_SHAPE.match(token):
        return None
    return _ORDER_BY_TOKEN.first(token)


@dataclass(frozen=True)
class QueuePlace:
    ahead: int  # requests the queue puts before this one
    last_event_id: int


def _queue_places(store_id: int, team_id: int | None) -> QuerySet[Order]:
    latest_event = OrderEvent.objects.filter(order_id=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    return (
        Order.objects.filter(promise.waiting_in_queue(store_id, team_id))
        .order_by(*promise.QUEUE_ORDER)
        .values_list("pk", Subquery(latest_event))
    )


# Every queue move, in every process that has a stream of the queue: compiled once (a team's queue, and
# a store's requests of no team).
_TEAM_QUEUE_PLACES = CompiledRows(_queue_places, int, int, model=Order)
_STORE_QUEUE_PLACES = CompiledRows(partial(_queue_places, team_id=None), int, model=Order)


def queue_places(store_id: int, team_id: int | None) -> dict[int, QueuePlace]:
    """Where each request waiting in one queue stands, by order id, with its latest event: one statement,
    read once for all the status streams of the queue that a queue move woke (shopper.status.StatusPoll)."""
    rows = _TEAM_QUEUE_PLACES.rows(store_id, team_id) if team_id else _STORE_QUEUE_PLACES.rows(store_id)
    return {pk: QueuePlace(ahead, last or 0) for ahead, (pk, last) in enumerate(rows)}


def _queue_orders(*order_ids: int) -> QuerySet[Order]:
    return (
        Order.objects.filter(pk__in=order_ids, status=OrderStatus.SUBMITTED)
        .select_related("store")
        .annotate(**{promise.AHEAD_WHEN_READ: promise.ahead_in_queue()})
    )


# Every queue move reads the requests whose place moved, in every process with a stream of the queue.
_QUEUE_ORDERS = CompiledByIds(_queue_orders)


def list_queue_orders(order_ids: Iterable[int]) -> list[Order]:
    """Those of `order_ids` still waiting, each with its store and its place in its queue as of this read
    (promise.AHEAD_WHEN_READ)."""
    return _QUEUE_ORDERS.all(order_ids)


def _opening_periods(*store_ids: int) -> QuerySet[OpeningPeriod]:
    return OpeningPeriod.objects.filter(store_id__in=store_ids)


_OPENING_PERIODS = CompiledByIds(_opening_periods)


def weekly_hours_of(stores: Sequence[Store]) -> dict[int, WeeklyHours]:
    """The opening hours of each of `stores`, by store id: one statement for them all."""
    by_store: dict[int, list[OpeningPeriod]] = {}
    for period in _OPENING_PERIODS.all(store.pk for store in stores):
        by_store.setdefault(period.store_id, []).append(period)
    return {store.pk: weekly_hours(store, by_store.get(store.pk, [])) for store in stores}


def list_events_after(order_id: int, last_id: int) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order_id=order_id, pk__gt=last_id).order_by("pk")


def last_event_id(order_id: int) -> int:
    return OrderEvent.objects.filter(order_id=order_id).order_by("-pk").values_list("pk", flat=True).first() or 0


@dataclass(frozen=True)
class SubstituteCandidate:
    product: Product
    free: int  # units on the shelf no order holds


def list_substitute_candidates(line: OrderLine, *, limit: int = 30) -> list[SubstituteCandidate]:
    """What may stand in for a line's missing units: the products of the store's showcases that show it,
    free on the shelf here and not in the order yet, by name (one query). Any other product in stock can
    be offered by its SKU."""
    order = line.order
    showcases = ShowcaseItem.objects.filter(
        product_id=line.product_id, showcase__store_id=order.store_id, showcase__active=True
    ).values("showcase_id")
    in_order = OrderLine.objects.filter(order_id=order.pk, requested_qty__gt=0).values("product_id")
    products = (
        Product.objects.filter(
            showcase_items__showcase_id__in=showcases,
            showcase_items__active=True,
            active=True,
            stock_levels__store_id=order.store_id,
        )
        .exclude(pk__in=in_order)
        .annotate(free=F("stock_levels__on_hand") - F("stock_levels__reserved"))
        .filter(free__gt=0)
        .distinct()
        .order_by("name", "pk")[:limit]
    )
    return [SubstituteCandidate(product, product.free) for product in products]


def find_product_by_sku(order: Order, sku: str) -> Product | None:
    return Product.objects.filter(organization_id=order.store.organization_id, sku__iexact=sku.strip()).first()
