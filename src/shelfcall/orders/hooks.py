"""What other domains plug into orders, without orders importing them.

- Timers: the order's timer columns (next_escalation_at, remind_at, expires_at) are written by the
  order actions; *when* they fall due is the store's policy, asked of the registered TimerPolicy.
- Event subscribers run inside the business transaction right after each event is recorded, so
  what they write (outbox messages) commits or rolls back with the change itself.
"""

from collections.abc import Callable
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
event_subscribers: list[Callable[[Any, Any], None]] = []


def use_timer_policy(policy: TimerPolicy) -> None:
    global timer_policy
    timer_policy = policy


def subscribe(callback: Callable[[Any, Any], None]) -> None:
    """`callback(event, order)` runs inside the transaction that recorded the event."""
    if callback not in event_subscribers:
        event_subscribers.append(callback)


def notify_subscribers(event: Any, order: Any) -> None:
    for callback in event_subscribers:
        callback(event, order)


# Cleared whenever an order leaves the state its timers were for.
NO_TIMERS = {"next_escalation_at": None, "remind_at": None, "expires_at": None}
