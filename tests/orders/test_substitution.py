"""Substitutes: offered for units not found, held at once, answered by the shopper or the store's default."""

from datetime import timedelta
from decimal import Decimal

import pytest

from shelfcall.core import clock
from shelfcall.orders import actions, timers
from shelfcall.orders.actions import Offer
from shelfcall.orders.errors import (
    NotASubstitute,
    NothingNotFound,
    SubstituteAlreadyDecided,
    SubstituteNotAccepted,
    SubstituteOutOfStock,
    SubstituteRefused,
    SubstitutesRequired,
    SubstitutesWaiting,
    WrongStatus,
)
from shelfcall.orders.events import SHOPPER, SYSTEM, EventType
from shelfcall.orders.models import (
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    ReservationEntry,
    ReservationReason,
    Substitution,
)
from shelfcall.orders.policy import OrderAction, allowed_actions
from shelfcall.stores.models import SubstituteDefault
from tests.factories import TILL, claimed, make_product, make_showcase, make_store, staff, stock_of, submit
from tests.orders.lifecycle_replay import World, problems

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)


@pytest.fixture
def store():
    return make_store(substitute_wait_minutes=10)


@pytest.fixture
def shaver(store):
    return make_product(store, name="Series 9 shaver", price="300.00", on_hand=2)


@pytest.fixture
def other(store):
    return make_product(store, name="Series 8 shaver", price="250.00", on_hand=3)


@pytest.fixture
def alex(store):
    return staff(store, "Alex")


@pytest.fixture
def order(store, shaver, alex):
    order = submit(make_showcase(store, products=[shaver]), {shaver: 1})
    return claimed(order, alex)


def _offer(order, alex, product, *, qty=1, not_found=1):
    line = order.lines.get(substitute_for=None)
    return actions.propose_substitutes(
        order.pk, line.pk, by=alex, offers=[Offer(product.pk, qty)], not_found_qty=not_found
    )[0]


def _world_is_consistent(store) -> None:
    assert problems(World.load(store.pk), {}) == []


class TestPropose:
    def test_holds_the_substitute_and_releases_the_original(self, store, order, alex, shaver, other):
        substitute = _offer(order, alex, other)
        order.refresh_from_db()
        assert (stock_of(shaver, store).reserved, stock_of(other, store).reserved) == (0, 1)
        assert (substitute.substitution, substitute.requested_qty, substitute.unit_price) == (
            Substitution.PROPOSED,
            1,
            Decimal("250.00"),
        )
        assert order.total_amount == Decimal("0.00"), "not part of the total until accepted"
        assert order.substitute_due_at == substitute.decide_by == clock.now() + timedelta(minutes=10)
        assert order.status == OrderStatus.PICKING, "not cancelled although nothing else is left"
        reasons = list(ReservationEntry.objects.filter(order=order).values_list("kind", "reason", "qty"))
        assert reasons == [
            ("hold", ReservationReason.CREATED, 1),
            ("release", ReservationReason.NOT_FOUND, 1),
            ("hold", ReservationReason.SUBSTITUTE_PROPOSED, 1),
        ]
        event = order.events.get(type=EventType.SUBSTITUTE_PROPOSED)
        assert event.payload | {"decide_by": ""} == {
            "line_id": substitute.pk,
            "for_line_id": order.lines.get(substitute_for=None).pk,
            "sku": other.sku,
            "name": "Series 8 shaver",
            "variant": "",
            "qty": 1,
            "unit_price": "250.00",
            "decide_by": "",
        }
        _world_is_consistent(store)

    def test_out_of_stock_is_refused_to_the_associate_before_the_shopper_sees_it(self, store, order, alex, other):
        rival = submit(make_showcase(store, products=[other]), {other: 3})  # took the shelf meanwhile
        assert rival.status == OrderStatus.SUBMITTED
        with pytest.raises(SubstituteOutOfStock, match="out of stock") as refused:
            _offer(order, alex, other)
        assert refused.value.field == "substitutes.0.qty"
        assert not order.events.filter(type__in=[EventType.SUBSTITUTE_PROPOSED, EventType.LINE_NOT_FOUND]).exists()
        assert order.lines.count() == 1 and order.lines.get().short_qty == 0, "nothing written, not even the short"

    def test_fewer_free_than_offered_says_how_many(self, store, order, alex, other):
        with pytest.raises(SubstituteOutOfStock, match="Only 3 of Series 8 shaver"):
            _offer(order, alex, other, qty=4)

    def test_bad_offers_name_the_field(self, store, order, alex, shaver, other):
        line = order.lines.get()
        stranger = make_product(make_store(), name="Elsewhere")
        cases = [
            ([Offer(stranger.pk, 1)], "substitutes.0.sku"),
            ([Offer(other.pk, 1), Offer(other.pk, 1)], "substitutes.0.sku"),
            ([Offer(shaver.pk, 1)], "substitutes.0.sku"),
            ([Offer(other.pk, 0)], "substitutes.0.qty"),
        ]
        for offers, field in cases:
            with pytest.raises(SubstituteRefused) as refused:
                actions.propose_substitutes(order.pk, line.pk, by=alex, offers=offers, not_found_qty=1)
            assert refused.value.field == field, offers
        with pytest.raises(SubstitutesRequired):
            actions.propose_substitutes(order.pk, line.pk, by=alex, offers=[], not_found_qty=1)
        with pytest.raises(NothingNotFound):
            actions.propose_substitutes(order.pk, line.pk, by=alex, offers=[Offer(other.pk, 1)])
        assert order.events.count() == 2, "created and claimed only"

    def test_only_the_picker_offers(self, store, order, other):
        from shelfcall.orders.errors import NotYourOrder

        with pytest.raises(NotYourOrder):
            _offer(order, staff(store, "Ben"), other)

    def test_a_proposed_substitute_can_be_neither_picked_nor_staged_past(self, store, order, alex, other):
        substitute = _offer(order, alex, other)
        with pytest.raises(SubstituteNotAccepted):
            actions.pick_line(order.pk, substitute.pk, by=alex)
        with pytest.raises(SubstitutesWaiting):
            actions.stage_order(order.pk, by=alex, note="desk")


class TestAnswer:
    def test_accepting_adds_it_to_the_order(self, store, order, alex, other):
        substitute = _offer(order, alex, other)
        actions.answer_substitute(order.pk, substitute.pk, accept=True, by=SHOPPER)
        order.refresh_from_db()
        assert order.total_amount == Decimal("250.00") and order.substitute_due_at is None
        actions.pick_line(order.pk, substitute.pk, by=alex)
        actions.stage_order(order.pk, by=alex, note="desk")
        actions.mark_paid(order.pk, by=TILL)
        done = actions.hand_off_order(order.pk, by=alex)
        assert done.status == OrderStatus.COMPLETED and stock_of(other, store).on_hand == 2
        accepted = order.events.get(type=EventType.SUBSTITUTE_ACCEPTED)
        assert (accepted.actor_kind, accepted.payload["by_default"], accepted.payload["total"]) == (
            "shopper",
            False,
            "250.00",
        )
        _world_is_consistent(store)

    def test_declining_gives_its_units_back_and_cancels_an_order_left_empty(self, store, order, alex, other):
        substitute = _offer(order, alex, other)
        actions.answer_substitute(order.pk, substitute.pk, accept=False, by=SHOPPER)
        order.refresh_from_db()
        substitute.refresh_from_db()
        assert (substitute.substitution, substitute.requested_qty, substitute.proposed_qty) == (
            Substitution.DECLINED,
            0,
            1,
        )
        assert stock_of(other, store).reserved == 0
        assert order.status == OrderStatus.CANCELLED, "nothing left to hand over"
        _world_is_consistent(store)

    def test_declining_one_of_two_leaves_the_order_open(self, store, shaver, other, alex):
        keep = make_product(store, on_hand=5)
        order = claimed(submit(make_showcase(store, products=[shaver, keep]), {shaver: 1, keep: 1}), alex)
        line = order.lines.get(product=shaver)
        third = make_product(store, on_hand=5, price="280.00")
        subs = actions.propose_substitutes(
            order.pk, line.pk, by=alex, offers=[Offer(other.pk, 1), Offer(third.pk, 1)], not_found_qty=1
        )
        actions.answer_substitute(order.pk, subs[0].pk, accept=False, by=SHOPPER)
        order.refresh_from_db()
        assert order.status == OrderStatus.PICKING and order.substitute_due_at == subs[1].decide_by
        actions.answer_substitute(order.pk, subs[1].pk, accept=True, by=SHOPPER)
        order.refresh_from_db()
        assert order.total_amount == Decimal("290.00") and order.substitute_due_at is None
        _world_is_consistent(store)

    def test_a_paid_order_is_refunded_then_owes_again(self, store, order, alex, other):
        actions.mark_paid(order.pk, by=TILL)
        substitute = _offer(order, alex, other)
        order.refresh_from_db()
        assert order.refund_due_amount == Decimal("300.00")
        assert order.events.filter(type=EventType.REFUND_DUE).exists()
        actions.answer_substitute(order.pk, substitute.pk, accept=True, by=SHOPPER)
        order.refresh_from_db()
        assert (order.refund_due_amount, order.payment_status) == (Decimal("50.00"), PaymentStatus.PAID)
        assert order.events.filter(type=EventType.REFUND_DUE).last().payload == {"amount": "50.00"}
        _world_is_consistent(store)

    def test_accepting_twice_is_harmless(self, store, order, alex, other):
        substitute = _offer(order, alex, other)
        actions.answer_substitute(order.pk, substitute.pk, accept=True, by=SHOPPER)
        again = actions.answer_substitute(order.pk, substitute.pk, accept=True, by=SHOPPER)
        assert again.substitution == Substitution.ACCEPTED
        assert order.events.filter(type=EventType.SUBSTITUTE_ACCEPTED).count() == 1
        with pytest.raises(SubstituteAlreadyDecided, match="already accepted"):
            actions.answer_substitute(order.pk, substitute.pk, accept=False, by=SHOPPER)
        _world_is_consistent(store)

    def test_accepting_after_the_order_was_cancelled_is_refused(self, store, order, alex, other):
        substitute = _offer(order, alex, other)
        actions.cancel_order(order.pk, by=alex, reason="Shop closing")
        with pytest.raises(WrongStatus, match="cancelled"):
            actions.answer_substitute(order.pk, substitute.pk, accept=True, by=SHOPPER)
        order.refresh_from_db()
        assert order.total_amount == 0 and stock_of(other, store).reserved == 0
        assert not order.events.filter(type=EventType.SUBSTITUTE_ACCEPTED).exists()
        _world_is_consistent(store)

    def test_only_substitutes_are_answered(self, store, order, alex, other):
        _offer(order, alex, other)
        with pytest.raises(NotASubstitute):
            actions.answer_substitute(order.pk, order.lines.get(substitute_for=None).pk, accept=True, by=SHOPPER)

    def test_the_policy_offers_an_answer_only_while_one_waits(self, store, order, alex, other):
        assert OrderAction.DECIDE_SUBSTITUTE not in allowed_actions(SHOPPER, order)
        _offer(order, alex, other)
        order = Order.objects.get(pk=order.pk)
        assert OrderAction.DECIDE_SUBSTITUTE in allowed_actions(SHOPPER, order)


class TestStoreDefault:
    @pytest.mark.parametrize(
        ("default", "status", "total"),
        [(SubstituteDefault.ACCEPT, OrderStatus.PICKING, "250.00"), (SubstituteDefault.DECLINE, "cancelled", "0")],
    )
    def test_applies_once_the_wait_is_over(self, store, order, alex, other, time_machine, default, status, total):
        store.substitute_default = default
        store.save()
        substitute = _offer(order, alex, other)
        assert timers.answer_due_substitutes() == 0, "not due yet"
        time_machine.shift(timedelta(minutes=10))
        assert timers.next_substitute_due_at() == substitute.decide_by
        assert timers.answer_due_substitutes() == 1
        assert timers.answer_due_substitutes() == 0, "fired once"
        order.refresh_from_db()
        assert (order.status, order.total_amount, order.substitute_due_at) == (status, Decimal(total), None)
        event_type = (
            EventType.SUBSTITUTE_ACCEPTED if default == SubstituteDefault.ACCEPT else EventType.SUBSTITUTE_DECLINED
        )
        event = order.events.get(type=event_type)
        assert (event.actor_kind, event.payload["by_default"]) == ("system", True)
        with pytest.raises((SubstituteAlreadyDecided, WrongStatus)):
            actions.answer_substitute(order.pk, substitute.pk, accept=default != SubstituteDefault.ACCEPT, by=SHOPPER)
        _world_is_consistent(store)

    def test_an_answer_in_time_stops_the_timer(self, store, order, alex, other, time_machine):
        substitute = _offer(order, alex, other)
        actions.answer_substitute(order.pk, substitute.pk, accept=True, by=SHOPPER)
        time_machine.shift(timedelta(minutes=30))
        assert timers.next_substitute_due_at() is None and timers.answer_due_substitutes() == 0

    def test_a_system_answer_is_refused_once_the_order_closed(self, store, order, alex, other):
        _offer(order, alex, other)
        actions.cancel_order(order.pk, by=alex, reason="gone")
        with pytest.raises(WrongStatus):
            actions.apply_substitute_defaults(order.pk)
        assert OrderLine.objects.get(order=order, substitute_for__isnull=False).substitution == "proposed"
        assert SYSTEM.kind == "system"

    def test_the_worker_s_timer_pass_fires_it(self, store, order, alex, other, time_machine):
        from shelfcall.core.jobs.loop import fire_due_timers

        substitute = _offer(order, alex, other)
        time_machine.shift(timedelta(minutes=11))
        assert fire_due_timers() >= 1
        substitute.refresh_from_db()
        assert substitute.substitution == Substitution.DECLINED  # the store's default
