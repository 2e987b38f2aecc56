"""Payment, independent of picking: the shopper may pay before the items are staged."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.orders.actions._common import fetch, refuse
from shelfcall.orders.errors import AlreadyPaid, NothingToRefund
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderStatus, PaymentStatus

_PAYABLE = Order.objects.exclude(status__in=[OrderStatus.CANCELLED, OrderStatus.EXPIRED])


@transaction.atomic
def mark_paid(order_id: int, *, by: Actor, reference: str = "") -> Order:
    """The till, the POS API or an associate confirms the order's current total was paid."""
    now = clock.now()
    won = _PAYABLE.filter(pk=order_id, payment_status=PaymentStatus.UNPAID).update(
        payment_status=PaymentStatus.PAID,
        paid_amount=F("total_amount"),
        payment_reference=reference.strip()[:120],
        paid_at=now,
        updated_at=now,
    )
    order = fetch(order_id)
    if not won:
        if order.payment_status != PaymentStatus.UNPAID:
            raise AlreadyPaid(order.number)
        refuse(order, pgettext("order action", "paid"))
    record(order, EventType.PAID, actor=by, amount=str(order.paid_amount), reference=order.payment_reference)
    return order


@transaction.atomic
def refund_order(order_id: int, *, by: Actor, amount: Decimal, reference: str = "") -> Order:
    """Settle (part of) a refund: short picks, rejected lines, a cancelled paid order."""
    refunded_after = F("refunded_amount") + amount
    won = amount > 0 and Order.objects.filter(
        pk=order_id,
        payment_status__in=[PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED],
        paid_amount__gte=refunded_after,
    ).update(
        refunded_amount=refunded_after,
        payment_status=Case(
            When(paid_amount=refunded_after, then=Value(PaymentStatus.REFUNDED)),
            default=Value(PaymentStatus.PARTIALLY_REFUNDED),
        ),
        updated_at=clock.now(),
    )
    order = fetch(order_id)
    if not won:
        refundable = max(order.paid_amount - order.refunded_amount, Decimal("0"))
        raise NothingToRefund(format_money(refundable, order.currency))
    record(order, EventType.REFUNDED, actor=by, amount=str(amount), reference=reference.strip()[:120])
    return order
