"""What the sweeper does when an order's timer falls due: escalate, remind. Expiry is closing.expire_order.

Each is a conditional update on the timer itself, so two sweepers racing for one timer fire it once.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import pgettext

from shelfcall.core import clock
from shelfcall.orders.actions._common import move
from shelfcall.orders.events import SYSTEM, Actor, EventType, record
from shelfcall.orders.models import Order, OrderStatus


@transaction.atomic
def escalate_order(order_id: int, *, level: int, next_at: datetime | None) -> Order:
    """Nobody has started picking: raise the order to escalation `level` and set the next timer."""
    order = move(
        order_id,
        from_statuses=[OrderStatus.SUBMITTED],
        attempted=pgettext("order action", "escalated"),
        condition=Q(next_escalation_at__lte=clock.now(), escalation_level=level - 1),
        escalation_level=level,
        next_escalation_at=next_at,
    )
    waited = int((clock.now() - order.created_at).total_seconds() // 60)
    record(order, EventType.ESCALATED, actor=SYSTEM, level=level, waited_minutes=waited)
    return order


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
    order = move(
        order_id, from_statuses=[OrderStatus.READY], attempted=pgettext("order action", "sent again"), actor=by
    )
    record(order, EventType.MESSAGE_RESENT, actor=by, purpose="ready")
    return order
