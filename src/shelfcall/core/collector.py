"""Keeps CPython's full garbage collections short in a web process that holds many live streams.

With 1,000 open status streams a process tracks about 330,000 objects, nearly all of them living as
long as their stream. A full (generation 2) collection walks them all and freezes the event loop for
150-260 ms, which alone breaks the 100 ms budget of an event's trip to the browser (see
benchmarks/README.md). So every few seconds a thread collects the young generations and freezes what
survived (`gc.freeze`, as Instagram does): full collections then only walk what is new.

Frozen cyclic garbage is never collected, so once in a long while everything is unfrozen and
collected in one go: one long pause every THAW_SECONDS instead of one every few seconds under load.
"""

import gc
import logging
import threading
import time

log = logging.getLogger(__name__)
THAW_SECONDS = 600.0


def freeze_survivors() -> None:
    """Collect the young generations, then move every object still tracked out of the collector's sight.
    (Not `gc.get_freeze_count()` after it: that walks every frozen object, a million and more in a
    process holding thousands of streams: 10 % of its CPU at 50 events a second, benchmarks/README.md.)"""
    gc.collect(1)
    gc.freeze()


def thaw() -> int:
    """Give everything frozen back to the collector and collect it all; returns what was unreachable."""
    gc.unfreeze()
    return gc.collect()


def run(stop: threading.Event, *, every: float, thaw_every: float = THAW_SECONDS) -> None:
    thaw_at = time.monotonic() + thaw_every
    while not stop.wait(every):
        if time.monotonic() >= thaw_at:
            log.debug("Thawed the frozen objects; %s were garbage", thaw())
            thaw_at = time.monotonic() + thaw_every
        else:
            freeze_survivors()


def start_in_background(every: float) -> threading.Event | None:
    """`every` seconds between freezes; 0 leaves the collector as CPython runs it."""
    if every <= 0:
        return None
    stop = threading.Event()
    threading.Thread(target=run, args=(stop,), kwargs={"every": every}, name="shelfcall-gc", daemon=True).start()
    return stop
