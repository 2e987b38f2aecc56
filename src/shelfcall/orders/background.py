"""The lifecycle's timers on the background worker: collection reminders and expiries (orders/timers.py).

They share the "timers" thread with notify's escalations, after them in each pass: an escalation
level that cancels an order sets its expiry, which the same pass then fires.
"""

from shelfcall.core.jobs import registry
from shelfcall.orders import timers

registry.periodic(
    "orders.reminders", timers.remind_due, next_due=timers.next_reminder_at, thread=registry.TIMERS, step=1
)
registry.periodic("orders.expiries", timers.expire_due, next_due=timers.next_expiry_at, thread=registry.TIMERS, step=2)
