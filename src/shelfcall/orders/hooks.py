"""What other domains plug into orders, without orders importing them.

- Timers: the order's timer columns (next_escalation_at, remind_at, expires_at) are written by the
  order actions; *when* they fall due is the store's policy, asked of the registered TimerPolicy.
- Event subscribers run inside the business transaction right after events are recorded, so
  what they write (outbox messages) commits or rolls back with the change itself.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol


class TimerPolicy(Protocol):
    def first_escalation_at(self, store_id: int, team_id: int | None, since: datetime) -> datetime | None: ...

    def collection_timers(self, store_id: int, staged_at: datetime) -> dict[str, datetime | None]: ...


class NoTimers:
    def first_escalation_at(self, store_id: int, team_id: int | None, since: datetime) -> datetime | None:
        return None

    def collection_timers(self, store_id: int, staged_at: datetime) -> dict[str, datetime | None]:
        return {"remind_at": None, "expires_at": None}


timer_policy: TimerPolicy = NoTimers()
# Each subscriber gets the (event, order) pairs recorded together: one for an action, many for a batch of timers.
EventSubscriber = Callable[[Sequence[tuple[Any, Any]]], None]
event_subscribers: list[EventSubscriber] = []


def use_timer_policy(policy: TimerPolicy) -> None:
    global timer_policy
    timer_policy = policy


def subscribe(callback: EventSubscriber) -> None:
    """`callback([(event, order), …])` runs inside the transaction that recorded the events."""
    if callback not in event_subscribers:
        event_subscribers.append(callback)


def notify_subscribers(recorded: Sequence[tuple[Any, Any]]) -> None:
    for callback in event_subscribers:
        callback(recorded)


# Cleared whenever an order leaves the state its timers were for.
NO_TIMERS: dict[str, Any] = {"next_escalation_at": None, "remind_at": None, "expires_at": None}
