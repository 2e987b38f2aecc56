"""Clean-up that keeps bookkeeping tables from growing without end; the worker runs it (core/background.py)."""

from collections.abc import Callable
from datetime import timedelta

from shelfcall.core import sessions, throttle

EVERY = timedelta(minutes=1)
_tasks: list[Callable[[], int]] = []


def tidy() -> int:
    """Delete what has expired: rate-limit counters and revoked sign-ins whose cookies have expired,
    which nothing else would ever delete (their number is returned, with what the apps' tasks report)."""
    removed = throttle.purge_expired() + sessions.purge_revoked()
    return removed + sum(task() for task in _tasks)


def register(task: Callable[[], int]) -> None:
    """An app's own clean-up (returning the rows it removed), registered from its AppConfig.ready."""
    if task not in _tasks:
        _tasks.append(task)
