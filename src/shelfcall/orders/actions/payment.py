"""Payments are a list: each deposit, part, balance and refund is a Payment row; the order keeps their sums.

Payment is independent of picking: the shopper may pay before the items are staged. Every write reads
what is owed (or due back) under the order's row lock, so two tills taking the last balance at the same
moment cannot both succeed: the second waits, then sees the first payment and is refused.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from shelfcall.core import clock
from shelfcall.core.money import format_money
from shelfcall.orders import policy
from shelfcall.orders.actions._common import fetch, fetch_with_lines
from shelfcall.orders.compiled import CompiledInsert, CompiledSet
from shelfcall.orders.errors import InvalidAmount, NothingToRefund, Overpayment, WrongCurrency
from shelfcall.orders.event_payloads import as_amount
from shelfcall.orders.events import Actor, EventType, record
from shelfcall.orders.models import Order, Payment, PaymentKind, PaymentMethod, PaymentStatus
from shelfcall.orders.policy import OrderAction

CENT = Decimal("0.01")

_INSERT_PAYMENT = CompiledInsert(Payment)
# What each payment or refund writes on its order (its row locked): compiled once (orders/compiled.py).
_SUMS = ("paid_amount", "refunded_amount", "payment_status", "paid_at", "updated_at")
_WRITE_SUMS = CompiledSet(lambda order_id: Order.objects.filter(pk=order_id), int, fields=_SUMS)


@dataclass(frozen=True)
class Receipt:
    """The row just recorded, and the order with its new sums and payment status."""

    order: Order
    payment: Payment

    @property
    def amount(self) -> Decimal:
        return self.payment.amount


def is_cent_amount(amount: Decimal) -> bool:
    """At least one cent, in whole cents: no NaN, infinity, zero, negative or 0.001."""
    return amount.is_finite() and amount >= CENT and amount == amount.quantize(CENT)


@transaction.atomic
def record_payment(
    order_id: int,
    *,
    amount: Decimal,
    method: str,
    by: Actor,
    reference: str = "",
    currency: str | None = None,
    within: Q | None = None,
    with_lines: bool = False,
) -> Receipt:
    """A deposit, a part or the rest of what is owed, taken at a till or a self-checkout.

    `currency`, when the caller states one, must be the order's. More than is owed is refused with what is owed.
    `within` (e.g. an API key's stores): an order outside it is OrderNotFound, its row neither read nor locked.
    `with_lines`: the receipt's order comes with its lines, read with it (for a caller that answers with them).
    """
    if not is_cent_amount(amount):
        raise InvalidAmount()
    order = _payable(order_id, by, within, with_lines)
    if currency is not None and currency != order.currency:
        raise WrongCurrency(order.currency)
    if amount > order.owed_amount:
        raise Overpayment(format_money(order.owed_amount, order.currency))
    return _record(order, PaymentKind.PAYMENT, amount, method=method, reference=reference, by=by)


@transaction.atomic
def mark_paid(
    order_id: int,
    *,
    by: Actor,
    method: str = PaymentMethod.OTHER,
    reference: str = "",
    within: Q | None = None,
    with_lines: bool = False,
) -> Receipt:
    """The till, the POS API or an associate confirms the shopper paid all that is still owed."""
    order = _payable(order_id, by, within, with_lines)
    return _record(order, PaymentKind.PAYMENT, order.owed_amount, method=method, reference=reference, by=by)


@transaction.atomic
def refund_order(
    order_id: int,
    *,
    by: Actor,
    amount: Decimal | None = None,
    method: str = PaymentMethod.OTHER,
    reference: str = "",
    within: Q | None = None,
    with_lines: bool = False,
) -> Receipt:
    """Settle (part of) the refund due: short picks, rejected lines, a cancelled paid order.

    `amount` None settles all that is due. What is due is read under the order's row lock: a second
    press at the same moment (another web process) waits, then sees the first refund and is refused.
    """
    order = _locked(order_id, within, with_lines)
    policy.require(by, order, OrderAction.REFUND)
    due = order.refund_due_amount
    refund = due if amount is None else amount
    if not (is_cent_amount(refund) and refund <= due):
        raise NothingToRefund(format_money(due, order.currency))
    return _record(order, PaymentKind.REFUND, refund, method=method, reference=reference, by=by)


def _payable(order_id: int, by: Actor, within: Q | None, with_lines: bool) -> Order:
    """The order, locked, if it can take money now: not closed early, and something still owed."""
    order = _locked(order_id, within, with_lines)
    policy.require(by, order, OrderAction.PAY)
    return order


def _locked(order_id: int, within: Q | None, with_lines: bool) -> Order:
    return fetch_with_lines(order_id, within=within) if with_lines else fetch(order_id, lock=True, within=within)


def _record(order: Order, kind: PaymentKind, amount: Decimal, *, method: str, reference: str, by: Actor) -> Receipt:
    """Add the row, update the order's sums and status, and announce it: under the caller's row lock."""
    now = clock.now()
    if kind == PaymentKind.PAYMENT:
        order.paid_amount += amount
    else:
        order.refunded_amount += amount
    order.payment_status = order.payment_status_by_sums
    if kind == PaymentKind.PAYMENT and order.payment_status == PaymentStatus.PAID:
        order.paid_at = now
    order.updated_at = now
    _WRITE_SUMS.run([order.pk], [getattr(order, field) for field in _SUMS])
    payment = Payment(
        order=order,
        kind=kind,
        amount=amount,
        method=method,
        reference=reference.strip()[:120],
        created_at=now,
        actor_kind=by.kind,
        actor_label=by.label,
    )
    event_type, payload = _announcement(payment)
    payment.event = record(order, event_type, actor=by, **payload)
    _INSERT_PAYMENT.create(payment)
    return Receipt(order, payment)


def _announcement(payment: Payment) -> tuple[EventType, dict[str, str]]:
    """The event and its payload: what was taken or given back, and where the order's balance stands."""
    order = payment.order
    common = {"amount": as_amount(payment.amount), "method": payment.method, "reference": payment.reference}
    if payment.kind == PaymentKind.PAYMENT:
        return EventType.PAID, {
            **common,
            "paid_total": as_amount(order.paid_amount),
            "owed": as_amount(order.owed_amount),
        }
    return EventType.REFUNDED, {
        **common,
        "refunded_total": as_amount(order.refunded_amount),
        "refund_due": as_amount(order.refund_due_amount),
    }
