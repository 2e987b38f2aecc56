"""Item 14: one token, one user or one address cannot hold an unbounded number of open live streams."""

import asyncio
import gc

import pytest
from django.test import AsyncClient

from shelfcall.live import caps, pg_listener
from shelfcall.live.caps import Cap, OpenStreams
from shelfcall.workspace.views.access import STORE_KEY
from tests.factories import make_showcase, make_store, make_user, save_session, submit

pytestmark = pytest.mark.django_db(transaction=True)


async def open_stream(url: str, browser: AsyncClient | None = None, **headers):
    """The status and, for a 200, the started body (the stream is then really open); a 429 must say
    when to come back. The response itself is not kept: dropping the body ends the stream."""
    response = await (browser or AsyncClient()).get(url, headers=headers)
    if response.status_code != 200:
        assert response.status_code != 429 or int(response["Retry-After"]) > 0
        return response.status_code, None
    body = aiter(response.streaming_content)
    await anext(body)  # "retry:"
    return 200, body


async def until_counted(key: str, expected: int) -> None:
    """A closed stream gives its place back in its `finally`, a moment after the client leaves."""
    for _ in range(100):
        gc.collect()
        if caps.open_streams.count(key) == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{caps.open_streams.count(key)} streams counted for {key}, not {expected}")


@pytest.fixture
def store():
    store = make_store()
    store.max_open_orders_per_device = 10
    store.save()
    return store


def test_one_token_holds_at_most_its_cap_and_gets_them_back(store, settings):
    settings.SHELFCALL_LIVE_STREAMS_PER_TOKEN = 2
    order = submit(make_showcase(store))
    url = f"/o/{order.public_token}/events"

    async def scenario():
        first, first_body = await open_stream(url)
        second, second_body = await open_stream(url)
        refused, _ = await open_stream(url)
        assert (first, second, refused) == (200, 200, 429)
        await first_body.aclose()
        del first_body
        await until_counted(f"holder:order:{order.public_token}", 1)
        again, again_body = await open_stream(url)
        assert again == 200
        await again_body.aclose()
        await second_body.aclose()
        del again_body, second_body
        await until_counted("address:127.0.0.1", 0)
        await pg_listener.stop()

    asyncio.run(scenario())


def test_one_address_holds_at_most_its_cap_whatever_the_tokens(store, settings):
    settings.SHELFCALL_LIVE_STREAMS_PER_ADDRESS = 3
    showcase = make_showcase(store)
    showcase.items.get().product.stock_levels.update(on_hand=100)
    orders = [submit(showcase) for _ in range(4)]

    async def scenario():
        opened = [await open_stream(f"/o/{order.public_token}/events") for order in orders[:3]]
        refused, _ = await open_stream(f"/o/{orders[3].public_token}/events")
        assert [status for status, _ in opened] == [200, 200, 200] and refused == 429
        # Another shopper, behind the same (trusted, local) proxy: counted by their own address.
        elsewhere, elsewhere_body = await open_stream(
            f"/o/{orders[3].public_token}/events", **{"X-Forwarded-For": "198.51.100.7"}
        )
        assert elsewhere == 200
        for _, body in [*opened, (elsewhere, elsewhere_body)]:
            await body.aclose()
        await pg_listener.stop()

    asyncio.run(scenario())


def test_a_signed_in_user_holds_at_most_the_cap_across_workspace_streams(store, settings):
    settings.SHELFCALL_LIVE_STREAMS_PER_TOKEN = 2
    alex = make_user(store, name="Alex")
    order = submit(make_showcase(store))

    async def scenario():
        signed_in = AsyncClient()
        await signed_in.aforce_login(alex)
        session = await signed_in.asession()
        await session.aset(STORE_KEY, store.pk)
        save_session(signed_in, session)
        queue, queue_body = await open_stream("/w/stream", signed_in)
        page, page_body = await open_stream(f"/w/orders/{order.pk}/stream", signed_in)
        refused, _ = await open_stream("/w/stream", signed_in)
        assert (queue, page, refused) == (200, 200, 429)
        await queue_body.aclose()
        await page_body.aclose()
        await pg_listener.stop()

    asyncio.run(scenario())


def test_a_stream_that_never_starts_gives_its_place_back():
    """The client left before the first byte: the generator never ran, so no `finally` would run."""
    registry = OpenStreams()
    lease = registry.take([Cap("address:x", 1)])
    assert registry.take([Cap("address:x", 1)]) is None
    del lease
    gc.collect()
    assert registry.count("address:x") == 0
    assert registry.take([Cap("address:x", 1)]) is not None


def test_a_full_cap_takes_nothing_from_the_others():
    registry = OpenStreams()
    held = registry.take([Cap("holder:a", 1)])
    assert held is not None
    assert registry.take([Cap("holder:a", 1), Cap("address:x", 5)]) is None
    assert registry.count("address:x") == 0
