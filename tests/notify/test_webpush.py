"""Web Push end to end: real encrypted messages (RFC 8291 aes128gcm, RFC 8292 VAPID) sent through the
outbox to a local push-service stand-in (a real HTTP server), read with the subscription's own keys."""

import logging
import random
from datetime import datetime, timedelta

import pytest

from shelfcall.notify import devices, webpush
from shelfcall.notify.devices import BadSubscription
from shelfcall.notify.models import DeliveryAttempt, MessageStatus, OutboxMessage, PushSubscription, VapidKey
from shelfcall.notify.sweeper import escalate_due
from shelfcall.notify.worker import deliver_due
from shelfcall.orders import actions
from shelfcall.stores.models import Membership
from tests.factories import make_product, make_showcase, make_store, make_user, staff, submit
from tests.notify.factories import make_channel, make_escalation
from tests.notify.push_device import BrowserKeys, audience_of, verify_vapid

pytestmark = pytest.mark.django_db
SEEDED = random.Random(11)
START = "2026-11-23 10:00:00+00:00"


@pytest.fixture(autouse=True)
def local_push_service_allowed(settings):
    # The stand-in push service runs on 127.0.0.1: allow-listed, as an admin would allow one in-house.
    settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = {"127.0.0.1"}


@pytest.fixture
def store():
    return make_store(name="Downtown")


@pytest.fixture
def showcase(store):
    return make_showcase(store, products=[make_product(store, name=name) for name in ("Drill", "Saw", "Level", "Tape")])


def deliver_all() -> None:
    while deliver_due(rng=SEEDED):
        pass


def member_of_team(store, showcase, name: str = "Alex"):
    user = make_user(store, name=name)
    Membership.objects.get(user=user).teams.add(showcase.team)
    return user


def device_of(user, receiver, keys: BrowserKeys, name: str = "Phone") -> PushSubscription:
    return devices.subscribe(
        user, endpoint=f"{receiver.url}/{user.pk}/{name}", p256dh=keys.p256dh, auth=keys.auth, name=name
    )


def alerted_teammate(store, showcase, receiver, event: str = "order.created"):
    """A member of the showcase's team with one device, and the team's push channel for `event`."""
    alex, keys = member_of_team(store, showcase), BrowserKeys()
    device_of(alex, receiver, keys)
    make_channel(store, "", kind="push", events=[event], team=showcase.team)
    return alex, keys


class TestEncryptedAlerts:
    def test_a_new_order_reaches_the_teams_devices_encrypted_with_exactly_its_payload(
        self, store, showcase, receiver, time_machine
    ):
        time_machine.move_to(START, tick=False)
        _alex, keys = alerted_teammate(store, showcase, receiver)
        order = submit(showcase, {item.product: 1 for item in showcase.items.order_by("position")})
        deliver_all()
        [received] = receiver.received
        assert keys.read(received) == {
            "title": f"New order #{order.number}",
            "body": "Downtown · 0 min\n1 × Drill, 1 × Saw, 1 × Level and 1 more",
            "url": f"/w/orders/{order.pk}",
            "tag": f"order-{order.pk}",
            "purpose": "new_order",
        }
        assert (received.headers["ttl"], received.headers["urgency"]) == ("3600", "high")
        claims = verify_vapid(received)
        assert claims["aud"] == audience_of(receiver.url) and claims["sub"].startswith("mailto:")
        assert claims["exp"] == int(datetime.fromisoformat(START).timestamp()) + 12 * 3600  # RFC 8292: at most 24 h
        assert claims["k"] == webpush.application_server_key()
        device = PushSubscription.objects.get()
        assert device.last_alert_at is not None and device.last_error == ""
        # The channel's message was fanned out into the device's, both in the delivery history.
        assert sorted(OutboxMessage.objects.values_list("destination", "status")) == [
            ("", MessageStatus.DELIVERED),
            (f"device:{device.pk}", MessageStatus.DELIVERED),
        ]
        assert set(OutboxMessage.objects.values_list("order_id", flat=True)) == {order.pk}

    def test_each_device_gets_its_own_encryption_and_other_teams_get_nothing(self, store, showcase, receiver):
        alex, sam = member_of_team(store, showcase, "Alex"), member_of_team(store, showcase, "Sam")
        outsider = make_user(store, name="Olga")  # in the store, not in the showcase's team
        alex_keys, tablet_keys, sam_keys = BrowserKeys(), BrowserKeys(), BrowserKeys()
        device_of(alex, receiver, alex_keys, "Phone")
        device_of(alex, receiver, tablet_keys, "Tablet")
        device_of(sam, receiver, sam_keys)
        device_of(outsider, receiver, BrowserKeys())
        make_channel(store, "", kind="push", events=["order.created"], team=showcase.team)
        order = submit(showcase)
        deliver_all()
        by_path = {r.path: r for r in receiver.received}
        assert sorted(by_path) == sorted(
            f"/hook/{u.pk}/{n}" for u, n in [(alex, "Phone"), (alex, "Tablet"), (sam, "Phone")]
        )
        for (user, name), keys in {
            (alex, "Phone"): alex_keys,
            (alex, "Tablet"): tablet_keys,
            (sam, "Phone"): sam_keys,
        }.items():
            assert keys.read(by_path[f"/hook/{user.pk}/{name}"])["url"].endswith(f"/w/orders/{order.pk}")
        with pytest.raises(Exception):  # noqa: B017 - a device cannot read another's message
            sam_keys.read(by_path[f"/hook/{alex.pk}/Phone"])

    def test_shopper_has_arrived_shows_the_store_the_first_items_and_the_wait(
        self, store, showcase, receiver, time_machine
    ):
        time_machine.move_to(START, tick=False)
        _alex, keys = alerted_teammate(store, showcase, receiver, "order.checked_in")
        order = submit(showcase)
        time_machine.shift(timedelta(minutes=7))
        actions.check_in(order.pk, mode="in_store")
        deliver_all()
        alert = keys.read(receiver.received[-1])
        assert alert["title"] == f"Shopper has arrived — order #{order.number}"
        assert alert["body"] == f"Downtown · 7 min\n1 × {order.lines.get().name}"
        assert alert["url"].endswith(f"/w/orders/{order.pk}")

    def test_an_escalation_to_a_person_reaches_only_their_devices(self, store, showcase, receiver, time_machine):
        time_machine.move_to(START, tick=False)
        alex, sam = member_of_team(store, showcase, "Alex"), make_user(store, name="Sam")
        alex_keys, sam_keys = BrowserKeys(), BrowserKeys()
        device_of(alex, receiver, alex_keys)
        device_of(sam, receiver, sam_keys)
        to_sam = make_channel(store, sam.username, kind="push", events=[], name="Sam's devices")
        to_sam.full_clean()
        make_escalation(store, [(3, to_sam)])
        order = submit(showcase)
        time_machine.shift(timedelta(minutes=3))
        assert escalate_due() == 1
        deliver_all()
        [received] = receiver.received
        assert received.path == f"/hook/{sam.pk}/Phone"
        alert = sam_keys.read(received)
        assert alert["title"] == f"Nobody has picked order #{order.number} for 3 min"
        assert alert["body"].startswith("Downtown · 3 min\n1 × ")

    def test_an_escalation_to_the_teams_devices_reaches_the_orders_team_only(
        self, store, showcase, receiver, time_machine
    ):
        time_machine.move_to(START, tick=False)
        alex, alex_keys = member_of_team(store, showcase, "Alex"), BrowserKeys()
        device_of(alex, receiver, alex_keys)
        device_of(member_of_team(store, make_showcase(store), "Sam"), receiver, BrowserKeys())  # another team
        team_devices = make_channel(store, "", kind="push", events=[], name="The team's devices")
        make_escalation(store, [(5, team_devices)])  # the store's policy, for every team
        order = submit(showcase)
        time_machine.shift(timedelta(minutes=5))
        assert escalate_due() == 1
        deliver_all()
        [received] = receiver.received
        assert received.path == f"/hook/{alex.pk}/Phone"
        assert alex_keys.read(received)["title"] == f"Nobody has picked order #{order.number} for 5 min"


class TestShift:
    def test_off_shift_devices_get_nothing_until_back_on_shift(self, store, showcase, receiver):
        alex, keys = alerted_teammate(store, showcase, receiver)
        devices.set_shift(alex, on_shift=False)
        submit(showcase)
        deliver_all()
        assert not receiver.received
        assert OutboxMessage.objects.get().delivery_attempts.get().answer == "queued for 0 device(s) on shift"
        devices.set_shift(alex, on_shift=True)
        order = submit(showcase)
        deliver_all()
        [received] = receiver.received
        assert keys.read(received)["tag"] == f"order-{order.pk}"

    def test_going_off_shift_after_the_fan_out_still_stops_the_alert(self, store, showcase, receiver):
        alex, _keys = alerted_teammate(store, showcase, receiver)
        submit(showcase)
        deliver_due(batch=1, rng=SEEDED)  # the fan-out only
        devices.set_shift(alex, on_shift=False)
        deliver_all()
        assert not receiver.received
        assert OutboxMessage.objects.get(destination__startswith="device:").delivery_attempts.get().answer == (
            "not sent: off shift"
        )

    def test_a_test_alert_goes_even_off_shift(self, store, receiver):
        alex, keys = make_user(store), BrowserKeys()
        device = device_of(alex, receiver, keys)
        devices.set_shift(alex, on_shift=False)
        webpush.queue_device_test(device)
        deliver_all()
        assert keys.read(receiver.received[0])["title"] == "Shelfcall test alert"


class TestPushServiceAnswers:
    @pytest.mark.parametrize("status", [404, 410])
    def test_an_expired_subscription_is_removed_and_its_message_fails_at_once(self, store, showcase, receiver, status):
        _alex, _keys = alerted_teammate(store, showcase, receiver)
        receiver.answers = [(status, 0.0)]
        submit(showcase)
        deliver_all()
        assert not PushSubscription.objects.exists()
        message = OutboxMessage.objects.get(destination__startswith="device:")
        assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
        assert message.last_error == "the subscription expired: device removed"
        # The next order reaches nobody and sends nothing.
        submit(showcase)
        deliver_all()
        assert len(receiver.received) == 1

    def test_a_push_service_answering_5xx_is_retried_with_backoff_then_failed_and_visible(
        self, store, showcase, receiver, settings, time_machine
    ):
        time_machine.move_to(START, tick=False)
        settings.SHELFCALL_OUTBOX_MAX_ATTEMPTS = 3
        _alex, _keys = alerted_teammate(store, showcase, receiver)
        receiver.answers = [(503, 0.0)]
        submit(showcase)
        deliver_all()
        message = OutboxMessage.objects.get(destination__startswith="device:")
        first_retry = message.next_attempt_at
        assert timedelta(seconds=8) <= first_retry - message.created_at <= timedelta(seconds=12)
        for _attempt in range(2):
            time_machine.move_to(OutboxMessage.objects.get(pk=message.pk).next_attempt_at + timedelta(seconds=1))
            deliver_all()
        message.refresh_from_db()
        assert (message.status, message.attempts) == (MessageStatus.FAILED, 3)
        assert [a.status_code for a in DeliveryAttempt.objects.filter(message=message)] == [503, 503, 503]
        assert len(receiver.received) == 3
        device = PushSubscription.objects.get()  # kept: a 5xx is the service's trouble, not an expiry
        assert device.last_error == "503 error from receiver"

    def test_a_push_service_that_times_out_is_retried(self, store, receiver, settings):
        settings.SHELFCALL_HTTP_TIMEOUT = 0.5
        keys = BrowserKeys()
        device = device_of(make_user(store), receiver, keys)
        receiver.answers = [(201, 2.0), (201, 0.0)]
        webpush.queue_device_test(device)
        deliver_all()
        message = OutboxMessage.objects.get()
        assert (message.status, message.last_error) == (MessageStatus.PENDING, "timed out")
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)
        deliver_all()
        assert OutboxMessage.objects.get().status == MessageStatus.DELIVERED

    def test_an_endpoint_nobody_answers_is_retried_and_the_order_flow_never_waits(self, store, showcase, receiver):
        from tests.support.servers import free_port

        alex = member_of_team(store, showcase)
        device = device_of(alex, receiver, BrowserKeys())
        PushSubscription.objects.filter(pk=device.pk).update(endpoint=f"http://127.0.0.1:{free_port()}/gone")
        make_channel(store, "", kind="push", events=["order.created"], team=showcase.team)
        order = submit(showcase)  # returns with the order written, nothing sent yet
        assert order.pk and not DeliveryAttempt.objects.exists()
        deliver_all()
        message = OutboxMessage.objects.get(destination__startswith="device:")
        assert message.status == MessageStatus.PENDING and message.last_error.startswith("connection failed")
        assert PushSubscription.objects.get().last_error.startswith("connection failed")


class TestNetworkGuard:
    def test_a_private_endpoint_is_refused_at_subscription_unless_allow_listed(self, store, settings):
        settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = set()
        keys = BrowserKeys()
        for endpoint in ("http://127.0.0.1:9/push", "https://10.0.0.7/push", "https://localhost/push"):
            with pytest.raises(BadSubscription) as refused:
                devices.subscribe(make_user(store), endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth, name="x")
            assert refused.value.field == "endpoint"
        assert not PushSubscription.objects.exists()

    def test_an_endpoint_that_turned_private_is_refused_at_send(self, store, receiver, settings):
        device = device_of(make_user(store), receiver, BrowserKeys())
        settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = set()  # say, its name now resolves to a private address
        webpush.queue_device_test(device)
        deliver_all()
        assert not receiver.received
        assert "private or local network" in OutboxMessage.objects.get().last_error

    @pytest.mark.parametrize(
        ("field", "p256dh", "auth"),
        [("p256dh", "not-a-key", None), ("auth", None, "c2hvcnQ"), ("p256dh", "AAAA", None)],
    )
    def test_bad_keys_are_refused_naming_the_field(self, store, receiver, field, p256dh, auth):
        keys = BrowserKeys()
        with pytest.raises(BadSubscription) as refused:
            devices.subscribe(
                make_user(store),
                endpoint=f"{receiver.url}/x",
                p256dh=p256dh or keys.p256dh,
                auth=auth or keys.auth,
                name="x",
            )
        assert refused.value.field == field


class TestServerKey:
    def test_the_vapid_key_is_made_once_and_kept(self):
        first = webpush.application_server_key()
        assert webpush.application_server_key() == first and VapidKey.objects.count() == 1
        assert len(webpush.b64url_decode(first)) == 65

    def test_the_private_key_is_never_logged(self, store, receiver, caplog):
        caplog.set_level(logging.DEBUG)
        device = device_of(make_user(store), receiver, BrowserKeys())
        webpush.queue_device_test(device)
        receiver.answers = [(410, 0.0)]
        deliver_all()
        pem = VapidKey.objects.get().private_key_pem
        secret_lines = [line for line in pem.splitlines() if not line.startswith("-----")]
        assert all(line not in caplog.text for line in secret_lines)
        assert "PRIVATE KEY" not in caplog.text and pem not in repr(VapidKey.objects.get())


def test_a_push_channel_names_a_person_of_its_store(store):
    from django.core.exceptions import ValidationError

    from shelfcall.notify.models import Channel

    other_store_person = make_user(make_store(name="Elsewhere"), name="Olga")
    channel = Channel(store=store, name="Olga's devices", kind="push", target=other_store_person.username)
    with pytest.raises(ValidationError) as refused:
        channel.full_clean()
    assert "target" in refused.value.message_dict
    channel.target = make_user(store).username
    channel.full_clean()


def test_claiming_is_unaffected(store, showcase, receiver):
    """Staff follow-ups (claimed) are titled as before; push is one more channel among them."""
    make_channel(store, "", kind="push", events=["order.claimed"], team=showcase.team)
    order = submit(showcase)
    actions.claim_order(order.pk, by=staff(store, "Alex"))
    assert OutboxMessage.objects.get(purpose="claimed").body["title"] == "Picking — Alex"
