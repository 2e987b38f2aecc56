"""Payment, independent of picking: the shopper may pay before the items are staged."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.orders.actions._common import fetch, refuse
from shelfcall.orders.errors import AlreadyPaid, NothingToRefund
from shelfcall.orders.event_payloads import as_amount
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, OrderStatus, PaymentStatus

_PAYABLE = Order.objects.exclude(status__in=[OrderStatus.CANCELLED, OrderStatus.EXPIRED])
_REFUNDABLE = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)
CENT = Decimal("0.01")


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
    record(order, EventType.PAID, actor=by, amount=as_amount(order.paid_amount), reference=order.payment_reference)
    return order


@dataclass(frozen=True)
class Refund:
    order: Order
    amount: Decimal


@transaction.atomic
def refund_order(order_id: int, *, by: Actor, amount: Decimal | None = None, reference: str = "") -> Refund:
    """Settle (part of) the refund due: short picks, rejected lines, a cancelled paid order.

    `amount` None settles all that is due. What is due is read under the order's row lock: a second
    press at the same moment (another web process) waits, then sees the first refund and is refused.
    """
    order = fetch(order_id, lock=True)
    due = order.refund_due_amount if order.payment_status in _REFUNDABLE else Decimal("0")
    refund = due if amount is None else amount
    if not (refund.is_finite() and CENT <= refund <= due and refund == refund.quantize(CENT)):
        raise NothingToRefund(format_money(due, order.currency))
    order.refunded_amount += refund
    order.payment_status = (
        PaymentStatus.REFUNDED if order.refunded_amount == order.paid_amount else PaymentStatus.PARTIALLY_REFUNDED
    )
    order.updated_at = clock.now()
    Order.objects.filter(pk=order_id).update(
        refunded_amount=order.refunded_amount, payment_status=order.payment_status, updated_at=order.updated_at
    )
    record(order, EventType.REFUNDED, actor=by, amount=as_amount(refund), reference=reference.strip()[:120])
    return Refund(order, refund)
