"""Collection reminders and expiries: the lifecycle's timers, fired by orders/timers.py. Timers are
columns: moved time, not sleeps, makes them fall due."""

from datetime import timedelta

import pytest

from shelfcall.core.jobs.loop import fire_due_timers
from shelfcall.notify.models import OutboxMessage
from shelfcall.orders import actions, timers
from shelfcall.orders.actions import ShopperContact
from shelfcall.orders.models import Order, OrderStatus
from tests.factories import make_showcase, make_store, staff, stock_of, submit
from tests.notify.factories import make_collection_policy

pytestmark = pytest.mark.django_db
START = "2026-11-23 10:00:00+00:00"


@pytest.fixture
def store():
    return make_store(name="Downtown")


def poisoned(fire, poison_pk):
    def fire_unless_poisoned(order):
        if order.pk == poison_pk:
            raise RuntimeError("a bug in this order's data")
        fire(order)

    return fire_unless_poisoned


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
        assert fire_due_timers() == 1
        time_machine.shift(timedelta(minutes=150))  # 30 minutes before expiry
        assert fire_due_timers() == 1
        time_machine.shift(timedelta(minutes=30))
        assert fire_due_timers() == 1
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
        assert fire_due_timers() == 0


class TestPoisonTimers:
    """A firing that fails with a bug must not stop every other timer behind it, pass after pass."""

    def test_an_expiry_that_fails_is_set_aside_and_the_others_fire(self, time_machine, monkeypatch):
        from shelfcall.notify import sweeper
        from shelfcall.notify.models import QuarantinedTimer

        time_machine.move_to(START, tick=False)
        store = make_store(unclaimed_expiry_minutes=5)
        showcase = make_showcase(store)
        first, poison, last = (submit(showcase) for _ in range(3))
        time_machine.shift(timedelta(minutes=6))
        monkeypatch.setattr(timers, "_expire", poisoned(timers._expire, poison.pk))
        assert fire_due_timers() == 2
        statuses = dict(Order.objects.values_list("pk", "status"))
        assert statuses == {first.pk: "expired", poison.pk: "submitted", last.pk: "expired"}
        aside = QuarantinedTimer.objects.get()
        assert (aside.order_id, aside.timer) == (poison.pk, "expires_at")
        assert "RuntimeError: a bug in this order's data" in aside.error and aside.due_at is not None
        assert fire_due_timers() == 0, "not retried on every pass"

        monkeypatch.undo()  # the cause is fixed; an admin asks for it to fire again
        assert sweeper.try_again(QuarantinedTimer.objects.all()) == 1
        assert fire_due_timers() == 1 and Order.objects.get(pk=poison.pk).status == OrderStatus.EXPIRED
        assert not QuarantinedTimer.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_firing_one_order_locks_only_that_order(time_machine, monkeypatch):
    """Reminders and expiries lock one order at a time: the till can still work on the others."""
    import threading

    import psycopg
    from django.db import connection

    time_machine.move_to(START, tick=False)
    store = make_store(unclaimed_expiry_minutes=5)
    showcase = make_showcase(store)
    first, second = submit(showcase), submit(showcase)
    time_machine.shift(timedelta(minutes=6))
    firing, go_on = threading.Event(), threading.Event()
    real_expire = timers._expire

    def slow_expire(order):
        real_expire(order)
        if order.pk == first.pk:
            firing.set()
            go_on.wait(10)

    monkeypatch.setattr(timers, "_expire", slow_expire)
    worker = threading.Thread(target=lambda: (timers.expire_due(), connection.close()))
    worker.start()
    try:
        assert firing.wait(10)
        params = connection.get_connection_params()
        with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
            other.execute("SET lock_timeout = '500ms'")
            other.execute("SELECT id FROM orders_order WHERE id = %s FOR UPDATE", [second.pk])  # not blocked
    finally:
        go_on.set()
        worker.join()
    assert set(Order.objects.values_list("status", flat=True)) == {"expired"}
