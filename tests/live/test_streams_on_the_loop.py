"""Open streams cost a process neither a thread nor a database connection (nor a database wrapper)
each: they are asyncio tasks fed by the hub, and their reads share the loop's thread pool."""

import asyncio
import gc
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.core import signals
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from shelfcall.live import pg_listener
from shelfcall.live.asgi import PAGE_THREADS, StreamsOnTheLoop, serves_async_view
from shelfcall.live.hub import Announcement, Hub, order_topic
from shelfcall.live.sse import Message, follow, off_loop
from shelfcall.orders.models import OrderEvent
from tests.factories import make_showcase, make_store, submit
from tests.live import page_urls

STREAMS = 40
POOL_THREADS = 2


def database_wrappers() -> int:
    # type(), not isinstance(): that would evaluate the lazy objects (a request's user) it meets.
    return sum(issubclass(type(o), BaseDatabaseWrapper) for o in gc.get_objects())


def database_connections() -> int:
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


class AsgiStream:
    """One browser's GET of a stream, straight into the ASGI application."""

    def __init__(self, app, path: str, query: str, port: int) -> None:
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", b"testserver"), (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", port),
            "server": ("testserver", 80),
        }
        self.app = app
        self.status: int | None = None
        self.body = ""
        self.opened = asyncio.Event()
        self._left = asyncio.Event()
        self._asked = False

    async def receive(self) -> dict:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"").decode()
            if self.body.startswith("retry:") or message.get("more_body") is False:
                self.opened.set()

    async def run(self) -> None:
        await self.app(self.scope, self.receive, self.send)

    def leave(self) -> None:
        self._left.set()


@pytest.mark.django_db(transaction=True)
def test_open_streams_add_no_thread_no_database_connection_and_no_database_wrapper(settings):
    settings.SHELFCALL_LIVE_HEARTBEAT_SECONDS = 60
    store = make_store(max_open_orders_per_device=STREAMS)
    showcase = make_showcase(store)
    showcase.items.get().product.stock_levels.update(on_hand=STREAMS)
    orders = [submit(showcase) for _ in range(STREAMS)]
    last_ids = {o.pk: OrderEvent.objects.filter(order=o).latest("pk").pk for o in orders}
    app = StreamsOnTheLoop()

    async def scenario() -> tuple[list[int], dict[str, int]]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(POOL_THREADS))
        # One stream first, so that what every process opens once (the pool threads, the LISTEN
        # connection, asgiref's thread for synchronous middleware) is already there.
        first = AsgiStream(app, f"/o/{orders[0].public_token}/events", f"last_event_id={last_ids[orders[0].pk]}", 1)
        tasks = [asyncio.create_task(first.run())]
        await asyncio.wait_for(first.opened.wait(), 10)
        before = {
            "threads": threading.active_count(),
            "wrappers": database_wrappers(),
            "connections": await sync_to_async(database_connections)(),
        }
        streams = [
            AsgiStream(app, f"/o/{o.public_token}/events", f"last_event_id={last_ids[o.pk]}", 2 + n)
            for n, o in enumerate(orders[1:])
        ]
        tasks += [asyncio.create_task(stream.run()) for stream in streams]
        await asyncio.wait_for(asyncio.gather(*(stream.opened.wait() for stream in streams)), 20)
        grown = {
            "threads": threading.active_count() - before["threads"],
            "wrappers": database_wrappers() - before["wrappers"],
            "connections": await sync_to_async(database_connections)() - before["connections"],
        }
        statuses = [stream.status for stream in [first, *streams]]
        for stream in [first, *streams]:
            stream.leave()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await pg_listener.stop()
        return statuses, grown

    statuses, grown = asyncio.run(scenario())
    assert statuses == [200] * STREAMS
    # The pool may still be starting its last threads (each with its own wrapper and, on
    # PostgreSQL, a connection it hands back): at most POOL_THREADS more, never one per stream.
    assert grown["threads"] <= POOL_THREADS, grown
    assert grown["wrappers"] <= POOL_THREADS, grown
    assert grown["connections"] <= POOL_THREADS, grown


def test_async_views_are_served_on_the_loop_and_pages_in_a_pooled_thread():
    assert serves_async_view({"path": "/o/" + "x" * 32 + "/events"})
    assert serves_async_view({"path": "/w/stream"})
    assert serves_async_view({"path": "/w/orders/7/stream"})
    assert not serves_async_view({"path": "/w/login"})
    assert not serves_async_view({"path": "/no/such/page"})


def serve_pages(paths: list[str]) -> list[AsgiStream]:
    """Each path as one browser's GET, all at once, into one application; each answered in full."""
    app = StreamsOnTheLoop()

    async def scenario() -> list[AsgiStream]:
        pages = [AsgiStream(app, page, "", 1 + n) for n, page in enumerate(paths)]
        await asyncio.wait_for(asyncio.gather(*(page.run() for page in pages)), 20)
        return pages

    return asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_a_page_runs_start_to_finish_on_one_pooled_thread_which_hands_its_connection_back(settings):
    """One hop per page, not Django's thread per request and two hops per middleware: the request's
    signals and the view share a thread, and request_finished closes that thread's connection."""
    settings.ROOT_URLCONF = "tests.live.page_urls"
    signalled: list[tuple[str, str]] = []

    def note(signal: str):
        return lambda **kwargs: signalled.append((signal, threading.current_thread().name))

    started, finished = note("started"), note("finished")
    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    page_urls.seen.clear()
    threads_before = threading.active_count()
    try:
        pages = serve_pages(["/read"] * (PAGE_THREADS + 8))
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert [(page.status, page.body) for page in pages] == [(200, "read")] * len(pages)
    views = {name for name, _ in page_urls.seen}
    assert all(name.startswith("page") for name in views)
    assert {name for _, name in signalled} == views, "the signals run where the view ran"
    assert threading.active_count() - threads_before <= PAGE_THREADS, "threads are reused, not one per page"
    assert all(wrapper.connection is None for _, wrapper in page_urls.seen), "each connection handed back"


def test_a_sync_streaming_page_is_sent_whole(settings):
    settings.ROOT_URLCONF = "tests.live.page_urls"
    [page] = serve_pages(["/parts"])
    assert (page.status, page.body) == (200, "part 0\npart 1\npart 2\n")


@pytest.mark.django_db(transaction=True)
def test_a_read_uses_its_pool_threads_database_wrapper_and_leaves_the_streams_context_alone():
    async def scenario() -> tuple[bool, bool]:
        before = connections["default"]
        used = await off_loop(lambda: connections["default"])()
        return used is not before, connections["default"] is before

    assert asyncio.run(scenario()) == (True, True)


def test_an_announcement_on_the_streams_own_loop_is_delivered_at_once():
    async def scenario() -> int:
        hub = Hub()
        subscription = hub.subscribe([order_topic(1)])
        hub.publish(Announcement(5, 1, 2, None))
        return len(subscription.pending)  # no call_soon round: the LISTEN task shares the loop

    assert asyncio.run(scenario()) == 1


def counting_poll() -> tuple[list[int], object]:
    reads: list[int] = []

    def poll(since: int) -> Message | None:
        reads.append(since)
        return None

    return reads, poll


async def keepalives(stream, count: int) -> None:
    assert (await asyncio.wait_for(anext(stream), 5)).startswith("retry:")
    for _ in range(count):
        assert await asyncio.wait_for(anext(stream), 5) == ": keep-alive\n\n"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_while_listening_a_quiet_stream_sends_keepalives_without_reading():
    """10,000 streams re-reading at every heartbeat would cost hundreds of reads a second for nothing:
    while the LISTEN connection is up, every commit wakes its streams, so only a wake-up reads."""
    reads, poll = counting_poll()

    async def scenario() -> list[int]:
        assert await pg_listener.ready(timeout=5)
        stream = follow([order_topic(1)], 7, poll, heartbeat=0.01)
        await keepalives(stream, 3)
        assert reads == [7], "only the opening read, which replays what the client missed"
        from shelfcall.live.hub import hub

        hub.publish(Announcement(8, 1, 2, None))
        await asyncio.wait_for(anext(stream), 5)  # the keep-alive after the wake-up's read
        await stream.aclose()
        await pg_listener.stop()
        return reads

    assert asyncio.run(scenario()) == [7, 7]


@pytest.mark.django_db(transaction=True)
def test_without_a_listen_connection_a_quiet_stream_reads_at_every_heartbeat(monkeypatch):
    """SQLite (the hub hears only this process), or PostgreSQL while the LISTEN connection is down."""
    monkeypatch.setattr(pg_listener, "ready", lambda *, timeout: asyncio.sleep(0, result=False))
    monkeypatch.setattr(pg_listener, "listening", asyncio.Event())
    reads, poll = counting_poll()

    async def scenario() -> list[int]:
        stream = follow([order_topic(1)], 7, poll, heartbeat=0.01)
        await keepalives(stream, 3)
        await asyncio.wait_for(anext(stream), 5)  # the third heartbeat's read has happened
        await stream.aclose()
        return reads

    assert asyncio.run(scenario()) == [7, 7, 7, 7]
