"""Clean-up that keeps bookkeeping tables from growing without end; the worker loop runs it."""

from datetime import datetime, timedelta

from shelfcall.core import clock, throttle

EVERY = timedelta(minutes=1)


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
    """Delete what has expired; returns the number of rows removed."""
    return throttle.purge_expired()
