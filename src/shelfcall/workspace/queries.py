"""Reads for the associate's screens: each a fixed number of queries, however long the queue."""

import string
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.contrib.auth.models import User
from django.db.models import Case, F, Func, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Replace
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.core.numbers import parse_number
from shelfcall.orders.models import (
    BARCODE_PREFIX,
    OPEN_STATUSES,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from shelfcall.stores.models import Store

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
    number = parse_number(text.upper().removeprefix(BARCODE_PREFIX))
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
    number = parse_number(code.strip().upper().removeprefix(BARCODE_PREFIX))
    if number is None:
        return None
    return Order.objects.filter(store=store, number=number).select_related("assignee", "drop_zone").first()


def get_order_lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).select_related("product", "substitute_for"))


def list_timeline(order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).select_related("actor").order_by("pk")


def list_order_messages(order: Order) -> QuerySet:
    """What was sent about this order, to whom, and how it went (one query)."""
    from shelfcall.notify.models import OutboxMessage

    return OutboxMessage.objects.filter(order=order).select_related("channel").order_by("pk")


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


def last_store_event_id(store: Store) -> int:
    last = OrderEvent.objects.filter(order__store=store).order_by("-pk").values_list("pk", flat=True).first()
    return last or 0
