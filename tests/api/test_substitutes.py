"""Substitutes over the API: offered and answered by a store system, shown as such in the order, the
events feed and the webhooks (verified with standardwebhooks), documented in the OpenAPI document."""

import random

import pytest

from shelfcall.api.scopes import Scope
from shelfcall.notify import policies
from shelfcall.notify.worker import deliver_due
from shelfcall.orders import actions
from shelfcall.orders.events import SHOPPER
from tests.factories import TILL, claimed, make_product, make_showcase, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(store, make_key):
    return make_key(store, Scope.ORDERS_READ, Scope.ORDERS_WRITE, Scope.WEBHOOKS_WRITE)


@pytest.fixture
def order(store):
    shaver = make_product(store, sku="SHV-9", name="Series 9 shaver", price="300.00", on_hand=1)
    make_product(store, sku="SHV-8", name="Series 8 shaver", price="250.00", on_hand=2)
    return claimed(submit(make_showcase(store, products=[shaver]), {shaver: 1}), TILL)


def _offer(api_post, till, order, **body):
    line = order.lines.get()
    payload = {"not_found": 1, "substitutes": [{"sku": "SHV-8", "qty": 1}]} | body
    return api_post(f"/api/v1/orders/{order.pk}/lines/{line.pk}/substitutes", till, payload)


def test_an_offer_shows_as_a_substitute_line(api_post, api_get, till, order):
    response = _offer(api_post, till, order)
    assert response.status_code == 200, response.json()
    original, substitute = response.json()["lines"]
    assert (original["not_found"], original["substitution"], original["substitute_for"]) == (1, None, None)
    assert {k: substitute[k] for k in ("sku", "substitution", "substitute_for", "proposed", "line_total")} == {
        "sku": "SHV-8",
        "substitution": "proposed",
        "substitute_for": original["id"],
        "proposed": 1,
        "line_total": "0.00",
    }
    assert substitute["decide_by"] is not None and response.json()["total"] == "0.00"
    answered = api_post(
        f"/api/v1/orders/{order.pk}/lines/{substitute['id']}/substitute-answer", till, {"accept": True}
    ).json()
    assert answered["total"] == "250.00" and answered["lines"][1]["substitution"] == "accepted"
    assert answered["lines"][1]["decide_by"] is None
    journal = api_get(f"/api/v1/orders/{order.pk}/reservations", till).json()
    assert [e["reason"] for e in journal["entries"]] == ["created", "not_found", "substitute_proposed"]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"substitutes": [{"sku": "SHV-8", "qty": 3}]}, 409, "substitute_out_of_stock", "substitutes.0.qty"),
        ({"substitutes": [{"sku": "NOPE", "qty": 1}]}, 422, "substitute_refused", "substitutes.0.sku"),
        ({"substitutes": [{"sku": "SHV-9", "qty": 1}]}, 422, "substitute_refused", "substitutes.0.sku"),
        ({"not_found": 0}, 409, "nothing_not_found", "not_found"),
        ({"substitutes": []}, 422, "invalid", "substitutes"),
    ],
)
def test_refusals_name_the_field_and_write_nothing(api_post, till, order, body, status, code, field):
    events = order.events.count()
    response = _offer(api_post, till, order, **body)
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (status, code, field), error
    assert order.events.count() == events and order.lines.get().short_qty == 0


def test_an_answer_after_the_shopper_s_is_harmless_or_refused(api_post, till, order):
    substitute_id = _offer(api_post, till, order).json()["lines"][1]["id"]
    actions.answer_substitute(order.pk, substitute_id, accept=False, by=SHOPPER)
    url = f"/api/v1/orders/{order.pk}/lines/{substitute_id}/substitute-answer"
    response = api_post(url, till, {"accept": True})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "substitute_already_decided")
    # Declined, nothing was left: the order was cancelled; the same answer again changes nothing.
    again = api_post(url, till, {"accept": False})
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_the_feed_and_the_webhooks_carry_the_substitute_events(
    api_post, api_call, api_get, till, order, receiver, settings
):
    settings.SHELFCALL_PRIVATE_HOSTS_ALLOWED = {"127.0.0.1"}
    created = api_call("post", "/api/v1/webhooks", till, {"url": receiver.url}).json()
    policies.forget()  # the store's channels were read (and kept a while) when the order was made
    receiver.webhook_secrets.append(created["secret"])
    substitute_id = _offer(api_post, till, order).json()["lines"][1]["id"]
    api_post(f"/api/v1/orders/{order.pk}/lines/{substitute_id}/substitute-answer", till, {"accept": True})
    deliver_due(rng=random.Random(1))
    kinds = [r.json()["type"] for r in receiver.received]
    assert kinds == ["order.line_not_found", "order.substitute_proposed", "order.substitute_accepted"]
    assert all(r.verified for r in receiver.received)
    proposed = receiver.received[1].json()["data"]["payload"]
    assert (proposed["line_id"], proposed["sku"], proposed["unit_price"]) == (substitute_id, "SHV-8", "250.00")
    feed = api_get("/api/v1/events", till, limit=50).json()["data"]
    if feed:  # PostgreSQL serves only finished transactions' events: this test's own are not yet
        assert [e["type"] for e in feed][-2:] == ["order.substitute_proposed", "order.substitute_accepted"]
        assert feed[-1]["payload"]["by_default"] is False


def test_the_openapi_document_describes_substitutes(client):
    document = client.get("/api/v1/openapi.json").json()
    line = document["components"]["schemas"]["LineOut"]["properties"]
    assert {"substitution", "substitute_for", "proposed", "decide_by"} <= set(line)
    assert {"order.substitute_proposed", "order.substitute_accepted", "order.substitute_declined"} <= set(
        document["webhooks"]
    )
    assert "/api/v1/orders/{order_id}/lines/{line_id}/substitutes" in document["paths"]
