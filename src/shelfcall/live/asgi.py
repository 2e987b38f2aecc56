"""Django's ASGI handler, except that async views (the live streams) get no thread of their own.

Django runs every request inside an asgiref `ThreadSensitiveContext`, which gives the request a
thread of its own the first time anything synchronous runs for it (the `request_started` signal's
`close_old_connections` always does), and keeps that thread until the response ends. For a page that
is a few milliseconds; for a live stream it is its whole lifetime, so one process holding 10,000
streams would hold 10,000 idle threads (each with its stack, its asgiref executor and its Python
thread state). An async view needs no thread: its database work goes through `sse.off_loop`, and the
few synchronous middleware steps of its opening and closing run, one after another, on asgiref's one
shared thread for synchronous work outside a request context.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import django
from asgiref.sync import iscoroutinefunction
from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404, get_resolver

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


def serves_async_view(scope: Mapping[str, Any]) -> bool:
    """Whether the request's URL leads to an async view (found as Django will find it again)."""
    path_info = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
    try:
        match = get_resolver().resolve(path_info)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)


class StreamsOnTheLoop(ASGIHandler):
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and serves_async_view(scope):
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def get_asgi_application() -> StreamsOnTheLoop:
    """`django.core.asgi.get_asgi_application`, with this handler."""
    django.setup(set_prefix=False)
    return StreamsOnTheLoop()
