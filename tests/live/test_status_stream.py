"""The shopper's status stream, end to end through the ASGI handler, on both databases."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient

from shelfcall.live import pg_listener
from shelfcall.orders import actions
from shelfcall.orders.models import OrderEvent
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
