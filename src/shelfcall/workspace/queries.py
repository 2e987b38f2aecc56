"""Reads for the associate's screens: each a fixed number of queries, however long the queue."""

import string
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Case, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import JSONObject, Replace
from django.utils.translation import gettext_lazy as _

from shelfcall.catalog.models import Product
from shelfcall.core import clock
from shelfcall.orders.compiled import CompiledRows
from shelfcall.orders.json_rows import instance, json_of, json_rows, json_rows_of, union_of
from shelfcall.orders.models import (
    OPEN_STATUSES,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    read_order_code,
)
from shelfcall.stores.models import DropZone, Membership, OpeningPeriod, Store

QUEUE_LIMIT = 200


class QueueFilter(StrEnum):
    UNCLAIMED = "unclaimed"
    MINE = "mine"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    PAID = "paid"
    WAITING = "waiting"
    OPEN = "open"
    ALL = "all"


FILTER_LABELS = {
    QueueFilter.OPEN: _("Open"),
    QueueFilter.UNCLAIMED: _("Unclaimed"),
    QueueFilter.MINE: _("Mine"),
    QueueFilter.IN_PROGRESS: _("In progress"),
    QueueFilter.READY: _("Ready"),
    QueueFilter.PAID: _("Paid"),
    QueueFilter.WAITING: _("Shopper waiting"),
    QueueFilter.ALL: _("All"),
}


def _filter_condition(queue_filter: QueueFilter, user: User) -> Q:
    open_ = Q(status__in=OPEN_STATUSES)
    return {
        QueueFilter.UNCLAIMED: Q(status=OrderStatus.SUBMITTED),
        QueueFilter.MINE: open_ & Q(assignee=user),
        QueueFilter.IN_PROGRESS: Q(status=OrderStatus.PICKING),
        QueueFilter.READY: Q(status=OrderStatus.READY),
        QueueFilter.PAID: open_ & ~Q(payment_status__in=[PaymentStatus.UNPAID, PaymentStatus.PARTIALLY_PAID]),
        QueueFilter.WAITING: open_ & Q(checked_in_at__isnull=False),
        QueueFilter.OPEN: open_,
        QueueFilter.ALL: Q(),
    }[queue_filter]


def _search_condition(text: str) -> Q:
    text = text.strip()
    if not text:
        return Q()
    number = read_order_code(text)
    condition = Q(shopper_name__icontains=text) | Q(shopper_email__icontains=text)
    digits = "".join(ch for ch in text if ch in string.digits)
    if number is not None:
        condition |= Q(number=number)
    if len(digits) >= 4:
        condition |= Q(phone_digits__contains=digits[-8:])
    return condition


def _phone_digits() -> F | Func:
    """The phone as typed (+33 6 12-34…), without its spaces, dashes, dots and brackets."""
    expression: F | Func = F("shopper_phone")
    for separator in " -.()":
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def list_queue(
    store: Store,
    *,
    user: User,
    team_ids: Sequence[int] = (),
    queue_filter: QueueFilter = QueueFilter.OPEN,
    search: str = "",
) -> QuerySet[Order]:
    """Overdue first, then by due time; closed orders (in "all") newest first. One query."""
    now = clock.now()
    orders = (
        Order.objects.annotate(phone_digits=_phone_digits())
        .filter(_filter_condition(queue_filter, user), _search_condition(search), store=store)
        .select_related("assignee", "team", "sub_status")
        .annotate(
            item_count=Sum(F("lines__requested_qty") - F("lines__short_qty") - F("lines__rejected_qty")),
            overdue_rank=Case(
                When(status__in=[OrderStatus.SUBMITTED, OrderStatus.PICKING], due_at__lt=now, then=Value(0)),
                When(status__in=OPEN_STATUSES, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
    )
    if team_ids:
        orders = orders.filter(Q(team_id__in=team_ids) | Q(team__isnull=True))
    return orders.order_by("overdue_rank", "due_at", "pk")[:QUEUE_LIMIT]


def find_order_by_code(store: Store, code: str) -> Order | None:
    """A scanned barcode (SC1042) or a typed number (1042), in this store only."""
    number = read_order_code(code)
    if number is None:
        return None
    return Order.objects.filter(store=store, number=number).select_related("assignee", "drop_zone").first()


def get_order_lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).select_related("product", "substitute_for"))


def list_timeline(order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).select_related("actor").order_by("pk")


@dataclass(frozen=True)
class OrderPageLists:
    lines: list[OrderLine]
    timeline: list[OrderEvent]  # without their actors: the page shows the label each event keeps
    messages: list[Any]  # notify's OutboxMessage, each with its channel
    drop_zones: list[DropZone]


def _order_page_union(order_id: int, store_id: int | None = None) -> QuerySet:
    """The order page's lists as one UNION ALL; with `store_id`, the store's active drop zones too."""
    from shelfcall.notify.models import Channel, OutboxMessage

    parts = [
        json_rows(
            "line",
            OrderLine.objects.filter(order_id=order_id),
            JSONObject(
                row=json_of(OrderLine),
                product=json_of(Product, "product__"),
                substitute_for=json_of(OrderLine, "substitute_for__"),
            ),
        ),
        json_rows("event", OrderEvent.objects.filter(order_id=order_id), JSONObject(row=json_of(OrderEvent))),
        json_rows(
            "message",
            OutboxMessage.objects.filter(order_id=order_id),
            JSONObject(row=json_of(OutboxMessage), channel=json_of(Channel, "channel__")),
        ),
    ]
    if store_id is not None:
        zones = DropZone.objects.filter(store_id=store_id, active=True)
        parts.append(json_rows("zone", zones, JSONObject(row=json_of(DropZone)), sort_name=F("name")))
    return union_of(parts)


# Built and compiled once per process (orders/compiled.py): building these JSON objects field by field
# cost more than everything else the page does.
_ORDER_PAGE_LISTS = CompiledRows(_order_page_union, int, model=OrderLine)
_ORDER_PAGE_LISTS_WITH_ZONES = CompiledRows(_order_page_union, int, int, model=OrderLine)


def read_order_page_lists(order: Order, *, drop_zones: bool) -> OrderPageLists:
    """What the order page lists, in one statement however long the lists: the order's lines (with their
    product and the line they substitute for, as get_order_lines), its whole timeline (as list_timeline),
    the messages sent about it (with their channel, by id), and with `drop_zones` the store's
    active ones, by name, for the staging form. Each row of the UNION ALL is one of them as a JSON
    object, turned back into the model instance the ORM would have made."""
    from shelfcall.notify.models import Channel, OutboxMessage

    if drop_zones:
        rows = _ORDER_PAGE_LISTS_WITH_ZONES.rows(order.pk, order.store_id)
    else:
        rows = _ORDER_PAGE_LISTS.rows(order.pk)
    lists = OrderPageLists(lines=[], timeline=[], messages=[], drop_zones=[])
    for kind, data in json_rows_of(rows):
        if kind == "line":
            line = instance(OrderLine, data["row"])
            line.product = instance(Product, data["product"])
            if line.substitute_for_id is not None:
                line.substitute_for = instance(OrderLine, data["substitute_for"])
            lists.lines.append(line)
        elif kind == "event":
            lists.timeline.append(instance(OrderEvent, data["row"]))
        elif kind == "message":
            message = instance(OutboxMessage, data["row"])
            if message.channel_id is not None:
                message.channel = instance(Channel, data["channel"])
            lists.messages.append(message)
        else:
            lists.drop_zones.append(instance(DropZone, data["row"]))
    return lists


@dataclass(frozen=True)
class QueueFacts:
    team_ids: list[int]  # the teams of the user's membership in the store, whose orders its queue shows; none: all
    opening_periods: list[OpeningPeriod]  # for the promises (stores.hours.weekly_hours)
    last_event_id: int  # where the queue's live stream resumes


def _queue_facts_union(user_id: int, store_id: int) -> QuerySet:
    last_event = OrderEvent.objects.filter(order__store=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    memberships = Membership.teams.through.objects.filter(membership__user_id=user_id, membership__store_id=store_id)
    periods = OpeningPeriod.objects.filter(store_id=store_id)
    return union_of(
        [
            json_rows("team", memberships, JSONObject(team_id=F("team_id"))),
            json_rows("period", periods, JSONObject(row=json_of(OpeningPeriod))),
            json_rows("store", Store.objects.filter(pk=store_id), JSONObject(last_event_id=Subquery(last_event))),
        ]
    )


_QUEUE_FACTS = CompiledRows(_queue_facts_union, int, int, model=Membership)


def read_queue_facts(store: Store, user: User) -> QueueFacts:
    """What the queue needs besides its orders, in one statement: the user's teams in the store, the
    store's opening periods and its last event id."""
    team_ids, periods, last_event_id = [], [], 0
    for kind, data in json_rows_of(_QUEUE_FACTS.rows(user.pk, store.pk)):
        if kind == "team":
            team_ids.append(data["team_id"])
        elif kind == "period":
            periods.append(instance(OpeningPeriod, data["row"]))
        else:
            last_event_id = data["last_event_id"] or 0
    periods.sort(key=lambda period: (period.weekday, period.opens))  # the model's ordering
    return QueueFacts(team_ids, periods, last_event_id)


@dataclass(frozen=True)
class RefundDue:
    order: Order
    amount: Decimal


def list_refunds_due(store: Store) -> list[RefundDue]:
    orders = (
        Order.objects.filter(store=store, paid_amount__gt=F("refunded_amount") + F("total_amount"))
        .select_related("assignee")
        .order_by("updated_at")
    )
    return [RefundDue(order, order.refund_due_amount) for order in orders]
