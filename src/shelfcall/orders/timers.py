"""Fires the order timers that belong to the lifecycle: collection reminders, expiries, and the store's
default answer to substitutes the shopper did not answer in time. Timers are order columns; the
escalations' firing is notify's (notify/sweeper.py), on the same helpers.

Reminders and expiries are fired one order at a time: each pass lists a batch of due orders, then
locks each one (FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers share the timers) for the
one action that fires it, whose conditional update makes it happen once. After a restart the due
rows are simply still due: they fire on the first pass.

A firing that fails with a bug (anything but a domain refusal or the database going away) would
otherwise fail the same pass forever, since the same order is due first every time: that timer is
set aside (hooks.on_timer_set_aside: notify keeps it for admins, who may fire it again) and the
others fire.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from shelfcall.core import clock
from shelfcall.core.errors import DATABASE_UNAVAILABLE, ShelfcallError
from shelfcall.core.jobs.loop import once_per_pass
from shelfcall.orders import actions, hooks
from shelfcall.orders.models import OPEN_STATUSES, Order, OrderStatus

log = logging.getLogger(__name__)
ONE_BY_ONE_BATCH = 100  # orders fired one action each per pass: keeps each pass's locks short

# Each timer column, and the orders whose timer it is: it fires once due.
TIMERS = {
    "next_escalation_at": Q(status=OrderStatus.SUBMITTED),
    "remind_at": Q(status=OrderStatus.READY),
    "expires_at": Q(status__in=OPEN_STATUSES),
    "substitute_due_at": Q(status__in=[OrderStatus.SUBMITTED, OrderStatus.PICKING]),
}


def due(timer: str, now: datetime) -> QuerySet[Order]:
    return Order.objects.filter(TIMERS[timer], **{f"{timer}__lte": now})


def first_due_at(timer: str) -> datetime | None:
    """When this timer next falls due on any order: of the four timers' read, which the worker's
    timers thread shares in each pass (its escalations, reminders, expiries and substitutes ask)."""
    return _first_due_of_each()[timer]


@once_per_pass
def _first_due_of_each() -> dict[str, datetime | None]:
    """One statement: a small index read per timer, each a subquery (on any one order row: with no
    order at all, no timer is due)."""
    firsts = {
        f"first_{timer}": Subquery(
            Order.objects.filter(condition, **{f"{timer}__isnull": False}).order_by(timer).values(timer)[:1]
        )
        for timer, condition in TIMERS.items()
    }
    row = Order.objects.order_by().values(**firsts).first()
    return {timer: row[f"first_{timer}"] if row else None for timer in TIMERS}


def next_reminder_at() -> datetime | None:
    return first_due_at("remind_at")


def next_expiry_at() -> datetime | None:
    return first_due_at("expires_at")


def next_substitute_due_at() -> datetime | None:
    return first_due_at("substitute_due_at")


def remind_due(*, batch: int = ONE_BY_ONE_BATCH) -> int:
    """Remind the shoppers of due staged orders (the first reminder, then the expiry warning); how many."""
    return fire_one_by_one(due("remind_at", clock.now()), "remind_at", _remind, batch)


def expire_due(*, batch: int = ONE_BY_ONE_BATCH) -> int:
    """Expire the due orders nobody claimed or collected in time, releasing their stock; how many."""
    return fire_one_by_one(due("expires_at", clock.now()), "expires_at", _expire, batch)


def answer_due_substitutes(*, batch: int = ONE_BY_ONE_BATCH) -> int:
    """Give the store's default answer to the substitutes nobody answered in time; how many orders."""
    return fire_one_by_one(due("substitute_due_at", clock.now()), "substitute_due_at", _answer_substitutes, batch)


def _answer_substitutes(order: Order) -> None:
    actions.apply_substitute_defaults(order.pk)


def _remind(order: Order) -> None:
    reminder = hooks.timer_policy.collection_reminder(
        order.store_id, order.reminders_sent, order.expires_at, clock.now()
    )
    actions.remind_to_collect(order.pk, kind=reminder.kind, next_at=reminder.next_at)


def _expire(order: Order) -> None:
    if order.status == OrderStatus.SUBMITTED:
        reason = _("Nobody could take your request in time; the items went back on the shelf.")
    else:
        reason = _("Not collected in time; the items went back on the shelf.")
    actions.expire_order(order.pk, reason=reason)


def fire_one_by_one(due: QuerySet[Order], timer: str, fire_one: Callable[[Order], object], batch: int) -> int:
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
        _set_aside(order_id, timer, bug)
    return 0


def _set_aside(order_id: int, timer: str, bug: Exception) -> None:
    with transaction.atomic():
        due_at = actions.set_timer_aside(order_id, timer)
        error = f"{type(bug).__name__}: {bug}"
        for callback in hooks.timer_set_aside_callbacks:
            callback(order_id, timer, due_at, error)
