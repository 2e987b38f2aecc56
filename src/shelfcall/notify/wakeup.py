"""Wakes the worker's resting loops when new work may have come, so that they can rest long.

New timers and messages come with order events. On PostgreSQL the event table's trigger notifies
every process at commit, and each worker keeps one LISTEN connection; work queued without an event
(an admin's "try again") notifies WORK_CHANNEL. On SQLite the worker runs inside the one web process,
and a commit rings this process's bells directly.
"""

import logging
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection, transaction

from shelfcall.live.pg_listener import CHANNEL as EVENTS_CHANNEL
from shelfcall.live.pg_listener import connection_kwargs

WORK_CHANNEL = "shelfcall_work"
STOP_CHECK_SECONDS = 1.0  # how often the listener looks whether the worker is stopping
RECONNECT_SECONDS = 1.0
log = logging.getLogger(__name__)


class Bells:
    """One Event per resting loop; ringing sets them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bells: list[threading.Event] = []

    def new(self) -> threading.Event:
        bell = threading.Event()
        with self._lock:
            self._bells.append(bell)
        return bell

    def forget(self, bell: threading.Event) -> None:
        with self._lock:
            self._bells.remove(bell)

    def ring(self) -> None:
        with self._lock:
            for bell in self._bells:
                bell.set()


bells = Bells()
listening = threading.Event()  # set while this process's LISTEN connection is up


def on_order_events(recorded: Sequence[tuple[Any, Any]]) -> None:
    """orders.hooks subscriber. On PostgreSQL the event trigger's NOTIFY wakes every worker."""
    if recorded and connection.vendor != "postgresql":
        transaction.on_commit(bells.ring)


def work_queued() -> None:
    """Work was queued without an order event: wake the workers once it commits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [WORK_CHANNEL])
    else:
        transaction.on_commit(bells.ring)


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
                    for _notification in conn.notifies(timeout=STOP_CHECK_SECONDS):
                        bells.ring()
        except psycopg.Error:
            log.warning("Lost the worker's LISTEN connection; reconnecting in %s s", RECONNECT_SECONDS, exc_info=True)
            stop.wait(RECONNECT_SECONDS)
        finally:
            listening.clear()
