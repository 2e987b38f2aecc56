from decimal import Decimal

import pytest
from django.db.models import Sum

from shelfcall.catalog.models import StockLevel
from shelfcall.orders import actions
from shelfcall.orders.actions import Rejection, ShopperContact
from shelfcall.orders.errors import (
    AlreadyClaimed,
    LocationRequired,
    NotFullyPicked,
    NothingOwed,
    NothingToRefund,
    NotYourOrder,
    PaymentRequired,
    PickupCodeMismatch,
    QuantityTooLarge,
    WrongStatus,
)
from shelfcall.orders.events import SHOPPER, SYSTEM, EventType
from shelfcall.orders.models import Order, OrderStatus, PaymentStatus, Reservation
from shelfcall.stores.models import Role
from tests.factories import (
    TILL,
    make_drop_zone,
    make_product,
    make_showcase,
    make_store,
    picked,
    staff,
    staged,
    stock_of,
    submit,
)

pytestmark = pytest.mark.django_db


def assert_stock_consistent():
    """Stock levels always equal on-hand minus active reservations."""
    for level in StockLevel.objects.all():
        held = Reservation.objects.filter(stock_level=level).aggregate(total=Sum("held_qty"))["total"] or 0
        assert level.reserved == held, level


@pytest.fixture
def store():
    return make_store()


@pytest.fixture
def product(store):
    return make_product(store, price="20.00", on_hand=5)


@pytest.fixture
def order(store, product):
    return submit(make_showcase(store, products=[product]), {product: 2})


class TestClaimOrder:
    def test_claimer_holds_the_order(self, store, order):
        alex = staff(store, "Alex")
        claimed = actions.claim_order(order.pk, by=alex)
        assert (claimed.status, claimed.assignee) == (OrderStatus.PICKING, alex.user)
        assert order.events.filter(type=EventType.CLAIMED).get().payload["assignee_name"] == "Alex"

    def test_loser_is_told_who_holds_it(self, store, order):
        actions.claim_order(order.pk, by=staff(store, "Ana"))
        with pytest.raises(AlreadyClaimed, match="Ana"):
            actions.claim_order(order.pk, by=staff(store, "Ben"))
        assert order.events.filter(type=EventType.CLAIMED).count() == 1

    def test_cannot_claim_a_cancelled_order(self, store, order):
        actions.cancel_order(order.pk, by=SHOPPER)
        with pytest.raises(WrongStatus, match="cancelled"):
            actions.claim_order(order.pk, by=staff(store))


class TestUnclaimOrder:
    def test_back_in_the_queue_with_picks_kept(self, store, order):
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        actions.pick_line(order.pk, order.lines.get().pk, by=alex)
        back = actions.unclaim_order(order.pk, by=alex)
        assert (back.status, back.assignee) == (OrderStatus.SUBMITTED, None)
        assert order.lines.get().picked_qty == 1

    def test_only_the_holder_unless_supervisor(self, store, order):
        actions.claim_order(order.pk, by=staff(store, "Ana"))
        with pytest.raises(NotYourOrder, match="Ana"):
            actions.unclaim_order(order.pk, by=staff(store, "Ben"))
        supervisor = staff(store, "Sam", role=Role.SUPERVISOR)
        assert actions.unclaim_order(order.pk, by=supervisor).status == OrderStatus.SUBMITTED


class TestPickLine:
    def test_units_are_counted_up_to_the_request(self, store, order):
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        line = order.lines.get()
        assert actions.pick_line(order.pk, line.pk, by=alex).picked_qty == 1
        assert actions.pick_line(order.pk, line.pk, by=alex).picked_qty == 2
        with pytest.raises(QuantityTooLarge):
            actions.pick_line(order.pk, line.pk, by=alex)
        assert order.events.filter(type=EventType.PICKING).count() == 2

    def test_someone_else_cannot_pick(self, store, order):
        actions.claim_order(order.pk, by=staff(store, "Ana"))
        with pytest.raises(NotYourOrder):
            actions.pick_line(order.pk, order.lines.get().pk, by=staff(store, "Ben"))

    def test_unclaimed_order_cannot_be_picked(self, store, order):
        with pytest.raises(WrongStatus):
            actions.pick_line(order.pk, order.lines.get().pk, by=staff(store))


class TestMarkLineNotFound:
    def test_shrinks_order_and_releases_stock(self, store, product, order):
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        line = actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
        order.refresh_from_db()
        assert line.short_qty == 1 and order.total_amount == Decimal("20.00")
        assert stock_of(product, store).reserved == 1
        assert_stock_consistent()

    def test_paid_order_gets_a_refund_due(self, store, order):
        alex = staff(store)
        actions.mark_paid(order.pk, by=TILL)
        actions.claim_order(order.pk, by=alex)
        actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=1)
        order.refresh_from_db()
        assert order.refund_due_amount == Decimal("20.00")
        assert order.events.filter(type=EventType.REFUND_DUE).get().payload["amount"] == "20.00"

    def test_nothing_found_cancels_the_order(self, store, product, order):
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        actions.mark_line_not_found(order.pk, order.lines.get().pk, by=alex, qty=2)
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
        assert stock_of(product, store).reserved == 0


class TestStageOrder:
    def test_ready_at_a_drop_zone(self, store, order):
        alex = staff(store)
        picked(order, alex)
        desk = make_drop_zone(store)
        ready = actions.stage_order(order.pk, by=alex, drop_zone=desk, note="shelf B")
        assert (ready.status, ready.staged_location) == (OrderStatus.READY, "Customer Service desk — shelf B")

    def test_refused_while_units_are_open(self, store, order):
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        with pytest.raises(NotFullyPicked, match="2 unit"):
            actions.stage_order(order.pk, by=alex, note="desk")

    def test_needs_a_place(self, store, order):
        alex = staff(store)
        picked(order, alex)
        with pytest.raises(LocationRequired):
            actions.stage_order(order.pk, by=alex)

    def test_ready_order_can_be_moved(self, store, order):
        alex = staff(store)
        staged(order, alex)
        moved = actions.stage_order(order.pk, by=staff(store, "Jo"), note="Locker 4")
        assert moved.staged_location == "Locker 4" and moved.status == OrderStatus.READY
        assert order.events.filter(type=EventType.RESTAGED).count() == 1


class TestPayment:
    def test_mark_paid_once(self, order):
        paid = actions.mark_paid(order.pk, by=TILL, reference="till-3/8812").order
        assert (paid.payment_status, paid.paid_amount) == (PaymentStatus.PAID, Decimal("40.00"))
        with pytest.raises(NothingOwed):
            actions.mark_paid(order.pk, by=TILL)

    def test_cancelled_order_cannot_be_paid(self, order):
        actions.cancel_order(order.pk, by=SHOPPER)
        with pytest.raises(WrongStatus):
            actions.mark_paid(order.pk, by=TILL)

    def test_partial_then_full_refund(self, order):
        actions.mark_paid(order.pk, by=TILL)
        with pytest.raises(NothingToRefund):  # nothing is due while the order is worth what was paid
            actions.refund_order(order.pk, by=TILL, amount=Decimal("15"))
        actions.cancel_order(order.pk, by=TILL, reason="Out of stock")
        assert (
            actions.refund_order(order.pk, by=TILL, amount=Decimal("15")).order.payment_status == "partially_refunded"
        )
        with pytest.raises(NothingToRefund, match=r"25\.00"):
            actions.refund_order(order.pk, by=TILL, amount=Decimal("30"))
        assert actions.refund_order(order.pk, by=TILL, amount=Decimal("25")).order.payment_status == "refunded"

    def test_unpaid_order_has_nothing_to_refund(self, order):
        with pytest.raises(NothingToRefund):
            actions.refund_order(order.pk, by=TILL, amount=Decimal("1"))


class TestHandOffOrder:
    def test_accepted_units_leave_the_stock(self, store, product, order):
        staged(order, staff(store))
        actions.mark_paid(order.pk, by=TILL)
        done = actions.hand_off_order(order.pk, by=staff(store, "Jo"), pickup_code="SC" + str(order.number))
        level = stock_of(product, store)
        assert done.status == OrderStatus.COMPLETED
        assert (level.on_hand, level.reserved) == (3, 0)
        assert_stock_consistent()

    def test_unpaid_refused_unless_store_allows_pay_at_pickup(self, store, order):
        staged(order, staff(store))
        with pytest.raises(PaymentRequired):
            actions.hand_off_order(order.pk, by=staff(store))
        store.allow_pay_at_pickup = True
        store.save()
        assert actions.hand_off_order(order.pk, by=staff(store)).status == OrderStatus.COMPLETED

    def test_wrong_pickup_code_is_refused(self, store, order):
        staged(order, staff(store))
        actions.mark_paid(order.pk, by=TILL)
        with pytest.raises(PickupCodeMismatch):
            actions.hand_off_order(order.pk, by=staff(store), pickup_code="SC999999")

    def test_rejected_line_goes_back_and_falls_due(self, store, product, order):
        staged(order, staff(store))
        actions.mark_paid(order.pk, by=TILL)
        line = order.lines.get()
        done = actions.hand_off_order(
            order.pk,
            by=staff(store),
            rejections=[Rejection(line.pk, 1, "damaged")],
            collected_by="Lee",
            id_checked=True,
        )
        level = stock_of(product, store)
        assert (level.on_hand, level.reserved) == (4, 0)
        assert done.refund_due_amount == Decimal("20.00") and done.alternate_pickup_name == "Lee"
        assert order.events.filter(type=EventType.REFUND_DUE).exists()

    def test_cannot_hand_off_twice(self, store, order):
        staged(order, staff(store))
        actions.mark_paid(order.pk, by=TILL)
        actions.hand_off_order(order.pk, by=staff(store))
        with pytest.raises(WrongStatus, match="collected"):
            actions.hand_off_order(order.pk, by=staff(store))


class TestCancelAndExpire:
    def test_shopper_cancels_while_nobody_picks(self, product, store, order):
        cancelled = actions.cancel_order(order.pk, by=SHOPPER)
        assert cancelled.status == OrderStatus.CANCELLED
        assert stock_of(product, store).reserved == 0
        assert_stock_consistent()

    def test_shopper_cannot_cancel_once_picking(self, store, order):
        actions.claim_order(order.pk, by=staff(store))
        with pytest.raises(WrongStatus):
            actions.cancel_order(order.pk, by=SHOPPER)

    def test_staff_cancel_of_paid_order_makes_refund_due(self, store, order):
        actions.mark_paid(order.pk, by=TILL)
        cancelled = actions.cancel_order(order.pk, by=staff(store), reason="Damaged stock")
        assert cancelled.refund_due_amount == Decimal("40.00") and cancelled.cancel_reason == "Damaged stock"

    def test_expire_releases_stock(self, store, product, order):
        staged(order, staff(store))
        expired = actions.expire_order(order.pk, reason="Not collected in 48 h")
        assert expired.status == OrderStatus.EXPIRED and stock_of(product, store).reserved == 0
        assert order.events.filter(type=EventType.EXPIRED).get().actor_kind == SYSTEM.kind


def _collected(order, alex, desk) -> None:
    """The whole way from the queue to the shopper's hands: claimed, each line picked, staged, paid, handed off."""
    actions.claim_order(order.pk, by=alex)
    for line in order.lines.all():
        actions.pick_line(order.pk, line.pk, by=alex)
    actions.stage_order(order.pk, by=alex, drop_zone=desk)
    actions.mark_paid(order.pk, by=TILL)
    actions.hand_off_order(order.pk, by=alex)


class TestStatementBudget:
    """Queries are counted: no N+1, and the whole lifecycle stays within DESIGN.md's budget.

    Counted in steady state: each process reads a store's channel and timer policies once per
    30 seconds (3 statements), not once per order.
    """

    @pytest.fixture(autouse=True)
    def _warm_policies(self, store):
        from shelfcall.notify import policies

        policies.for_store(store.pk)

    def test_full_lifecycle_within_35_statements(self, store, count_statements):
        """35 with the reservation journal's two INSERTs (hold, consumption) and the payment's row: the
        stock levels and reservations of all lines move in one UPDATE each, at submission and hand-off."""
        products = [make_product(store, on_hand=5) for _ in range(3)]
        showcase = make_showcase(store, products=products)
        alex, desk = staff(store), make_drop_zone(store)
        with count_statements(35) as captured:
            order = submit(showcase, dict.fromkeys(products, 1))
            _collected(order, alex, desk)
        print(f"full lifecycle, 3 lines: {len(captured)} statements")
        assert len(captured) >= 20  # the counter sees the statements at all

    def test_full_lifecycle_with_every_notification_configured(self, store, count_statements):
        """Alerts to Teams and a webhook, an escalation policy, collection timers, a shopper email."""
        from shelfcall.notify import policies
        from shelfcall.notify.models import Channel, CollectionPolicy, EscalationLevel, EscalationPolicy

        teams = Channel.objects.create(
            store=store, name="t", kind="teams", target="https://t.example/x", events=["order.created", "order.claimed"]
        )
        Channel.objects.create(
            store=store, name="w", kind="webhook", target="https://w.example/x", events=[e.value for e in EventType]
        )
        EscalationLevel.objects.create(
            policy=EscalationPolicy.objects.create(store=store), after_minutes=3, channel=teams
        )
        CollectionPolicy.objects.create(store=store)
        policies.for_store(store.pk)
        products = [make_product(store, on_hand=5) for _ in range(2)]
        showcase = make_showcase(store, products=products)
        alex, desk = staff(store), make_drop_zone(store)
        with count_statements(33) as captured:
            order = submit(showcase, dict.fromkeys(products, 1), contact=ShopperContact(email="kim@example.com"))
            _collected(order, alex, desk)
        print(f"full lifecycle, 2 lines, every notification on: {len(captured)} statements")

    @pytest.mark.parametrize("lines", [1, 10])
    def test_submit_takes_as_many_statements_whatever_its_lines(self, store, lines, count_statements):
        products = [make_product(store) for _ in range(lines)]
        showcase = make_showcase(store, products=products)
        store.max_order_qty = 50
        with count_statements(10):  # one of them the reservation journal's INSERT, one holding every line's stock
            submit(showcase, dict.fromkeys(products, 1))

    @pytest.mark.parametrize("lines", [1, 5])
    def test_hand_off_takes_as_many_statements_whatever_its_lines(self, store, lines, count_statements):
        products = [make_product(store) for _ in range(lines)]
        order = submit(make_showcase(store, products=products), dict.fromkeys(products, 1))
        alex = staff(store)
        staged(order, alex)
        actions.mark_paid(order.pk, by=TILL)
        # the order locked with its lines; its update; the stock levels, the reservations and the journal: one
        # statement each; the event
        with count_statements(6):
            actions.hand_off_order(order.pk, by=alex)
        assert [stock_of(p, store).on_hand for p in products] == [4] * lines

    def test_each_transition_is_small(self, store, order, count_statements):
        alex = staff(store)
        with count_statements(3):
            actions.claim_order(order.pk, by=alex)
        line = order.lines.get()
        with count_statements(3):
            actions.pick_line(order.pk, line.pk, by=alex, qty=2)
        with count_statements(3):
            actions.stage_order(order.pk, by=alex, note="desk")
        with count_statements(4):  # the locked read, the sums, the event, the payment row
            actions.mark_paid(order.pk, by=TILL)
        with count_statements(6):  # one the reservation journal's INSERT; the stock of every line in one UPDATE
            actions.hand_off_order(order.pk, by=alex)


def test_pressing_picking_twice_is_harmless(store, order):
    alex = staff(store)
    actions.claim_order(order.pk, by=alex)
    assert actions.claim_order(order.pk, by=alex).assignee == alex.user
    assert order.events.filter(type=EventType.CLAIMED).count() == 1


class TestTheCallersRead:
    """An action that reads its order unlocked takes the caller's read of it (`current`) as its own."""

    def read(self, order):
        return actions.with_action_relations(Order.objects.filter(pk=order.pk)).get()

    def test_serves_the_claim_and_staging(self, store, order, count_statements):
        alex, desk = staff(store), make_drop_zone(store)
        read = self.read(order)
        with count_statements(2) as statements:  # the conditional UPDATE and the event: no read of the order
            claimed = actions.claim_order(order.pk, by=alex, current=read)
        assert len(statements) == 2
        assert claimed is read and (read.status, read.assignee) == (OrderStatus.PICKING, alex.user)
        picked(order, alex)
        read = self.read(order)
        with count_statements(2) as statements:
            ready = actions.stage_order(order.pk, by=alex, drop_zone=desk, current=read)
        assert len(statements) == 2
        assert ready is read and (read.status, read.drop_zone) == (OrderStatus.READY, desk)
        assert Order.objects.get(pk=order.pk).status == OrderStatus.READY

    def test_a_stale_read_lets_no_second_claim_through(self, store, order):
        stale = self.read(order)  # waiting, as the page showed it
        actions.claim_order(order.pk, by=staff(store, "Ana"))
        with pytest.raises(AlreadyClaimed, match="Ana"):  # the refusal reads the order as it is now
            actions.claim_order(order.pk, by=staff(store, "Ben"), current=stale)
        assert order.events.filter(type=EventType.CLAIMED).count() == 1

    def test_a_stale_read_stages_nothing_the_update_refuses(self, store, order):
        alex, desk = staff(store), make_drop_zone(store)
        actions.claim_order(order.pk, by=alex)
        stale = self.read(order)  # picking, before the units are
        actions.unclaim_order(order.pk, by=alex)
        with pytest.raises(WrongStatus):
            actions.stage_order(order.pk, by=alex, drop_zone=desk, current=stale)
        assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED

    def test_only_a_read_with_what_the_actions_need(self, store, order):
        alex = staff(store)
        with pytest.raises(ValueError, match="with_action_relations"):
            actions.claim_order(order.pk, by=alex, current=Order.objects.get(pk=order.pk))
        other = submit(make_showcase(store))
        with pytest.raises(ValueError, match="is not order"):
            actions.claim_order(order.pk, by=alex, current=self.read(other))
        assert not order.events.filter(type=EventType.CLAIMED).exists()

    def test_never_for_a_locked_read(self, order):
        from shelfcall.orders.actions._common import fetch

        with pytest.raises(ValueError, match="holds no lock"):
            fetch(order.pk, lock=True, current=self.read(order))


def test_refusals_speak_the_shoppers_language(store, order):
    from django.utils import translation

    actions.cancel_order(order.pk, by=SHOPPER)
    with translation.override("fr"), pytest.raises(WrongStatus) as refused:
        actions.claim_order(order.pk, by=staff(store))
    assert "annulée" in refused.value.message.lower() and "claimed" not in refused.value.message
