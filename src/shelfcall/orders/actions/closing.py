"""Ending an order early: cancelled by someone, or expired by the timers. Its stock goes back."""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.orders import hooks, reservations
from shelfcall.orders.actions._common import STAFF_CAN_CLOSE, flag_refund_due, move
from shelfcall.orders.events import SYSTEM, Actor, EventType, record
from shelfcall.orders.models import Order, OrderStatus, ReservationReason

# Once an associate is picking, the shopper asks at the desk instead of cancelling alone.
SHOPPER_CAN_CANCEL = (OrderStatus.SUBMITTED,)


def close_order(
    order: Order,
    *,
    status: OrderStatus,
    by: Actor,
    reason: str,
    from_statuses: Iterable[str] = STAFF_CAN_CLOSE,
) -> Order:
    """Cancel or expire inside the caller's transaction: release every held unit, record, flag refunds."""
    closed = move(
        order.pk,
        from_statuses=from_statuses,
        attempted=status.label.lower(),
        actor=by,
        status=status,
        closed_at=clock.now(),
        cancel_reason=reason[:200],
        total_amount=Decimal("0"),
        **hooks.NO_TIMERS,
    )
    cancelled = status == OrderStatus.CANCELLED
    reason_kind = ReservationReason.CANCELLED if cancelled else ReservationReason.EXPIRED
    reservations.release_all(order.pk, reason=reason_kind, by=by)
    event_type = EventType.CANCELLED if cancelled else EventType.EXPIRED
    record(closed, event_type, actor=by, reason=closed.cancel_reason)
    flag_refund_due(closed, by)
    return closed


@transaction.atomic
def cancel_order(order_id: int, *, by: Actor, reason: str = "") -> Order:
    shopper = by.kind == "shopper"
    return close_order(
        Order(pk=order_id),
        status=OrderStatus.CANCELLED,
        by=by,
        reason=reason or (_("Cancelled by the shopper.") if shopper else ""),
        from_statuses=SHOPPER_CAN_CANCEL if shopper else STAFF_CAN_CLOSE,
    )


@transaction.atomic
def expire_order(order_id: int, *, reason: str) -> Order:
    """Called by the timers for orders nobody collected (or nobody claimed) in time."""
    return close_order(Order(pk=order_id), status=OrderStatus.EXPIRED, by=SYSTEM, reason=reason)
