"""Webhook subscriptions through the API: made, listed, tested, delivered (verified with standardwebhooks),
paged, replayed; bad addresses refused by name; each endpoint at a bounded number of statements."""

import random

import pytest

from shelfcall.api.scopes import Scope
from shelfcall.notify import subscriptions
from shelfcall.notify.models import Channel, MessageStatus, OutboxMessage
from shelfcall.notify.worker import deliver_due
from shelfcall.orders import actions
from tests.factories import make_showcase, make_store, staff, submit
from tests.notify.factories import make_escalation

pytestmark = pytest.mark.django_db
HOOKS = "/api/v1/webhooks"


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    """The receiver is a local server on 127.0.0.1 over http: the allowance an admin gives an intranet host."""
    settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = {"127.0.0.1"}


@pytest.fixture
def hooks_key(store, make_key):
    return make_key(store, Scope.WEBHOOKS_WRITE)


@pytest.fixture
def subscribe(api_call, receiver):
    """Subscribe `receiver` with `key`; the receiver verifies with the secrets the answers showed."""

    def make(key, **body) -> dict:
        response = api_call("post", HOOKS, key, {"url": receiver.url, **body})
        assert response.status_code == 201, response.json()
        created = response.json()
        receiver.webhook_secrets.append(created["secret"])
        return created

    return make


def deliver() -> None:
    deliver_due(rng=random.Random(1))


def test_the_secret_is_shown_once_and_lists_never_show_it(subscribe, api_call, hooks_key, store):
    created = subscribe(hooks_key, description="Webshop")
    assert created["secret"].startswith("whsec_") and created["store_id"] == store.pk
    assert created["event_types"] is None and created["description"] == "Webshop"
    listed = api_call("get", HOOKS, hooks_key).json()["data"]
    got = api_call("get", f"{HOOKS}/{created['id']}", hooks_key).json()
    assert listed == [got] and got == {k: v for k, v in created.items() if k != "secret"}


def test_an_event_is_delivered_signed_with_that_secret(subscribe, hooks_key, store, receiver):
    subscribe(hooks_key)
    order = submit(make_showcase(store))
    deliver()
    [received] = receiver.received
    assert received.verified and received.json()["type"] == "order.created"
    assert received.json()["data"]["order_id"] == order.pk


def test_an_organization_subscription_gets_every_stores_events(subscribe, make_key, store, receiver):
    sister, stranger = make_store(organization=store.organization), make_store()
    created = subscribe(make_key(store, Scope.WEBHOOKS_WRITE, whole_organization=True))
    assert created["store_id"] is None
    for each in (store, sister, stranger):
        submit(make_showcase(each))
    deliver()
    assert sorted(r.json()["data"]["store_id"] for r in receiver.received) == sorted([store.pk, sister.pk])
    assert all(r.verified for r in receiver.received)


def test_only_the_chosen_event_types_are_sent(subscribe, hooks_key, store, receiver):
    created = subscribe(hooks_key, event_types=["order.claimed", "order.claimed"])
    assert created["event_types"] == ["order.claimed"]
    order = submit(make_showcase(store))
    actions.claim_order(order.pk, by=staff(store, "Alex"))
    deliver()
    assert [r.json()["type"] for r in receiver.received] == ["order.claimed"]


@pytest.mark.parametrize("event_types", [[], ["order.teleported"]])
def test_unknown_or_no_event_types_are_refused_by_name(api_call, hooks_key, receiver, event_types):
    response = api_call("post", HOOKS, hooks_key, {"url": receiver.url, "event_types": event_types})
    assert response.status_code == 422 and response.json()["error"]["field"].startswith("event_types")


def test_a_test_event_goes_through_the_worker_and_shows_in_the_deliveries(subscribe, api_call, hooks_key, receiver):
    created = subscribe(hooks_key)
    response = api_call("post", f"{HOOKS}/{created['id']}/test", hooks_key)
    assert response.status_code == 202
    assert not receiver.received  # queued, sent by the worker
    deliver()
    [received] = receiver.received
    assert received.verified and received.json()["type"] == "shelfcall.test"
    [delivery] = api_call("get", f"{HOOKS}/{created['id']}/deliveries", hooks_key).json()["data"]
    assert delivery["id"] == response.json()["delivery_id"]
    assert delivery["event_id"] == received.headers["webhook-id"] and delivery["event_type"] == "shelfcall.test"
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 1, 200)
    assert delivery["next_attempt_at"] is None and delivery["delivered_at"]


def test_deliveries_are_paged_newest_first(subscribe, api_call, hooks_key):
    created = subscribe(hooks_key)
    ids = [api_call("post", f"{HOOKS}/{created['id']}/test", hooks_key).json()["delivery_id"] for _ in range(3)]
    url = f"{HOOKS}/{created['id']}/deliveries"
    first = api_call("get", f"{url}?limit=2", hooks_key).json()
    assert [d["id"] for d in first["data"]] == ids[:0:-1] and first["has_more"]
    second = api_call("get", f"{url}?limit=2&cursor={first['next_cursor']}", hooks_key).json()
    assert [d["id"] for d in second["data"]] == ids[:1] and not second["has_more"] and second["next_cursor"] is None
    refused = api_call("get", f"{url}?cursor=forged", hooks_key)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "cursor"


def test_a_failed_delivery_is_replayed_with_the_same_webhook_id(
    subscribe, api_call, hooks_key, receiver, settings, store
):
    settings.SHELFCALL_OUTBOX_MAX_ATTEMPTS = 1
    receiver.answers = [(500, 0.0), (200, 0.0)]
    created = subscribe(hooks_key)
    submit(make_showcase(store))
    deliver()
    [delivery] = api_call("get", f"{HOOKS}/{created['id']}/deliveries", hooks_key).json()["data"]
    assert (delivery["status"], delivery["last_status_code"]) == ("failed", 500)
    replay = f"{HOOKS}/{created['id']}/deliveries/{delivery['id']}/replay"
    assert api_call("post", replay, hooks_key).status_code == 202
    refused = api_call("post", replay, hooks_key)  # queued already
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "delivery_queued"
    deliver()
    first, again = receiver.received
    assert again.verified and again.headers["webhook-id"] == first.headers["webhook-id"]
    assert OutboxMessage.objects.get(pk=delivery["id"]).status == MessageStatus.DELIVERED


def test_a_rotated_secret_is_shown_once_and_both_sign_for_a_while(subscribe, api_call, hooks_key, store, receiver):
    created = subscribe(hooks_key)
    response = api_call("post", f"{HOOKS}/{created['id']}/rotate-secret", hooks_key)
    assert response.status_code == 200
    receiver.webhook_secrets = [response.json()["secret"]]
    submit(make_showcase(store))
    deliver()
    [received] = receiver.received
    assert received.verified and len(received.headers["webhook-signature"].split(" ")) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://shop.example.com/hooks",  # not https (and not an allowed local host)
        "https://user:password@127.0.0.1/hooks",
        "https://10.0.0.7/hooks",
        "https://localhost/hooks",
        "https://[::1]/hooks",
        "ftp://127.0.0.1/hooks",
        "shop.example.com/hooks",
        "https://shop.example.com/" + "a" * 500,
        "https://shop example.com/",
    ],
)
def test_bad_addresses_are_refused_naming_url(api_call, hooks_key, url):
    response = api_call("post", HOOKS, hooks_key, {"url": url})
    assert response.status_code == 422 and response.json()["error"]["field"] == "url", response.json()
    assert not Channel.objects.exists()


def test_an_organization_has_a_limited_number_of_subscriptions(subscribe, api_call, hooks_key, monkeypatch):
    monkeypatch.setattr(subscriptions, "MAX_PER_ORGANIZATION", 2)
    subscribe(hooks_key)
    subscribe(hooks_key)
    response = api_call("post", HOOKS, hooks_key, {"url": "http://127.0.0.1:9/x"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "too_many_webhooks"
    assert "at most 2" in response.json()["error"]["message"]


def test_deleted_it_is_gone_and_gets_nothing(subscribe, api_call, hooks_key, store, receiver):
    created = subscribe(hooks_key)
    assert api_call("delete", f"{HOOKS}/{created['id']}", hooks_key).status_code == 204
    assert api_call("get", f"{HOOKS}/{created['id']}", hooks_key).status_code == 404
    submit(make_showcase(store))
    deliver()
    assert not receiver.received


def test_a_subscription_an_escalation_uses_is_not_deleted(subscribe, api_call, hooks_key, store):
    created = subscribe(hooks_key)
    make_escalation(store, [(5, Channel.objects.get(pk=created["id"]))])
    response = api_call("delete", f"{HOOKS}/{created['id']}", hooks_key)
    assert response.status_code == 409 and response.json()["error"]["code"] == "webhook_in_use"


def test_a_store_key_does_not_see_its_organizations_or_sister_stores_subscriptions(
    subscribe, api_call, make_key, store
):
    sister = make_store(organization=store.organization)
    organization_wide = subscribe(make_key(store, Scope.WEBHOOKS_WRITE, whole_organization=True))
    sisters = subscribe(make_key(sister, Scope.WEBHOOKS_WRITE))
    own = subscribe(make_key(store, Scope.WEBHOOKS_WRITE))
    store_key = make_key(store, Scope.WEBHOOKS_WRITE)
    assert [w["id"] for w in api_call("get", HOOKS, store_key).json()["data"]] == [own["id"]]
    for other in (organization_wide, sisters):
        assert api_call("get", f"{HOOKS}/{other['id']}", store_key).status_code == 404
    organization_key = make_key(store, Scope.WEBHOOKS_WRITE, whole_organization=True)
    assert len(api_call("get", HOOKS, organization_key).json()["data"]) == 3


def test_a_retried_create_is_one_subscription_with_the_first_answer(api_call, hooks_key, receiver):
    body = {"url": receiver.url}
    first = api_call("post", HOOKS, hooks_key, body, **{"Idempotency-Key": "k-1"})
    again = api_call("post", HOOKS, hooks_key, body, **{"Idempotency-Key": "k-1"})
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Channel.objects.count() == 1


class TestStatementCounts:
    """The same few statements whatever the number of subscriptions and deliveries."""

    @pytest.fixture
    def busy(self, subscribe, api_call, hooks_key, store):
        created = [subscribe(hooks_key) for _ in range(5)]
        for _ in range(5):
            submit(make_showcase(store))
        deliver()
        return created[0]

    def test_list_and_get(self, busy, api_call, hooks_key, django_assert_max_num_queries):
        with django_assert_max_num_queries(3):
            assert len(api_call("get", HOOKS, hooks_key).json()["data"]) == 5
        with django_assert_max_num_queries(3):
            api_call("get", f"{HOOKS}/{busy['id']}", hooks_key)

    def test_deliveries(self, busy, api_call, hooks_key, django_assert_max_num_queries):
        with django_assert_max_num_queries(4):
            assert len(api_call("get", f"{HOOKS}/{busy['id']}/deliveries", hooks_key).json()["data"]) == 5

    def test_writes(self, busy, api_call, hooks_key, receiver, django_assert_max_num_queries):
        with django_assert_max_num_queries(8):
            assert api_call("post", HOOKS, hooks_key, {"url": receiver.url}).status_code == 201
        with django_assert_max_num_queries(6):
            assert api_call("post", f"{HOOKS}/{busy['id']}/test", hooks_key).status_code == 202
        with django_assert_max_num_queries(6):
            assert api_call("post", f"{HOOKS}/{busy['id']}/rotate-secret", hooks_key).status_code == 200
        delivered = OutboxMessage.objects.filter(channel_id=busy["id"], status=MessageStatus.DELIVERED)
        delivery_id = delivered.values_list("pk", flat=True)[0]
        with django_assert_max_num_queries(7):
            replayed = api_call("post", f"{HOOKS}/{busy['id']}/deliveries/{delivery_id}/replay", hooks_key)
            assert replayed.status_code == 202
        with django_assert_max_num_queries(10):
            assert api_call("delete", f"{HOOKS}/{busy['id']}", hooks_key).status_code == 204
