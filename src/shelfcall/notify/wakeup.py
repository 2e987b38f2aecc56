"""Wakes the worker's resting loops when new work may have come, so that they can rest long.

New timers come with order events: on PostgreSQL the event table's trigger notifies every process at
commit, and each worker keeps one LISTEN connection. Writing outbox messages notifies WORK_CHANNEL
the same way (the outbox's insert trigger, payload "messages"), and so does work queued otherwise
(an admin's "try again", a job; no payload). Each rings only the loops whose work such a
wake-up may bring (registry.Periodic.woken_by), so that the job queue is not read at every order
event, nor the timers at every queued job. On SQLite the worker runs inside the one web process,
and a commit rings this process's bells directly.
"""

import logging
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection, transaction

from shelfcall.core.jobs.registry import MESSAGES_QUEUED, ORDER_EVENTS, QUEUED_WORK
from shelfcall.live.pg_listener import CHANNEL as EVENTS_CHANNEL
from shelfcall.live.pg_listener import connection_kwargs

WORK_CHANNEL = "shelfcall_work"
MESSAGES_PAYLOAD = "messages"  # the outbox's insert trigger's (notify/migrations/0009)
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


def on_order_events(recorded: Sequence[tuple[Any, Any]]) -> None:
    """orders.hooks subscriber. On PostgreSQL the event trigger's NOTIFY wakes every worker."""
    if recorded and connection.vendor != "postgresql":
        transaction.on_commit(lambda: bells.ring(ORDER_EVENTS))


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


def topic_of(channel: str, payload: str) -> str:
    if channel == EVENTS_CHANNEL:
        return ORDER_EVENTS
    return MESSAGES_QUEUED if payload == MESSAGES_PAYLOAD else QUEUED_WORK


def listen(stop: threading.Event) -> None:
    """PostgreSQL: ring the bells at every notification until `stop`, reconnecting after an outage."""
    kwargs = connection_kwargs()
    while not stop.is_set():
        try:
            with psycopg.connect(autocommit=True, **kwargs) as conn:
                conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                conn.execute(f"LISTEN {WORK_CHANNEL}")
                listening.set()
                bells.ring()  # whatever was queued while nobody listened
                while not stop.is_set():
                    for notification in conn.notifies(timeout=STOP_CHECK_SECONDS):
                        bells.ring(topic_of(notification.channel, notification.payload))
        except psycopg.Error:
            log.warning("Lost the worker's LISTEN connection; reconnecting in %s s", RECONNECT_SECONDS, exc_info=True)
            stop.wait(RECONNECT_SECONDS)
        finally:
            listening.clear()
