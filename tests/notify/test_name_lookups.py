"""A name server that never answers (or answers late) holds up nothing: a send's lookup counts against
the send's deadline and the message is retried later; a save gets a field error within a short bound;
lookups stuck on their threads are bounded, and past the bound a lookup fails at once."""

import random
import socket
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from shelfcall.notify import netguard
from shelfcall.notify.channels import PLUGINS, Delivery, Destination
from shelfcall.notify.models import Channel, DeliveryAttempt, MessageStatus, OutboxMessage
from shelfcall.notify.netguard import Resolver, UnsafeDestination, checked_addresses
from shelfcall.notify.worker import deliver_due
from shelfcall.stores.models import Role
from tests.factories import make_showcase, make_store, make_user, signed_in, submit
from tests.notify.factories import make_channel
from tests.notify.receiver import TEST_WEBHOOK_SECRET
from tests.notify.test_channels import MESSAGE
from tests.security.test_item20_idle_worker import wait_for

HOST = "hooks.slow-dns.test"
NOT_IN_TIME = "The host name did not resolve in time"
WITHIN = 5.0  # seconds: far above every deadline here (0.3 s), far below a hang


class NameServer:
    """HOST's name server: it never answers (its lookups wait until the test ends), or answers
    `address` after `delay` seconds once told to. Every other name resolves as usual."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.address: str | None = None
        self.delay = 0.0
        self.lookups = 0
        self._real = socket.getaddrinfo

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host != HOST:
            return self._real(host, port, *args, **kwargs)
        self.lookups += 1
        if self.address is None:
            self.released.wait()
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        time.sleep(self.delay)
        return self._real(self.address, port, *args, **kwargs)


@pytest.fixture
def name_server(monkeypatch):
    server = NameServer()
    monkeypatch.setattr(netguard.socket, "getaddrinfo", server.getaddrinfo)
    yield server
    server.released.set()  # the lookups left waiting finish, and their threads are free again


def timed(call, *args, **kwargs):
    began = time.monotonic()
    return call(*args, **kwargs), time.monotonic() - began


@pytest.mark.django_db
def test_a_send_whose_name_never_resolves_ends_by_its_deadline_and_is_sent_later(name_server, receiver, settings):
    settings.SHELFCALL_HTTP_TIMEOUT = 0.3
    store = make_store()
    port = urlsplit(receiver.url).port
    make_channel(store, f"http://{HOST}:{port}/hook", kind="webhook", events=["order.created"])
    submit(make_showcase(store))
    tried, took = timed(deliver_due, rng=random.Random(1))
    assert tried == 1 and took < WITHIN
    message = OutboxMessage.objects.get()
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert message.last_error.startswith(NOT_IN_TIME)
    assert timedelta(seconds=8) <= message.next_attempt_at - message.created_at <= timedelta(seconds=12)
    assert DeliveryAttempt.objects.get().ok is False and receiver.received == []

    name_server.address = "127.0.0.1"  # it answers again
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)  # the retry is due
    deliver_due(rng=random.Random(1))
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.DELIVERED, 2)
    assert len(receiver.received) == 1


def test_the_lookup_counts_against_the_sends_deadline(name_server, receiver, settings):
    """Either the lookup or the answer alone fits in the 0.4 s, both together do not."""
    settings.SHELFCALL_HTTP_TIMEOUT = 0.4
    name_server.address, name_server.delay = "127.0.0.1", 0.25
    receiver.answers = [(200, 0.25)]
    port = urlsplit(receiver.url).port
    destination = Destination(f"http://{HOST}:{port}/hook", TEST_WEBHOOK_SECRET, allow_private_network=True)
    delivery, took = timed(PLUGINS["webhook"].deliver, destination, MESSAGE, idempotency_key="k1")
    assert delivery == Delivery(False, None, "timed out") and took < WITHIN


@pytest.mark.django_db
def test_saving_a_channel_in_the_admin_names_the_address_when_its_name_does_not_resolve_in_time(
    name_server, admin_client, settings
):
    settings.SHELFCALL_ADDRESS_CHECK_TIMEOUT = 0.3
    store = make_store()
    form = {"store": store.pk, "name": "Desk", "kind": "slack", "target": f"https://{HOST}/hook", "events": "[]"}
    response, took = timed(admin_client.post, "/admin/notify/channel/add/", form | {"active": "on"})
    assert response.status_code == 200 and took < WITHIN
    assert " ".join(response.context["adminform"].form.errors["target"]).startswith(NOT_IN_TIME)
    assert not Channel.objects.exists()


@pytest.mark.django_db
def test_saving_a_channel_on_the_setup_page_names_the_address_when_its_name_does_not_resolve_in_time(
    name_server, settings
):
    settings.SHELFCALL_ADDRESS_CHECK_TIMEOUT = 0.3
    store = make_store()
    client = signed_in(make_user(store, name="Sara", role=Role.STORE_ADMIN))
    form = {"name": "Desk", "kind": "slack", "target": f"https://{HOST}/hook", "events": "[]", "active": "on"}
    response, took = timed(client.post, f"/setup/stores/{store.pk}/channels", form)
    assert response.status_code == 400 and took < WITHIN
    assert " ".join(response.context["form"].errors["target"]).startswith(NOT_IN_TIME)
    assert not Channel.objects.exists()


def test_lookups_stuck_beyond_the_bound_fail_at_once_and_take_no_more_threads(name_server, monkeypatch):
    monkeypatch.setattr(netguard, "RESOLVER", Resolver(threads=1, waiting=1))
    url = f"https://{HOST}/hook"
    threads_before = threading.active_count()
    for _stuck in range(2):  # one on the thread, one waiting for it: each waits its own time out in full
        with pytest.raises(UnsafeDestination, match=NOT_IN_TIME):
            checked_addresses(url, timeout=0.3)
    for _more in range(10):
        began = time.monotonic()
        with pytest.raises(UnsafeDestination, match=NOT_IN_TIME):
            checked_addresses(url, timeout=60)
        assert time.monotonic() - began < WITHIN  # at once, not after 60 s
    assert threading.active_count() - threads_before <= 1
    assert name_server.lookups == 1  # the abandoned lookup that was still waiting was never made

    name_server.address = "127.0.0.2"  # it answers again: the stuck lookup ends and frees the places
    name_server.released.set()

    def resolves() -> bool:
        try:
            return checked_addresses(url, allow_private_network=True, timeout=1) == ["127.0.0.2"]
        except UnsafeDestination:
            return False

    wait_for(resolves, timeout=WITHIN)


def test_the_lookup_threads_never_hold_up_the_process_exit(name_server, monkeypatch):
    monkeypatch.setattr(netguard, "RESOLVER", Resolver(threads=2, waiting=0))
    with pytest.raises(UnsafeDestination, match=NOT_IN_TIME):
        checked_addresses(f"https://{HOST}/hook", timeout=0.1)
    resolvers = [thread for thread in threading.enumerate() if thread.name == "shelfcall-resolver"]
    assert resolvers and all(thread.daemon for thread in resolvers)


def test_an_ip_address_needs_no_lookup_even_while_the_name_server_is_stuck(name_server, monkeypatch):
    monkeypatch.setattr(netguard, "RESOLVER", Resolver(threads=1, waiting=0))
    with pytest.raises(UnsafeDestination, match=NOT_IN_TIME):
        checked_addresses(f"https://{HOST}/hook", timeout=0.1)
    assert checked_addresses("https://[2606:4700::1111]/hook", timeout=0.1) == ["2606:4700::1111"]
    with pytest.raises(UnsafeDestination, match="private or local network"):
        checked_addresses("https://10.1.2.3/hook", timeout=0.1)
