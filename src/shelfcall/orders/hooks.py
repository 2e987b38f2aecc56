"""What other domains plug into orders, without orders importing them.

- Timers: the order's timer columns (next_escalation_at, remind_at, expires_at, substitute_due_at) are
  written by the order actions; *when* they fall due is the store's policy, asked of the registered
  TimerPolicy. An action that sets or moves one tells the TimersSet callbacks (`timers_written`: notify
  wakes the worker's timers). A timer whose firing fails with a bug is set aside (orders/timers.py) and
  reported to the TimerSetAside callbacks (notify keeps it for admins).
- Event subscribers run inside the business transaction right after events are recorded, so
  what they write (outbox messages) commits or rolls back with the change itself.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class DueReminder:
    """The collection reminder falling due ("reminder" or "expiry_warning"), and when the next one is."""

    kind: str
    next_at: datetime | None = None


class TimerPolicy(Protocol):
    def first_escalation_at(self, store_id: int, team_id: int | None, since: datetime) -> datetime | None: ...

    def collection_timers(self, store_id: int, staged_at: datetime) -> dict[str, datetime | None]: ...

    def collection_reminder(
        self, store_id: int, reminders_sent: int, expires_at: datetime | None, now: datetime
    ) -> DueReminder: ...


class NoTimers:
    def first_escalation_at(self, store_id: int, team_id: int | None, since: datetime) -> datetime | None:
        return None

    def collection_timers(self, store_id: int, staged_at: datetime) -> dict[str, datetime | None]:
        return {"remind_at": None, "expires_at": None}

    def collection_reminder(
        self, store_id: int, reminders_sent: int, expires_at: datetime | None, now: datetime
    ) -> DueReminder:
        return DueReminder("expiry_warning" if reminders_sent else "reminder")


timer_policy: TimerPolicy = NoTimers()
# Each subscriber gets the (event, order) pairs recorded together: one for an action, many for a batch of timers.
EventSubscriber = Callable[[Sequence[tuple[Any, Any]]], None]
event_subscribers: list[EventSubscriber] = []
# (order id, timer column, when it was due, the error): runs inside the transaction that set it aside.
TimerSetAside = Callable[[int, str, datetime | None, str], None]
timer_set_aside_callbacks: list[TimerSetAside] = []
# Runs inside the transaction that set or moved a timer of an order.
TimersSet = Callable[[], None]
timers_set_callbacks: list[TimersSet] = []


def use_timer_policy(policy: TimerPolicy) -> None:
    global timer_policy
    timer_policy = policy


def subscribe(callback: EventSubscriber) -> None:
    """`callback([(event, order), …])` runs inside the transaction that recorded the events."""
    if callback not in event_subscribers:
        event_subscribers.append(callback)


def on_timer_set_aside(callback: TimerSetAside) -> None:
    if callback not in timer_set_aside_callbacks:
        timer_set_aside_callbacks.append(callback)


def on_timers_set(callback: TimersSet) -> None:
    if callback not in timers_set_callbacks:
        timers_set_callbacks.append(callback)


def timers_written(changes: Mapping[str, Any]) -> None:
    """`changes` were just written to an order (or several): tell the TimersSet callbacks if they set or
    moved a timer. A timer cleared (None) needs no one told: whoever waits for it finds it gone."""
    if any(changes.get(timer) is not None for timer in NO_TIMERS):
        for callback in timers_set_callbacks:
            callback()


def notify_subscribers(recorded: Sequence[tuple[Any, Any]]) -> None:
    for callback in event_subscribers:
        callback(recorded)


# Cleared whenever an order leaves the state its timers were for.
NO_TIMERS: dict[str, Any] = {
    "next_escalation_at": None,
    "remind_at": None,
    "expires_at": None,
    "substitute_due_at": None,
}
