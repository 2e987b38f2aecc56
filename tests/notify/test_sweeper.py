"""Escalations are timers, and timers are columns: moved time, not sleeps, makes them fall due."""

from datetime import timedelta

import pytest

from shelfcall.notify.models import OutboxMessage
from shelfcall.notify.sweeper import escalate_due
from shelfcall.orders import actions
from shelfcall.orders.errors import OrdersMoved
from shelfcall.orders.models import Order, OrderEvent
from tests.factories import make_product, make_showcase, make_store, staff, submit
from tests.notify.factories import make_channel, make_escalation

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
        assert escalate_due() == 0
        time_machine.shift(timedelta(seconds=1))
        assert escalate_due() == 1 and escalate_due() == 0
        time_machine.shift(timedelta(minutes=7))  # 10 minutes in: level 2 and 3 are both due, one per pass
        escalate_due()
        escalate_due()
        assert escalations(order) == [1, 2, 3]
        sent = OutboxMessage.objects.filter(purpose="escalation").order_by("pk")
        assert [m.channel.name for m in sent] == ["team", "sup", "mgr"]
        assert "Nobody has picked order" in sent[0].body["title"] and "3 min" in sent[0].body["title"]
        order.refresh_from_db()
        assert order.next_escalation_at is None and escalate_due() == 0

    def test_picking_stops_escalation_and_the_escalated_hear_who_resolved_it(self, escalated_store, time_machine):
        time_machine.move_to(START, tick=False)
        order = submit(make_showcase(escalated_store))
        time_machine.shift(timedelta(minutes=7))
        escalate_due()
        escalate_due()
        actions.claim_order(order.pk, by=staff(escalated_store, "Alex"))
        time_machine.shift(timedelta(minutes=30))
        assert escalate_due() == 0 and escalations(order) == [1, 2]
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
        assert escalate_due() == 1

    def test_timers_survive_a_restart(self, escalated_store, time_machine):
        """Nothing lives in memory: after a restart the due rows are simply still due."""
        time_machine.move_to(START, tick=False)
        orders = [submit(make_showcase(escalated_store)) for _ in range(3)]
        time_machine.shift(timedelta(minutes=4))  # the server was down when they fell due
        from shelfcall.notify import policies

        policies.forget()  # a fresh process
        assert escalate_due() == 3 and escalate_due() == 0
        assert all(escalations(order) == [1] for order in orders)


class TestEscalationBatches:
    """Escalations are fired set-based: a rush of timers costs a few statements per pass, not per order."""

    def test_a_batch_costs_the_same_statements_for_3_or_30_orders(
        self, escalated_store, time_machine, count_statements
    ):
        time_machine.move_to(START, tick=False)
        showcase = make_showcase(escalated_store, products=[make_product(escalated_store, on_hand=100)])
        first = [submit(showcase) for _ in range(3)]
        time_machine.shift(timedelta(minutes=3))
        with count_statements(20) as few:
            assert escalate_due() == 3
        rest = [submit(showcase) for _ in range(30)]
        time_machine.shift(timedelta(minutes=3))  # the first three reach level 2 as the 30 reach level 1
        with count_statements(20) as many:
            assert escalate_due() == 33
        assert len(many) == len(few) + 1  # one UPDATE more: two levels fire in this pass
        assert [escalations(o) for o in first] == [[1, 2]] * 3 and all(escalations(o) == [1] for o in rest)
        assert OutboxMessage.objects.filter(purpose="escalation").count() == 36

    def test_each_order_gets_its_own_next_level_time_and_alert(self, escalated_store, time_machine):
        time_machine.move_to(START, tick=False)
        product = make_product(escalated_store, on_hand=10, name="Trail shoe")
        showcase = make_showcase(escalated_store, products=[product])
        early = submit(showcase, {product: 2})
        time_machine.shift(timedelta(seconds=40))
        late = submit(showcase)
        time_machine.shift(timedelta(minutes=3))
        assert escalate_due() == 2
        early.refresh_from_db()
        late.refresh_from_db()
        assert early.next_escalation_at == early.created_at + timedelta(minutes=6)
        assert late.next_escalation_at == late.created_at + timedelta(minutes=6)
        alerts = {m.order_id: m.body for m in OutboxMessage.objects.filter(purpose="escalation")}
        assert alerts[early.pk]["items"] == ["2 × Trail shoe"]
        assert "3 min" in alerts[early.pk]["title"] and f"#{late.number}" in alerts[late.pk]["title"]

    def test_an_order_that_moved_on_refuses_the_whole_batch(self, escalated_store, time_machine):
        """The sweeper locks what it fires; an unlocked caller racing a claim gets nothing half-done."""
        time_machine.move_to(START, tick=False)
        showcase = make_showcase(escalated_store, products=[make_product(escalated_store, on_hand=10)])
        waiting, taken = submit(showcase), submit(showcase)
        time_machine.shift(timedelta(minutes=3))
        stale = [Order.objects.get(pk=waiting.pk), Order.objects.get(pk=taken.pk)]
        actions.claim_order(taken.pk, by=staff(escalated_store))
        with pytest.raises(OrdersMoved):
            actions.escalate_orders([actions.DueEscalation(order, None) for order in stale])
        assert escalations(waiting) == [] and OutboxMessage.objects.filter(purpose="escalation").count() == 0
        assert escalate_due() == 1 and escalations(waiting) == [1]


class TestPoisonTimers:
    """A firing that fails with a bug must not stop every other timer behind it, pass after pass
    (reminders and expiries: tests/orders/test_timers.py)."""

    def test_an_escalation_batch_with_a_bad_order_fires_the_rest_one_by_one(
        self, escalated_store, time_machine, monkeypatch
    ):
        from shelfcall.notify import sweeper
        from shelfcall.notify.models import QuarantinedTimer

        time_machine.move_to(START, tick=False)
        showcase = make_showcase(escalated_store)
        orders = [submit(showcase) for _ in range(4)]
        time_machine.shift(timedelta(minutes=3))
        poison = orders[1]

        def due_escalation(order):
            if order.pk == poison.pk:
                raise KeyError("missing level")
            return real(order)

        real = sweeper._due_escalation
        monkeypatch.setattr(sweeper, "_due_escalation", due_escalation)
        assert escalate_due() == 3
        assert [escalations(order) for order in orders] == [[1], [], [1], [1]]
        assert QuarantinedTimer.objects.get().timer == "next_escalation_at"
        assert escalate_due() == 0
