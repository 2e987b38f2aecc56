"""Clean-up that keeps bookkeeping tables from growing without end; the worker loop runs it."""

from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings

from shelfcall.core import clock, throttle

EVERY = timedelta(minutes=1)
_tasks: list[Callable[[], int]] = []


class Housekeeper:
    """The clean-up as one of the worker's duties: due at start, then once per EVERY."""

    def __init__(self) -> None:
        self._next_at: datetime | None = None

    def next_due(self) -> datetime:
        return self._next_at or clock.now()

    def work(self) -> int:
        self._next_at = clock.now() + EVERY
        return tidy()


def tidy() -> int:
    """Delete what has expired: rate-limit counters (their number is returned, with what the apps'
    tasks report) and sessions past their expiry date, which nothing else would ever delete (Django's
    clean-up returns no count)."""
    removed = throttle.purge_expired()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return removed + sum(task() for task in _tasks)


def register(task: Callable[[], int]) -> None:
    """An app's own clean-up (returning the rows it removed), registered from its AppConfig.ready."""
    if task not in _tasks:
        _tasks.append(task)
