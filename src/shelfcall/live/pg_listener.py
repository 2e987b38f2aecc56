"""One LISTEN connection per process, started by the first live stream, feeding the hub."""

import asyncio
import contextlib
import logging

import psycopg
from django.db import connection

from shelfcall.live.hub import Announcement, hub

CHANNEL = "shelfcall_events"
log = logging.getLogger(__name__)

_listener: asyncio.Task[None] | None = None
# Set while the LISTEN connection is up (health checks and tests wait on it).
listening = asyncio.Event()


def connection_kwargs() -> dict:
    """What psycopg.connect needs to reach Django's database (also for the worker's wake-up LISTEN)."""
    params = connection.get_connection_params()
    # Django-only keys that psycopg.connect does not take.
    for key in ("cursor_factory", "context", "server_side_binding", "prepare_threshold"):
        params.pop(key, None)
    return params


async def _listen_forever() -> None:
    kwargs = connection_kwargs()
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(autocommit=True, **kwargs) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                log.info("Listening for order events")
                listening.set()
                async for notification in conn.notifies():
                    hub.publish(Announcement.decode(notification.payload))
        except asyncio.CancelledError:
            listening.clear()
            raise
        except Exception:  # the streams keep polling meanwhile, so a short outage only delays updates
            listening.clear()
            log.warning("Lost the event LISTEN connection; reconnecting in 1 s", exc_info=True)
            await asyncio.sleep(1)


def ensure_listening() -> None:
    """Start the listener on the running loop if it is not running there yet."""
    global _listener
    loop = asyncio.get_running_loop()
    if _listener is None or _listener.done() or _listener.get_loop() is not loop:
        global listening
        listening = asyncio.Event()  # an Event belongs to one loop
        _listener = loop.create_task(_listen_forever(), name="shelfcall-pg-listener")


async def stop() -> None:
    """Close the LISTEN connection (at shutdown, and between tests that each run their own loop)."""
    global _listener
    task, _listener = _listener, None
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def ready(*, timeout: float) -> bool:
    """Start listening if needed and wait (at most `timeout` seconds) until the connection is up."""
    ensure_listening()
    try:
        await asyncio.wait_for(listening.wait(), timeout)
    except TimeoutError:
        log.warning("Not listening for order events after %.1f s; live updates fall back to polling", timeout)
        return False
    return True
