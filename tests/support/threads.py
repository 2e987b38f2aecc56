"""Running the same work in several threads at once, as several workers would (PostgreSQL tests)."""

import threading
from collections.abc import Callable

from django.db import connections


def in_threads(count: int, work: Callable[[], object]) -> None:
    """Run `work` in `count` threads at once and wait for them; each closes its own connections."""

    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
