"""Ending an order early: cancelled by someone, or expired by the timers. Its stock goes back."""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.orders import hooks, policy, reservations
from shelfcall.orders.actions._common import fetch, move, settle_new_total
from shelfcall.orders.events import SYSTEM, Actor, ActorKind, EventType, record
from shelfcall.orders.models import OPEN_STATUSES, Order, OrderStatus, ReservationReason
from shelfcall.orders.policy import OrderAction


def close_order(
    order: Order,
    *,
    status: OrderStatus,
    by: Actor,
    reason: str,
    from_statuses: Iterable[str] = OPEN_STATUSES,
    condition: Q | None = None,
) -> Order:
    """Cancel or expire inside the caller's transaction: release every held unit, record, flag refunds."""
    closed = move(
        order.pk,
        from_statuses=from_statuses,
        attempted=status.label.lower(),
        actor=by,
        condition=condition,
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
    settle_new_total(closed, by)
    return closed


@transaction.atomic
def cancel_order(order_id: int, *, by: Actor, reason: str = "") -> Order:
    """The shopper cancels while nobody picks; staff cancel what they hold or nobody holds, supervisors
    anything open (orders/policy.py)."""
    order = fetch(order_id)
    policy.require(by, order, OrderAction.CANCEL)
    shopper = by.kind == ActorKind.SHOPPER
    return close_order(
        order,
        status=OrderStatus.CANCELLED,
        by=by,
        reason=reason or (_("Cancelled by the shopper.") if shopper else ""),
        from_statuses=policy.statuses_for(OrderAction.CANCEL, by.kind),
        condition=Q(assignee=order.assignee_id),  # still held by whom the policy judged
    )


@transaction.atomic
def expire_order(order_id: int, *, reason: str) -> Order:
    """Called by the timers for orders nobody collected (or nobody claimed) in time."""
    return close_order(Order(pk=order_id), status=OrderStatus.EXPIRED, by=SYSTEM, reason=reason)
