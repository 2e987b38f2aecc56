"""Payments are a list: deposits, parts, the balance and refunds as rows; the order keeps their sums."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shelfcall.orders import actions
from shelfcall.orders.actions import Rejection
from shelfcall.orders.errors import (
    InvalidAmount,
    NothingOwed,
    NothingToRefund,
    Overpayment,
    PaymentRequired,
    WrongCurrency,
    WrongStatus,
)
from shelfcall.orders.events import Actor, EventType
from shelfcall.orders.models import Order, Payment, PaymentKind, PaymentStatus
from shelfcall.orders.queries import last_event_id
from tests.factories import make_product, make_showcase, make_store, staff, submit
from tests.orders.test_concurrency import race

TILL = Actor.api("till-3")


def order_of_100(**store_fields) -> Order:
    store = make_store(**store_fields)
    product = make_product(store, price="50.00")
    return submit(make_showcase(store, products=[product]), {product: 2})


def pay(order: Order, amount: str) -> actions.Receipt:
    return actions.record_payment(order.pk, amount=Decimal(amount), method="cash", by=TILL)


@pytest.mark.django_db
class TestRecordPayment:
    def test_unpaid_then_partially_paid_then_paid(self):
        order = order_of_100()
        first = pay(order, "30.00")
        assert (first.order.payment_status, first.order.paid_amount, first.order.owed_amount) == (
            PaymentStatus.PARTIALLY_PAID,
            Decimal("30.00"),
            Decimal("70.00"),
        )
        assert first.order.paid_at is None
        last = pay(order, "70.00")
        assert last.order.payment_status == PaymentStatus.PAID and last.order.paid_at is not None
        order.refresh_from_db()
        assert order.paid_amount == sum(p.amount for p in order.payments.all()) == Decimal("100.00")
        assert order.payment_status == PaymentStatus.PAID

    def test_each_payment_is_announced_with_the_balance(self):
        order = order_of_100()
        receipt = actions.record_payment(order.pk, amount=Decimal("30"), method="card", reference=" T-1 ", by=TILL)
        event = order.events.get(type=EventType.PAID)
        assert event.payload == {
            "amount": "30.00",
            "method": "card",
            "reference": "T-1",
            "paid_total": "30.00",
            "owed": "70.00",
        }
        assert receipt.payment.event == event
        assert (receipt.payment.actor_kind, receipt.payment.actor_label) == ("api", "till-3")

    def test_more_than_is_owed_is_refused_with_what_is_owed(self):
        order = order_of_100()
        pay(order, "30.00")
        with pytest.raises(Overpayment, match=r"70\.00"):
            pay(order, "70.01")
        assert order.payments.count() == 1

    @pytest.mark.parametrize("amount", ["0", "-1", "0.001", "12.345", "NaN", "Infinity", "-Infinity"])
    def test_odd_amounts_are_refused(self, amount):
        order = order_of_100()
        with pytest.raises(InvalidAmount):
            pay(order, amount)
        assert not order.payments.exists()

    def test_another_currency_is_refused(self):
        order = order_of_100()
        with pytest.raises(WrongCurrency, match="EUR"):
            actions.record_payment(order.pk, amount=Decimal("1"), method="cash", by=TILL, currency="USD")
        assert actions.record_payment(order.pk, amount=Decimal("1"), method="cash", by=TILL, currency="EUR")

    def test_a_cancelled_or_expired_order_takes_nothing(self):
        cancelled, expired = order_of_100(), order_of_100()
        actions.cancel_order(cancelled.pk, by=TILL, reason="gone")
        actions.expire_order(expired.pk, reason="not collected")
        for order in (cancelled, expired):
            with pytest.raises(WrongStatus):
                pay(order, "1.00")
            with pytest.raises(WrongStatus):
                actions.mark_paid(order.pk, by=TILL)
        assert not Payment.objects.exists()


@pytest.mark.django_db
class TestMarkPaid:
    def test_pays_the_balance_after_a_deposit(self):
        order = order_of_100()
        pay(order, "25.00")
        receipt = actions.mark_paid(order.pk, by=TILL, method="card")
        assert receipt.amount == Decimal("75.00") and receipt.order.payment_status == PaymentStatus.PAID
        assert [p.amount for p in order.payments.all()] == [Decimal("25.00"), Decimal("75.00")]

    def test_refused_when_nothing_is_owed(self):
        order = order_of_100()
        actions.mark_paid(order.pk, by=TILL)
        with pytest.raises(NothingOwed):
            actions.mark_paid(order.pk, by=TILL)
        with pytest.raises(NothingOwed):
            pay(order, "1.00")
        assert order.payments.count() == 1


@pytest.mark.django_db
class TestRefunds:
    def test_a_refund_after_a_short_pick_is_a_row(self):
        order = order_of_100()
        actions.mark_paid(order.pk, by=TILL)
        alex = staff(order.store)
        actions.claim_order(order.pk, by=alex)
        actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
        receipt = actions.refund_order(order.pk, by=TILL, method="card", reference="R-1")
        assert (receipt.payment.kind, receipt.amount) == (PaymentKind.REFUND, Decimal("50.00"))
        assert receipt.order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
        assert order.events.get(type=EventType.REFUNDED).payload["refund_due"] == "0.00"
        with pytest.raises(NothingToRefund):
            actions.refund_order(order.pk, by=TILL)

    def test_a_cancelled_deposit_is_given_back(self):
        order = order_of_100()
        pay(order, "20.00")
        actions.cancel_order(order.pk, by=TILL, reason="Out of stock")
        receipt = actions.refund_order(order.pk, by=TILL)
        assert receipt.amount == Decimal("20.00") and receipt.order.payment_status == PaymentStatus.REFUNDED


def sums(order: Order) -> tuple[str, Decimal, Decimal]:
    order.refresh_from_db()
    return order.payment_status, order.owed_amount, order.refund_due_amount


@pytest.mark.django_db
class TestStatusFollowsTheTotal:
    """The payment status is what the sums say after whatever changed the total, not the last payment's."""

    def test_a_line_added_to_a_paid_order_is_owed(self):
        order = order_of_100()
        actions.mark_paid(order.pk, by=TILL)
        extra = make_product(order.store, price="10.00")
        actions.add_line(order.pk, extra.pk, 1, by=TILL, version=last_event_id(order.pk))
        assert sums(order) == (PaymentStatus.PARTIALLY_PAID, Decimal("10.00"), Decimal("0"))
        assert not order.is_paid
        assert actions.mark_paid(order.pk, by=TILL).order.payment_status == PaymentStatus.PAID

    def test_a_line_changed_down_leaves_a_deposit_paid_with_a_refund_due(self):
        order = order_of_100()
        pay(order, "60.00")
        line = order.lines.get()
        actions.change_line_qty(order.pk, line.pk, 1, by=TILL, version=last_event_id(order.pk))
        assert sums(order) == (PaymentStatus.PAID, Decimal("0"), Decimal("10.00"))

    def test_a_short_pick_settles_a_part_payment(self):
        order = order_of_100()
        pay(order, "50.00")
        alex = staff(order.store)
        actions.claim_order(order.pk, by=alex)
        with time_machine.travel("2026-12-01 15:00Z", tick=False):
            actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
        assert sums(order) == (PaymentStatus.PAID, Decimal("0"), Decimal("0"))
        order.refresh_from_db()
        assert order.paid_at == datetime(2026, 12, 1, 15, tzinfo=UTC), "it became paid when the total shrank"

    def test_a_paid_order_short_picked_stays_paid_with_a_refund_due(self):
        order = order_of_100()
        actions.mark_paid(order.pk, by=TILL)
        alex = staff(order.store)
        actions.claim_order(order.pk, by=alex)
        actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
        assert sums(order) == (PaymentStatus.PAID, Decimal("0"), Decimal("50.00"))
        actions.refund_order(order.pk, by=TILL)
        assert sums(order) == (PaymentStatus.PARTIALLY_REFUNDED, Decimal("0"), Decimal("0"))

    def test_a_rejection_at_hand_off_settles_a_part_payment(self):
        order = order_of_100(allow_pay_at_pickup=True)
        pay(order, "50.00")
        alex = staff(order.store)
        line = order.lines.get()
        actions.claim_order(order.pk, by=alex)
        actions.pick_line(order.pk, line.pk, by=alex, qty=2)
        actions.stage_order(order.pk, by=alex, note="desk")
        actions.hand_off_order(order.pk, by=alex, rejections=[Rejection(line.pk, 1, "damaged")])
        assert sums(order) == (PaymentStatus.PAID, Decimal("0"), Decimal("0"))

    def test_the_status_costs_one_update_only_when_it_moves(self):
        def statements_of_a_short_pick(deposit: str | None) -> int:
            order = order_of_100()
            if deposit:
                pay(order, deposit)
            alex = staff(order.store)
            actions.claim_order(order.pk, by=alex)
            with CaptureQueriesContext(connection) as statements:
                actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
            return len(statements)

        unpaid, status_unmoved, status_moved = (statements_of_a_short_pick(d) for d in (None, "10.00", "50.00"))
        assert (status_unmoved, status_moved) == (unpaid, unpaid + 1)

    def test_a_cancelled_deposit_is_due_back_in_full(self):
        order = order_of_100()
        pay(order, "20.00")
        actions.cancel_order(order.pk, by=TILL, reason="Out of stock")
        assert sums(order) == (PaymentStatus.PAID, Decimal("0"), Decimal("20.00"))


@pytest.mark.django_db
def test_hand_off_is_refused_while_something_is_owed():
    order = order_of_100(allow_pay_at_pickup=False)
    alex = staff(order.store)
    actions.claim_order(order.pk, by=alex)
    actions.pick_line(order.pk, order.lines.get().pk, by=alex, qty=2)
    actions.stage_order(order.pk, by=alex, note="desk")
    pay(order, "99.99")
    with pytest.raises(PaymentRequired):
        actions.hand_off_order(order.pk, by=alex)
    pay(order, "0.01")
    assert actions.hand_off_order(order.pk, by=alex).status == "completed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestTwoTillsAtOnce:
    """Each till in its own thread and connection, started together: the row lock lets one in at a time."""

    def test_the_last_balance_is_paid_once(self):
        order = order_of_100()
        pay(order, "60.00")
        results = race([lambda: pay(order, "40.00")] * 2)
        assert sorted(type(r).__name__ for r in results) == ["NothingOwed", "Receipt"], results
        order.refresh_from_db()
        assert (order.paid_amount, order.payments.count()) == (Decimal("100.00"), 2)

    def test_mark_paid_twice_pays_once(self):
        order = order_of_100()
        results = race([lambda: actions.mark_paid(order.pk, by=TILL)] * 2)
        assert sorted(type(r).__name__ for r in results) == ["NothingOwed", "Receipt"], results
        order.refresh_from_db()
        assert (order.paid_amount, order.payments.count()) == (Decimal("100.00"), 1)
        assert order.events.filter(type=EventType.PAID).count() == 1
