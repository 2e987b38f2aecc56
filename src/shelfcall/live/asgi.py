"""Django's ASGI handler, with each kind of view served the cheap way: a page (a sync view) in one
hop to a pooled thread, a live stream (an async view) on the event loop with no thread of its own.

Pages. Django's ASGI handler runs the middleware chain in async mode: every `MiddlewareMixin`
middleware hops to a thread for its `process_request` and again for its `process_response`, and
each request gets a new thread of its own (asgiref's `ThreadSensitiveContext`) that it starts and
joins. For a page that is most of its cost: through `shelfcall serve`, /healthz took 5.0 ms of CPU
under Django's handler against 0.26 ms for the same middleware in-process (benchmarks/README.md,
"Serving stack"). Here a page is served as a WSGI server serves it: the request is read on the
loop, then one pooled thread runs `request_started`, the whole middleware chain and the view in
sync mode, and closes the response (`request_finished`: the database connection goes back to its
pool from the thread that used it); the loop then sends the bytes. A streaming page (the catalogue
export) is read to its end in that thread first, as Django's handler does with a sync iterator.

Live streams. Django would give each one its thread for its whole lifetime, so one process holding
10,000 streams would hold 10,000 idle threads. An async view needs none: its database work goes
through `sse.off_loop`, and the few synchronous middleware steps of its opening and closing run one
after another on asgiref's one shared thread for synchronous work outside a request context.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import django
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.urls import Resolver404, get_resolver, set_script_prefix

PAGE_THREADS = 32
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


async def _replay(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


class StreamsOnTheLoop(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()  # the async chain, for the live streams
        self._pages = BaseHandler()
        self._pages.load_middleware(is_async=False)
        # Started as needed and kept. More threads than the process has database connections, so that
        # pages beyond the pool wait on the pool's timeout and get its "busy" page, not a queue here.
        threads = max(PAGE_THREADS, 4 * settings.SHELFCALL_DB_POOL_MAX)
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="page")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # Django's own refusal
        elif serves_async_view(scope):
            await self.handle(scope, receive, send)
        else:
            await self._serve_page(scope, receive, send)

    async def _serve_page(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            respond = sync_to_async(self._respond, thread_sensitive=False, executor=self._threads)
            response = await respond(scope, body_file)
            await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """In a pooled thread: the request from start to finish, as Django's WSGI handler runs it."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, refusal = self.create_request(scope, body_file)
        response = cast(HttpResponseBase, refusal) if request is None else self._page(request)
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            response.streaming_content = _replay(list(cast(Iterator[bytes], response.streaming_content)))
        response.close()  # request_finished, on the thread whose connection it hands back
        return response

    def _page(self, request: HttpRequest) -> HttpResponseBase:
        response = self._pages.get_response(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]  # as Django's handler marks it
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response


def get_asgi_application() -> StreamsOnTheLoop:
    """`django.core.asgi.get_asgi_application`, with this handler."""
    django.setup(set_prefix=False)
    return StreamsOnTheLoop()
