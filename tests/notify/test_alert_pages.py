"""The workspace's alert pages (devices, shift) and what makes it installable (manifest, service worker,
offline notice): who may use each URL, with every role, and what each does."""

import json

import pytest
from django.test import Client

from shelfcall.notify import devices
from shelfcall.notify.devices import BadSubscription
from shelfcall.notify.models import OutboxMessage, PushSubscription, Shift
from shelfcall.stores.models import Role
from tests.factories import make_store, make_user, signed_in
from tests.notify.push_device import BrowserKeys, b64url

pytestmark = pytest.mark.django_db
ROLES = [Role.ASSOCIATE, Role.SUPERVISOR, Role.STORE_ADMIN, Role.ORG_ADMIN]
ENDPOINT = "https://push.example.net/send/abc"


@pytest.fixture
def store():
    return make_store(name="Downtown")


@pytest.fixture(autouse=True)
def public_push_service(monkeypatch):
    """push.example.net resolves to a public address (no DNS in the tests)."""
    import socket

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def device_of(user, endpoint: str = ENDPOINT, name: str = "Phone") -> PushSubscription:
    keys = BrowserKeys()
    return devices.subscribe(user, endpoint=endpoint, p256dh=keys.p256dh, auth=keys.auth, name=name)


def subscription_json(endpoint: str = ENDPOINT, name: str = "Till tablet", keys: BrowserKeys | None = None) -> str:
    keys = keys or BrowserKeys()
    return json.dumps({"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}, "name": name})


# Every new URL: (method, path or a function of the device's id, what a signed-in member gets).
def member_urls(device_id: int) -> list[tuple[str, str, int]]:
    return [
        ("get", "/w/devices", 200),
        ("post", "/w/devices/subscribe", 201),
        ("post", f"/w/devices/{device_id}/test", 302),
        ("post", f"/w/devices/{device_id}/rename", 302),
        ("post", f"/w/devices/{device_id}/remove", 302),
        ("post", "/w/shift", 302),
    ]


PUBLIC_URLS = ["/w/manifest.webmanifest", "/w/sw.js", "/w/offline"]


def call(client: Client, method: str, path: str):
    if path.endswith("/subscribe"):
        return client.post(path, subscription_json(), content_type="application/json")
    if path.endswith("/rename"):
        return client.post(path, {"name": "Renamed"})
    return getattr(client, method)(path)


class TestAuthorization:
    def test_signed_out_is_sent_to_the_sign_in_and_nothing_changes(self, client, store):
        device = device_of(make_user(store))
        for method, path, _status in member_urls(device.pk):
            response = call(client, method, path)
            assert response.status_code == 302 and response["Location"].startswith("/w/login"), path
        assert PushSubscription.objects.get() == device and not OutboxMessage.objects.exists()
        assert not Shift.objects.exists()

    @pytest.mark.parametrize("role", ROLES)
    def test_every_role_manages_its_own_devices(self, store, role):
        user = make_user(store, name="Pat", role=role)
        client = signed_in(user)
        device = device_of(user, endpoint=f"{ENDPOINT}/{role}")
        for method, path, status in member_urls(device.pk):
            response = call(client, method, path)
            assert response.status_code == status, (role, path, response.status_code)
        assert not PushSubscription.objects.filter(pk=device.pk).exists()  # removed last
        assert PushSubscription.objects.get(user=user).name == "Till tablet"  # the one subscribed

    @pytest.mark.parametrize("role", ROLES)
    def test_nobody_touches_another_persons_device(self, store, role):
        owner = make_user(store, name="Alex")
        device = device_of(owner, name="Alex's own")
        other_store = make_store(name="Elsewhere")
        for intruder in (make_user(store, name="Sam", role=role), make_user(other_store, name="Olga", role=role)):
            client = signed_in(intruder)
            for path in (
                f"/w/devices/{device.pk}/test",
                f"/w/devices/{device.pk}/rename",
                f"/w/devices/{device.pk}/remove",
            ):
                response = call(client, "post", path)
                assert response.status_code == 302, path
            assert "Alex&#x27;s own" not in client.get("/w/devices").content.decode()
        device.refresh_from_db()
        assert device.name == "Alex's own" and device.user == owner and not OutboxMessage.objects.exists()

    def test_a_signed_in_stranger_of_every_store_is_refused(self, store):
        from django.contrib.auth import get_user_model

        stranger = signed_in(get_user_model().objects.create_user("nobody", password="x"))
        response = stranger.get("/w/devices")
        assert response.status_code in (302, 403)
        assert not response.has_header("Location") or not response["Location"].startswith("/w/devices")

    def test_the_installable_parts_are_public(self, client):
        for path in PUBLIC_URLS:
            assert client.get(path).status_code == 200, path
            assert client.post(path).status_code == 405, path

    def test_subscribe_and_actions_refuse_get(self, store):
        client = signed_in(make_user(store))
        device = device_of(make_user(store, name="Sam"))
        for method, path, _status in member_urls(device.pk):
            if method == "post":
                assert client.get(path).status_code == 405, path


class TestDevicesPage:
    def test_lists_my_devices_with_their_last_alert_and_the_servers_key(self, store):
        user = make_user(store)
        device_of(user, name="Till tablet")
        device_of(make_user(store, name="Sam"), endpoint=f"{ENDPOINT}/sam", name="Sam's phone")
        page = signed_in(user).get("/w/devices").content.decode()
        assert "Till tablet" in page and "Sam&#x27;s phone" not in page and "none yet" in page
        from shelfcall.notify.webpush import application_server_key

        assert f'data-server-key="{application_server_key()}"' in page

    def test_statements_do_not_grow_with_the_devices(self, store, django_assert_max_num_queries):
        user = make_user(store)
        client = signed_in(user)
        device_of(user)
        client.get("/w/devices")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as one:
            client.get("/w/devices")
        for n in range(5):
            device_of(user, endpoint=f"{ENDPOINT}/{n}", name=f"Device {n}")
        with CaptureQueriesContext(connection) as six:
            client.get("/w/devices")
        assert len(six) == len(one) <= 12

    def test_a_bad_subscription_is_refused_naming_the_field(self, store):
        client = signed_in(make_user(store))
        response = client.post(
            "/w/devices/subscribe", subscription_json("http://10.0.0.8/push"), content_type="application/json"
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "endpoint"
        response = client.post("/w/devices/subscribe", "not json", content_type="application/json")
        assert response.status_code == 422 and response.json()["error"]["field"] == "body"
        assert not PushSubscription.objects.exists()

    def test_the_same_browser_subscribing_again_keeps_one_row_for_its_latest_person(self, store):
        alex, sam = make_user(store), make_user(store, name="Sam")
        browser = BrowserKeys()  # the same browser keeps its subscription's keys
        signed_in(alex).post("/w/devices/subscribe", subscription_json(keys=browser), content_type="application/json")
        signed_in(sam).post("/w/devices/subscribe", subscription_json(keys=browser), content_type="application/json")
        assert list(PushSubscription.objects.values_list("user", flat=True)) == [sam.pk]

    def test_someone_who_learnt_a_devices_address_cannot_take_its_alerts(self, store):
        alex, stranger = make_user(store), make_user(make_store(), name="Mallory")
        signed_in(alex).post("/w/devices/subscribe", subscription_json(), content_type="application/json")
        refused = signed_in(stranger).post("/w/devices/subscribe", subscription_json(), content_type="application/json")
        assert (refused.status_code, refused.json()["error"]["field"]) == (422, "auth")
        assert list(PushSubscription.objects.values_list("user", flat=True)) == [alex.pk]

    def test_only_browsers_push_services_and_real_keys_and_ten_devices(self, store):
        user = make_user(store)
        with pytest.raises(BadSubscription, match="not a known push service"):
            device_of(user, endpoint="https://victim.example.com/x")
        keys = BrowserKeys()
        with pytest.raises(BadSubscription, match="p256dh"):
            devices.subscribe(user, endpoint=ENDPOINT, p256dh=b64url(b"\x04" + b"\x00" * 64), auth=keys.auth, name="")
        for n in range(devices.MAX_DEVICES_PER_PERSON):
            device_of(user, endpoint=f"{ENDPOINT}/{n}")
        with pytest.raises(BadSubscription, match="remove one first"):
            device_of(user, endpoint=f"{ENDPOINT}/more")
        device_of(user, endpoint=f"{ENDPOINT}/0")  # one already on: renewed, not counted again

    def test_turning_alerts_on_and_testing_are_rate_limited(self, store, settings):
        settings.RATELIMIT_ENABLE = True
        client = signed_in(make_user(store))
        device = client.post("/w/devices/subscribe", subscription_json(), content_type="application/json").json()
        answers = [client.post(f"/w/devices/{device['id']}/test").status_code for _ in range(6)]
        assert answers == [302] * 5 + [429]

    def test_shift_toggle(self, store):
        user = make_user(store)
        client = signed_in(user)
        assert "You are on shift." in client.get("/w/devices").content.decode()
        client.post("/w/shift", {"on_shift": "0"})
        assert not devices.is_on_shift(user)
        assert "You are off shift." in client.get("/w/devices").content.decode()
        client.post("/w/shift", {"on_shift": "1"})
        assert devices.is_on_shift(user)

    def test_send_a_test_queues_it_through_the_outbox(self, store):
        user = make_user(store)
        device = device_of(user)
        response = signed_in(user).post(f"/w/devices/{device.pk}/test", follow=True)
        assert "A test alert is on its way to Phone." in response.content.decode()
        assert OutboxMessage.objects.get().destination == f"device:{device.pk}"

    def test_rename_refuses_an_empty_name(self, store):
        user = make_user(store)
        device = device_of(user)
        response = signed_in(user).post(f"/w/devices/{device.pk}/rename", {"name": "  "}, follow=True)
        assert "Give the device a name" in response.content.decode()
        device.refresh_from_db()
        assert device.name == "Phone"


class TestInstallable:
    def test_manifest(self, client):
        response = client.get("/w/manifest.webmanifest")
        assert response["Content-Type"] == "application/manifest+json"
        manifest = response.json()
        assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/w/", "/w/", "standalone")
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes
        for icon in manifest["icons"]:
            assert client.get(icon["src"]).status_code == 200, icon["src"]

    def test_service_worker_is_served_for_the_whole_workspace(self, client):
        response = client.get("/w/sw.js")
        assert response["Content-Type"].startswith("text/javascript")
        assert response["Service-Worker-Allowed"] == "/w/"
        script = response.content.decode()
        for handler in ("install", "fetch", "push", "notificationclick"):
            assert f'addEventListener("{handler}"' in script
        assert 'const OFFLINE = "/w/offline";' in script

    def test_every_workspace_page_links_the_manifest(self, store):
        page = signed_in(make_user(store)).get("/w/").content.decode()
        assert '<link rel="manifest" href="/w/manifest.webmanifest">' in page
        assert 'data-service-worker="/w/sw.js"' in page
