"""The pickup promise on the shopper's status page: what it says, in the store's time and the shopper's language,
and how its live stream follows the queue."""

import asyncio
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import translation
from django.utils.html import escape as html_escape
from django.utils.translation import gettext

from shelfcall.live import pg_listener
from shelfcall.orders import actions
from shelfcall.orders.models import OrderEvent
from shelfcall.orders.queries import last_event_id
from shelfcall.shopper.status import StatusPoll
from shelfcall.stores.models import OpeningPeriod
from tests.factories import TILL, make_product, make_showcase, make_store, staff, submit
from tests.live.test_status_stream import listening, messages_from, next_message, open_stream
from tests.orders.history import daily

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture
def showcase():
    store = make_store(timezone="Europe/Paris")
    return make_showcase(store, products=[make_product(store, on_hand=1000)])


def page_of(order, language: str = "en") -> str:
    response = Client(headers={"Accept-Language": language}).get(f"/o/{order.public_token}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
class TestWhatThePageSays:
    def test_position_and_usual_time(self, showcase, time_machine):
        daily(showcase, staff(showcase.store), at("2026-11-09 10:10"), days=5, per_day=2, ready_after=12)
        time_machine.move_to(at("2026-11-16 10:30"), tick=False)
        submit(showcase), submit(showcase)
        html = page_of(submit(showcase))
        assert "2 requests are ahead of yours." in html
        assert "Usually ready in about 12 minutes at this time of day: around 10:42 a.m. for yours." in html
        assert "/events?ahead=2" in html

    def test_next_in_line_and_no_time_without_history(self, showcase):
        html = page_of(submit(showcase))
        assert "Yours is next in line." in html and "/events?ahead=0" in html
        assert "Usually ready" not in html

    def test_being_picked_shows_the_time_not_the_position(self, showcase, time_machine):
        alex = staff(showcase.store)
        daily(showcase, alex, at("2026-11-09 10:10"), days=5, per_day=2, ready_after=12)
        time_machine.move_to(at("2026-11-16 10:30"), tick=False)
        order = submit(showcase)
        actions.claim_order(order.pk, by=alex)
        html = page_of(order)
        assert "ahead of yours" not in html and "next in line" not in html and "around 10:42" in html
        assert "?ahead=" not in html
        time_machine.move_to(at("2026-11-16 10:50"), tick=False)
        assert "It is taking longer than usual today." in page_of(order)

    def test_nothing_once_ready(self, showcase):
        alex = staff(showcase.store)
        order = submit(showcase)
        actions.claim_order(order.pk, by=alex)
        actions.pick_line(order.pk, order.lines.get().pk, by=alex)
        actions.stage_order(order.pk, by=alex, note="Desk")
        assert 'id="promise"' not in page_of(order)

    @pytest.mark.parametrize(
        ("language", "day", "nine"),
        [("en", "Monday", "9 a.m."), ("fr", "lundi", "09:00"), ("es", "lunes", "9:00"), ("ko", "월요일", "9:00")],
    )
    def test_closed_says_when_it_opens_in_the_shoppers_language(self, showcase, time_machine, language, day, nine):
        """In the shopper's language, the day and the time at the store's clock."""
        for weekday in range(5):
            OpeningPeriod.objects.create(store=showcase.store, weekday=weekday, opens=time(9), closes=time(18))
        time_machine.move_to(at("2026-11-14 10:00"), tick=False)  # Saturday
        html = page_of(submit(showcase), language)
        assert f'<html lang="{language}">' in html
        with translation.override(language):
            sentence = gettext(
                "The store is closed now. It opens on %(day)s at %(time)s, and your request will be taken then."
            )
        assert html_escape(sentence.split("%(day)s")[0]) in html and day in html and nine in html

    def test_closed_opens_today_in_the_stores_time_zone(self, time_machine):
        store = make_store(timezone="Asia/Seoul")
        OpeningPeriod.objects.create(store=store, weekday=0, opens=time(10), closes=time(20))
        showcase = make_showcase(store)
        time_machine.move_to(datetime(2026, 11, 15, 23, 0, tzinfo=ZoneInfo("UTC")), tick=False)  # Monday 08:00 there
        assert "It opens today at 10 a.m." in page_of(submit(showcase))


@pytest.mark.django_db
class TestLivePosition:
    def test_the_order_ahead_cancelled_moves_the_position(self, showcase):
        ahead, mine = submit(showcase), submit(showcase)
        poll = StatusPoll(mine, "en", "csrf", shown_ahead=1)
        since = last_event_id(mine.pk)
        assert poll(since) is None  # nothing moved
        actions.cancel_order(ahead.pk, by=TILL, reason="Changed their mind")
        message = poll(since)
        assert message is not None and message.id == since and message.data["types"] == []
        assert "html" not in message.data  # the promise alone: the rest of the panel did not change
        assert message.data["promise"].startswith('<div class="promise" id="promise">')
        assert "Yours is next in line." in message.data["promise"]
        assert poll(since) is None  # shown now

    def test_a_stream_not_told_takes_the_first_count_as_shown(self, showcase):
        ahead, mine = submit(showcase), submit(showcase)
        poll = StatusPoll(mine, "fr", "csrf")
        since = last_event_id(mine.pk)
        assert poll(since) is None
        actions.claim_order(ahead.pk, by=staff(showcase.store))
        assert "La vôtre est la prochaine." in poll(since).data["promise"]

    def test_once_taken_the_queue_costs_one_statement(self, showcase, django_assert_num_queries):
        ahead, mine = submit(showcase), submit(showcase)
        alex = staff(showcase.store)
        poll = StatusPoll(mine, "en", "csrf", shown_ahead=1)
        actions.claim_order(mine.pk, by=alex)
        since = last_event_id(mine.pk)
        assert poll(since - 1).data["status"] == "picking"
        actions.cancel_order(ahead.pk, by=TILL)
        with django_assert_num_queries(1):
            assert poll(since) is None

    def test_its_own_change_sends_the_whole_panel(self, showcase):
        mine = submit(showcase)
        poll = StatusPoll(mine, "en", "csrf", shown_ahead=0)
        since = last_event_id(mine.pk)
        actions.claim_order(mine.pk, by=staff(showcase.store, "Alex"))
        message = poll(since)
        assert message.data["status"] == "picking" and "Being picked by Alex" in message.data["html"]
        assert message.id == last_event_id(mine.pk)


@pytest.mark.django_db(transaction=True)
def test_the_stream_follows_the_queue(showcase):
    """Through the ASGI handler: a request waiting behind another hears when that one is cancelled."""
    ahead, mine = submit(showcase), submit(showcase)
    created = OrderEvent.objects.filter(order=mine).last().pk

    async def scenario():
        stream = await open_stream(f"/o/{mine.public_token}/events?ahead=1&last_event_id={created}")
        await listening()
        await sync_to_async(actions.cancel_order)(ahead.pk, by=TILL)
        message = await next_message(stream)
        assert message["id"] == created and message["types"] == [] and "Yours is next in line." in message["promise"]
        await stream.aclose()
        await pg_listener.stop()

    asyncio.run(scenario())


async def collect(stream, chunks: list[str]) -> None:
    async for chunk in stream:
        chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)


async def nth_message(chunks: list[str], n: int, timeout: float = 5.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(found := messages_from(chunks)) < n:
        assert asyncio.get_running_loop().time() < deadline, f"message {n} did not come: {len(found)}"
        await asyncio.sleep(0.02)
    return found[n - 1]


@pytest.mark.django_db(transaction=True)
def test_a_taken_requests_stream_leaves_the_queue_and_follows_it_again_once_put_back(showcase, monkeypatch):
    """Taken, its place no longer moves: the queue's changes do not wake its stream (a busy queue's taken
    orders would each read at every move). Put back in the queue, it follows the queue again."""
    ahead, mine, behind = submit(showcase), submit(showcase), submit(showcase)
    alex = staff(showcase.store, "Alex")
    created = OrderEvent.objects.filter(order=mine).last().pk
    panel_reads: list[int] = []
    read = StatusPoll.read
    monkeypatch.setattr(StatusPoll, "read", lambda poll, since: panel_reads.append(since) or read(poll, since))

    async def scenario():
        stream = await open_stream(f"/o/{mine.public_token}/events?ahead=1&last_event_id={created}")
        chunks: list[str] = []
        reading = asyncio.create_task(collect(stream, chunks))  # the stream runs as a browser reads it
        await listening()
        await sync_to_async(actions.claim_order)(mine.pk, by=alex)
        assert (await nth_message(chunks, 1))["status"] == "picking"
        taken = len(panel_reads)
        await sync_to_async(actions.cancel_order)(behind.pk, by=TILL)  # a queue move: nothing for it now
        await asyncio.sleep(0.5)  # time for a wake-up it should not get
        assert len(panel_reads) == taken, "the queue move behind it woke the taken order's stream"
        await sync_to_async(actions.unclaim_order)(mine.pk, by=alex)
        put_back = await nth_message(chunks, 2)
        assert put_back["status"] == "submitted" and "1 request is ahead of yours." in put_back["html"]
        await sync_to_async(actions.cancel_order)(ahead.pk, by=TILL)
        assert "Yours is next in line." in (await nth_message(chunks, 3))["promise"]
        reading.cancel()
        await pg_listener.stop()

    asyncio.run(scenario())
