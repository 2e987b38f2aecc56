"""/hq/'s stream: a change in any store the user sees wakes their list; another organization's does not."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient

from shelfcall.live import pg_listener
from shelfcall.live.hub import hub, store_topic
from shelfcall.orders import actions
from shelfcall.orders.events import Actor
from shelfcall.orders.models import OrderEvent
from shelfcall.workspace.views.access import STORE_KEY
from tests.factories import save_session, submit
from tests.live.test_status_stream import listening, next_message, open_stream

pytestmark = pytest.mark.django_db(transaction=True)


def test_orders_of_every_store_reach_customer_service(world):
    async def scenario():
        client = AsyncClient()
        await client.aforce_login(world.users["customer_service"])
        stream = await open_stream("/hq/stream?last_event_id=0", client=client)
        await listening()
        await sync_to_async(submit)(world.showcase_elsewhere)  # another organization: not heard
        order = await sync_to_async(world.order_b)()
        message = await next_message(stream)
        assert message["event"] == "change" and message["orders"] == [order.pk]
        assert message["types"] == ["order.created"]
        await stream.aclose()
        await pg_listener.stop()

    asyncio.run(scenario())


async def _opened(client: AsyncClient, url: str):
    response = await client.get(url)
    assert response.status_code == 200
    stream = aiter(response.streaming_content)
    await anext(stream)  # retry:
    return stream


def test_an_order_moved_away_leaves_the_old_stores_queue_and_lists_live(world):
    """The move's event belongs to an order of the new store now; the old store's queue and the
    head office list of someone who sees only the old store must still be woken by it, and read it,
    to drop the order."""
    mover = Actor.staff(world.users["customer_service"])

    async def scenario():
        store_admin = AsyncClient()
        await store_admin.aforce_login(world.users["store_admin"])
        session = await store_admin.asession()
        await session.aset(STORE_KEY, world.a.pk)
        save_session(store_admin, session)
        since = await sync_to_async(lambda: OrderEvent.objects.order_by("pk").values_list("pk", flat=True).last())()
        streams = [
            await _opened(store_admin, f"/w/stream?last_event_id={since or 0}"),
            await _opened(store_admin, f"/hq/stream?last_event_id={since or 0}"),
        ]
        await listening()
        order = await sync_to_async(world.order_a)()
        for stream in streams:  # read once: each stream now waits for a wake-up (or its 15 s heartbeat)
            assert (await next_message(stream))["types"] == ["order.created"]
        await sync_to_async(actions.move_order)(order.pk, to_store_id=world.b.pk, by=mover)
        for stream in streams:
            message = await next_message(stream)
            assert message["event"] == "change" and message["orders"] == [order.pk]
            assert message["types"] == ["order.moved"]
            await stream.aclose()
        await pg_listener.stop()

    asyncio.run(scenario())


def test_the_move_wakes_the_old_stores_streams(world):
    """Announced to both stores: the trigger (or `announce`) tells only the store the order is in now."""
    order = world.order_a()

    async def scenario():
        if connection.vendor == "postgresql":
            pg_listener.ensure_listening()
            await asyncio.wait_for(pg_listener.listening.wait(), 5)
        old_store = hub.subscribe([store_topic(world.a.pk)])
        await sync_to_async(actions.move_order)(
            order.pk, to_store_id=world.b.pk, by=Actor.staff(world.users["customer_service"])
        )
        heard = await old_store.wait(5)
        assert heard is not None and (heard.order_id, heard.store_id) == (order.pk, world.a.pk)
        hub.unsubscribe(old_store)
        await pg_listener.stop()

    asyncio.run(scenario())
