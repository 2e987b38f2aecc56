"""The worker loop: fire due timers, deliver due messages, rest a moment when there was nothing to do."""

import logging
import threading

from django.db import close_old_connections

from shelfcall.core.housekeeping import Housekeeper
from shelfcall.notify.sweeper import sweep
from shelfcall.notify.worker import deliver_due

log = logging.getLogger(__name__)
IDLE_SECONDS = 0.5


def run(stop: threading.Event, *, idle: float = IDLE_SECONDS) -> None:
    log.info("Shelfcall worker started")
    housekeeper = Housekeeper()
    while not stop.is_set():
        busy = 0
        try:
            busy = sweep() + deliver_due()
            housekeeper.run_if_due()
        except Exception:  # the database restarting, say: keep going, nothing is lost in the outbox
            log.exception("Worker pass failed; retrying")
        finally:
            close_old_connections()
        if not busy:
            stop.wait(idle)
    log.info("Shelfcall worker stopped")


def start_in_background() -> threading.Event:
    """Embedded mode: the worker runs as a thread of the web process."""
    stop = threading.Event()
    threading.Thread(target=run, args=(stop,), name="shelfcall-worker", daemon=True).start()
    return stop
