"""Item 10: a send ends by its wall-clock deadline whatever the receiver does, reads no more of the
answer than is kept, never runs past its lease (so no other worker sends the message too), and a
stuck send does not hold up the timers."""

import contextlib
import random
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta

import pytest

from shelfcall.core import clock
from shelfcall.notify import worker
from shelfcall.notify.channels import PLUGINS, Delivery, Destination
from shelfcall.notify.channels.base import ANSWER_LIMIT
from shelfcall.notify.models import DeliveryAttempt, MessageStatus, OutboxMessage
from shelfcall.orders.models import Order, OrderEvent
from tests.factories import make_showcase, make_store, submit
from tests.notify.factories import make_channel, make_escalation
from tests.notify.receiver import TEST_WEBHOOK_SECRET
from tests.notify.test_channels import MESSAGE
from tests.security.test_item20_idle_worker import wait_for


@pytest.fixture
def raw_server():
    """A TCP server that runs `answer(conn)` for each connection, after reading the request's start."""
    servers: list[socket.socket] = []

    def start(answer: Callable[[socket.socket], None]) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        servers.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _peer = listener.accept()
                except OSError:
                    return
                with conn, contextlib.suppress(OSError):  # OSError: the client hung up, as it should
                    conn.recv(65536)
                    answer(conn)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/hook"

    yield start
    for listener in servers:
        listener.close()


def send(url: str) -> tuple[Delivery, float]:
    began = time.monotonic()
    delivery = PLUGINS["webhook"].deliver(
        Destination(url, TEST_WEBHOOK_SECRET, allow_private_network=True), MESSAGE, idempotency_key="k1"
    )
    return delivery, time.monotonic() - began


def test_a_receiver_answering_a_byte_at_a_time_is_cut_at_the_deadline(settings, raw_server):
    settings.SHELFCALL_HTTP_TIMEOUT = 1.0

    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(60):  # each byte well within the per-read timeout; 6 s in all
            conn.sendall(b"X")
            time.sleep(0.1)

    delivery, took = send(raw_server(drip))
    assert delivery == Delivery(False, None, "timed out")
    assert took < 1.5


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_receiver_that_accepts_and_never_answers_is_cut_at_the_deadline(settings, raw_server, scheme):
    """It reads the request (or the TLS hello) and says nothing. The timeouts of each step are long
    here: only the send's deadline (half the 1 s lease) ends the send."""
    settings.SHELFCALL_HTTP_TIMEOUT, settings.SHELFCALL_OUTBOX_LEASE_SECONDS = 30, 1
    hang_up = threading.Event()
    url = raw_server(lambda conn: hang_up.wait(30))
    try:
        delivery, took = send(url.replace("http:", f"{scheme}:", 1))
    finally:
        hang_up.set()
    assert delivery == Delivery(False, None, "timed out")
    assert took < 5


def test_a_huge_answer_is_not_read_into_memory(raw_server):
    chunk = b"x" * 65536
    size = 320 * len(chunk)  # 20 MB

    def huge(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n" % size)
        for _ in range(size // len(chunk)):
            conn.sendall(chunk)

    url = raw_server(huge)
    tracemalloc.start()
    try:
        delivery, _took = send(url)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert delivery == Delivery(False, 500, "x" * ANSWER_LIMIT)
    assert peak < 1_000_000


@pytest.fixture
def claimed(db, receiver):
    """One webhook message, claimed by a worker."""
    store = make_store()
    make_channel(store, receiver.url, kind="webhook", events=["order.created"])
    submit(make_showcase(store))
    [message] = worker.claim_due(batch=10)
    return message


def test_a_message_another_worker_took_over_is_not_sent_again(claimed, receiver, time_machine):
    time_machine.move_to(claimed.next_attempt_at + timedelta(seconds=1), tick=False)  # the lease ran out
    assert worker.deliver_due(rng=random.Random(1)) == 1  # a second worker takes it over and sends it
    assert worker.deliver(claimed, rng=random.Random(1)) is None  # the first worker, back at last
    assert len(receiver.received) == 1
    assert OutboxMessage.objects.get().status == MessageStatus.DELIVERED


def test_the_outcome_is_recorded_only_under_the_workers_own_lease(claimed, monkeypatch):
    def send_outliving_the_lease(message: OutboxMessage) -> Delivery:
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=clock.now() + timedelta(minutes=5))
        return Delivery(False, 503, "busy")  # meanwhile another worker claimed the message

    monkeypatch.setattr(worker, "_send", send_outliving_the_lease)
    worker.deliver(claimed, rng=random.Random(1))
    message = OutboxMessage.objects.get()
    assert message.last_error == "" and message.next_attempt_at > clock.now() + timedelta(minutes=4)
    assert DeliveryAttempt.objects.get().status_code == 503  # the attempt itself is on record


def test_a_lease_too_short_for_one_more_send_is_renewed_first(claimed, receiver, settings, time_machine):
    settings.SHELFCALL_HTTP_TIMEOUT = 10
    time_machine.move_to(claimed.next_attempt_at - timedelta(seconds=3), tick=False)
    assert worker.deliver(claimed, rng=random.Random(1)).ok
    assert claimed.next_attempt_at == clock.now() + timedelta(seconds=settings.SHELFCALL_OUTBOX_LEASE_SECONDS)
    assert len(receiver.received) == 1 and OutboxMessage.objects.get().status == MessageStatus.DELIVERED


def test_the_send_deadline_stays_within_the_lease(settings):
    from shelfcall.notify.channels.base import send_deadline_seconds

    settings.SHELFCALL_HTTP_TIMEOUT, settings.SHELFCALL_OUTBOX_LEASE_SECONDS = 600, 90
    assert send_deadline_seconds() < settings.SHELFCALL_OUTBOX_LEASE_SECONDS


@pytest.mark.django_db(transaction=True)
def test_a_stuck_send_does_not_delay_an_escalation(receiver, settings, start_worker):
    settings.SHELFCALL_HTTP_TIMEOUT = 5.0
    receiver.answers = [(200, 2.0)]  # holds the delivery for 2 s
    store = make_store()
    make_escalation(store, [(3, make_channel(store, "http://127.0.0.1:9/", events=[]))])
    make_channel(store, receiver.url, kind="webhook", events=["order.created"])
    order = submit(make_showcase(store))
    due = clock.now() + timedelta(seconds=0.5)
    Order.objects.filter(pk=order.pk).update(next_escalation_at=due)
    start_worker()
    wait_for(lambda: OrderEvent.objects.filter(order=order, type="order.escalated").exists(), timeout=3)
    fired = OrderEvent.objects.get(order=order, type="order.escalated").created_at
    assert fired - due < timedelta(seconds=1)  # not after the 2 s send
    assert len(receiver.received) == 1  # the stuck send was under way all along
