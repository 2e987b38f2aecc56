from decimal import Decimal

import pytest

from shelfcall.orders.actions import CartLine, ShopperContact, submit_showcase_order
from shelfcall.orders.errors import CartProblems, ContactRequired, TooManyOpenOrders
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, OrderStatus, Reservation
from tests.factories import make_product, make_showcase, make_store, stock_of, submit

pytestmark = pytest.mark.django_db


class TestSubmitShowcaseOrder:
    def test_creates_order_reserves_stock_and_records_event(self):
        store = make_store()
        drill, saw = (
            make_product(store, price="99.90", on_hand=3),
            make_product(store, price="5.00", on_hand=9),
        )
        showcase = make_showcase(store, products=[drill, saw])

        order = submit(showcase, {drill: 2, saw: 1})

        assert order.status == OrderStatus.SUBMITTED
        assert order.total_amount == Decimal("204.80")
        assert order.number == 1001 and len(order.public_token) == 32
        assert [(line.product_id, line.requested_qty) for line in order.lines.all()] == [
            (drill.pk, 2),
            (saw.pk, 1),
        ]
        assert stock_of(drill, store).reserved == 2 and stock_of(saw, store).reserved == 1
        assert Reservation.objects.filter(order=order).count() == 2
        event = order.events.get()
        assert event.type == EventType.CREATED and event.actor_kind == "shopper"
        assert event.payload["lines"][0]["qty"] == 2

    def test_numbers_are_sequential_per_store(self):
        showcase = make_showcase()
        first, second = submit(showcase), submit(showcase)
        assert second.number == first.number + 1

    def test_same_submission_key_returns_the_first_order(self):
        showcase = make_showcase()
        product = showcase.items.get().product
        first = submit(showcase, key="same")
        again = submit(showcase, key="same")
        assert again.pk == first.pk
        assert Order.objects.count() == 1
        assert stock_of(product, showcase.store).reserved == 1

    def test_not_enough_stock_names_the_line_and_writes_nothing(self):
        store = make_store()
        plenty, scarce = make_product(store, on_hand=9), make_product(store, on_hand=1)
        showcase = make_showcase(store, products=[plenty, scarce])

        with pytest.raises(CartProblems) as refused:
            submit(showcase, {plenty: 1, scarce: 2})

        [problem] = refused.value.problems
        assert (problem.product_id, problem.code, problem.available) == (scarce.pk, "not_enough", 1)
        assert "Only 1 left" in problem.message
        assert not Order.objects.exists()
        assert stock_of(plenty, store).reserved == 0

    def test_price_change_is_reported_before_ordering(self):
        showcase = make_showcase()
        product = showcase.items.get().product
        line = CartLine(product.pk, 1, product.price - 1)
        with pytest.raises(CartProblems) as refused:
            submit_showcase_order(showcase, [line], contact=ShopperContact(), submission_key="k")
        assert refused.value.problems[0].code == "price_changed"

    def test_product_taken_off_the_showcase_is_reported(self):
        store = make_store()
        kept, removed = make_product(store), make_product(store)
        showcase = make_showcase(store, products=[kept, removed])
        showcase.items.filter(product=removed).update(active=False)
        with pytest.raises(CartProblems) as refused:
            submit(showcase, {kept: 1, removed: 1})
        assert [(p.product_id, p.code) for p in refused.value.problems] == [(removed.pk, "unavailable")]

    def test_line_and_order_maximums(self):
        store = make_store(max_line_qty=2, max_order_qty=3)
        a, b = make_product(store, on_hand=9), make_product(store, on_hand=9)
        showcase = make_showcase(store, products=[a, b])
        with pytest.raises(CartProblems) as too_many_of_one:
            submit(showcase, {a: 3})
        assert too_many_of_one.value.problems[0].code == "over_line_max"
        with pytest.raises(CartProblems, match="at most 3 items"):
            submit(showcase, {a: 2, b: 2})

    def test_store_can_require_name_and_contact(self):
        showcase = make_showcase(make_store(require_shopper_name=True, require_shopper_contact=True))
        with pytest.raises(ContactRequired) as no_name:
            submit(showcase, contact=ShopperContact())
        assert no_name.value.field == "name"
        with pytest.raises(ContactRequired) as no_contact:
            submit(showcase, contact=ShopperContact(name="Kim"))
        assert no_contact.value.field == "phone"
        assert submit(showcase, contact=ShopperContact(name="Kim", email="kim@example.com")).shopper_email

    def test_open_orders_per_device_are_limited(self):
        showcase = make_showcase(make_store(max_open_orders_per_device=2))
        submit(showcase, device_id="phone-1")
        submit(showcase, device_id="phone-1")
        with pytest.raises(TooManyOpenOrders):
            submit(showcase, device_id="phone-1")
        assert submit(showcase, device_id="phone-2")

    def test_empty_cart_is_refused(self):
        with pytest.raises(CartProblems, match="empty"):
            submit_showcase_order(make_showcase(), [], contact=ShopperContact(), submission_key="k")
