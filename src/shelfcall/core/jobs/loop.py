"""The worker: every app's periodic work and the job queue, in threads of their own, resting while nothing is due.

One thread per registered thread name (registry.py): the timers (escalations, collection reminders,
expiries, one after another in each pass), the outbox's deliveries, housekeeping, queued jobs. Apart,
a send held up by a slow receiver delays other sends, never an escalation, and a long import delays
no timer. Each thread asks when its next item falls due and rests until then, or until a wake-up
(the registered WakeupSource) says work of its kind may have come (Periodic.woken_by): an idle
worker costs a few statements a minute. Without a wake-up source heard (PostgreSQL's LISTEN connection
down, a separate worker process on SQLite) it looks again every UNHEARD_REST_SECONDS.

Whatever raises is logged and tried again after RETRY_SECONDS; the other work of the pass goes on.
"""

import functools
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.db import close_old_connections, connection

from shelfcall.core import clock
from shelfcall.core.jobs import registry
from shelfcall.core.jobs.registry import Periodic

log = logging.getLogger(__name__)
LONGEST_REST_SECONDS = 30.0  # with a wake-up source: in case a wake-up was missed
UNHEARD_REST_SECONDS = 1.0
# Due, yet nothing was done: another worker holds those rows, or the firing was refused.
BLOCKED_REST_SECONDS = 0.5
RETRY_SECONDS = 1.0  # after a failed pass (the database restarting, say); nothing is lost meanwhile
T = TypeVar("T")
_in_pass = threading.local()  # .reads: what once_per_pass read in this thread's pass under way


class Schedule:
    """When each piece of periodic work is next due: asked of the data (`next_due`), or kept here for
    interval work (due at the start, then `every` after each run)."""

    def __init__(self) -> None:
        self._next_at: dict[str, datetime] = {}

    def due_at(self, entry: Periodic) -> datetime | None:
        if entry.next_due is not None:
            return entry.next_due()
        return self._next_at.get(entry.name) or clock.now()

    def starting(self, entry: Periodic) -> None:
        """Before it runs: a run that fails waits for its next interval too, not for RETRY_SECONDS."""
        if entry.every is not None:
            self._next_at[entry.name] = clock.now() + entry.every


def once_per_pass(read: Callable[[], T]) -> Callable[[], T]:
    """A read that the `next_due` of several entries of one thread share (the four order timers in one
    statement): made once per pass, and again after any of the pass's work ran (it may have moved what
    was read: an escalation that cancels sets the expiry the same pass fires). Outside a pass, each
    call reads."""

    @functools.wraps(read)
    def shared() -> T:
        reads = getattr(_in_pass, "reads", None)
        if reads is None:
            return read()
        if read not in reads:
            reads[read] = read()
        return reads[read]

    return shared


def run(stop: threading.Event, *, in_process_wakeups: bool = False) -> None:
    """Until `stop` is set. `in_process_wakeups`: on SQLite, this process's commits wake the worker
    (it runs inside the web process)."""
    log.info("Shelfcall worker started")
    source = registry.wakeups()
    heard = _wakeups_heard(source, in_process_wakeups)
    threads = [
        _thread(f"shelfcall-{name}", keep_doing, entries, stop, source, heard)
        for name, entries in registry.threads().items()
    ]
    if connection.vendor == "postgresql":
        threads.append(_thread("shelfcall-wakeups", source.listen, stop))
    stop.wait()
    source.bells.ring()
    for thread in threads:
        thread.join()
    log.info("Shelfcall worker stopped")


def start_in_background() -> threading.Event:
    """Embedded mode: the worker runs as threads of the web process."""
    stop = threading.Event()
    threading.Thread(target=run, args=(stop,), kwargs={"in_process_wakeups": True}, daemon=True).start()
    return stop


def keep_doing(
    entries: list[Periodic], stop: threading.Event, source: registry.WakeupSource, heard: Callable[[], bool]
) -> None:
    bell = source.bells.new(frozenset().union(*(entry.woken_by for entry in entries)))
    schedule = Schedule()
    try:
        while not stop.is_set():
            bell.clear()  # before looking: a wake-up from now on cuts the coming rest short
            rest = one_pass(entries, schedule, heard)
            if rest:
                bell.wait(rest)
    finally:
        source.bells.forget(bell)
        connection.close()  # this thread's own connection


def one_pass(entries: list[Periodic], schedule: Schedule, heard: Callable[[], bool]) -> float:
    """Run what is due, one batch each, in order; returns how long to rest (0: go on, more may be due)."""
    handled, failed, dues = 0, False, []
    _in_pass.reads = {}
    try:
        for entry in entries:
            try:
                due = schedule.due_at(entry)
                if due is not None and due <= clock.now():
                    schedule.starting(entry)
                    _in_pass.reads.clear()
                    handled += entry.work()
                    _in_pass.reads.clear()
                    due = schedule.due_at(entry) if entry.every is not None else due
                dues.append(due)
            except Exception:
                log.exception("Worker %s pass failed; retrying", entry.name)
                failed = True
    finally:
        _in_pass.reads = None
        close_old_connections()
    if handled:
        return 0.0
    rest = rest_until(min((due for due in dues if due is not None), default=None), heard=heard())
    return min(rest, RETRY_SECONDS) if failed else rest


def fire_due_timers() -> int:
    """One pass of the order timers as of clock.now() (freeze or move it to fire for a given time):
    escalations, then collection reminders, then expiries, one batch each; how many fired."""
    schedule = Schedule()
    fired = 0
    for entry in registry.threads().get(registry.TIMERS, []):
        due = schedule.due_at(entry)
        if due is not None and due <= clock.now():
            fired += entry.work()
    return fired


def rest_until(due: datetime | None, *, heard: bool) -> float:
    longest = LONGEST_REST_SECONDS if heard else UNHEARD_REST_SECONDS
    if due is None:
        return longest
    seconds = (due - clock.now()).total_seconds()
    return min(seconds if seconds > 0 else BLOCKED_REST_SECONDS, longest)


def _wakeups_heard(source: registry.WakeupSource, in_process_wakeups: bool) -> Callable[[], bool]:
    if connection.vendor == "postgresql":
        return source.listening.is_set
    return lambda: in_process_wakeups


def _thread(name: str, target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread
