"""Timers are columns: moved time, not sleeps, makes them fall due."""

from datetime import timedelta

import pytest

from shelfcall.notify.models import OutboxMessage
from shelfcall.notify.sweeper import sweep
from shelfcall.orders import actions
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import OrderEvent, OrderStatus
from tests.factories import make_showcase, make_store, staff, stock_of, submit
from tests.notify.factories import make_channel, make_collection_policy, make_escalation

pytestmark = pytest.mark.django_db
START = "2026-11-23 10:00:00+00:00"


@pytest.fixture
def store():
    return make_store(name="Downtown")


@pytest.fixture
def escalated_store(store, receiver):
    team, supervisors, manager = (make_channel(store, receiver.url, events=[], name=n) for n in ("team", "sup", "mgr"))
    make_escalation(store, [(3, team), (6, supervisors), (10, manager)])
    return store


def escalations(order) -> list[int]:
    return [e.payload["level"] for e in OrderEvent.objects.filter(order=order, type="order.escalated")]


class TestUnclaimedEscalation:
    def test_levels_fire_once_each_at_their_time(self, escalated_store, time_machine):
        time_machine.move_to(START, tick=False)
        order = submit(make_showcase(escalated_store))
        assert order.next_escalation_at == order.created_at + timedelta(minutes=3)
        time_machine.shift(timedelta(minutes=2, seconds=59))
        assert sweep() == 0
        time_machine.shift(timedelta(seconds=1))
        assert sweep() == 1 and sweep() == 0
        time_machine.shift(timedelta(minutes=7))  # 10 minutes in: level 2 and 3 are both due, one per pass
        sweep()
        sweep()
        assert escalations(order) == [1, 2, 3]
        sent = OutboxMessage.objects.filter(purpose="escalation").order_by("pk")
        assert [m.channel.name for m in sent] == ["team", "sup", "mgr"]
        assert "Nobody has picked order" in sent[0].body["title"] and "3 min" in sent[0].body["title"]
        order.refresh_from_db()
        assert order.next_escalation_at is None and sweep() == 0

    def test_picking_stops_escalation_and_the_escalated_hear_who_resolved_it(self, escalated_store, time_machine):
        time_machine.move_to(START, tick=False)
        order = submit(make_showcase(escalated_store))
        time_machine.shift(timedelta(minutes=7))
        sweep()
        sweep()
        actions.claim_order(order.pk, by=staff(escalated_store, "Alex"))
        time_machine.shift(timedelta(minutes=30))
        assert sweep() == 0 and escalations(order) == [1, 2]
        resolved = OutboxMessage.objects.filter(purpose="resolved").order_by("channel__name")
        assert [m.channel.name for m in resolved] == ["sup", "team"]
        assert resolved[0].body["title"] == f"Resolved: Alex is picking order #{order.number}"
        assert "after 7 min" in resolved[0].body["text"]

    def test_put_back_in_the_queue_escalates_again(self, escalated_store, time_machine):
        time_machine.move_to(START, tick=False)
        order = submit(make_showcase(escalated_store))
        alex = staff(escalated_store)
        actions.claim_order(order.pk, by=alex)
        actions.unclaim_order(order.pk, by=alex)
        time_machine.shift(timedelta(minutes=3))
        assert sweep() == 1

    def test_timers_survive_a_restart(self, escalated_store, time_machine):
        """Nothing lives in memory: after a restart the due rows are simply still due."""
        time_machine.move_to(START, tick=False)
        orders = [submit(make_showcase(escalated_store)) for _ in range(3)]
        time_machine.shift(timedelta(minutes=4))  # the server was down when they fell due
        from shelfcall.notify import policies

        policies.forget()  # a fresh process
        assert sweep() == 3 and sweep() == 0
        assert all(escalations(order) == [1] for order in orders)


class TestUncollected:
    def test_remind_warn_then_expire_and_release_stock(self, store, time_machine, settings):
        time_machine.move_to(START, tick=False)
        make_collection_policy(store, remind=60, expire=240, warn=30)
        showcase = make_showcase(store)
        product = showcase.items.get().product
        order = submit(showcase, contact=ShopperContact(email="kim@example.com"))
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        actions.pick_line(order.pk, order.lines.get().pk, by=alex)
        actions.stage_order(order.pk, by=alex, note="Desk")
        time_machine.shift(timedelta(minutes=60))
        assert sweep() == 1
        time_machine.shift(timedelta(minutes=150))  # 30 minutes before expiry
        assert sweep() == 1
        time_machine.shift(timedelta(minutes=30))
        assert sweep() == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.EXPIRED and stock_of(product, store).reserved == 0
        purposes = list(OutboxMessage.objects.filter(order=order).order_by("pk").values_list("purpose", flat=True))
        assert purposes == ["ready", "reminder", "expiry_warning", "cancelled"]

    def test_collected_orders_have_no_timers_left(self, store, time_machine):
        time_machine.move_to(START, tick=False)
        make_collection_policy(store)
        store.allow_pay_at_pickup = True
        store.save()
        order = submit(make_showcase(store))
        alex = staff(store)
        actions.claim_order(order.pk, by=alex)
        actions.pick_line(order.pk, order.lines.get().pk, by=alex)
        actions.stage_order(order.pk, by=alex, note="Desk")
        actions.hand_off_order(order.pk, by=alex)
        time_machine.shift(timedelta(days=5))
        assert sweep() == 0
