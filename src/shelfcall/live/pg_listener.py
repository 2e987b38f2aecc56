"""One LISTEN connection per process, started by the first live stream, feeding the hub."""

import asyncio
import contextlib
import logging

import psycopg
from django.conf import settings
from django.db import connection

from shelfcall.live.backoff import Backoff
from shelfcall.live.hub import CHANNEL, Announcement, hub

# libpq options for the LISTEN connection, unless the database settings give their own.
LISTEN_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
log = logging.getLogger(__name__)

_listener: asyncio.Task[None] | None = None
# Set while the LISTEN connection is up (health checks and tests wait on it).
listening = asyncio.Event()


def serves_postgresql() -> bool:
    """Asked by every stream: read from the settings, because `connection.vendor` would make each
    stream's context a database wrapper of its own."""
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def connection_kwargs() -> dict:
    """What psycopg.connect needs to reach Django's database (also for the worker's wake-up LISTEN)."""
    params = connection.get_connection_params()
    # Django-only keys that psycopg.connect does not take.
    for key in ("cursor_factory", "context", "server_side_binding", "prepare_threshold"):
        params.pop(key, None)
    # A connection that only listens never writes, so it would not notice a server that vanished
    # without closing it (a failover, a cut network): TCP keep-alives end it within about a minute.
    return {**LISTEN_KEEPALIVES, **params}


async def _listen_forever() -> None:
    kwargs = connection_kwargs()
    backoff = Backoff(first=0.5, longest=10.0)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(autocommit=True, **kwargs) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                log.info("Listening for order events")
                listening.set()
                backoff.reset()
                # Whatever was notified while nobody listened (a database restart) went unheard.
                hub.wake_all()
                async for notification in conn.notifies():
                    hub.publish(Announcement.decode(notification.payload))
        except asyncio.CancelledError:
            listening.clear()
            raise
        except Exception as error:  # the streams keep polling meanwhile, so an outage only delays updates
            listening.clear()
            delay = backoff.next_delay()
            log.warning("Lost the event LISTEN connection (%s); reconnecting in %.1f s", error, delay)
            await asyncio.sleep(delay)


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
