"""Item 20: an idle worker costs next to nothing (it rests until its next timer or a wake-up), and
still fires timers on time and sends new messages at once."""

import time
from datetime import timedelta

import pytest

from shelfcall.core import clock
from shelfcall.notify.models import MessageStatus, OutboxMessage
from shelfcall.orders.models import Order, OrderEvent
from tests.factories import make_showcase, make_store, submit
from tests.notify.factories import make_channel, make_escalation

pytestmark = pytest.mark.django_db(transaction=True)
IDLE_WINDOW_SECONDS = 1.5


def wait_for(condition, timeout: float) -> float:
    """Seconds until `condition()` held (fails after `timeout`)."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < timeout, "not within the time allowed"
        time.sleep(0.02)
    return time.monotonic() - began


def test_an_idle_worker_runs_next_to_no_statements(start_worker, all_statements):
    store = make_store()
    make_escalation(store, [(30, make_channel(store, "http://127.0.0.1:9/", events=[]))])
    submit(make_showcase(store))  # an open timer, half an hour away
    start_worker()
    time.sleep(0.3)  # its first look at what is due
    before = len(all_statements)
    time.sleep(IDLE_WINDOW_SECONDS)
    idle = all_statements[before:]
    # Polling every 0.5 s, it ran 26 statements a second; resting, it runs none in the window.
    assert len(idle) <= 1, idle


def test_an_idle_worker_fires_a_timer_on_time(start_worker):
    store = make_store()
    make_escalation(store, [(3, make_channel(store, "http://127.0.0.1:9/", events=[]))])
    order = submit(make_showcase(store))
    due = clock.now() + timedelta(seconds=0.6)
    Order.objects.filter(pk=order.pk).update(next_escalation_at=due)
    start_worker()
    wait_for(lambda: OrderEvent.objects.filter(order=order, type="order.escalated").exists(), timeout=3)
    fired = OrderEvent.objects.get(order=order, type="order.escalated").created_at
    assert timedelta(0) <= fired - due < timedelta(seconds=0.4)


def test_a_new_message_wakes_a_resting_worker(start_worker, receiver):
    store = make_store()
    make_channel(store, receiver.url, kind="webhook", events=["order.created"])
    showcase = make_showcase(store)
    start_worker()
    time.sleep(0.3)  # resting now, for up to 30 s
    submit(showcase)
    took = wait_for(lambda: OutboxMessage.objects.filter(status=MessageStatus.DELIVERED).exists(), timeout=3)
    assert took < 1 and len(receiver.received) == 1  # not after a 30 s rest
