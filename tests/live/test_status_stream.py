"""The shopper's status stream, end to end through the ASGI handler, on both databases."""

import asyncio
import json
import re

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient

from shelfcall.live import pg_listener
from shelfcall.orders import actions
from shelfcall.orders.models import OrderEvent
from shelfcall.shopper.status import CSRF_STAND_IN, StatusPoll
from tests.factories import make_showcase, make_store, staff, submit

pytestmark = pytest.mark.django_db(transaction=True)


def messages_from(chunks: list[str]) -> list[dict]:
    found = []
    for block in "".join(chunks).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            found.append({"id": int(fields["id"]), "event": fields["event"], **json.loads(fields["data"])})
    return found


async def next_message(stream, timeout: float = 5.0) -> dict:
    chunks = []
    while True:
        chunk = await asyncio.wait_for(anext(stream), timeout)
        chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        if found := messages_from(chunks):
            return found[0]


async def open_stream(url: str, *, client: AsyncClient | None = None, **headers):
    """The stream's body, its first chunk (the retry interval) read: the stream is open."""
    response = await (client or AsyncClient()).get(url, headers=headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    stream = aiter(response.streaming_content)
    first = await anext(stream)
    assert (first.decode() if isinstance(first, bytes) else first).startswith("retry:")
    return stream


async def listening() -> None:
    """On PostgreSQL, until this process LISTENs: only then does the next commit wake an open stream."""
    if connection.vendor == "postgresql":
        await asyncio.wait_for(pg_listener.listening.wait(), 5)


@pytest.fixture
def order():
    store = make_store()
    return submit(make_showcase(store))


def test_change_reaches_an_open_stream(order):
    alex = staff(order.store, "Alex")
    created = OrderEvent.objects.get(order=order).pk

    async def scenario():
        stream = await open_stream(f"/o/{order.public_token}/events?last_event_id={created}")
        await listening()
        await sync_to_async(actions.claim_order)(order.pk, by=alex)
        message = await next_message(stream)
        assert message["event"] == "order" and message["types"] == ["order.claimed"]
        assert message["status"] == "picking" and "Being picked by Alex" in message["html"]
        await stream.aclose()
        await pg_listener.stop()

    asyncio.run(scenario())


def test_reconnect_replays_what_was_missed(order):
    alex = staff(order.store, "Alex")
    created = OrderEvent.objects.get(order=order).pk
    actions.claim_order(order.pk, by=alex)
    actions.pick_line(order.pk, order.lines.get().pk, by=alex)

    async def scenario():
        stream = await open_stream(f"/o/{order.public_token}/events", **{"Last-Event-ID": str(created)})
        message = await next_message(stream)
        assert message["types"] == ["order.claimed", "order.picking"]
        assert message["id"] == await sync_to_async(lambda: order.events.last().pk)()
        await stream.aclose()

    asyncio.run(scenario())


def test_unknown_token_has_no_stream(order):
    async def scenario():
        response = await AsyncClient().get("/o/" + "x" * 32 + "/events")
        assert response.status_code == 404

    asyncio.run(scenario())


def test_an_orders_streams_share_one_read_and_render_each_with_its_own_csrf_token(order, monkeypatch):
    """An order's tabs and devices, woken by the same commit, cost this process one read and one render;
    each panel's forms still carry the token of the page that opened that stream."""
    alex = staff(order.store, "Alex")
    created = OrderEvent.objects.get(order=order).pk
    reads: list[int] = []
    read = StatusPoll.read

    def counted(self: StatusPoll, since: int):
        reads.append(since)
        return read(self, since)

    monkeypatch.setattr(StatusPoll, "read", counted)

    async def scenario():
        url = f"/o/{order.public_token}/events?last_event_id={created}"
        streams = [await open_stream(url) for _ in range(3)]  # three browsers: three CSRF cookies
        await listening()
        first_reads = len(reads)
        await sync_to_async(actions.claim_order)(order.pk, by=alex)
        messages = await asyncio.gather(*(next_message(stream) for stream in streams))  # as the server runs them
        for stream in streams:
            await stream.aclose()
        await pg_listener.stop()
        return reads[first_reads:], messages

    claim_reads, messages = asyncio.run(scenario())
    assert claim_reads == [created]
    assert all(m["types"] == ["order.claimed"] and "Being picked by Alex" in m["html"] for m in messages)
    tokens = [set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', m["html"])) for m in messages]
    assert all(len(found) == 1 for found in tokens) and len(set.union(*tokens)) == 3
    assert not any(CSRF_STAND_IN in m["html"] for m in messages)
