"""/hq/'s stream: a change in any store the user sees wakes their list; another organization's does not."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from shelfcall.live import pg_listener
from tests.factories import submit
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
