"""Notify's work on the background worker: escalations (first in each pass of the timers thread,
before orders' reminders and expiries), the outbox's deliveries, and the worker's wake-ups."""

from shelfcall.core.jobs import registry
from shelfcall.notify import sweeper, wakeup
from shelfcall.notify.worker import deliver_due, next_message_at
from shelfcall.orders import hooks

registry.use_wakeups(wakeup)
registry.periodic(
    "notify.escalations",
    sweeper.escalate_due,
    next_due=sweeper.next_escalation_at,
    thread=registry.TIMERS,
    step=0,
    woken_by=registry.TIMER_WAKEUPS,
)
registry.periodic(
    "notify.deliveries",
    deliver_due,
    next_due=next_message_at,
    thread="deliveries",
    woken_by=frozenset({registry.MESSAGES_QUEUED, registry.QUEUED_WORK}),
)
hooks.on_timer_set_aside(sweeper.remember_set_aside)
