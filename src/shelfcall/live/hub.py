"""Fan-out of "something happened to order N" to the live streams of this process.

The announcement is only a wake-up call: each stream then reads the events after its last id from
the database, so a lost announcement delays an update until the stream's next poll, never loses it.

Feeding the hub:
- SQLite (one process): `announce()` publishes after the business transaction commits.
- PostgreSQL: a trigger on the event table calls pg_notify inside the business transaction, and
  one LISTEN connection per process (`pg_listener`) publishes what it hears.
"""

import asyncio
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

# The PostgreSQL channel the event table's trigger notifies on (orders/migrations/0002_notify_trigger.py).
CHANNEL = "shelfcall_events"


@dataclass(frozen=True)
class Announcement:
    event_id: int
    order_id: int
    store_id: int
    team_id: int | None

    @property
    def topics(self) -> tuple[str, ...]:
        topics = (order_topic(self.order_id), store_topic(self.store_id))
        return topics + ((team_topic(self.team_id),) if self.team_id else ())

    def encode(self) -> str:
        return f"{self.event_id},{self.order_id},{self.store_id},{self.team_id or 0}"

    @classmethod
    def decode(cls, payload: str) -> "Announcement":
        event_id, order_id, store_id, team_id = (int(part) for part in payload.split(","))
        return cls(event_id, order_id, store_id, team_id or None)


# Not an event: the wake-up `Hub.wake_all` sends.
READ_AGAIN = Announcement(event_id=0, order_id=0, store_id=0, team_id=None)


def order_topic(order_id: int) -> str:
    return f"order:{order_id}"


def store_topic(store_id: int) -> str:
    return f"store:{store_id}"


def team_topic(team_id: int) -> str:
    return f"team:{team_id}"


# Wake-ups a stream may have pending; past that, one more changes nothing: each read reads everything new.
PENDING_WAKEUPS = 256


@dataclass(eq=False)
class Subscription:
    """One stream's wake-ups. A list and, while the stream waits, one future: an asyncio.Queue would cost
    every open stream three deques, an Event and a task for each wait (about 3 KB a stream)."""

    topics: frozenset[str]
    loop: asyncio.AbstractEventLoop
    pending: list[Announcement] = field(default_factory=list)
    heard_at: float = 0.0  # time.monotonic() of the latest wake-up: a read begun since then sees its news
    _waiter: "asyncio.Future[None] | None" = None

    def deliver(self, announcement: Announcement) -> None:
        """Runs on the subscriber's loop. Pending wake-ups already guarantee a re-read, so drop the extra."""
        self.heard_at = time.monotonic()
        if len(self.pending) < PENDING_WAKEUPS:
            self.pending.append(announcement)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, timeout: float) -> Announcement | None:
        """The oldest pending wake-up, waiting at most `timeout` seconds for one (None: none came)."""
        if not self.pending:
            self._waiter = self.loop.create_future()
            timer = self.loop.call_later(timeout, _wake, self._waiter)
            try:
                await self._waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self.pending.pop(0) if self.pending else None


def _wake(waiter: "asyncio.Future[None]") -> None:
    if not waiter.done():
        waiter.set_result(None)


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_topic: dict[str, set[Subscription]] = {}

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(frozenset(topics), asyncio.get_running_loop())
        with self._lock:
            for topic in subscription.topics:
                self._by_topic.setdefault(topic, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.retopic(subscription, ())

    def retopic(self, subscription: Subscription, topics: Iterable[str]) -> bool:
        """From now on, wake `subscription` for `topics` only; whether that added any."""
        wanted = frozenset(topics)
        if wanted == subscription.topics:
            return False  # after every message of most streams: no lock for nothing
        added = bool(wanted - subscription.topics)
        with self._lock:
            for topic in subscription.topics - wanted:
                subscribers = self._by_topic.get(topic)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._by_topic[topic]
            for topic in wanted - subscription.topics:
                self._by_topic.setdefault(topic, set()).add(subscription)
            subscription.topics = wanted
        return added

    def publish(self, announcement: Announcement) -> None:
        """Thread-safe: callable from a request thread or from any event loop."""
        with self._lock:
            targets = {s for topic in announcement.topics for s in self._by_topic.get(topic, ())}
        self._deliver(targets, announcement)

    def wake_all(self) -> None:
        """Have every stream read again: what was announced while the LISTEN connection was down
        went unheard, and each stream reads whatever came after its last id."""
        with self._lock:
            targets = {s for subscribers in self._by_topic.values() for s in subscribers}
        self._deliver(targets, READ_AGAIN)

    @staticmethod
    def _deliver(targets: Iterable[Subscription], announcement: Announcement) -> None:
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:  # a request thread, after its commit
            here = None
        for subscription in targets:
            if subscription.loop is here:
                # The LISTEN task on the streams' own loop: no need to wake the loop up through its
                # self-pipe (a system call per subscriber, 10,000 when everyone is told to read again).
                subscription.deliver(announcement)
            elif not subscription.loop.is_closed():
                subscription.loop.call_soon_threadsafe(subscription.deliver, announcement)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len({s for subscribers in self._by_topic.values() for s in subscribers})


hub = Hub()


def announce(event: Any, *, store_id: int, team_id: int | None) -> None:
    """Called by `orders.events.record` inside the business transaction."""
    if connection.vendor == "postgresql":
        return  # the event table's trigger notifies, atomically with the commit
    announcement = Announcement(event.pk, event.order_id, store_id, team_id)
    transaction.on_commit(lambda: hub.publish(announcement))


def announce_to_store(event: Any, *, store_id: int) -> None:
    """Also wake `store_id`'s streams about `event`, inside the business transaction: the store an
    order was moved away from, whose queue and lists must drop it (the trigger and `announce` tell
    only the store the order belongs to now)."""
    announcement = Announcement(event.pk, event.order_id, store_id, None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, announcement.encode()])
        return
    transaction.on_commit(lambda: hub.publish(announcement))
