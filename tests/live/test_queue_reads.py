"""A queue move (a request taken, cancelled, sent behind) wakes the status stream of every request of its
queue: they share one read of the queue's places, those whose place moved are read together, and each is
sent its promise alone. The polls run as their streams run them (`next_message`, reads in pool threads),
all woken by the same commit."""

import asyncio
import time
from datetime import time as hour

import pytest

from shelfcall.orders import actions, promise, queries
from shelfcall.orders.models import Order
from shelfcall.orders.queries import QueuePlace, last_event_id, list_queue_orders, queue_places, weekly_hours_of
from shelfcall.shopper import status
from shelfcall.shopper.status import CSRF_STAND_IN, StatusPoll, promise_readings
from shelfcall.stores.hours import weekly_hours
from shelfcall.stores.models import OpeningPeriod
from tests.factories import TILL, make_product, make_showcase, make_store, staff, submit

PLACES_READ = 1  # statements: every request waiting in the queue, with its latest event
QUEUE_READ = 2  # the requests whose place moved, with their stores, and the stores' opening hours


@pytest.fixture
def showcase():
    store = make_store()
    return make_showcase(store, products=[make_product(store, on_hand=1000)])


def woken_together(polls: list[tuple[StatusPoll, int]]) -> list:
    """Each poll's message after its last id, all asked in the same turn of the loop, as one commit's
    wake-up has them ask."""
    news_at = time.monotonic()

    async def asking() -> list:
        return await asyncio.gather(*(poll.next_message(since, news_at) for poll, since in polls))

    return asyncio.run(asking())


@pytest.fixture
def reads(monkeypatch) -> dict[str, list]:
    """The queue reads the polls make: places (by queue), and the orders read for their promises."""
    made: dict[str, list] = {"places": [], "orders": []}

    def places(store_id: int, team_id: int | None) -> dict[int, QueuePlace]:
        made["places"].append((store_id, team_id))
        return queue_places(store_id, team_id)

    def orders(order_ids):
        made["orders"].append(set(order_ids))
        return list_queue_orders(order_ids)

    monkeypatch.setattr(status, "queue_places", places)
    monkeypatch.setattr(status, "list_queue_orders", orders)
    return made


@pytest.mark.django_db
def test_the_places_of_a_queue_are_one_statement(showcase, django_assert_num_queries):
    first, second, third = submit(showcase), submit(showcase), submit(showcase)
    other_store = submit(make_showcase(make_store()))
    actions.cancel_order(second.pk, by=TILL)
    with django_assert_num_queries(PLACES_READ):
        places = queue_places(showcase.store_id, showcase.team_id)
    assert places == {
        first.pk: QueuePlace(0, last_event_id(first.pk)),
        third.pk: QueuePlace(1, last_event_id(third.pk)),
    }
    assert other_store.pk not in places
    assert {pk: place.ahead for pk, place in places.items()} == {
        order.pk: promise.orders_ahead(order) for order in (first, third)
    }


@pytest.mark.django_db
def test_a_stores_queue_of_requests_of_no_team(showcase):
    first, second = submit(showcase), submit(showcase)
    Order.objects.filter(pk=second.pk).update(team=None)
    assert queue_places(showcase.store_id, None) == {second.pk: QueuePlace(0, last_event_id(second.pk))}
    assert list(queue_places(showcase.store_id, showcase.team_id)) == [first.pk]


@pytest.mark.django_db
def test_the_requests_whose_place_moved_are_read_a_few_dozen_at_a_time(
    showcase, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(queries._QUEUE_ORDERS, "per_read", 4)
    orders = [submit(showcase) for _ in range(7)]
    actions.claim_order(orders[2].pk, by=staff(showcase.store))
    with django_assert_num_queries(2):  # 4 ids, then 3 read as 4 (the last one twice)
        found = sorted(list_queue_orders([order.pk for order in reversed(orders)]), key=lambda order: order.pk)
    waiting = [order for order in orders if order.pk != orders[2].pk]
    assert [order.pk for order in found] == [order.pk for order in waiting]
    assert [getattr(order, promise.AHEAD_WHEN_READ) for order in found] == [0, 1, 2, 3, 4, 5]
    assert all(order.store.pk == showcase.store_id for order in found)
    assert list_queue_orders([]) == []


@pytest.mark.django_db
def test_the_opening_hours_of_several_stores_are_one_statement(showcase, django_assert_num_queries):
    open_late, without_hours = showcase.store, make_store()
    OpeningPeriod.objects.create(store=open_late, weekday=0, opens=hour(9), closes=hour(21))
    OpeningPeriod.objects.create(store=open_late, weekday=6, opens=hour(10), closes=hour(16))
    with django_assert_num_queries(1):
        hours = weekly_hours_of([without_hours, open_late])
    assert hours[open_late.pk] == weekly_hours(open_late)
    assert [period.weekday for period in hours[open_late.pk].periods] == [0, 6]
    assert hours[without_hours.pk].periods == () and hours[without_hours.pk].timezone == without_hours.timezone


@pytest.mark.django_db
def test_the_promises_of_many_requests_are_two_statements(showcase, django_assert_num_queries):
    orders = [submit(showcase) for _ in range(6)]
    promise_readings([(orders[0].pk, "en")])  # the store's history is read once per process and hour
    asked = [(order.pk, language) for order in orders[1:] for language in ("en", "ko")]
    with django_assert_num_queries(QUEUE_READ):
        found = promise_readings(asked)
    assert [found[order.pk, "en"].ahead for order in orders[1:]] == [1, 2, 3, 4, 5]
    assert "1 request is ahead of yours." in found[orders[1].pk, "en"].html
    assert "1 request is ahead of yours." not in found[orders[1].pk, "ko"].html
    actions.claim_order(orders[1].pk, by=staff(showcase.store))
    assert (orders[1].pk, "en") not in promise_readings([(orders[1].pk, "en")])  # taken: no promise of its own


@pytest.mark.django_db(transaction=True)
def test_a_queue_move_reads_once_for_all_its_streams_and_sends_each_its_promise(showcase, reads):
    first, *behind = (submit(showcase) for _ in range(5))
    polls = [
        (StatusPoll(order, "en", "csrf", shown_ahead=n), last_event_id(order.pk)) for n, order in enumerate(behind, 1)
    ]
    polls.append((StatusPoll(behind[0], "fr", "csrf-fr", shown_ahead=1), last_event_id(behind[0].pk)))
    actions.claim_order(first.pk, by=staff(showcase.store))

    messages = woken_together(polls)

    assert reads["places"] == [(showcase.store_id, showcase.team_id)]
    assert reads["orders"] == [{order.pk for order in behind}]
    assert all("html" not in message.data and message.data["types"] == [] for message in messages)
    assert [message.id for message in messages] == [since for _poll, since in polls]
    said = [message.data["promise"] for message in messages]
    assert "Yours is next in line." in said[0] and "La vôtre est la prochaine." in said[4]
    assert [f"{n} request" in text for n, text in zip([1, 2, 3], said[1:4], strict=True)] == [True, True, True]
    assert [poll.shown for poll, _since in polls] == [0, 1, 2, 3, 0]
    assert woken_together(polls) == [None] * 5  # shown now
    assert len(reads["places"]) == 2 and len(reads["orders"]) == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_sent_behind_them_costs_the_places_read_and_sends_nothing(showcase, reads):
    waiting = [submit(showcase) for _ in range(3)]
    polls = [
        (StatusPoll(order, "en", "csrf", shown_ahead=n), last_event_id(order.pk)) for n, order in enumerate(waiting)
    ]
    submit(showcase)

    assert woken_together(polls) == [None, None, None]
    assert reads == {"places": [(showcase.store_id, showcase.team_id)], "orders": []}


@pytest.mark.django_db(transaction=True)
def test_its_own_event_sends_the_panel_with_the_streams_own_csrf_token(showcase, reads):
    mine, behind = submit(showcase), submit(showcase)
    polls = [
        (StatusPoll(mine, "en", "token-of-this-page", shown_ahead=0), last_event_id(mine.pk)),
        (StatusPoll(behind, "en", "csrf", shown_ahead=1), last_event_id(behind.pk)),
    ]
    actions.claim_order(mine.pk, by=staff(showcase.store, "Alex"))

    own, moved = woken_together(polls)

    assert own.data["status"] == "picking" and "Being picked by Alex" in own.data["html"]
    assert own.id == last_event_id(mine.pk) and own.data["types"] == ["order.claimed"]
    assert CSRF_STAND_IN not in own.data["html"]
    assert "Yours is next in line." in moved.data["promise"]
    assert reads["orders"] == [{behind.pk}]
    assert polls[0][0].order.status == "picking"  # from now on it follows its events, not the queue


@pytest.mark.django_db(transaction=True)
def test_a_request_taken_between_the_two_reads_waits_for_its_own_event(showcase, reads, monkeypatch):
    first, mine = submit(showcase), submit(showcase)
    poll = StatusPoll(mine, "en", "csrf", shown_ahead=1)
    since = last_event_id(mine.pk)
    actions.cancel_order(first.pk, by=TILL)
    places = status.queue_places

    def then_taken(store_id: int, team_id: int | None) -> dict[int, QueuePlace]:
        found = places(store_id, team_id)
        actions.claim_order(mine.pk, by=staff(showcase.store))
        return found

    monkeypatch.setattr(status, "queue_places", then_taken)
    assert woken_together([(poll, since)]) == [None]
    assert poll.shown == 1  # not sent, so not shown
