"""Clean-up that keeps bookkeeping tables from growing without end; the worker runs it (core/background.py)."""

from collections.abc import Callable
from datetime import timedelta
from importlib import import_module

from django.conf import settings

from shelfcall.core import throttle

EVERY = timedelta(minutes=1)
_tasks: list[Callable[[], int]] = []


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
