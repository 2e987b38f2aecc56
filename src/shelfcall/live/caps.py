"""How many live streams one holder (an order token, a signed-in user) and one address may keep open.

An open stream costs this process memory for as long as it lives (the request, its generator, the
buffers of the connection), so the count is kept per process, where the memory is: exact, free, and
given back in the stream's `finally` (or when its response is dropped unstarted). A process that
dies takes its streams and its counts with it, so nothing can leak across a crash. With N web
processes one client can hold at most N times the cap; a shared count (a lease table) would cost a
database write per opening and a renewal per heartbeat, and would refuse every stream while the
database is down, which is exactly when the streams must hold on.
"""

import threading
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from shelfcall.ops.metrics import OPEN_STREAMS

# What a refused client is told (seconds): about when a slot may have freed (streams end after
# their lifetime and reopen), and the browser script's longest back-off anyway.
RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True)
class Cap:
    key: str
    limit: int


class Lease:
    """One open stream's place in the counts. `release()` may be called any number of times."""

    def __init__(self, registry: "OpenStreams", keys: tuple[str, ...]) -> None:
        # Also given back if the stream never starts (the client left before the first byte) and
        # its response is dropped: a generator that never ran never runs its `finally`.
        self._give_back = weakref.finalize(self, registry._give_back, keys)
        self._give_back.atexit = False  # type: ignore[misc]  # typeshed gives finalize empty __slots__ and atexit

    def release(self) -> None:
        self._give_back()


class OpenStreams:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # streams may open on several event loops (tests, servers)
        self._counts: Counter[str] = Counter()

    def take(self, caps: Iterable[Cap]) -> Lease | None:
        """A place for one more stream under every cap, or None if any of them is full."""
        caps = tuple(caps)
        with self._lock:
            if any(self._counts[cap.key] >= cap.limit for cap in caps):
                return None
            for cap in caps:
                self._counts[cap.key] += 1
        OPEN_STREAMS.inc()
        return Lease(self, tuple(cap.key for cap in caps))

    def count(self, key: str) -> int:
        with self._lock:
            return self._counts[key]

    def _give_back(self, keys: tuple[str, ...]) -> None:
        with self._lock:
            for key in keys:
                self._counts[key] -= 1
                if self._counts[key] <= 0:
                    del self._counts[key]
        OPEN_STREAMS.dec()


open_streams = OpenStreams()
