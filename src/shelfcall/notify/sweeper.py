"""Fires due escalations: nobody has started on an order, so the next level of its store's policy is told.

Escalations can fall due by the thousand in a rush, so they are fired a whole batch per action: a
pass locks up to BATCH due orders with FOR UPDATE SKIP LOCKED (PostgreSQL, so several workers share
them) and raises them together; the conditional update makes each level fire once. Collection
reminders and expiries are the lifecycle's, fired by orders/timers.py on the same helpers (and the
same "timers" thread of the worker, see notify/background.py).

A batch that fails with a bug is fired again one order at a time, to find the order at fault: its
timer is set aside (QuarantinedTimer, shown in the admin) and the others fire.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet

from shelfcall.core import clock
from shelfcall.core.errors import DATABASE_UNAVAILABLE
from shelfcall.notify import policies
from shelfcall.notify.models import QuarantinedTimer
from shelfcall.orders import actions, timers
from shelfcall.orders.errors import OrdersMoved
from shelfcall.orders.models import Order

log = logging.getLogger(__name__)
BATCH = 500  # escalations fired together in one transaction (a few tenths of a second at most)
TIMER = "next_escalation_at"


def next_escalation_at() -> datetime | None:
    return timers.first_due_at(TIMER)


def escalate_due(*, batch: int = BATCH) -> int:
    """Set-based: the due orders are locked and read once with what their alerts show, then raised
    together; returns how many were raised."""
    now = clock.now()
    due = (
        timers.due(TIMER, now)
        .select_related("store", "team")
        .prefetch_related("lines")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by(TIMER)
    )
    try:
        with transaction.atomic():
            orders = list(due[:batch])
            if not orders:
                return 0
            actions.escalate_orders([_due_escalation(order) for order in orders])
    except OrdersMoved as refused:  # cannot happen while the rows are locked; the next pass retries
        log.warning("Escalation batch not fired: %s", refused.message)
        return 0
    except DATABASE_UNAVAILABLE:
        raise
    except Exception:
        log.exception("Escalation batch failed; firing its orders one by one to find the one at fault")
        return timers.fire_one_by_one(timers.due(TIMER, now), TIMER, _escalate, batch)
    return len(orders)


def _escalate(order: Order) -> None:
    actions.escalate_orders([_due_escalation(order)])


def _due_escalation(order: Order) -> actions.DueEscalation:
    levels = policies.for_store(order.store_id).escalation_levels(order.team_id)
    falling = order.escalation_level  # index of the level falling due now
    if falling < len(levels) and levels[falling].cancels:  # the last level it will see: it expires now
        return actions.DueEscalation(order, None, expires=True)
    following = falling + 1
    return actions.DueEscalation(
        order, timedelta(minutes=levels[following].after_minutes) if following < len(levels) else None
    )


def remember_set_aside(order_id: int, timer: str, due_at: datetime | None, error: str) -> None:
    """orders.hooks.on_timer_set_aside: keep the timer for admins (in the transaction that set it aside)."""
    QuarantinedTimer.objects.update_or_create(
        order_id=order_id,
        timer=timer,
        defaults={"due_at": due_at, "error": error[:300], "quarantined_at": clock.now()},
    )


def try_again(quarantined: QuerySet[QuarantinedTimer]) -> int:
    """An admin fixed the cause: the timers fire at once (each is restored as due now, which wakes the
    worker's timers like any timer set)."""
    count = 0
    for entry in quarantined:
        with transaction.atomic():
            actions.restore_timer(entry.order_id, entry.timer)
            entry.delete()
        count += 1
    return count
