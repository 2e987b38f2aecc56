"""Fires due timers: escalations, collection reminders, expiries. Timers are order columns.

Each pass locks a batch of due orders with FOR UPDATE SKIP LOCKED (PostgreSQL) so several workers
share the timers, and each firing is an order action whose conditional update makes it happen once.
After a restart the due rows are simply still due: they fire on the first pass.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.errors import ShelfcallError
from shelfcall.notify import policies
from shelfcall.orders import actions
from shelfcall.orders.models import OPEN_STATUSES, Order, OrderStatus

log = logging.getLogger(__name__)
BATCH = 500


def sweep(*, batch: int = BATCH) -> int:
    """One pass over every kind of timer; returns how many fired."""
    now = clock.now()
    return (
        _fire(
            Order.objects.filter(status=OrderStatus.SUBMITTED, next_escalation_at__lte=now),
            "next_escalation_at",
            _escalate,
            batch,
        )
        + _fire(Order.objects.filter(status=OrderStatus.READY, remind_at__lte=now), "remind_at", _remind, batch)
        + _fire(Order.objects.filter(status__in=OPEN_STATUSES, expires_at__lte=now), "expires_at", _expire, batch)
    )


def _fire(due: QuerySet[Order], timer: str, fire_one, batch: int) -> int:
    fired = 0
    with transaction.atomic():
        for order in due.select_for_update(skip_locked=True).order_by(timer)[:batch]:
            try:
                with transaction.atomic():
                    fire_one(order)
                fired += 1
            except ShelfcallError as refused:  # moved on meanwhile (claimed, collected): nothing to fire
                log.info("Timer %s of order %s not fired: %s", timer, order.pk, refused.code)
    return fired


def _escalate(order: Order) -> None:
    levels = policies.for_store(order.store_id).escalation_levels(order.team_id)
    level = order.escalation_level + 1
    next_at = order.created_at + timedelta(minutes=levels[level][0]) if level < len(levels) else None
    actions.escalate_order(order.pk, level=level, next_at=next_at)


def _remind(order: Order) -> None:
    kind, next_at = policies.collection_reminder(order.store_id, order.reminders_sent, order.expires_at, clock.now())
    actions.remind_to_collect(order.pk, kind=kind, next_at=next_at)


def _expire(order: Order) -> None:
    actions.expire_order(order.pk, reason=_("Not collected in time; the items went back on the shelf."))
