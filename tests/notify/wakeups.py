"""The worker's wake-ups as it hears them, for tests whose transactions commit (django_db(transaction=True)).

On PostgreSQL they are the notifications a LISTEN connection gets at commit (the triggers', notify/wakeup.py's
`work_queued`); on SQLite the bells this process rings at commit. `heard()` names them by their topics
(registry.TIMERS_SET, …) as wakeup.listen rings them.
"""

import psycopg
from django.db import connection

from shelfcall.core.jobs import registry
from shelfcall.live.pg_listener import connection_kwargs
from shelfcall.notify import wakeup

_MARKER = "shelfcall_tests_heard"  # this listener's own notification: every one committed before it came first
_TOPICS = (registry.TIMERS_SET, registry.MESSAGES_QUEUED, registry.QUEUED_WORK)


class Wakeups:
    def __init__(self) -> None:
        self._listener: psycopg.Connection | None = None
        self._bells = {}
        if connection.vendor == "postgresql":
            self._listener = psycopg.connect(autocommit=True, **connection_kwargs())
            self._listener.execute(f"LISTEN {wakeup.WORK_CHANNEL}")
            self._listener.execute(f"LISTEN {_MARKER}")
        else:
            self._bells = {topic: wakeup.bells.new(frozenset({topic})) for topic in _TOPICS}

    def heard(self) -> set[str]:
        """The topics of the wake-ups committed since the last call."""
        if self._listener is None:
            rung = {topic for topic, bell in self._bells.items() if bell.is_set()}
            for bell in self._bells.values():
                bell.clear()
            return rung
        self._listener.execute(f"NOTIFY {_MARKER}")
        topics = set()
        for notification in self._listener.notifies(timeout=5):
            if notification.channel == _MARKER:
                return topics
            topics.add(wakeup.topic_of(notification.payload))
        raise AssertionError("this listener's own notification did not come back")

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        for bell in self._bells.values():
            wakeup.bells.forget(bell)
