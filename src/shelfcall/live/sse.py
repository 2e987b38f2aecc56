"""Server-Sent Events: a stream that replays what the client missed, then follows the hub."""

import asyncio
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, runtime_checkable

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from shelfcall.core.clients import address_key
from shelfcall.core.errors import DATABASE_UNAVAILABLE
from shelfcall.core.numbers import parse_number
from shelfcall.live import caps, pg_listener
from shelfcall.live.backoff import Backoff
from shelfcall.live.caps import RETRY_AFTER_SECONDS, Cap, Lease
from shelfcall.live.hub import hub

log = logging.getLogger(__name__)
# Streams end after a while and the browser reconnects with Last-Event-ID: this spreads load after
# a deploy and makes stale connections through proxies impossible.
LIFETIME_SECONDS = 300.0
# How long a new stream waits for its process's LISTEN connection; past that it relies on heartbeats.
LISTEN_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class Message:
    id: int
    event: str
    data: dict

    def encode(self) -> str:
        body = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.event}\ndata: {body}\n\n"


# Given the last id the client has, return the next message (or None when nothing is new).
Poll = Callable[[int], Message | None]
T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


@runtime_checkable
class SharedPoll(Protocol[R]):
    """A poll in two parts: a read that depends only on its key (the same for every stream that asks the
    same thing: an order's tabs and devices, in the same language), then each stream's own message
    from it. While a read runs, the streams of this process that ask for its key and that it answers
    (it began after what woke them) wait for it instead of reading again: one read and render an
    order an event, not one a stream."""

    def key(self, since: int) -> Hashable: ...

    def read(self, since: int) -> R:
        """Database work, in a pool thread."""

    def message(self, reading: R) -> Message | None:
        """On the loop: this stream's message from `reading` (None when nothing is new)."""


@dataclass(frozen=True)
class Flight:
    began: float  # time.monotonic()
    reading: "asyncio.Future[Any]"


class SharedReads:
    """The reads of `SharedPoll`s under way, by key."""

    def __init__(self) -> None:
        self._under_way: dict[Hashable, Flight] = {}

    async def message(self, poll: SharedPoll[Any], since: int, news_at: float) -> Message | None:
        """`poll`'s message after `since`, from a read that began no earlier than `news_at` (when the
        stream heard of what it reads for), so that it sees what was committed before then."""
        return poll.message(await self.result(poll.key(since), functools.partial(poll.read, since), news_at))

    async def result(self, key: Hashable, read: Callable[[], T], news_at: float) -> T:
        """What `read` returns, from a run of it under `key` that began no earlier than `news_at`."""
        flight = self._under_way.get(key)
        if flight is None or flight.began < news_at or flight.reading.get_loop() is not asyncio.get_running_loop():
            flight = Flight(time.monotonic(), asyncio.ensure_future(off_loop(read)()))
            self._under_way[key] = flight
            flight.reading.add_done_callback(functools.partial(self._landed, key, flight))
        # A stream that leaves (its client went) does not cancel the read the others wait for.
        return await asyncio.shield(flight.reading)

    def _landed(self, key: Hashable, flight: Flight, _: object) -> None:
        if self._under_way.get(key) is flight:
            del self._under_way[key]


shared_reads = SharedReads()

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class GatheredReads(Generic[K, V]):
    """Keys that streams ask for in the same turn of the event loop, read together by one call in a
    pool thread: the streams a commit woke run one after the other in one turn, so a queue move that
    changes what 25 of them show costs one read of the 25 things, not 25 reads."""

    def __init__(self, read_many: Callable[[list[K]], dict[K, V]]) -> None:
        self._read_many = read_many
        self._asked: dict[asyncio.AbstractEventLoop, dict[K, asyncio.Future[V | None]]] = {}

    async def get(self, key: K) -> V | None:
        """What the read found for `key` (None: nothing), read after this call."""
        loop = asyncio.get_running_loop()
        asked = self._asked.get(loop)
        if asked is None:
            asked = self._asked[loop] = {}
            loop.call_soon(self._read_asked, loop)
        future = asked.get(key)
        if future is None:
            future = asked[key] = loop.create_future()
        return await asyncio.shield(future)

    def _read_asked(self, loop: asyncio.AbstractEventLoop) -> None:
        asked = self._asked.pop(loop)
        reading = asyncio.ensure_future(off_loop(self._read_many)(list(asked)))
        reading.add_done_callback(functools.partial(_hand_out, asked))


def _hand_out(asked: "dict[Any, asyncio.Future[Any]]", reading: "asyncio.Future[dict[Any, Any]]") -> None:
    error = None if reading.cancelled() else reading.exception()
    for key, future in asked.items():
        if future.done():
            continue
        if reading.cancelled():
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(reading.result().get(key))


@runtime_checkable
class AsyncPoll(Protocol):
    """A poll that does its own reading, off the loop (through `off_loop`, `shared_reads`, `GatheredReads`)."""

    async def next_message(self, since: int, news_at: float) -> Message | None:
        """The message after `since`, read no earlier than `news_at`; None when nothing is new."""


def off_loop(work: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """Run database work for a stream on the loop's shared thread pool, outside the request's context.

    Neither a thread nor a database connection per stream. Django's default (thread_sensitive=True)
    would run it in the request's own thread, whose connection then stays open for as long as the
    stream lives: a thousand shoppers watching their orders would hold a thousand PostgreSQL
    connections. asgiref's thread_sensitive=False would carry the database wrapper the read opened
    back into the request's context, one per stream for as long as it lives. Run bare in a pool
    thread, the work uses that thread's one wrapper, and each read hands its connection back to the
    database pool at once, for the requests to use. The work gets its arguments, not the request's
    context variables (its language, its time zone): it activates what it needs itself.
    """

    def fresh(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return work(*args, **kwargs)
        finally:
            close_old_connections()

    async def on_a_pool_thread(*args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fresh, *args, **kwargs))

    return on_a_pool_thread


AnyPoll = Poll | SharedPoll[Any] | AsyncPoll


def reader(poll: AnyPoll) -> Callable[[int, float], Awaitable[Message | None]]:
    """How a stream reads with `poll`: given its last id and when it heard of what it reads for."""
    if isinstance(poll, AsyncPoll):
        return poll.next_message
    if isinstance(poll, SharedPoll):
        return functools.partial(shared_reads.message, poll)
    read = off_loop(poll)
    return lambda since, _news_at: read(since)


def announcements_are_heard() -> bool:
    """Whether every committed event wakes this process's streams, so a quiet heartbeat needs no read.

    On PostgreSQL: while the LISTEN connection is up (when it comes back it wakes every stream, for
    what went unheard meanwhile). 10,000 streams re-reading at every 15 s heartbeat would cost 670
    reads a second for nothing. On SQLite the hub hears only this process's commits, so a stream
    also re-reads at each heartbeat for what another process (a `shelfcall manage` command) wrote.
    """
    return pg_listener.serves_postgresql() and pg_listener.listening.is_set()


def last_event_id(request: HttpRequest) -> int:
    """The browser sends Last-Event-ID when it reconnects; the page passes the id it rendered."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "0"
    return parse_number(raw) or 0


# What a stream follows: fixed topics, or a function that says them again after every read (a waiting
# request's stream follows its queue until the request is taken).
Topics = Iterable[str] | Callable[[], Iterable[str]]


async def follow(
    topics: Topics,
    since: int,
    poll: AnyPoll,
    *,
    heartbeat: float | None = None,
    lifetime: float = LIFETIME_SECONDS,
    lease: Lease | None = None,
) -> AsyncIterator[str]:
    heartbeat = heartbeat or settings.SHELFCALL_LIVE_HEARTBEAT_SECONDS
    # Subscribe (and, on PostgreSQL, be listening) before the first read, so that nothing committed
    # in between is missed until the next heartbeat.
    topics_now = _topics_of(topics)
    subscription = hub.subscribe(topics_now())
    news_at = time.monotonic()  # the first read replays everything committed before this
    read = reader(poll)
    deadline = time.monotonic() + lifetime
    retry = Backoff(first=min(1.0, heartbeat), longest=heartbeat)
    try:
        if pg_listener.serves_postgresql():
            await pg_listener.ready(timeout=LISTEN_WAIT_SECONDS)
        yield "retry: 2000\n\n"
        read_due = True  # the first read replays what the client missed
        while True:
            if read_due:
                try:
                    message = await read(since, news_at)
                except DATABASE_UNAVAILABLE as error:
                    # Hold on through a database restart: the comment keeps the browser and any proxy
                    # from giving up, and the next read (sooner if the LISTEN connection comes back and
                    # wakes everyone) catches up from the last id, so nothing is lost meanwhile.
                    log.debug("Live stream waiting for the database: %s", error)
                    yield ": waiting for the database\n\n"
                    await subscription.wait(retry.next_delay())
                    news_at = time.monotonic()
                    continue
                retry.reset()
                if message is not None:
                    since = message.id
                    yield message.encode()
                    if hub.retopic(subscription, topics_now()):
                        news_at = time.monotonic()
                        continue  # read again: what the new topics announced before now went unheard
            if time.monotonic() >= deadline:
                return
            woken = await subscription.wait(heartbeat) is not None
            news_at = subscription.heard_at if woken else time.monotonic()
            if not woken:
                yield ": keep-alive\n\n"
            read_due = woken or not announcements_are_heard()
    finally:
        hub.unsubscribe(subscription)
        if lease is not None:
            lease.release()


def _topics_of(topics: Topics) -> Callable[[], Iterable[str]]:
    if callable(topics):
        return topics
    fixed = tuple(topics)
    return lambda: fixed


def stream_response(request: HttpRequest, topics: Topics, poll: AnyPoll, *, holder: str) -> HttpResponseBase:
    """The live stream `request` asked for, from its last event id; 429 (with Retry-After) once its
    holder (an order token, a user) or its address has as many streams open here as allowed."""
    lease = caps.open_streams.take(
        [
            Cap(f"holder:{holder}", settings.SHELFCALL_LIVE_STREAMS_PER_TOKEN),
            Cap(f"address:{address_key(request)}", settings.SHELFCALL_LIVE_STREAMS_PER_ADDRESS),
        ]
    )
    if lease is None:
        return HttpResponse(status=429, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return event_stream_response(follow(topics, last_event_id(request), poll, lease=lease))


def event_stream_response(stream: AsyncIterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response
