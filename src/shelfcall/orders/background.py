"""The lifecycle's timers on the background worker: collection reminders, expiries and unanswered
substitutes (orders/timers.py).

They share the "timers" thread with notify's escalations, after them in each pass: an escalation
level that cancels an order sets its expiry, which the same pass then fires.
"""

from shelfcall.core.jobs import registry
from shelfcall.orders import timers

registry.periodic(
    "orders.reminders",
    timers.remind_due,
    next_due=timers.next_reminder_at,
    thread=registry.TIMERS,
    step=1,
    woken_by=registry.TIMER_WAKEUPS,
)
registry.periodic(
    "orders.expiries",
    timers.expire_due,
    next_due=timers.next_expiry_at,
    thread=registry.TIMERS,
    step=2,
    woken_by=registry.TIMER_WAKEUPS,
)
registry.periodic(
    "orders.substitutes",
    timers.answer_due_substitutes,
    next_due=timers.next_substitute_due_at,
    thread=registry.TIMERS,
    step=3,
    woken_by=registry.TIMER_WAKEUPS,
)
