"""What each app gives the background worker: its periodic work and its kinds of queued jobs.

Apps register in a `background` module of their own (`shelfcall/<app>/background.py`), which the
core imports once the apps are loaded (as Django's admin finds `admin` modules), or in their
AppConfig.ready:

    jobs.periodic("orders.expiries", expire_due, next_due=next_expiry_at, thread="timers", step=2)
    jobs.job_kind("setup.catalog_import", import_catalog)

Periodic work is due either at a fixed interval (`every`, counted in each worker process, first
at its start) or when the data says so (`next_due`: the earliest timer, the next queued message).
`woken_by` names the wake-ups that may bring it new work (a thread rests through the others): each pass
costs the `next_due` reads of its thread, so work that keeps its own time (housekeeping, a cursor's
next run) is woken by none.
Work naming the same `thread` runs one after another in each pass of that thread, lowest `step`
first; otherwise each runs in a thread of its own, so that a slow one never delays another.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

if TYPE_CHECKING:
    from shelfcall.core.jobs.queue import JobContext


@dataclass(frozen=True)
class Periodic:
    name: str
    work: Callable[[], int]  # one batch; how many items it handled (0: nothing to do, or held up)
    every: timedelta | None = None
    next_due: Callable[[], datetime | None] | None = None
    thread: str | None = None
    step: int = 0
    # The wake-ups (TIMERS_SET, MESSAGES_QUEUED, QUEUED_WORK) that may bring it work; none: it keeps its own time.
    woken_by: frozenset[str] = frozenset()

    @property
    def thread_name(self) -> str:
        return self.thread or self.name


@dataclass(frozen=True)
class JobKind:
    name: str
    # Runs the job; what it returns (JSON) is kept as the job's result. Raising fails the job.
    handler: "Callable[[JobContext], object]"


class Bells(Protocol):
    def new(self, topics: frozenset[str]) -> threading.Event: ...  # rung by these topics, and by ring() without one
    def forget(self, bell: threading.Event) -> None: ...
    def ring(self, topic: str | None = None) -> None: ...  # None: every bell (the worker stops, missed wake-ups)


class WakeupSource(Protocol):
    """Tells resting loops that new work may have come (notify.wakeup: LISTEN on PostgreSQL, in-process
    bells on SQLite). A module with these names is one."""

    @property
    def bells(self) -> Bells: ...
    @property
    def listening(self) -> threading.Event: ...  # set while wake-ups from other processes are heard
    def listen(self, stop: threading.Event) -> None: ...
    def work_queued(self) -> None: ...  # inside the transaction that queued it


class UnknownJobKind(ValueError):
    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__(f"No job kind {kind!r} is registered; known kinds: {', '.join(known) or 'none'}")


# What a wake-up says came: an order's timer set or moved (most order events set none), outbox messages
# written, or work queued otherwise (a job, an admin's "try again" of a message).
TIMERS_SET = "timers set"
MESSAGES_QUEUED = "messages queued"
QUEUED_WORK = "queued work"
TIMERS = "timers"  # the thread of the order timers: escalations, reminders, expiries (loop.fire_due_timers)
# The wake-ups that may bring each of that thread's timers work: only a timer set or moved can make one due
# sooner than the thread's rest ends (a cleared one is found gone then; the rest ends at the first one due).
TIMER_WAKEUPS = frozenset({TIMERS_SET})
_lock = threading.RLock()
_discovered = False
_periodic: dict[str, Periodic] = {}
_kinds: dict[str, JobKind] = {}
_wakeups: list[WakeupSource] = []


def periodic(
    name: str,
    work: Callable[[], int],
    *,
    every: timedelta | None = None,
    next_due: Callable[[], datetime | None] | None = None,
    thread: str | None = None,
    step: int = 0,
    woken_by: frozenset[str] = frozenset(),
) -> Periodic:
    if (every is None) == (next_due is None):
        raise ImproperlyConfigured(f"Periodic work {name!r} needs exactly one of `every` and `next_due`")
    entry = Periodic(name, work, every, next_due, thread, step, woken_by)
    with _lock:
        _periodic[name] = entry  # registering again (a module imported twice) replaces it
    return entry


def job_kind(name: str, handler: "Callable[[JobContext], object]") -> JobKind:
    entry = JobKind(name, handler)
    with _lock:
        _kinds[name] = entry
    return entry


def use_wakeups(source: WakeupSource) -> None:
    with _lock:
        _wakeups[:] = [source]


def discover() -> None:
    """Import every installed app's `background` module, once (CoreConfig.ready)."""
    global _discovered
    with _lock:
        if not _discovered:
            autodiscover_modules("background")
            _discovered = True


def all_periodic() -> list[Periodic]:
    with _lock:
        return list(_periodic.values())


def threads() -> dict[str, list[Periodic]]:
    """The worker's threads, each with the periodic work it runs in every pass, in order."""
    grouped: dict[str, list[Periodic]] = {}
    for entry in all_periodic():
        grouped.setdefault(entry.thread_name, []).append(entry)
    return {name: sorted(entries, key=lambda entry: entry.step) for name, entries in grouped.items()}


def get_kind(name: str) -> JobKind:
    with _lock:
        found = _kinds.get(name)
        if found is None:
            raise UnknownJobKind(name, sorted(_kinds))
        return found


def wakeups() -> WakeupSource:
    with _lock:
        if not _wakeups:
            raise ImproperlyConfigured("No installed app provides the worker's wake-ups (notify does)")
        return _wakeups[0]
