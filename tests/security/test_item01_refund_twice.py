"""Item 1: a refund never exceeds what is due when it commits, however many presses arrive at once."""

from decimal import Decimal

import pytest

from shelfcall.orders import actions
from shelfcall.orders.errors import NothingToRefund
from shelfcall.orders.events import EventType
from shelfcall.orders.models import Order, PaymentStatus
from shelfcall.stores.models import Role
from tests.factories import TILL, make_product, make_showcase, make_store, make_user, staff, submit
from tests.orders.test_concurrency import race

DUE = Decimal("39.99")


def paid_order_with_one_unit_short() -> Order:
    """Paid 79.98 for two units, one was not found: 39.99 is due back, and only that."""
    store = make_store()
    product = make_product(store, price="39.99")
    order = submit(make_showcase(store, products=[product]), {product: 2})
    actions.mark_paid(order.pk, by=TILL)
    alex = staff(store)
    actions.claim_order(order.pk, by=alex)
    actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
    order.refresh_from_db()
    assert order.refund_due_amount == DUE
    return order


def refunded_total(order: Order) -> Decimal:
    order.refresh_from_db()
    return order.refunded_amount


@pytest.mark.django_db
class TestOnePressAfterAnother:
    def test_the_amount_due_is_refunded_once(self):
        order = paid_order_with_one_unit_short()
        actions.refund_order(order.pk, by=TILL, amount=DUE)
        with pytest.raises(NothingToRefund):
            actions.refund_order(order.pk, by=TILL, amount=DUE)  # the old check allowed it: 79.98 ≤ paid
        assert refunded_total(order) == DUE
        assert order.events.filter(type=EventType.REFUNDED).count() == 1

    def test_settling_what_is_due_reads_it_in_the_action(self):
        order = paid_order_with_one_unit_short()
        assert actions.refund_order(order.pk, by=TILL).amount == DUE
        with pytest.raises(NothingToRefund):
            actions.refund_order(order.pk, by=TILL)
        assert refunded_total(order) == DUE and order.payment_status == PaymentStatus.PARTIALLY_REFUNDED

    @pytest.mark.parametrize("amount", ["0", "-1", "0.001", "NaN", "Infinity", "39.991"])
    def test_odd_amounts_are_refused(self, amount):
        order = paid_order_with_one_unit_short()
        with pytest.raises(NothingToRefund, match=r"39\.99"):
            actions.refund_order(order.pk, by=TILL, amount=Decimal(amount))
        assert refunded_total(order) == 0

    def test_the_refunds_page_twice_from_a_stale_page(self, client):
        """Two supervisors (or one double click) post the form that showed 39.99."""
        order = paid_order_with_one_unit_short()
        client.force_login(make_user(order.store, name="Sam", role=Role.SUPERVISOR))
        for _ in range(2):
            client.post(f"/w/orders/{order.pk}/refund", {"amount": "39.99", "reference": "R-1"})
        assert refunded_total(order) == DUE
        page = client.get("/w/refunds").content.decode()
        assert "Nothing to refund" in page

    def test_a_broken_amount_is_named_not_a_500(self, client):
        order = paid_order_with_one_unit_short()
        client.force_login(make_user(order.store, name="Sam", role=Role.SUPERVISOR))
        response = client.post(f"/w/orders/{order.pk}/refund", {"amount": "٣x"}, follow=True)
        assert response.status_code == 200
        assert any("Amount refunded" in str(m) for m in response.context["messages"])
        assert refunded_total(order) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestTwoPressesAtOnce:
    """One press per web process: each in its own thread and connection, started together."""

    @pytest.mark.parametrize("amount", [DUE, None], ids=["the amount shown", "what is due"])
    def test_only_one_refund_commits(self, amount):
        order = paid_order_with_one_unit_short()
        results = race([lambda: actions.refund_order(order.pk, by=TILL, amount=amount)] * 2)
        refused = [r for r in results if isinstance(r, NothingToRefund)]
        assert len(refused) == 1, results
        assert refunded_total(order) == DUE
        assert order.events.filter(type=EventType.REFUNDED).count() == 1
