"""Substitutes through the pages: the associate's offer page, the shopper's answer, the till and hand-off."""

import pytest
from django.test import Client

from shelfcall.orders import actions
from shelfcall.orders.events import SHOPPER, Actor
from shelfcall.orders.models import OrderLine, OrderStatus, Substitution
from shelfcall.stores.models import Role
from tests.factories import TILL, claimed, make_product, make_showcase, make_store, make_user, signed_in, submit

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def store():
    return make_store(name="Hardware Hall", substitute_wait_minutes=15)


@pytest.fixture
def drill(store):
    return make_product(store, name="Cordless drill", price="99.00", on_hand=1)


@pytest.fixture
def stronger(store):
    return make_product(store, name="Brushless drill", price="129.00", on_hand=2)


@pytest.fixture
def alex(store):
    return make_user(store, name="Alex")


@pytest.fixture
def order(store, drill, stronger, alex):
    hidden = make_product(store, name="Sold out drill", on_hand=0)
    showcase = make_showcase(store, products=[drill, stronger, hidden])
    return claimed(submit(showcase, {drill: 1}), Actor.staff(alex))


def _offer_page(order) -> str:
    return f"/w/orders/{order.pk}/lines/{order.lines.get().pk}/substitute"


class TestOfferPage:
    def test_lists_what_is_free_on_the_showcase_and_offers_it(self, order, alex, stronger):
        client = signed_in(alex)
        page = body(client.get(_offer_page(order)))
        assert "Brushless drill" in page and "2 free" in page
        assert "Sold out drill" not in page and "Cordless drill · €99.00" not in page, (
            "neither sold out nor in the order"
        )
        response = client.post(_offer_page(order), {"not_found": 1, "product": stronger.pk, "qty": 1}, follow=True)
        assert messages_of(response) == ["Brushless drill is offered to the shopper; they have 15 minutes to answer."]
        assert "Substitute for Cordless drill · waiting for the shopper" in body(response)
        assert OrderLine.objects.get(order=order, product=stronger).substitution == Substitution.PROPOSED

    def test_any_product_in_stock_by_its_sku(self, store, order, alex):
        elsewhere = make_product(store, name="Hammer drill", sku="HD-1", on_hand=1)
        response = signed_in(alex).post(_offer_page(order), {"not_found": 1, "sku": "hd-1", "qty": 1}, follow=True)
        assert OrderLine.objects.get(order=order, product=elsewhere).is_proposed, messages_of(response)

    def test_refusals_are_shown_on_the_form_and_write_nothing(self, store, order, alex, stronger):
        client = signed_in(alex)
        cases = [
            ({"not_found": 1, "qty": 1}, "Choose one product to offer, or type one SKU."),
            ({"not_found": 1, "sku": "NOPE", "qty": 1}, "No product has the SKU NOPE."),
            ({"not_found": 1, "product": stronger.pk, "qty": 3}, "Only 2 of Brushless drill are free on the shelf"),
        ]
        for data, problem in cases:
            assert problem in body(client.post(_offer_page(order), data)), data
        assert order.lines.count() == 1 and order.lines.get().short_qty == 0

    def test_someone_else_s_order_goes_back_with_the_reason(self, store, order):
        ben = signed_in(make_user(store, name="Ben"))
        response = ben.get(_offer_page(order), follow=True)
        assert messages_of(response) == [f"Alex is picking order {order.number}; ask a supervisor to reassign it."]

    def test_another_store_never_sees_it(self, order):
        outsider = signed_in(make_user(make_store(), name="Olga", role=Role.SUPERVISOR))
        assert outsider.get(_offer_page(order)).status_code == 404
        assert (
            outsider.post(f"/w/orders/{order.pk}/answer-substitute", {"line": 1, "answer": "accept"}).status_code == 404
        )

    def test_a_line_of_another_order_is_404(self, store, order, alex, stronger):
        other = submit(make_showcase(store, products=[stronger]), {stronger: 1})
        assert signed_in(alex).get(f"/w/orders/{order.pk}/lines/{other.lines.get().pk}/substitute").status_code == 404


class TestAnswers:
    @pytest.fixture
    def offered(self, order, alex, stronger):
        line = order.lines.get()
        [substitute] = actions.propose_substitutes(
            order.pk, line.pk, by=Actor.staff(alex), offers=[actions.Offer(stronger.pk, 1)], not_found_qty=1
        )
        return substitute

    def test_the_shopper_sees_the_offer_and_accepts_it_once(self, order, offered):
        status = f"/o/{order.public_token}"
        page = body(Client().get(status))
        assert "Instead of Cordless drill, we can give you:" in page and "€129.00" in page
        assert "or we leave it out." in page
        shopper = Client()
        first = shopper.post(f"{status}/substitutes/{offered.pk}", {"answer": "accept"}, follow=True)
        assert messages_of(first) == ["Thanks! Brushless drill is added to your order."]
        again = shopper.post(f"{status}/substitutes/{offered.pk}", {"answer": "accept"}, follow=True)
        assert messages_of(again) == ["Thanks! Brushless drill is added to your order."], "harmless"
        no = shopper.post(f"{status}/substitutes/{offered.pk}", {"answer": "decline"}, follow=True)
        assert messages_of(no) == ["The substitute Brushless drill was already accepted; that answer stands."]
        assert order.events.filter(type="order.substitute_accepted").count() == 1
        assert "we can give you" not in body(Client().get(status))

    def test_a_shopper_cannot_answer_for_another_order(self, store, order, offered, stronger):
        other = submit(make_showcase(store, products=[stronger]), {stronger: 1})
        response = Client().post(f"/o/{other.public_token}/substitutes/{offered.pk}", {"answer": "accept"}, follow=True)
        assert messages_of(response) == ["That item is not part of this order."]
        assert OrderLine.objects.get(pk=offered.pk).is_proposed
        assert Client().post(f"/o/{'x' * 32}/substitutes/{offered.pk}", {"answer": "accept"}).status_code == 404

    def test_an_answer_after_the_order_was_cancelled_is_refused(self, order, offered, alex):
        actions.cancel_order(order.pk, by=Actor.staff(alex), reason="Closing")
        response = Client().post(f"/o/{order.public_token}/substitutes/{offered.pk}", {"answer": "accept"}, follow=True)
        assert messages_of(response) == [
            f"Order {order.number} is cancelled now, so it can't be given an answer about a substitute."
        ]

    def test_the_associate_records_the_shopper_s_answer_at_the_desk(self, order, offered, alex):
        client = signed_in(alex)
        page = body(client.get(f"/w/orders/{order.pk}"))
        assert "Shopper accepts" in page
        response = client.post(
            f"/w/orders/{order.pk}/answer-substitute", {"line": offered.pk, "answer": "decline"}, follow=True
        )
        assert messages_of(response) == ["Brushless drill is left out; its units are back on the shelf."]
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED, "nothing left to hand over"

    def test_till_and_hand_off_show_the_substitute_as_such(self, store, order, offered, alex):
        actions.answer_substitute(order.pk, offered.pk, accept=True, by=SHOPPER)
        actor = Actor.staff(alex)
        actions.pick_line(order.pk, offered.pk, by=actor)
        actions.stage_order(order.pk, by=actor, note="desk")
        actions.mark_paid(order.pk, by=TILL)
        client = signed_in(alex)
        till = body(client.get(f"/w/till?code={order.number}"))
        assert "1 × Brushless drill · €129.00" in till and "Substitute for Cordless drill" in till
        handoff = body(client.get(f"/w/orders/{order.pk}/handoff"))
        assert "Substitute for Cordless drill" in handoff
        review = body(client.post(f"/w/orders/{order.pk}/handoff", {"pickup_code": str(order.number)}))
        assert "Substitute for Cordless drill" in review


class TestStatements:
    def test_the_offer_page_costs_the_same_however_many_candidates(self, store, order, alex, count_statements):
        client = signed_in(alex)
        client.get(_offer_page(order))
        with count_statements(12) as few:
            client.get(_offer_page(order))
        showcase = order.lines.get().product.showcase_items.get().showcase
        for position in range(10):
            extra = make_product(store, on_hand=3)
            showcase.items.create(product=extra, position=10 + position)
        with count_statements(len(few)):
            assert body(client.get(_offer_page(order))).count('name="product"') == 11

    def test_the_status_page_costs_no_more_with_substitutes_waiting(self, order, alex, stronger, count_statements):
        shopper, status = Client(), f"/o/{order.public_token}"
        shopper.get(status)
        with count_statements(10) as without:
            shopper.get(status)
        line = order.lines.get()
        actions.propose_substitutes(
            order.pk, line.pk, by=Actor.staff(alex), offers=[actions.Offer(stronger.pk, 1)], not_found_qty=1
        )
        with count_statements(len(without)):
            assert "we can give you" in body(shopper.get(status))
