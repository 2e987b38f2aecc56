"""The worker's timers rest until the first one due: what sets or moves a timer wakes them, and nothing
else does (an order event that sets none, a timer cleared). On PostgreSQL the order table's trigger
notifies (orders/migrations/0017), on SQLite the actions ring this process's bell (orders.hooks)."""

import time
from datetime import timedelta

import pytest

from shelfcall.core.jobs import registry
from shelfcall.notify import sweeper
from shelfcall.notify.models import QuarantinedTimer
from shelfcall.orders import actions
from shelfcall.orders.actions import Offer
from shelfcall.orders.models import Order, OrderEvent
from tests.factories import make_product, make_showcase, make_store, staff, submit
from tests.notify.factories import make_channel, make_collection_policy, make_escalation
from tests.notify.wakeups import Wakeups

pytestmark = pytest.mark.django_db(transaction=True)
START = "2026-11-23 10:00:00+00:00"


@pytest.fixture
def wakeups():
    heard = Wakeups()
    yield heard
    heard.close()


@pytest.fixture
def store():
    store = make_store(allow_pay_at_pickup=True)
    nowhere = make_channel(store, "http://127.0.0.1:9/", events=[])
    make_escalation(store, [(5, nowhere), (10, nowhere)])
    make_collection_policy(store)
    return store


def test_what_sets_or_moves_a_timer_wakes_the_timers(store, wakeups, time_machine):
    time_machine.move_to(START, tick=False)
    alex = staff(store)

    def woke(step) -> bool:
        wakeups.heard()
        step()
        return registry.TIMERS_SET in wakeups.heard()

    showcase = make_showcase(store)
    order = submit(showcase)  # its escalation and expiry, set
    assert registry.TIMERS_SET in wakeups.heard()
    line = order.lines.get()
    assert not woke(lambda: actions.claim_order(order.pk, by=alex))  # both cleared
    assert woke(lambda: actions.unclaim_order(order.pk, by=alex))  # both set again
    time_machine.shift(timedelta(minutes=5))
    assert woke(lambda: sweeper.escalate_due())  # the next level's, moved
    assert not woke(lambda: actions.claim_order(order.pk, by=alex))
    assert not woke(lambda: actions.pick_line(order.pk, line.pk, by=alex))
    assert woke(lambda: actions.stage_order(order.pk, by=alex, note="Desk"))  # the collection reminder and expiry
    assert not woke(lambda: actions.hand_off_order(order.pk, by=alex))

    other = submit(showcase)
    actions.claim_order(other.pk, by=alex)
    offer = Offer(make_product(store).pk, 1)
    assert woke(
        lambda: actions.propose_substitutes(other.pk, other.lines.get().pk, by=alex, offers=[offer], not_found_qty=1)
    )
    substitute = other.lines.get(substitute_for__isnull=False)
    assert not woke(lambda: actions.answer_substitute(other.pk, substitute.pk, accept=True, by=alex))  # none waits


@pytest.mark.postgres
def test_the_order_table_notifies_only_a_timer_set_to_another_time(wakeups):
    order = submit(make_showcase(make_store()))
    expiry = order.expires_at
    wakeups.heard()
    rows = Order.objects.filter(pk=order.pk)
    woke = {}
    for name, changes in {
        "another column": {"comments": "by the door"},
        "the same time": {"expires_at": expiry},
        "cleared": {"expires_at": None},
        "set": {"expires_at": expiry},
        "moved": {"expires_at": expiry + timedelta(minutes=1)},
        "another timer set": {"remind_at": expiry},
    }.items():
        rows.update(**changes)
        woke[name] = registry.TIMERS_SET in wakeups.heard()
    assert woke == {
        "another column": False,
        "the same time": False,
        "cleared": False,
        "set": True,
        "moved": True,
        "another timer set": True,
    }


def test_trying_a_set_aside_timer_again_wakes_a_resting_worker(store, start_worker):
    order = submit(make_showcase(store))
    due_at = actions.set_timer_aside(order.pk, "next_escalation_at")
    sweeper.remember_set_aside(order.pk, "next_escalation_at", due_at, "RuntimeError: fixed since")
    start_worker()
    time.sleep(0.3)  # its first look: nothing due for minutes, so it rests (up to 30 s)
    assert sweeper.try_again(QuarantinedTimer.objects.all()) == 1
    began = time.monotonic()
    while not OrderEvent.objects.filter(order=order, type="order.escalated").exists():
        assert time.monotonic() - began < 3, "not fired after its wake-up"
        time.sleep(0.02)
