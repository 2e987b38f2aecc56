"""What the sweeper does when an order's timer falls due: escalate, remind. Expiry is closing.expire_order.

Each is a conditional update on the timer itself, so two sweepers racing for one timer fire it once.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.orders import hooks, policy
from shelfcall.orders.actions._common import fetch, move
from shelfcall.orders.errors import ContactMissing, OrdersMoved
from shelfcall.orders.events import SYSTEM, Actor, EventType, record, record_many
from shelfcall.orders.models import Order, OrderEvent, OrderStatus
from shelfcall.orders.policy import OrderAction


@dataclass(frozen=True)
class DueEscalation:
    """An order whose escalation timer fell due, and when its next level falls due after its creation
    (None: this is the last level). `expires`: this level cancels the order, so it expires at once."""

    order: Order
    next_after: timedelta | None
    expires: bool = False


@transaction.atomic
def escalate_orders(due: Sequence[DueEscalation]) -> list[OrderEvent]:
    """Nobody has started picking these orders: raise each one escalation level and set its next timer.

    The caller has locked the orders (FOR UPDATE on PostgreSQL; SQLite's write transaction) and loaded
    them with their store and team. One UPDATE per (level, next delay) and one INSERT of events, so a
    sweeper keeps up with thousands of timers falling due in the same second. Should an order have moved
    on all the same, nothing is written and OrdersMoved is raised: the next pass reads them afresh.
    An order whose level cancels it gets its expiry set to when that level fell due: the sweeper's
    expiry pass, right after, expires it and releases its stock like any expiry.
    """
    now = clock.now()
    groups: dict[tuple[int, timedelta | None, bool], list[Order]] = defaultdict(list)
    for item in due:
        groups[(item.order.escalation_level + 1, item.next_after, item.expires)].append(item.order)
    for (level, next_after, expires), orders in groups.items():
        timers: dict[str, Any] = {"next_escalation_at": None if next_after is None else F("created_at") + next_after}
        if expires:
            timers["expires_at"] = F("next_escalation_at")
        raised = Order.objects.filter(
            pk__in=[order.pk for order in orders],
            status=OrderStatus.SUBMITTED,
            escalation_level=level - 1,
            next_escalation_at__lte=now,
        ).update(escalation_level=level, updated_at=now, **timers)
        if raised != len(orders):
            raise OrdersMoved(len(orders) - raised)
        hooks.timers_written(timers)
        for order in orders:
            order.escalation_level, order.updated_at = level, now
            if expires:
                order.expires_at = order.next_escalation_at
            order.next_escalation_at = None if next_after is None else order.created_at + next_after
    return record_many(
        [
            (
                order,
                EventType.ESCALATED,
                {"level": order.escalation_level, "waited_minutes": order.minutes_waiting(now)},
            )
            for order in (item.order for item in due)
        ],
        actor=SYSTEM,
    )


@transaction.atomic
def remind_to_collect(order_id: int, *, kind: str, next_at: datetime | None) -> Order:
    """A staged order waits: remind the shopper (`kind` is "reminder" or "expiry_warning")."""
    order = move(
        order_id,
        from_statuses=[OrderStatus.READY],
        attempted=pgettext("order action", "reminded"),
        condition=Q(remind_at__lte=clock.now()),
        remind_at=next_at,
        reminders_sent=F("reminders_sent") + 1,
    )
    record(order, EventType.REMINDED, actor=SYSTEM, kind=kind)
    return order


@transaction.atomic
def resend_ready_message(order_id: int, *, by: Actor) -> Order:
    """An associate asks for the "ready for pickup" message to go out again (the shopper lost it)."""
    order = fetch(order_id)
    policy.require(by, order, OrderAction.RESEND)
    order = move(order_id, from_statuses=[OrderStatus.READY], action=OrderAction.RESEND, actor=by, current=order)
    record(order, EventType.MESSAGE_RESENT, actor=by, purpose="ready")
    return order


@transaction.atomic
def send_status_link(order_id: int, *, by: Actor, via: str | None = None) -> Order:
    """Customer service sends the shopper the link to their order's status page again, by SMS or email
    (`via`; None: every contact the order has), through notify's outbox."""
    order = fetch(order_id)
    policy.require(by, order, OrderAction.SEND_STATUS_LINK)
    contact = {"sms": order.shopper_phone, "email": order.shopper_email}
    if via is not None and not contact.get(via):
        raise ContactMissing(order.number, via)
    record(order, EventType.MESSAGE_RESENT, actor=by, purpose="status", via=via)
    return order


TIMER_COLUMNS = ("next_escalation_at", "remind_at", "expires_at", "substitute_due_at")


@transaction.atomic
def set_timer_aside(order_id: int, timer: str) -> datetime | None:
    """Stop one timer of an order from firing (its firing fails with a bug); returns when it was due.

    The order itself is left as it is: the shopper and the associates see nothing, an admin decides.
    """
    if timer not in TIMER_COLUMNS:
        raise ValueError(f"not a timer: {timer}")
    due = Order.objects.select_for_update().filter(pk=order_id).values_list(timer, flat=True).first()
    Order.objects.filter(pk=order_id).update(**{timer: None})
    return due


@transaction.atomic
def restore_timer(order_id: int, timer: str) -> None:
    """Let a set-aside timer fire again, now (the sweeper's conditions still decide whether it does)."""
    if timer not in TIMER_COLUMNS:
        raise ValueError(f"not a timer: {timer}")
    restored = {timer: clock.now()}
    Order.objects.filter(pk=order_id).update(**restored)
    hooks.timers_written(restored)  # due now: the worker's timers must not rest until their next one
