"""The installable workspace and its push alerts in real Chromium: the service worker registers, keeps
the shell (an offline notice, not the browser's error page) and shows a pushed alert.

Headless Chromium subscribes only through Google's push service (FCM), which this machine cannot
reach, and no flag points it at another one (an incognito profile, as every Playwright context is,
is refused at once; a persistent one waits for FCM and never settles). So the closest real check is
done instead: the browser's own subscribe() is tried and its refusal asserted; the page's button and
script then turn alerts on with subscribe() stood in for by a subscription to the local push service
with keys the test holds; an order's alert goes out encrypted through the outbox to the local
push-service stand-in, is decrypted with those keys, and that exact payload is delivered to the real
service worker over the DevTools protocol (ServiceWorker.deliverPushMessage), whose push handler
shows the notification that the test then reads back from the registration. Tapping a notification
(notificationclick) cannot be driven in headless Chromium and is not tested.
"""

import json

import pytest
from playwright.sync_api import expect

from shelfcall.notify.models import Channel, PushSubscription
from shelfcall.notify.worker import deliver_due
from shelfcall.stores.models import Membership
from tests.e2e.conftest import PHONE
from tests.e2e.test_shopper_journey import serious_violations
from tests.factories import make_product, make_showcase, make_store, make_user, submit
from tests.notify.push_device import BrowserKeys
from tests.notify.receiver import start_receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture(autouse=True)
def _local_push_service(settings):
    settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = {"127.0.0.1"}


@pytest.fixture
def push_service():
    receiver, server = start_receiver()
    receiver.answers = [(201, 0.0)]
    yield receiver
    server.shutdown()
    server.server_close()


def registration_id(page, cdp, scope: str) -> str:
    """The service worker registration's id for `scope`, as DevTools reports it once enabled."""
    found: dict[str, str] = {}

    def seen(event: dict) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration.get("isDeleted"):
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    cdp.send("ServiceWorker.enable")
    for _wait in range(100):
        if "id" in found:
            return found["id"]
        page.wait_for_timeout(50)  # DevTools events arrive while the page's loop runs
    raise AssertionError(f"DevTools reported no service worker registration for {scope}")


def test_the_service_worker_shows_the_alert_the_server_pushed_and_keeps_an_offline_notice(
    open_page, live_server_url, push_service
):
    store = make_store(name="Hardware Hall")
    showcase = make_showcase(store, products=[make_product(store, name="Cordless drill", on_hand=9)])
    alex = make_user(store, name="Alex")
    Membership.objects.get(user=alex).teams.add(showcase.team)
    Channel.objects.create(
        store=store, name="Team devices", kind="push", target="", team=showcase.team, events=["order.created"]
    )

    page = open_page(PHONE, user=alex, store=store)
    page.context.grant_permissions(["notifications"], origin=live_server_url)
    page.goto("/w/devices")
    expect(page.get_by_role("heading", name="My alerts")).to_be_visible()
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{live_server_url}/w/"
    assert not serious_violations(page), page.url

    # The browser's own subscription, with the server's VAPID key: FCM is out of reach here.
    outcome = page.evaluate(
        """async (key) => {
            const registration = await navigator.serviceWorker.ready;
            const base64 = (key + "===".slice((key.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
            const applicationServerKey = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
            try {
                const made = await registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey});
                return "subscribed " + made.endpoint;
            } catch (error) {
                return error.name + ": " + error.message;
            }
        }""",
        page.locator("#push-setup").get_attribute("data-server-key"),
    )
    # Chromium refuses push in an incognito profile (every Playwright context is one); in a persistent
    # profile subscribe() waits for FCM and never settles here. Should it ever succeed, use that subscription.
    assert outcome == "AbortError: Registration failed - permission denied", outcome

    # The page's own button and script turn alerts on; only the browser's subscribe() is stood in for,
    # by one to the local push service with keys the test holds.
    keys = BrowserKeys()
    stand_in = {"endpoint": f"{push_service.url}/alex", "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}
    page.evaluate(
        """(subscription) => {
            PushManager.prototype.subscribe = async function () {
                return {toJSON: () => JSON.parse(JSON.stringify(subscription))};
            };
        }""",
        stand_in,
    )
    page.get_by_label("Device name").fill("Alex's phone")
    page.get_by_role("button", name="Turn on alerts on this device").click()
    expect(page.get_by_label("Device name").nth(1)).to_have_value("Alex's phone")
    assert PushSubscription.objects.get().user == alex

    order = submit(showcase)
    while deliver_due():
        pass
    [received] = push_service.received
    alert = keys.read(received)
    assert alert["title"] == f"New order #{order.number}"

    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server_url, "registrationId": registration_id(page, cdp, scope), "data": json.dumps(alert)},
    )
    page.wait_for_function(
        "navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((n) => n.length > 0)", timeout=5_000
    )
    shown = page.evaluate(
        """navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((all) =>
            all.map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"""
    )
    assert shown == [{"title": alert["title"], "body": alert["body"], "tag": f"order-{order.pk}", "url": alert["url"]}]
    assert shown[0]["url"].endswith(f"/w/orders/{order.pk}")

    # Offline: the kept shell answers with its notice instead of the browser's error page.
    page.context.set_offline(True)
    page.goto("/w/")
    expect(page.get_by_role("heading", name="No connection")).to_be_visible()
    assert not serious_violations(page), "offline notice"
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="No connection")).to_have_count(0)


def test_the_workspace_is_installable(open_page, live_server_url):
    store = make_store()
    page = open_page(PHONE, user=make_user(store), store=store)
    page.goto("/w/")
    manifest_url = page.locator("link[rel=manifest]").get_attribute("href")
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == f"{live_server_url}{manifest_url}" and not manifest["errors"], manifest["errors"]
    page.evaluate("navigator.serviceWorker.ready")
    # Chromium's own verdict: nothing stands in the way but the test's browser context being incognito.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [error["errorId"] for error in errors] == ["in-incognito"], errors
