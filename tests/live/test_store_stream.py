"""The workspace's store stream: a new order wakes every associate's queue."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from shelfcall.live import pg_listener
from shelfcall.workspace.views.access import STORE_KEY
from tests.factories import make_showcase, make_store, make_user, save_session, submit
from tests.live.test_status_stream import listening, next_message, open_stream

pytestmark = pytest.mark.django_db(transaction=True)


def test_new_order_reaches_the_queue_stream():
    store = make_store()
    showcase = make_showcase(store)
    alex = make_user(store, name="Alex")

    async def scenario():
        client = AsyncClient()
        await client.aforce_login(alex)
        session = await client.asession()
        await session.aset(STORE_KEY, store.pk)
        save_session(client, session)
        stream = await open_stream("/w/stream?last_event_id=0", client=client)
        await listening()
        order = await sync_to_async(submit)(showcase)
        message = await next_message(stream)
        assert message["event"] == "change" and "order.created" in message["types"]
        assert message["orders"] == [order.pk]
        await stream.aclose()
        await pg_listener.stop()

    asyncio.run(scenario())


def test_strangers_get_no_stream():
    async def scenario():
        assert (await AsyncClient().get("/w/stream")).status_code == 403

    asyncio.run(scenario())
