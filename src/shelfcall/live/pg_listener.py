"""One LISTEN connection per process, started by the first live stream, feeding the hub."""

import asyncio
import logging

import psycopg
from django.db import connection

from shelfcall.live.hub import Announcement, hub

CHANNEL = "shelfcall_events"
log = logging.getLogger(__name__)

_listener: asyncio.Task[None] | None = None


def _connection_kwargs() -> dict:
    params = connection.get_connection_params()
    # Django-only keys that psycopg.connect does not take.
    for key in ("cursor_factory", "context", "server_side_binding", "prepare_threshold"):
        params.pop(key, None)
    return params


async def _listen_forever() -> None:
    kwargs = _connection_kwargs()
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(autocommit=True, **kwargs) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                log.info("Listening for order events")
                async for notification in conn.notifies():
                    hub.publish(Announcement.decode(notification.payload))
        except asyncio.CancelledError:
            raise
        except Exception:  # the streams keep polling meanwhile, so a short outage only delays updates
            log.warning("Lost the event LISTEN connection; reconnecting in 1 s", exc_info=True)
            await asyncio.sleep(1)


def ensure_listening() -> None:
    """Start the listener on the running loop if it is not running there yet."""
    global _listener
    loop = asyncio.get_running_loop()
    if _listener is None or _listener.done() or _listener.get_loop() is not loop:
        _listener = loop.create_task(_listen_forever(), name="shelfcall-pg-listener")
