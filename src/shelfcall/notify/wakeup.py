"""Wakes the worker's resting loops when new work may have come, so that they can rest long.

On PostgreSQL every wake-up is a notification on WORK_CHANNEL, delivered to every process at commit;
each worker keeps one LISTEN connection. An order's timer set or moved notifies it (the order table's
trigger, payload "timers", orders/migrations/0017), and so does writing outbox messages (the outbox's
insert trigger, payload "messages") and work queued otherwise (an admin's "try again" of a message, a
job; no payload). Each rings only the loops whose work such a wake-up may bring
(registry.Periodic.woken_by), so that the timers are not read at every order event, most of which set
no timer, nor the job queue at every message. On SQLite the worker runs inside the one web process,
and a commit rings this process's bells directly.
"""

import logging
import threading

import psycopg
from django.db import connection, transaction

from shelfcall.core.jobs.registry import MESSAGES_QUEUED, QUEUED_WORK, TIMERS_SET
from shelfcall.live.pg_listener import connection_kwargs

WORK_CHANNEL = "shelfcall_work"
MESSAGES_PAYLOAD = "messages"  # the outbox's insert trigger's (notify/migrations/0009)
TIMERS_PAYLOAD = "timers"  # the order table's timer trigger's (orders/migrations/0017)
_TOPICS = {MESSAGES_PAYLOAD: MESSAGES_QUEUED, TIMERS_PAYLOAD: TIMERS_SET}
STOP_CHECK_SECONDS = 1.0  # how often the listener looks whether the worker is stopping
RECONNECT_SECONDS = 1.0
log = logging.getLogger(__name__)


class Bells:
    """One Event per resting loop, with the topics that concern it; ringing a topic sets theirs, ringing
    none sets them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bells: list[tuple[threading.Event, frozenset[str]]] = []

    def new(self, topics: frozenset[str]) -> threading.Event:
        bell = threading.Event()
        with self._lock:
            self._bells.append((bell, topics))
        return bell

    def forget(self, bell: threading.Event) -> None:
        with self._lock:
            self._bells = [(known, topics) for known, topics in self._bells if known is not bell]

    def ring(self, topic: str | None = None) -> None:
        with self._lock:
            for bell, topics in self._bells:
                if topic is None or topic in topics:
                    bell.set()


bells = Bells()
listening = threading.Event()  # set while this process's LISTEN connection is up


def timers_set() -> None:
    """orders.hooks.on_timers_set: an order's timer was set or moved. On PostgreSQL the order table's
    trigger notifies at commit, for every column that changed to a time (orders/migrations/0017)."""
    if connection.vendor != "postgresql":
        transaction.on_commit(lambda: bells.ring(TIMERS_SET))


def messages_queued() -> None:
    """Outbox messages were written: on PostgreSQL the outbox's insert trigger notifies at commit."""
    if connection.vendor != "postgresql":
        transaction.on_commit(lambda: bells.ring(MESSAGES_QUEUED))


def work_queued() -> None:
    """Work was queued without an order event: wake the workers once it commits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [WORK_CHANNEL])
    else:
        transaction.on_commit(lambda: bells.ring(QUEUED_WORK))


def topic_of(payload: str) -> str:
    """What a notification on WORK_CHANNEL says came."""
    return _TOPICS.get(payload, QUEUED_WORK)


def listen(stop: threading.Event) -> None:
    """PostgreSQL: ring the bells at every notification until `stop`, reconnecting after an outage."""
    kwargs = connection_kwargs()
    while not stop.is_set():
        try:
            with psycopg.connect(autocommit=True, **kwargs) as conn:
                conn.execute(f"LISTEN {WORK_CHANNEL}")
                listening.set()
                bells.ring()  # whatever was queued while nobody listened
                while not stop.is_set():
                    for notification in conn.notifies(timeout=STOP_CHECK_SECONDS):
                        bells.ring(topic_of(notification.payload))
        except psycopg.Error:
            log.warning("Lost the worker's LISTEN connection; reconnecting in %s s", RECONNECT_SECONDS, exc_info=True)
            stop.wait(RECONNECT_SECONDS)
        finally:
            listening.clear()
