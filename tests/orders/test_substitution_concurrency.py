"""Substitute races decided by the database, on PostgreSQL, where requests really run in parallel."""

from decimal import Decimal

import pytest

from shelfcall.orders import actions
from shelfcall.orders.actions import Offer
from shelfcall.orders.errors import SubstituteAlreadyDecided, SubstituteOutOfStock, WrongStatus
from shelfcall.orders.events import SHOPPER, EventType
from shelfcall.orders.models import Order, OrderLine, OrderStatus
from tests.factories import TILL, claimed, make_product, make_showcase, make_store, staff, stock_of, submit
from tests.orders.lifecycle_replay import World, problems
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def shop(store):
    missing = make_product(store, price="300.00", on_hand=5)
    instead = [make_product(store, price="250.00", on_hand=5), make_product(store, price="40.00", on_hand=5)]
    alex = staff(store)
    order = claimed(submit(make_showcase(store, products=[missing]), {missing: 1}), alex)
    line = order.lines.get()
    subs = actions.propose_substitutes(
        order.pk, line.pk, by=alex, offers=[Offer(p.pk, 1) for p in instead], not_found_qty=1
    )
    return order, subs, alex


def _consistent(store) -> None:
    assert problems(World.load(store.pk), {}) == []


def test_two_accepts_at_once_add_it_once(store, shop):
    order, (first, _second), _alex = shop
    results = race([lambda: actions.answer_substitute(order.pk, first.pk, accept=True, by=SHOPPER)] * 2)
    assert all(isinstance(result, OrderLine) for result in results), results
    assert order.events.filter(type=EventType.SUBSTITUTE_ACCEPTED).count() == 1
    assert Order.objects.get(pk=order.pk).total_amount == Decimal("250.00")
    _consistent(store)


def test_accept_and_decline_at_once_one_answer_stands(store, shop):
    order, (first, _second), _alex = shop
    results = race(
        [
            lambda: actions.answer_substitute(order.pk, first.pk, accept=True, by=SHOPPER),
            lambda: actions.answer_substitute(order.pk, first.pk, accept=False, by=TILL),
        ]
    )
    assert sorted(type(result).__name__ for result in results) == ["OrderLine", "SubstituteAlreadyDecided"], results
    assert any(isinstance(result, SubstituteAlreadyDecided) for result in results)
    answers = order.events.filter(type__in=[EventType.SUBSTITUTE_ACCEPTED, EventType.SUBSTITUTE_DECLINED])
    assert answers.count() == 1
    _consistent(store)


def test_answers_to_two_substitutes_at_once_both_count(store, shop):
    order, (first, second), _alex = shop
    results = race(
        [
            lambda sub=sub: actions.answer_substitute(order.pk, sub.pk, accept=True, by=SHOPPER)
            for sub in (first, second)
        ]
    )
    assert all(isinstance(result, OrderLine) for result in results), results
    order.refresh_from_db()
    assert (order.total_amount, order.substitute_due_at) == (Decimal("290.00"), None)
    _consistent(store)


def test_an_accept_racing_a_cancel_never_charges_a_cancelled_order(store, shop):
    order, (first, _second), alex = shop
    results = race(
        [
            lambda: actions.answer_substitute(order.pk, first.pk, accept=True, by=SHOPPER),
            lambda: actions.cancel_order(order.pk, by=alex, reason="Closing"),
        ]
    )
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, WrongStatus)], results
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.total_amount == 0
    assert [stock_of(line.product, store).reserved for line in order.lines.all()] == [0, 0, 0]
    _consistent(store)


def test_two_associates_and_the_last_unit_as_a_substitute(store):
    last = make_product(store, on_hand=1)
    orders = []
    for _ in range(2):
        missing = make_product(store, on_hand=1)
        orders.append(claimed(submit(make_showcase(store, products=[missing]), {missing: 1}), staff(store)))

    def offer(order):
        return actions.propose_substitutes(
            order.pk, order.lines.get().pk, by=TILL, offers=[Offer(last.pk, 1)], not_found_qty=1
        )

    results = race([lambda order=order: offer(order) for order in orders])
    assert sorted(type(r).__name__ for r in results) == ["SubstituteOutOfStock", "list"], results
    assert any(isinstance(r, SubstituteOutOfStock) for r in results)
    assert stock_of(last, store).reserved == 1
    _consistent(store)
