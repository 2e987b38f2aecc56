"""Fires due timers: escalations, collection reminders, expiries. Timers are order columns.

Each pass locks a batch of due orders with FOR UPDATE SKIP LOCKED (PostgreSQL) so several workers
share the timers, and each firing is an order action whose conditional update makes it happen once.
Escalations, which can fall due by the thousand in a rush, are fired a whole batch per action.
After a restart the due rows are simply still due: they fire on the first pass.

A firing that fails with a bug (anything but a domain refusal or the database going away) would
otherwise fail the same pass forever, since the same order is due first every time: that timer is
set aside (QuarantinedTimer, shown in the admin) and the others fire. Locks are short: reminders and
expiries lock one order at a time, for the one action that fires it.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.errors import DATABASE_UNAVAILABLE, ShelfcallError
from shelfcall.notify import policies
from shelfcall.notify.models import QuarantinedTimer
from shelfcall.orders import actions
from shelfcall.orders.errors import OrdersMoved
from shelfcall.orders.models import OPEN_STATUSES, Order, OrderStatus

log = logging.getLogger(__name__)
BATCH = 500  # escalations fired together in one transaction (a few tenths of a second at most)
ONE_BY_ONE_BATCH = 100  # reminders and expiries, one action each: keeps each pass's locks short


# Each timer column, and the orders whose timer it is: it fires once due.
TIMERS = {
    "next_escalation_at": Q(status=OrderStatus.SUBMITTED),
    "remind_at": Q(status=OrderStatus.READY),
    "expires_at": Q(status__in=OPEN_STATUSES),
}


def sweep(*, batch: int = BATCH) -> int:
    """One pass over every kind of timer; returns how many fired."""
    now = clock.now()
    small_batch = min(batch, ONE_BY_ONE_BATCH)
    return (
        _escalate_due(now, batch)
        + _fire_one_by_one(_due("remind_at", now), "remind_at", _remind, small_batch)
        + _fire_one_by_one(_due("expires_at", now), "expires_at", _expire, small_batch)
    )


def next_timer_at() -> datetime | None:
    """When the earliest timer falls due (one small index read per timer column)."""
    firsts = [
        Order.objects.filter(condition, **{f"{timer}__isnull": False})
        .order_by(timer)
        .values_list(timer, flat=True)
        .first()
        for timer, condition in TIMERS.items()
    ]
    return min((due for due in firsts if due is not None), default=None)


def _due(timer: str, now: datetime) -> QuerySet[Order]:
    return Order.objects.filter(TIMERS[timer], **{f"{timer}__lte": now})


def _escalate_due(now: datetime, batch: int) -> int:
    """Set-based: the due orders are locked and read once with what their alerts show, then raised together."""
    due = (
        _due("next_escalation_at", now)
        .select_related("store", "team")
        .prefetch_related("lines")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_escalation_at")
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
        return _fire_one_by_one(_due("next_escalation_at", now), "next_escalation_at", _escalate, batch)
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


def _fire_one_by_one(due: QuerySet[Order], timer: str, fire_one: Callable[[Order], object], batch: int) -> int:
    order_ids = list(due.order_by(timer).values_list("pk", flat=True)[:batch])
    return sum(_fire_locked(due, timer, order_id, fire_one) for order_id in order_ids)


def _fire_locked(due: QuerySet[Order], timer: str, order_id: int, fire_one: Callable[[Order], object]) -> int:
    """Lock the order (if still due and no other worker has it), fire its timer, commit: 1 if it fired."""
    try:
        with transaction.atomic():
            order = due.select_for_update(skip_locked=True, of=("self",)).filter(pk=order_id).first()
            if order is None:
                return 0
            fire_one(order)
            return 1
    except ShelfcallError as refused:  # moved on meanwhile (claimed, collected): nothing to fire
        log.info("Timer %s of order %s not fired: %s", timer, order_id, refused.code)
    except DATABASE_UNAVAILABLE:
        raise
    except Exception as bug:
        log.exception("Timer %s of order %s failed; setting it aside", timer, order_id)
        _quarantine(order_id, timer, bug)
    return 0


def _quarantine(order_id: int, timer: str, bug: Exception) -> None:
    with transaction.atomic():
        due_at = actions.set_timer_aside(order_id, timer)
        QuarantinedTimer.objects.update_or_create(
            order_id=order_id,
            timer=timer,
            defaults={"due_at": due_at, "error": f"{type(bug).__name__}: {bug}"[:300], "quarantined_at": clock.now()},
        )


def try_again(quarantined: QuerySet[QuarantinedTimer]) -> int:
    """An admin fixed the cause: the timers fire on the next pass."""
    count = 0
    for entry in quarantined:
        with transaction.atomic():
            actions.restore_timer(entry.order_id, entry.timer)
            entry.delete()
        count += 1
    return count


def _remind(order: Order) -> None:
    kind, next_at = policies.collection_reminder(order.store_id, order.reminders_sent, order.expires_at, clock.now())
    actions.remind_to_collect(order.pk, kind=kind, next_at=next_at)


def _expire(order: Order) -> None:
    if order.status == OrderStatus.SUBMITTED:
        reason = _("Nobody could take your request in time; the items went back on the shelf.")
    else:
        reason = _("Not collected in time; the items went back on the shelf.")
    actions.expire_order(order.pk, reason=reason)
