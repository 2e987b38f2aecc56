"""Several workers on PostgreSQL share the outbox and the timers; a killed worker loses nothing."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from shelfcall.notify.models import MessageStatus, OutboxMessage
from shelfcall.notify.sweeper import escalate_due
from shelfcall.notify.worker import deliver_due
from shelfcall.orders.models import OrderEvent
from tests.factories import make_showcase, make_store, submit
from tests.notify.factories import make_channel, make_escalation
from tests.support.threads import in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def orders_with_alerts(receiver, count: int):
    store = make_store()
    store.max_open_orders_per_device = 1000
    store.save()
    make_channel(store, receiver.url, kind="webhook")
    showcase = make_showcase(store)
    showcase.items.get().product.stock_levels.update(on_hand=1000)
    return [submit(showcase) for _ in range(count)]


def test_two_workers_never_send_a_message_twice(receiver):
    receiver.answers = [(200, 0.02)]
    orders_with_alerts(receiver, 40)

    def drain() -> None:
        while deliver_due(batch=5):
            pass

    in_threads(2, drain)
    keys = [r.headers["webhook-id"] for r in receiver.received]
    assert len(keys) == 40 and len(set(keys)) == 40
    assert OutboxMessage.objects.filter(status=MessageStatus.DELIVERED).count() == 40


def test_two_sweepers_fire_each_timer_once(receiver, time_machine):
    time_machine.move_to("2026-11-23 10:00:00+00:00", tick=False)
    store = make_store()
    store.max_open_orders_per_device = 1000
    store.save()
    make_escalation(store, [(3, make_channel(store, receiver.url, events=[]))])
    showcase = make_showcase(store)
    showcase.items.get().product.stock_levels.update(on_hand=1000)
    orders = [submit(showcase) for _ in range(60)]
    time_machine.shift(timedelta(minutes=4))
    in_threads(2, lambda: [escalate_due(batch=10) for _ in range(10)])
    assert OrderEvent.objects.filter(type="order.escalated").count() == 60
    assert Counter(OrderEvent.objects.filter(type="order.escalated").values_list("order_id", flat=True)) == Counter(
        {order.pk: 1 for order in orders}
    )


def worker_process() -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SHELFCALL_OUTBOX_LEASE_SECONDS": "2",
        "DJANGO_SETTINGS_MODULE": "shelfcall.settings",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "shelfcall.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_worker_killed_mid_batch_loses_nothing(receiver):
    receiver.answers = [(200, 0.1)]
    orders_with_alerts(receiver, 30)
    first = worker_process()
    try:
        wait_until(lambda: len(receiver.received) >= 5, 30)
        first.send_signal(signal.SIGKILL)
        first.wait(5)
    finally:
        first.kill()
    second = worker_process()
    try:
        wait_until(lambda: OutboxMessage.objects.filter(status=MessageStatus.DELIVERED).count() == 30, 60)
    finally:
        second.terminate()
        second.wait(10)
    keys = [r.headers["webhook-id"] for r in receiver.received]
    assert set(keys) == {str(event_id) for event_id in OutboxMessage.objects.values_list("event_id", flat=True)}
    # At least once: a message in flight when the worker died is sent again, with the same key.
    repeated = [key for key, seen in Counter(keys).items() if seen > 1]
    assert len(repeated) <= 5
