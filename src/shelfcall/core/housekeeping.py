"""Clean-up that keeps bookkeeping tables from growing without end; the worker loop runs it."""

from datetime import datetime, timedelta

from shelfcall.core import clock, throttle

EVERY = timedelta(minutes=1)


class Housekeeper:
    """Runs the clean-up at most once per EVERY, whatever the caller's pace."""

    def __init__(self) -> None:
        self._next_at: datetime | None = None

    def run_if_due(self) -> int:
        now = clock.now()
        if self._next_at is not None and now < self._next_at:
            return 0
        self._next_at = now + EVERY
        return tidy()


def tidy() -> int:
    """Delete what has expired; returns the number of rows removed."""
    from shelfcall.api import idempotency  # the API's bookkeeping; imported late, core is below the apps

    return throttle.purge_expired() + idempotency.purge_expired()
