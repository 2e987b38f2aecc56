"""The worker: timers and deliveries, each in a thread of its own, resting while nothing is due.

Apart, a send held up by a slow receiver (up to its deadline) delays other sends, never an
escalation. Each loop asks when its next item falls due and rests until then, or until a wake-up
(wakeup.py) says new work may have come: an idle worker costs a few statements a minute. Without a
wake-up source (PostgreSQL's LISTEN connection down, a separate worker process on SQLite) it looks
again every UNHEARD_REST_SECONDS.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import close_old_connections, connection

from shelfcall.core import clock
from shelfcall.core.housekeeping import Housekeeper
from shelfcall.notify import wakeup
from shelfcall.notify.sweeper import next_timer_at, sweep
from shelfcall.notify.worker import deliver_due, next_message_at

log = logging.getLogger(__name__)
LONGEST_REST_SECONDS = 30.0  # with a wake-up source: in case a wake-up was missed
UNHEARD_REST_SECONDS = 1.0
# Due, yet nothing was done: another worker holds those rows, or the firing was refused.
BLOCKED_REST_SECONDS = 0.5
RETRY_SECONDS = 1.0  # after a failed pass (the database restarting, say); nothing is lost meanwhile


@dataclass(frozen=True)
class Duty:
    name: str
    work: Callable[[], int]  # one batch; how many items it handled
    next_due: Callable[[], datetime | None]


_housekeeper = Housekeeper()
DUTIES = (
    Duty("timers", sweep, next_timer_at),
    Duty("deliveries", deliver_due, next_message_at),
    Duty("housekeeping", _housekeeper.work, _housekeeper.next_due),
)


def run(stop: threading.Event, *, in_process_wakeups: bool = False) -> None:
    """Until `stop` is set. `in_process_wakeups`: on SQLite, this process's commits wake the worker
    (it runs inside the web process)."""
    log.info("Shelfcall worker started")
    heard = _wakeups_heard(in_process_wakeups)
    threads = [_thread(f"shelfcall-{duty.name}", keep_doing, duty, stop, wakeup.bells.new(), heard) for duty in DUTIES]
    if connection.vendor == "postgresql":
        threads.append(_thread("shelfcall-wakeups", wakeup.listen, stop))
    stop.wait()
    wakeup.bells.ring()
    for thread in threads:
        thread.join()
    log.info("Shelfcall worker stopped")


def start_in_background() -> threading.Event:
    """Embedded mode: the worker runs as threads of the web process."""
    stop = threading.Event()
    threading.Thread(target=run, args=(stop,), kwargs={"in_process_wakeups": True}, daemon=True).start()
    return stop


def keep_doing(duty: Duty, stop: threading.Event, bell: threading.Event, heard: Callable[[], bool]) -> None:
    try:
        while not stop.is_set():
            bell.clear()  # before looking: a wake-up from now on cuts the coming rest short
            rest = one_pass(duty, heard)
            if rest:
                bell.wait(rest)
    finally:
        wakeup.bells.forget(bell)
        connection.close()  # this thread's own connection


def one_pass(duty: Duty, heard: Callable[[], bool]) -> float:
    """Look when the next item is due, handle one batch if something is; returns how long to rest."""
    try:
        due = duty.next_due()
        if due is not None and due <= clock.now() and duty.work():
            return 0.0
        return rest_until(due, heard=heard())
    except Exception:
        log.exception("Worker %s pass failed; retrying", duty.name)
        return RETRY_SECONDS
    finally:
        close_old_connections()


def rest_until(due: datetime | None, *, heard: bool) -> float:
    longest = LONGEST_REST_SECONDS if heard else UNHEARD_REST_SECONDS
    if due is None:
        return longest
    seconds = (due - clock.now()).total_seconds()
    return min(seconds if seconds > 0 else BLOCKED_REST_SECONDS, longest)


def _wakeups_heard(in_process_wakeups: bool) -> Callable[[], bool]:
    if connection.vendor == "postgresql":
        return wakeup.listening.is_set
    return lambda: in_process_wakeups


def _thread(name: str, target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread
